//! Request bodies. Consul accepts JSON with any content type (or none), so bodies are read as
//! bytes and decoded here, with Consul's error text on failure.

use bytes::Bytes;
use serde::de::DeserializeOwned;

use super::error::ApiError;

/// Decode a JSON body into `T`; an empty body is a decode error.
pub fn decode<T: DeserializeOwned>(body: &Bytes) -> Result<T, ApiError> {
    serde_json::from_slice(body).map_err(ApiError::decode)
}

/// Decode a JSON body into a generic value; an empty body gives `None`.
pub fn decode_optional_value(body: &Bytes) -> Result<Option<serde_json::Value>, ApiError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(None);
    }
    serde_json::from_slice(body)
        .map(Some)
        .map_err(ApiError::decode)
}

/// Decode a JSON body that must be an object.
pub fn decode_object(body: &Bytes) -> Result<serde_json::Value, ApiError> {
    match decode_optional_value(body)? {
        Some(value @ serde_json::Value::Object(_)) => Ok(value),
        Some(_) => Err(ApiError::decode("expected a JSON object")),
        None => Err(ApiError::BadRequest("Request body is empty".to_string())),
    }
}

/// Rename object keys to the canonical spelling in `fields` when they match it ignoring case
/// and underscores (`node`, `service_id` → `Node`, `ServiceID`), as Consul's decoder does.
/// Values of the fields named in `opaque` are user data (meta maps, proxy config) and keep
/// their keys.
pub fn canonicalize_keys(value: &mut serde_json::Value, fields: &[&str], opaque: &[&str]) {
    match value {
        serde_json::Value::Object(map) => {
            let entries = std::mem::take(map);
            for (key, mut child) in entries {
                let normalized = crate::definition::normalize_key(&key);
                let canonical = fields
                    .iter()
                    .find(|f| crate::definition::normalize_key(f) == normalized)
                    .map_or(key, |f| (*f).to_string());
                if !opaque.contains(&canonical.as_str()) {
                    canonicalize_keys(&mut child, fields, opaque);
                }
                map.insert(canonical, child);
            }
        }
        serde_json::Value::Array(items) => {
            for item in items {
                canonicalize_keys(item, fields, opaque);
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn canonicalizes_keys_but_not_user_maps() {
        let mut v = json!({"node": "n", "service": {"service_id": "x", "meta": {"some_key": "v"}}, "checks": [{"checkid": "c"}]});
        canonicalize_keys(
            &mut v,
            &["Node", "Service", "ServiceID", "Meta", "Checks", "CheckID"],
            &["Meta"],
        );
        assert_eq!(
            v,
            json!({"Node": "n", "Service": {"ServiceID": "x", "Meta": {"some_key": "v"}}, "Checks": [{"CheckID": "c"}]})
        );
    }
}
