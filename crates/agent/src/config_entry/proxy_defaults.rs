//! `proxy-defaults`: global defaults for every proxy. The only valid name is `global` (an empty
//! name is normalised to it).

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

/// The one name a proxy-defaults entry may have.
pub(super) const GLOBAL: &str = "global";

static ACCESS_LOGS: &[Field] = &[
    field("Enabled", "", Shape::Bool, Empty),
    field(
        "DisableListenerLogs",
        "disable_listener_logs",
        Shape::Bool,
        Empty,
    ),
    field("Type", "", Shape::Str, Empty),
    field("Path", "", Shape::Str, Empty),
    field("JSONFormat", "json_format", Shape::Str, Empty),
    field("TextFormat", "text_format", Shape::Str, Empty),
];

static FIELDS: &[Field] = &[
    field("Kind", "", Shape::Str, Never),
    field("Name", "", Shape::Str, Never),
    field("Config", "", Shape::Any, Never),
    field("Mode", "", Shape::Str, Empty),
    field(
        "TransparentProxy",
        "transparent_proxy",
        Shape::Struct(common::TRANSPARENT_PROXY),
        Empty,
    ),
    field("MutualTLSMode", "mutual_tls_mode", Shape::Str, Empty),
    field(
        "MeshGateway",
        "mesh_gateway",
        Shape::Struct(common::MESH_GATEWAY),
        Empty,
    ),
    field("Expose", "", Shape::Struct(common::EXPOSE), Empty),
    field(
        "AccessLogs",
        "access_logs",
        Shape::Struct(ACCESS_LOGS),
        Empty,
    ),
    field("EnvoyExtensions", "envoy_extensions", Shape::Any, Empty),
    field("FailoverPolicy", "failover_policy", Shape::Any, Empty),
    field(
        "PrioritizeByLocality",
        "prioritize_by_locality",
        Shape::Any,
        Empty,
    ),
    field("Meta", "", Shape::StrMap, Empty),
];

/// The kind's table entry.
pub(super) static SPEC: KindSpec = KindSpec {
    kind: "proxy-defaults",
    fields: FIELDS,
    normalize,
    validate,
    fixed_name: None,
};

/// Consul accepts only `global` (or nothing, meaning `global`).
pub(super) fn check_name(name: &str) -> Result<(), String> {
    if !name.is_empty() && name != GLOBAL {
        return Err(format!(
            "invalid name ({name:?}), only {GLOBAL:?} is supported"
        ));
    }
    Ok(())
}

fn normalize(body: &mut Map<String, Value>) -> Result<(), String> {
    check_name(str_of(body, "Name"))?;
    body.insert("Name".to_string(), Value::String(GLOBAL.to_string()));
    Ok(())
}

fn validate(body: &Map<String, Value>) -> Result<(), String> {
    if body
        .get("Config")
        .is_some_and(|c| !c.is_null() && !c.is_object())
    {
        return Err("Config: must be a map".to_string());
    }
    common::validate_meta(body)?;
    common::validate_mtls_mode(body)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use crate::config_entry::EntryError;
    use crate::config_entry::decode;

    #[test]
    fn good_entry_is_normalised() {
        let e = decode(
            &json!({"Kind": "proxy-defaults", "Config": {"protocol": "http"},
            "mesh_gateway": {"mode": "local"}}),
        )
        .unwrap();
        assert_eq!(e.name, "global");
        assert_eq!(
            e.body,
            json!({"Kind": "proxy-defaults", "Name": "global", "Config": {"protocol": "http"},
                "TransparentProxy": {}, "MeshGateway": {"Mode": "local"}, "Expose": {},
                "AccessLogs": {}})
        );
    }

    #[test]
    fn other_names_are_refused() {
        assert_eq!(
            decode(&json!({"Kind": "proxy-defaults", "Name": "web"})).unwrap_err(),
            EntryError::Invalid("invalid name (\"web\"), only \"global\" is supported".into())
        );
    }
}
