//! `service-router`: L7 routes for a service. Route matches get the path checks Consul makes;
//! destinations are kept as given.

use serde_json::Map;
use serde_json::Value;

use super::KindSpec;
use super::common;
use super::schema::Field;
use super::schema::Omit::Empty;
use super::schema::Omit::Never;
use super::schema::Shape;
use super::schema::field;
use super::schema::list_of;
use super::schema::str_of;

static HTTP_MATCH: &[Field] = &[
    field("PathExact", "path_exact", Shape::Str, Empty),
    field("PathPrefix", "path_prefix", Shape::Str, Empty),
    field("PathRegex", "path_regex", Shape::Str, Empty),
    field("CaseInsensitive", "case_insensitive", Shape::Bool, Empty),
    field("Header", "", Shape::Any, Empty),
    field("QueryParam", "query_param", Shape::Any, Empty),
    field("Methods", "", Shape::StrList, Empty),
];

static MATCH: &[Field] = &[field("HTTP", "", Shape::Ptr(HTTP_MATCH), Empty)];

static ROUTE: &[Field] = &[
    field("Match", "", Shape::Ptr(MATCH), Empty),
    field("Destination", "", Shape::Any, Empty),
];

static FIELDS: &[Field] = &[
    field("Kind", "", Shape::Str, Never),
    field("Name", "", Shape::Str, Never),
    field("Routes", "", Shape::List(ROUTE), Empty),
    field("Meta", "", Shape::StrMap, Empty),
];

/// The kind's table entry.
pub(super) static SPEC: KindSpec = KindSpec {
    kind: "service-router",
    fields: FIELDS,
    normalize: common::no_normalize,
    validate,
    fixed_name: None,
};

fn validate(body: &Map<String, Value>) -> Result<(), String> {
    common::require_name(body)?;
    common::validate_meta(body)?;
    for (i, route) in list_of(body, "Routes").iter().enumerate() {
        let http = route
            .get("Match")
            .and_then(|m| m.get("HTTP"))
            .and_then(Value::as_object);
        let Some(http) = http else { continue };
        let set = ["PathExact", "PathPrefix", "PathRegex"]
            .into_iter()
            .filter(|k| !str_of(http, k).is_empty())
            .count();
        if set > 1 {
            return Err(format!(
                "Route[{i}] should only contain at most one of PathExact, PathPrefix, or PathRegex"
            ));
        }
        for key in ["PathExact", "PathPrefix"] {
            let path = str_of(http, key);
            if !path.is_empty() && !path.starts_with('/') {
                return Err(format!("Route[{i}] {key} doesn't start with '/': {path:?}"));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use crate::config_entry::decode;

    #[test]
    fn good_entry() {
        let e = decode(&json!({"Kind": "service-router", "Name": "web", "Routes": [
            {"Match": {"HTTP": {"path_prefix": "/admin"}}, "Destination": {"Service": "admin"}}]}))
        .unwrap();
        assert_eq!(
            e.body["Routes"],
            json!([{"Match": {"HTTP": {"PathPrefix": "/admin"}},
                "Destination": {"Service": "admin"}}])
        );
    }

    #[test]
    fn bad_paths() {
        assert!(
            decode(&json!({"Kind": "service-router", "Name": "web", "Routes": [
            {"Match": {"HTTP": {"PathPrefix": "/a", "PathExact": "/b"}}}]}))
            .is_err()
        );
        assert!(
            decode(&json!({"Kind": "service-router", "Name": "web", "Routes": [
            {"Match": {"HTTP": {"PathPrefix": "a"}}}]}))
            .is_err()
        );
        assert!(decode(&json!({"Kind": "service-router"})).is_err());
    }
}
