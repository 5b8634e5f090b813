//! Client agents keep no replica of the state: every API request except the agent's own
//! endpoints (`/v1/agent/*`, `/v1/event/*`) is forwarded over server RPC to a server of the
//! datacenter, which runs it through its own router — blocking queries included. Servers
//! answer everything themselves, except that a follower sends the leader-only operator
//! endpoints (`/v1/operator/*` without `?stale`) to the leader, as Consul does.

use axum::body::Body;
use axum::extract::Request;
use axum::extract::State;
use axum::middleware::Next;
use axum::response::IntoResponse;
use axum::response::Response;
use http_body_util::BodyExt;
use legate_rpc::HttpReply;
use legate_rpc::HttpRequest;
use legate_rpc::RpcError;

use super::AppState;
use super::error::ApiError;
use crate::agent::Agent;

/// Largest request body a client agent forwards (a KV value plus headroom).
const MAX_FORWARDED_BODY: usize = 4 * 1024 * 1024;

/// Paths a client agent answers itself.
fn is_agent_local(path: &str) -> bool {
    path.starts_with("/v1/agent/") || path.starts_with("/v1/event/")
}

/// Paths only the leader answers (unless `?stale`).
fn is_leader_only(path: &str) -> bool {
    path.starts_with("/v1/operator/")
}

/// Forward `request` to a known server, trying each until one answers.
pub async fn to_any_server(agent: &Agent, request: HttpRequest) -> Result<HttpReply, ApiError> {
    let servers = agent.server().known_servers();
    if servers.is_empty() {
        return Err(ApiError::Internal("No known Consul servers".to_string()));
    }
    let mut last = String::new();
    for addr in servers {
        match agent.server().rpc().http(&addr, request.clone()).await {
            Ok(reply) => return Ok(reply),
            Err(RpcError::Unavailable(err)) => last = err,
            Err(other) => return Err(ApiError::Internal(other.to_string())),
        }
    }
    Err(ApiError::Internal(format!(
        "No known Consul servers reachable: {last}"
    )))
}

/// Middleware: on a client agent, forward non-local requests to a server; on a follower,
/// forward leader-only requests to the leader.
pub(super) async fn forward(
    State(agent): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    let Some(target) = target(&agent, &request) else {
        return next.run(request).await;
    };
    match forward_request(&agent, request, target).await {
        Ok(response) => response,
        Err(err) => err.into_response(),
    }
}

/// Where a forwarded request goes.
enum Target {
    /// Any known server (client agents).
    AnyServer,
    /// The leader, at this RPC address.
    Leader(String),
}

/// Whether and where `request` must be forwarded from this agent.
fn target(agent: &Agent, request: &Request) -> Option<Target> {
    let path = request.uri().path();
    if !agent.config().server {
        return (!is_agent_local(path)).then_some(Target::AnyServer);
    }
    let stale = request.uri().query().is_some_and(|q| {
        q.split('&')
            .any(|p| p == "stale" || p.starts_with("stale="))
    });
    let consensus = agent.server().consensus();
    if !is_leader_only(path) || stale || consensus.is_leader() {
        return None;
    }
    consensus.leader_addr().map(Target::Leader)
}

async fn forward_request(
    agent: &Agent,
    request: Request,
    target: Target,
) -> Result<Response, ApiError> {
    let (parts, body) = request.into_parts();
    let body = http_body_util::Limited::new(body, MAX_FORWARDED_BODY)
        .collect()
        .await
        .map_err(|err| ApiError::TooLarge(format!("request body too large to forward: {err}")))?
        .to_bytes();
    let forwarded = HttpRequest {
        method: parts.method.to_string(),
        path_and_query: parts
            .uri
            .path_and_query()
            .map_or_else(|| parts.uri.path().to_string(), ToString::to_string),
        headers: parts
            .headers
            .iter()
            .map(|(k, v)| (k.as_str().to_string(), v.as_bytes().to_vec()))
            .collect(),
        body: body.to_vec(),
    };
    let reply = match target {
        Target::AnyServer => to_any_server(agent, forwarded).await?,
        Target::Leader(addr) => agent
            .server()
            .rpc()
            .http(&addr, forwarded)
            .await
            .map_err(|err| ApiError::Internal(err.to_string()))?,
    };
    let mut builder = Response::builder().status(reply.status);
    for (name, value) in reply.headers {
        // Hop-by-hop framing is the local connection's business.
        if name.eq_ignore_ascii_case("content-length")
            || name.eq_ignore_ascii_case("transfer-encoding")
        {
            continue;
        }
        builder = builder.header(name, value);
    }
    builder
        .body(Body::from(reply.body))
        .map_err(|err| ApiError::Internal(format!("bad forwarded response: {err}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn agent_endpoints_stay_local() {
        assert!(is_agent_local("/v1/agent/self"));
        assert!(is_agent_local("/v1/event/fire/deploy"));
        assert!(!is_agent_local("/v1/kv/a"));
        assert!(!is_agent_local("/v1/catalog/nodes"));
        assert!(!is_agent_local("/v1/status/leader"));
    }
}
