//! `exported-services`: which services a partition exports to peers, partitions or sameness
//! groups. In Consul CE the entry's name is always `default`. That the `consul` service is never
//! exported is enforced by peering, not here.

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

static CONSUMER: &[Field] = &[
    field("Partition", "", Shape::Str, Empty),
    field("Peer", "peer_name", Shape::Str, Empty),
    field("SamenessGroup", "sameness_group", Shape::Str, Empty),
];

static SERVICE: &[Field] = &[
    field("Name", "", Shape::Str, Never),
    field("Namespace", "", Shape::Str, Empty),
    field("Consumers", "", Shape::List(CONSUMER), Never),
];

static FIELDS: &[Field] = &[
    field("Kind", "", Shape::Str, Never),
    field("Name", "", Shape::Str, Never),
    field("Services", "", Shape::List(SERVICE), Empty),
    field("Meta", "", Shape::StrMap, Empty),
];

/// The kind's table entry.
pub(super) static SPEC: KindSpec = KindSpec {
    kind: "exported-services",
    fields: FIELDS,
    normalize: common::no_normalize,
    validate,
    fixed_name: None,
};

fn validate(body: &Map<String, Value>) -> Result<(), String> {
    if str_of(body, "Name") != "default" {
        return Err("exported-services Name must be \"default\"".to_string());
    }
    common::validate_meta(body)?;
    for (i, svc) in list_of(body, "Services").iter().enumerate() {
        let Some(svc) = svc.as_object() else { continue };
        let name = str_of(svc, "Name");
        if name.is_empty() {
            return Err(format!("Services[{i}]: service name cannot be empty"));
        }
        if str_of(svc, "Namespace") == "*" && name != "*" {
            return Err(format!(
                "Services[{i}]: service name must be wildcard if namespace is wildcard"
            ));
        }
        let consumers = list_of(svc, "Consumers");
        if consumers.is_empty() {
            return Err(format!("Services[{i}]: must have at least one consumer"));
        }
        for (j, consumer) in consumers.iter().enumerate() {
            let Some(consumer) = consumer.as_object() else {
                continue;
            };
            let set: Vec<&str> = ["Peer", "Partition", "SamenessGroup"]
                .into_iter()
                .map(|k| str_of(consumer, k))
                .filter(|v| !v.is_empty())
                .collect();
            if set.len() > 1 {
                return Err(format!(
                    "Services[{i}].Consumers[{j}]: must define at most one of Peer, Partition, or SamenessGroup"
                ));
            }
            if set.is_empty() {
                return Err(format!(
                    "Services[{i}].Consumers[{j}]: must define at least one of Peer, Partition, or SamenessGroup"
                ));
            }
            for (key, what) in [
                ("Partition", "partitions"),
                ("Peer", "peers"),
                ("SamenessGroup", "sameness groups"),
            ] {
                if str_of(consumer, key) == "*" {
                    return Err(format!(
                        "Services[{i}].Consumers[{j}]: exporting to all {what} (wildcard) is not supported"
                    ));
                }
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use crate::config_entry::EntryError;
    use crate::config_entry::decode;

    #[test]
    fn good_entry() {
        let e = decode(&json!({"Kind": "exported-services", "Name": "default",
            "Services": [{"Name": "web", "Consumers": [{"peer_name": "other"}]}]}))
        .unwrap();
        assert_eq!(
            e.body,
            json!({"Kind": "exported-services", "Name": "default",
                "Services": [{"Name": "web", "Consumers": [{"Peer": "other"}]}]})
        );
    }

    #[test]
    fn bad_entries() {
        let bad = |v| match decode(&v) {
            Err(EntryError::Invalid(m)) => m,
            other => panic!("{other:?}"),
        };
        assert_eq!(
            bad(json!({"Kind": "exported-services", "Name": "part"})),
            "exported-services Name must be \"default\""
        );
        assert_eq!(
            bad(json!({"Kind": "exported-services", "Name": "default",
                "Services": [{"Name": "web"}]})),
            "Services[0]: must have at least one consumer"
        );
        assert!(
            bad(json!({"Kind": "exported-services", "Name": "default",
            "Services": [{"Name": "web", "Consumers": [{"Peer": "a", "Partition": "b"}]}]}))
            .contains("at most one")
        );
        assert!(
            bad(json!({"Kind": "exported-services", "Name": "default",
            "Services": [{"Name": "web", "Consumers": [{"Peer": "*"}]}]}))
            .contains("all peers")
        );
        assert_eq!(
            bad(json!({"Kind": "exported-services", "Name": "default",
                "Services": [{"Consumers": [{"Peer": "a"}]}]})),
            "Services[0]: service name cannot be empty"
        );
    }
}
