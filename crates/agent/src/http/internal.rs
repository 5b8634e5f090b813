//! `/v1/internal/legate/*`: Legate's own internal endpoints (Consul keeps such endpoints under
//! `/v1/internal/` too). `node/{node}` gives a node's catalog entry in the state model's
//! shape, for client agents' anti-entropy.

use axum::Router;
use axum::extract::Path;
use axum::extract::State;
use axum::response::Response;
use axum::routing::get;

use super::AppState;
use super::error::ApiError;
use super::reply;
use crate::anti_entropy::CatalogNode;

pub(super) fn routes() -> Router<AppState> {
    Router::new().route("/v1/internal/legate/node/{node}", get(node))
}

async fn node(
    State(agent): State<AppState>,
    Path(node): Path<String>,
) -> Result<Response, ApiError> {
    agent.server().read_barrier().await?;
    let entry = CatalogNode::read(&agent.server().store().view(), &node);
    reply::json(&entry, false)
}
