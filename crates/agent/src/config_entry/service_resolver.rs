//! `service-resolver`: subsets, redirects, failover and timeouts for a service. Subsets and the
//! timeouts are modelled; redirect, failover and load-balancer settings are kept as given.

use serde_json::Map;
use serde_json::Value;

use super::KindSpec;
use super::common;
use super::schema::Field;
use super::schema::Omit::Empty;
use super::schema::Omit::Never;
use super::schema::Shape;
use super::schema::field;
use super::schema::str_of;

static SUBSET: &[Field] = &[
    field("Filter", "", Shape::Str, Empty),
    field("OnlyPassing", "only_passing", Shape::Bool, Empty),
];

/// Consul's custom marshaller writes the two timeouts before the struct's own fields.
static FIELDS: &[Field] = &[
    field("ConnectTimeout", "connect_timeout", Shape::Duration, Empty),
    field("RequestTimeout", "request_timeout", Shape::Duration, Empty),
    field("Kind", "", Shape::Str, Never),
    field("Name", "", Shape::Str, Never),
    field("DefaultSubset", "default_subset", Shape::Str, Empty),
    field("Subsets", "", Shape::Map(SUBSET), Empty),
    field("Redirect", "", Shape::Any, Empty),
    field("Failover", "", Shape::Any, Empty),
    field(
        "PrioritizeByLocality",
        "prioritize_by_locality",
        Shape::Any,
        Empty,
    ),
    field("LoadBalancer", "load_balancer", Shape::Any, Empty),
    field("Meta", "", Shape::StrMap, Empty),
];

/// The kind's table entry.
pub(super) static SPEC: KindSpec = KindSpec {
    kind: "service-resolver",
    fields: FIELDS,
    normalize: common::no_normalize,
    validate,
    fixed_name: None,
};

fn validate(body: &Map<String, Value>) -> Result<(), String> {
    common::require_name(body)?;
    common::validate_meta(body)?;
    let subsets = body.get("Subsets").and_then(Value::as_object);
    for name in subsets.into_iter().flat_map(|s| s.keys()) {
        if !is_valid_subset_name(name) {
            return Err(format!(
                "Subset {name:?} is invalid: must be a valid DNS label (alphanumeric and dashes)"
            ));
        }
    }
    let default = str_of(body, "DefaultSubset");
    if !default.is_empty() && !subsets.is_some_and(|s| s.contains_key(default)) {
        return Err(format!("DefaultSubset {default:?} is not a valid subset"));
    }
    if let Some(Value::Object(redirect)) = body.get("Redirect") {
        if !subsets.is_none_or(|s| s.is_empty()) {
            return Err("Redirect and Subsets cannot both be set".to_string());
        }
        if redirect.is_empty() {
            return Err(
                "Redirect is empty; at least one of Service, ServiceSubset, Namespace, Partition, Datacenter, Peer, or SamenessGroup must be set"
                    .to_string(),
            );
        }
    }
    Ok(())
}

/// Subset names are DNS labels: lowercase alphanumerics and dashes, at most 63 characters.
fn is_valid_subset_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 63
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !name.starts_with('-')
        && !name.ends_with('-')
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use crate::config_entry::EntryError;
    use crate::config_entry::decode;

    #[test]
    fn good_entry_puts_timeouts_first() {
        let e = decode(
            &json!({"Kind": "service-resolver", "Name": "web", "default_subset": "v1",
            "connect_timeout": "15000ms", "Subsets": {"v1": {"filter": "Service.Meta.v == 1",
            "only_passing": true}}}),
        )
        .unwrap();
        assert_eq!(
            serde_json::to_string(&e.body).unwrap(),
            r#"{"ConnectTimeout":"15s","Kind":"service-resolver","Name":"web","DefaultSubset":"v1","Subsets":{"v1":{"Filter":"Service.Meta.v == 1","OnlyPassing":true}}}"#
        );
    }

    #[test]
    fn bad_entries() {
        assert_eq!(
            decode(&json!({"Kind": "service-resolver", "Name": "web", "DefaultSubset": "v9"}))
                .unwrap_err(),
            EntryError::Invalid("DefaultSubset \"v9\" is not a valid subset".into())
        );
        assert!(
            decode(&json!({"Kind": "service-resolver", "Name": "web",
            "Subsets": {"Bad_Name": {}}}))
            .is_err()
        );
        assert!(
            decode(&json!({"Kind": "service-resolver", "Name": "web",
            "ConnectTimeout": "soon"}))
            .is_err()
        );
    }
}
