//! Building responses the way Consul writes them: JSON (compact, or indented with four spaces
//! under `?pretty`) and the query-metadata headers blocking clients read.

use axum::response::IntoResponse;
use axum::response::Response;
use http::HeaderValue;
use http::StatusCode;
use http::header::CONTENT_TYPE;
use serde::Serialize;

use super::error::ApiError;
use super::query::Consistency;

/// Metadata of a read: the index to block on next and what the server knew of its leader.
#[derive(Clone, Copy, Debug)]
pub struct QueryMeta {
    /// `X-Consul-Index`; never below 1, as in Consul.
    pub index: u64,
    /// `X-Consul-KnownLeader`.
    pub known_leader: bool,
    /// `X-Consul-LastContact`, in milliseconds.
    pub last_contact_ms: u64,
    /// `X-Consul-Effective-Consistency`.
    pub consistency: Consistency,
}

/// Serialize `value` as Consul does: compact, or indented with four spaces when `pretty`.
pub fn encode_json<T: Serialize + ?Sized>(value: &T, pretty: bool) -> Result<Vec<u8>, ApiError> {
    let result = if pretty {
        let mut out = Vec::new();
        let formatter = serde_json::ser::PrettyFormatter::with_indent(b"    ");
        let mut ser = serde_json::Serializer::with_formatter(&mut out, formatter);
        value.serialize(&mut ser).map(|()| {
            out.push(b'\n');
            out
        })
    } else {
        serde_json::to_vec(value)
    };
    result.map_err(|err| ApiError::Internal(format!("failed to encode response: {err}")))
}

/// A 200 JSON response.
pub fn json<T: Serialize + ?Sized>(value: &T, pretty: bool) -> Result<Response, ApiError> {
    let body = encode_json(value, pretty)?;
    Ok((
        StatusCode::OK,
        [(CONTENT_TYPE, HeaderValue::from_static("application/json"))],
        body,
    )
        .into_response())
}

/// A 200 JSON response carrying query metadata headers.
pub fn json_with_meta<T: Serialize + ?Sized>(
    value: &T,
    pretty: bool,
    meta: &QueryMeta,
) -> Result<Response, ApiError> {
    let mut response = json(value, pretty)?;
    add_meta(&mut response, meta);
    Ok(response)
}

/// Add the `X-Consul-*` query metadata headers to a response.
pub fn add_meta(response: &mut Response, meta: &QueryMeta) {
    let headers = response.headers_mut();
    headers.insert("X-Consul-Index", HeaderValue::from(meta.index.max(1)));
    headers.insert(
        "X-Consul-KnownLeader",
        HeaderValue::from_static(if meta.known_leader { "true" } else { "false" }),
    );
    headers.insert(
        "X-Consul-LastContact",
        HeaderValue::from(meta.last_contact_ms),
    );
    headers.insert(
        "X-Consul-Effective-Consistency",
        HeaderValue::from_static(meta.consistency.header_value()),
    );
}

/// A 200 plain-text `true`/`false` body, as KV and config writes answer.
pub fn bool_body(value: bool) -> Response {
    (
        StatusCode::OK,
        [(CONTENT_TYPE, HeaderValue::from_static("application/json"))],
        if value { "true" } else { "false" },
    )
        .into_response()
}

/// An empty 200.
pub fn empty() -> Response {
    StatusCode::OK.into_response()
}
