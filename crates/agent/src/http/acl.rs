//! `/v1/acl/*`: until the ACL system exists, every ACL endpoint answers as Consul does with ACLs
//! disabled (401 `ACL support disabled`), so clients see a clear, typed refusal. An agent
//! configured with `acl.enabled = true` answers 500 saying ACLs are not available yet, rather
//! than pretending to enforce them.

use axum::Router;
use axum::extract::State;
use axum::routing::any;

use super::AppState;
use super::error::ApiError;

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/v1/acl/{*rest}", any(acl))
        .route("/v1/acl", any(acl))
}

async fn acl(State(agent): State<AppState>) -> ApiError {
    if agent.config().acl.enabled {
        ApiError::Internal("ACL system is not available yet in this Legate build".to_string())
    } else {
        ApiError::Unauthorized("ACL support disabled".to_string())
    }
}
