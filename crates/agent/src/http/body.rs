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
