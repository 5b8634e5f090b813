//! The one place where failures become HTTP responses. Every handler returns
//! `Result<_, ApiError>`; each variant has a fixed status, and the body is Consul's plain text.

use axum::response::IntoResponse;
use axum::response::Response;
use http::StatusCode;

use crate::server::ServerError;

/// A failed API request.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// 400 with the message as body.
    #[error("{0}")]
    BadRequest(String),
    /// 404 with the message as body (often empty, as Consul's KV 404).
    #[error("{0}")]
    NotFound(String),
    /// 401 with the message as body.
    #[error("{0}")]
    Unauthorized(String),
    /// 403 with the message as body.
    #[error("{0}")]
    Forbidden(String),
    /// 405 for a method the route does not accept.
    #[error("method {0} not allowed")]
    MethodNotAllowed(String),
    /// 413 for a body over a limit.
    #[error("{0}")]
    TooLarge(String),
    /// 409 for a conflicting request.
    #[error("{0}")]
    Conflict(String),
    /// 500 with the message as body.
    #[error("{0}")]
    Internal(String),
    /// 500 `No path to datacenter` for a `?dc=` we cannot reach.
    #[error("No path to datacenter")]
    NoPathToDatacenter,
}

impl ApiError {
    /// 400 `Request decode failed: …`, Consul's text for a body that does not decode.
    pub fn decode(err: impl std::fmt::Display) -> Self {
        ApiError::BadRequest(format!("Request decode failed: {err}"))
    }

    /// The status this error answers with.
    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::BadRequest(_) => StatusCode::BAD_REQUEST,
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden(_) => StatusCode::FORBIDDEN,
            ApiError::MethodNotAllowed(_) => StatusCode::METHOD_NOT_ALLOWED,
            ApiError::TooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::Conflict(_) => StatusCode::CONFLICT,
            ApiError::Internal(_) | ApiError::NoPathToDatacenter => {
                StatusCode::INTERNAL_SERVER_ERROR
            }
        }
    }
}

impl From<ServerError> for ApiError {
    fn from(err: ServerError) -> Self {
        ApiError::Internal(err.to_string())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status();
        (
            status,
            [(http::header::CONTENT_TYPE, "text/plain; charset=utf-8")],
            self.to_string(),
        )
            .into_response()
    }
}
