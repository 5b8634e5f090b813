//! Config entries as Consul's `/v1/config` API sees them: decoding a client's JSON (any key case,
//! snake_case aliases, weak typing, unknown keys rejected), normalising it to the canonical
//! entry Consul stores (PascalCase fields in Consul's order, Go zero values and `omitempty`), and
//! the schema-level validation each kind does before a write. Pure: no store, no I/O. Checks that
//! need other state (e.g. never exporting the `consul` service to a peer) belong to their
//! features. One file per kind; [`schema`] is the shared decoding engine.

pub mod chain;
mod common;
mod exported_services;
mod mesh;
mod proxy_defaults;
mod sameness_group;
pub(crate) mod schema;
mod service_defaults;
mod service_intentions;
mod service_resolver;
mod service_router;
mod service_splitter;

use serde_json::Map;
use serde_json::Value;

use schema::Field;

/// Every kind this agent accepts, in Consul's spelling.
pub const KINDS: [&str; 9] = [
    "service-defaults",
    "proxy-defaults",
    "service-router",
    "service-splitter",
    "service-resolver",
    "service-intentions",
    "mesh",
    "exported-services",
    "sameness-group",
];

/// A decoded, normalised and validated entry, ready for the state store.
#[derive(Clone, Debug, PartialEq)]
pub struct Entry {
    /// The kind (`service-defaults`, …).
    pub kind: String,
    /// The entry's name (`global` for proxy-defaults, `mesh` for mesh).
    pub name: String,
    /// The canonical entry: Consul's fields in Consul's order, without the Raft indexes.
    pub body: Value,
}

/// Why an entry was refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum EntryError {
    /// The payload does not decode into the kind's structure (Consul answers 400
    /// `Request decoding failed: …`).
    #[error("{0}")]
    Decode(String),
    /// The entry decoded but breaks one of the kind's rules (Consul's `Normalize`/`Validate`).
    #[error("{0}")]
    Invalid(String),
}

/// What one kind contributes: its fields and its normalise/validate steps.
pub(crate) struct KindSpec {
    /// The kind's name.
    pub(crate) kind: &'static str,
    /// Its top-level fields in Consul's JSON order (`Kind` first).
    pub(crate) fields: &'static [Field],
    /// Fill defaults and canonical forms (Consul's `Normalize`).
    pub(crate) normalize: fn(&mut Map<String, Value>) -> Result<(), String>,
    /// Check the entry (Consul's `Validate`).
    pub(crate) validate: fn(&Map<String, Value>) -> Result<(), String>,
    /// A name the kind always has (mesh), if any.
    pub(crate) fixed_name: Option<&'static str>,
}

fn spec(kind: &str) -> Option<&'static KindSpec> {
    [
        &service_defaults::SPEC,
        &proxy_defaults::SPEC,
        &service_router::SPEC,
        &service_splitter::SPEC,
        &service_resolver::SPEC,
        &service_intentions::SPEC,
        &mesh::SPEC,
        &exported_services::SPEC,
        &sameness_group::SPEC,
    ]
    .into_iter()
    .find(|s| s.kind == kind)
}

/// Check that `kind` is one Consul knows (`invalid config entry kind: x`).
pub fn check_kind(kind: &str) -> Result<(), EntryError> {
    spec(kind)
        .map(|_| ())
        .ok_or_else(|| EntryError::Decode(format!("invalid config entry kind: {kind}")))
}

/// The name a delete of `kind`/`name` addresses, after Consul's normalisation (proxy-defaults
/// accepts only `global`).
pub fn delete_name(kind: &str, name: &str) -> Result<String, EntryError> {
    let spec = spec(kind)
        .ok_or_else(|| EntryError::Decode(format!("invalid config entry kind: {kind}")))?;
    if let Some(fixed) = spec.fixed_name {
        return Ok(fixed.to_string());
    }
    if kind == "proxy-defaults" {
        proxy_defaults::check_name(name).map_err(EntryError::Invalid)?;
        return Ok(proxy_defaults::GLOBAL.to_string());
    }
    Ok(name.to_string())
}

/// Decode a `PUT /v1/config` body: find the kind, decode against its schema, normalise and
/// validate.
pub fn decode(raw: &Value) -> Result<Entry, EntryError> {
    let Value::Object(map) = raw else {
        return Err(EntryError::Decode(
            "Payload does not contain a kind/Kind key at the top level".to_string(),
        ));
    };
    let kind = match map.get("Kind").or_else(|| map.get("kind")) {
        None => {
            return Err(EntryError::Decode(
                "Payload does not contain a kind/Kind key at the top level".to_string(),
            ));
        }
        Some(Value::String(kind)) => kind.as_str(),
        Some(_) => {
            return Err(EntryError::Decode(
                "Kind value in payload is not a string".to_string(),
            ));
        }
    };
    let spec = spec(kind)
        .ok_or_else(|| EntryError::Decode(format!("invalid config entry kind: {kind}")))?;
    let mut body = schema::decode_object(raw, spec.fields, true).map_err(decode_error)?;
    body.insert("Kind".to_string(), Value::String(spec.kind.to_string()));
    (spec.normalize)(&mut body).map_err(EntryError::Invalid)?;
    (spec.validate)(&body).map_err(EntryError::Invalid)?;
    let name = match spec.fixed_name {
        Some(fixed) => fixed.to_string(),
        None => schema::str_of(&body, "Name").to_string(),
    };
    Ok(Entry {
        kind: spec.kind.to_string(),
        name,
        body: Value::Object(body),
    })
}

/// Word decode failures as Consul does: mapstructure's type errors first, then the unused keys
/// as a go-multierror list.
fn decode_error(errors: schema::DecodeErrors) -> EntryError {
    if !errors.types.is_empty() {
        let mut points: Vec<String> = errors.types.iter().map(|e| format!("* {e}")).collect();
        points.sort();
        return EntryError::Decode(format!(
            "{} error(s) decoding:\n\n{}",
            points.len(),
            points.join("\n")
        ));
    }
    let messages: Vec<String> = errors
        .unused
        .iter()
        .map(|key| {
            if key.to_lowercase().ends_with("namespace") {
                format!("invalid config key {key:?}, namespaces are a consul enterprise feature")
            } else {
                format!("invalid config key {key:?}")
            }
        })
        .collect();
    EntryError::Decode(common::multierror(&messages))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn kind_is_required_and_must_be_known() {
        assert_eq!(
            decode(&json!({"Name": "x"})).unwrap_err(),
            EntryError::Decode("Payload does not contain a kind/Kind key at the top level".into())
        );
        assert_eq!(
            decode(&json!({"Kind": 5})).unwrap_err(),
            EntryError::Decode("Kind value in payload is not a string".into())
        );
        assert_eq!(
            decode(&json!({"Kind": "bogus", "Name": "x"})).unwrap_err(),
            EntryError::Decode("invalid config entry kind: bogus".into())
        );
        assert!(check_kind("service-defaults").is_ok());
        assert!(check_kind("nope").is_err());
    }

    #[test]
    fn unknown_field_is_named() {
        let err = decode(&json!({"Kind": "service-defaults", "Name": "web", "Colour": "red"}))
            .unwrap_err();
        assert_eq!(
            err,
            EntryError::Decode("1 error occurred:\n\t* invalid config key \"Colour\"\n\n".into())
        );
        let err = decode(&json!({"kind": "service-defaults", "name": "web", "namespace": "x"}))
            .unwrap_err();
        assert!(
            err.to_string()
                .contains("namespaces are a consul enterprise feature")
        );
    }

    #[test]
    fn lowercase_kind_and_indexes_are_accepted() {
        let entry = decode(
            &json!({"kind": "service-defaults", "name": "web", "protocol": "HTTP",
            "CreateIndex": 4, "ModifyIndex": 5}),
        )
        .unwrap();
        assert_eq!(entry.kind, "service-defaults");
        assert_eq!(entry.name, "web");
        assert_eq!(entry.body["Protocol"], json!("http"));
        assert!(entry.body.get("CreateIndex").is_none());
    }

    #[test]
    fn type_errors_use_mapstructure_wording() {
        let err = decode(&json!({"Kind": "service-defaults", "Name": "web",
            "MaxInboundConnections": "lots"}))
        .unwrap_err();
        assert!(
            err.to_string()
                .starts_with("1 error(s) decoding:\n\n* 'MaxInboundConnections'")
        );
    }

    #[test]
    fn delete_names_are_normalised() {
        assert_eq!(delete_name("proxy-defaults", "global").unwrap(), "global");
        assert!(delete_name("proxy-defaults", "other").is_err());
        assert_eq!(delete_name("mesh", "mesh").unwrap(), "mesh");
        assert_eq!(delete_name("service-intentions", "web").unwrap(), "web");
        assert!(delete_name("bogus", "x").is_err());
    }
}
