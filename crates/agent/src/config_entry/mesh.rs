//! `mesh`: the single mesh-wide entry. Its name is always `mesh`; Consul writes it without a
//! `Name` field.

use serde_json::Map;
use serde_json::Value;

use super::KindSpec;
use super::common;
use super::schema::Field;
use super::schema::Omit::Empty;
use super::schema::Omit::Hidden;
use super::schema::Omit::Never;
use super::schema::Shape;
use super::schema::field;
use super::schema::str_of;

/// The mesh entry's only name.
const MESH: &str = "mesh";

static TRANSPARENT_PROXY: &[Field] = &[field(
    "MeshDestinationsOnly",
    "mesh_destinations_only",
    Shape::Bool,
    Empty,
)];

static FIELDS: &[Field] = &[
    field("Kind", "", Shape::Str, Never),
    field("Name", "", Shape::Str, Hidden),
    field(
        "TransparentProxy",
        "transparent_proxy",
        Shape::Struct(TRANSPARENT_PROXY),
        Empty,
    ),
    field(
        "AllowEnablingPermissiveMutualTLS",
        "allow_enabling_permissive_mutual_tls",
        Shape::Bool,
        Empty,
    ),
    field("TLS", "", Shape::Any, Empty),
    field("HTTP", "", Shape::Any, Empty),
    field("Peering", "", Shape::Any, Empty),
    field("Meta", "", Shape::StrMap, Empty),
];

/// The kind's table entry.
pub(super) static SPEC: KindSpec = KindSpec {
    kind: "mesh",
    fields: FIELDS,
    normalize,
    validate,
    fixed_name: Some(MESH),
};

fn normalize(body: &mut Map<String, Value>) -> Result<(), String> {
    let name = str_of(body, "Name");
    if !name.is_empty() && name != MESH {
        return Err(format!(
            "invalid name ({name:?}), only {MESH:?} is supported"
        ));
    }
    body.remove("Name");
    Ok(())
}

fn validate(body: &Map<String, Value>) -> Result<(), String> {
    common::validate_meta(body)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use crate::config_entry::decode;

    #[test]
    fn mesh_entry_has_fixed_name() {
        let e = decode(&json!({"Kind": "mesh", "Name": "mesh",
            "transparent_proxy": {"mesh_destinations_only": true}}))
        .unwrap();
        assert_eq!(e.name, "mesh");
        assert_eq!(
            e.body,
            json!({"Kind": "mesh", "TransparentProxy": {"MeshDestinationsOnly": true}})
        );
        let e = decode(&json!({"Kind": "mesh"})).unwrap();
        assert_eq!(e.name, "mesh");
    }

    #[test]
    fn other_names_are_refused() {
        assert!(decode(&json!({"Kind": "mesh", "Name": "other"})).is_err());
    }
}
