//! Pieces shared by several kinds: field tables that recur (mesh gateway, transparent proxy,
//! expose), Consul's meta limits, and go-multierror's message format.

use serde_json::Map;
use serde_json::Value;

use super::schema::Field;
use super::schema::Omit::Empty;
use super::schema::Omit::Never;
use super::schema::Shape;
use super::schema::field;

/// `MeshGatewayConfig`.
pub(super) static MESH_GATEWAY: &[Field] = &[field("Mode", "", Shape::Str, Empty)];

/// `TransparentProxyConfig`.
pub(super) static TRANSPARENT_PROXY: &[Field] = &[
    field(
        "OutboundListenerPort",
        "outbound_listener_port",
        Shape::Int,
        Empty,
    ),
    field("DialedDirectly", "dialed_directly", Shape::Bool, Empty),
];

/// `ExposePath`.
static EXPOSE_PATH: &[Field] = &[
    field("ListenerPort", "listener_port", Shape::Int, Empty),
    field("Path", "", Shape::Str, Empty),
    field("LocalPathPort", "local_path_port", Shape::Int, Empty),
    field("Protocol", "", Shape::Str, Empty),
    field("ParsedFromCheck", "parsed_from_check", Shape::Bool, Never),
];

/// `ExposeConfig`.
pub(super) static EXPOSE: &[Field] = &[
    field("Checks", "", Shape::Bool, Empty),
    field("Paths", "", Shape::List(EXPOSE_PATH), Empty),
];

/// Most key/value pairs a config entry's `Meta` may hold.
const META_MAX_PAIRS: usize = 64;
/// Longest `Meta` key.
const META_KEY_MAX: usize = 128;
/// Longest `Meta` value.
pub(super) const META_VALUE_MAX: usize = 512;

/// Consul's `validateConfigEntryMeta`.
pub(super) fn validate_meta(body: &Map<String, Value>) -> Result<(), String> {
    let Some(Value::Object(meta)) = body.get("Meta") else {
        return Ok(());
    };
    if meta.len() > META_MAX_PAIRS {
        return Err(format!(
            "Meta exceeds maximum element count {META_MAX_PAIRS}"
        ));
    }
    for (k, v) in meta {
        if k.len() > META_KEY_MAX {
            return Err(format!(
                "Meta key {k:?} exceeds maximum length {META_KEY_MAX}"
            ));
        }
        if v.as_str().is_some_and(|v| v.len() > META_VALUE_MAX) {
            return Err(format!(
                "Meta value for key {k:?} exceeds maximum length {META_VALUE_MAX}"
            ));
        }
    }
    Ok(())
}

/// Consul's `MutualTLSMode.validate`.
pub(super) fn validate_mtls_mode(body: &Map<String, Value>) -> Result<(), String> {
    match body
        .get("MutualTLSMode")
        .and_then(Value::as_str)
        .unwrap_or("")
    {
        "" | "strict" | "permissive" => Ok(()),
        other => Err(format!(
            "Invalid MutualTLSMode {other:?}. Must be one of \"\", \"strict\", or \"permissive\"."
        )),
    }
}

/// `Name is required`, the first check of most kinds.
pub(super) fn require_name(body: &Map<String, Value>) -> Result<(), String> {
    if super::schema::str_of(body, "Name").is_empty() {
        return Err("Name is required".to_string());
    }
    Ok(())
}

/// No normalisation beyond the schema.
pub(super) fn no_normalize(_: &mut Map<String, Value>) -> Result<(), String> {
    Ok(())
}

/// go-multierror's default text for a list of errors.
pub(super) fn multierror(messages: &[String]) -> String {
    if messages.len() == 1 {
        return format!("1 error occurred:\n\t* {}\n\n", messages[0]);
    }
    let points: Vec<String> = messages.iter().map(|m| format!("* {m}")).collect();
    format!(
        "{} errors occurred:\n\t{}\n\n",
        messages.len(),
        points.join("\n\t")
    )
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn meta_limits() {
        let ok = json!({"Meta": {"a": "b"}});
        assert!(validate_meta(ok.as_object().unwrap()).is_ok());
        let long_key = json!({"Meta": {"k".repeat(129): "v"}});
        assert!(validate_meta(long_key.as_object().unwrap()).is_err());
        let long_value = json!({"Meta": {"k": "v".repeat(513)}});
        assert!(validate_meta(long_value.as_object().unwrap()).is_err());
    }

    #[test]
    fn multierror_format() {
        assert_eq!(multierror(&["a".into()]), "1 error occurred:\n\t* a\n\n");
        assert_eq!(
            multierror(&["a".into(), "b".into()]),
            "2 errors occurred:\n\t* a\n\t* b\n\n"
        );
    }

    #[test]
    fn mtls_mode_values() {
        assert!(
            validate_mtls_mode(json!({"MutualTLSMode": "strict"}).as_object().unwrap()).is_ok()
        );
        assert!(
            validate_mtls_mode(json!({"MutualTLSMode": "loose"}).as_object().unwrap()).is_err()
        );
    }
}
