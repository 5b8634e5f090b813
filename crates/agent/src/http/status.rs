//! `/v1/status`: the leader's and the peers' server RPC addresses.

use axum::Router;
use axum::extract::State;
use axum::response::Response;
use axum::routing::get;

use super::AppState;
use super::error::ApiError;
use super::query::Params;
use super::reply;

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/v1/status/leader", get(leader))
        .route("/v1/status/peers", get(peers))
}

/// `"ip:port"` of the leader, or `""` when there is none.
async fn leader(State(agent): State<AppState>, params: Params) -> Result<Response, ApiError> {
    let opts = agent.query_options(params)?;
    let leader = agent.server().consensus().leader_addr().unwrap_or_default();
    reply::json(&leader, opts.pretty)
}

/// Addresses of the voting servers.
async fn peers(State(agent): State<AppState>, params: Params) -> Result<Response, ApiError> {
    let opts = agent.query_options(params)?;
    let peers: Vec<String> = agent
        .server()
        .consensus()
        .servers()
        .into_iter()
        .filter(|s| s.voter)
        .map(|s| s.address)
        .collect();
    reply::json(&peers, opts.pretty)
}
