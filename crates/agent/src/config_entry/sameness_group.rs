//! `sameness-group`: a named set of partitions and peers whose same-named services are
//! interchangeable for failover. Each member names exactly one of a partition or a peer.

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

static MEMBER: &[Field] = &[
    field("Partition", "", Shape::Str, Empty),
    field("Peer", "", Shape::Str, Empty),
];

static FIELDS: &[Field] = &[
    field("Kind", "", Shape::Str, Never),
    field("Name", "", Shape::Str, Never),
    field(
        "DefaultForFailover",
        "default_for_failover",
        Shape::Bool,
        Empty,
    ),
    field("IncludeLocal", "include_local", Shape::Bool, Empty),
    field("Members", "", Shape::List(MEMBER), Never),
    field("Meta", "", Shape::StrMap, Empty),
];

/// The kind's table entry.
pub(super) static SPEC: KindSpec = KindSpec {
    kind: "sameness-group",
    fields: FIELDS,
    normalize: common::no_normalize,
    validate,
    fixed_name: None,
};

fn validate(body: &Map<String, Value>) -> Result<(), String> {
    common::require_name(body)?;
    if str_of(body, "Name").contains('*') {
        return Err("sameness-group name cannot contain wildcards".to_string());
    }
    common::validate_meta(body)?;
    for member in list_of(body, "Members").iter().filter_map(Value::as_object) {
        let partition = str_of(member, "Partition");
        let peer = str_of(member, "Peer");
        if partition.is_empty() == peer.is_empty() {
            return Err("members can only contain one of Partition or Peer".to_string());
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
        let e = decode(
            &json!({"Kind": "sameness-group", "Name": "sg", "include_local": true,
            "Members": [{"Peer": "dc2"}, {"Partition": "default"}]}),
        )
        .unwrap();
        assert_eq!(
            e.body,
            json!({"Kind": "sameness-group", "Name": "sg", "IncludeLocal": true,
                "Members": [{"Peer": "dc2"}, {"Partition": "default"}]})
        );
    }

    #[test]
    fn members_name_one_target() {
        assert_eq!(
            decode(&json!({"Kind": "sameness-group", "Name": "sg",
                "Members": [{"Peer": "a", "Partition": "b"}]}))
            .unwrap_err(),
            EntryError::Invalid("members can only contain one of Partition or Peer".into())
        );
        assert!(decode(&json!({"Kind": "sameness-group", "Name": "s*"})).is_err());
    }
}
