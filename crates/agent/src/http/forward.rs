//! Client agents keep no replica of the state: every API request except the agent's own
//! endpoints (`/v1/agent/*`, `/v1/event/*`) is forwarded over server RPC to a server of the
//! datacenter, which runs it through its own router — blocking queries included. Servers
//! answer everything themselves, except that a follower sends the leader-only operator
//! endpoints (`/v1/operator/*` and `GET /v1/snapshot` without `?stale`) and the peering endpoints (`/v1/peering/*`,
//! `/v1/peerings`, even with `?stale`) to the leader, as Consul does.

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

/// Paths only the leader answers (unless `?stale`). Keyring operations run on whichever
/// server receives them (Consul's `Internal.KeyringOperation` is not leader-forwarded).
fn is_leader_only(path: &str) -> bool {
    (path.starts_with("/v1/operator/") && path != "/v1/operator/keyring") || is_peering(path)
}

/// `GET /v1/snapshot`: the leader's state, unless `?stale` (Consul's `Snapshot.Save` is
/// leader-forwarded). A restore stays local: it is applied through Raft, which forwards the
/// write, so large archives never cross the forwarded-body limit.
fn is_snapshot_save(method: &http::Method, path: &str) -> bool {
    path == "/v1/snapshot" && method == http::Method::GET
}

/// Peering management and reads: always the leader's, even with `?stale` (the stream status
/// is the leader's), as Consul forces.
fn is_peering(path: &str) -> bool {
    path.starts_with("/v1/peering/") || path == "/v1/peerings"
}

/// Forward `request` to a known server, trying each until one answers. A read (`GET`,
/// `HEAD`: no side effects) moves on to the next server after any RPC failure, so a blocking
/// query whose server dies mid-wait is asked again elsewhere, as Consul's client does. Any
/// other method moves on only when the call certainly never reached the server, so a write is
/// never applied twice.
pub async fn to_any_server(agent: &Agent, request: HttpRequest) -> Result<HttpReply, ApiError> {
    let servers = agent.server().known_servers();
    if servers.is_empty() {
        return Err(ApiError::Internal("No known Consul servers".to_string()));
    }
    let idempotent = is_idempotent(&request.method);
    let mut last = String::new();
    for addr in servers {
        match agent.server().rpc().http(&addr, request.clone()).await {
            Ok(reply) => return Ok(reply),
            Err(err) if idempotent || never_reached(&err) => {
                tracing::debug!(target: "agent.http", server = %addr, error = %err,
                    "forwarded request failed; trying another server");
                last = err.to_string();
            }
            Err(err) => return Err(ApiError::Internal(err.to_string())),
        }
    }
    Err(ApiError::Internal(format!(
        "No known Consul servers reachable: {last}"
    )))
}

/// Whether repeating a request with `method` on another server is harmless.
fn is_idempotent(method: &str) -> bool {
    method.eq_ignore_ascii_case("GET") || method.eq_ignore_ascii_case("HEAD")
}

/// Whether a failed call certainly never reached the server: the connection could not be
/// made (tonic reports its connector's errors as `Unavailable` with the connector's message).
fn never_reached(err: &RpcError) -> bool {
    match err {
        RpcError::Unavailable(message) => {
            let message = message.to_ascii_lowercase();
            [
                "connect error",
                "connection refused",
                "error trying to connect",
            ]
            .iter()
            .any(|m| message.contains(m))
        }
        _ => false,
    }
}

/// Middleware: on a client agent, forward non-local requests to a server; on a follower,
/// forward leader-only requests to the leader.
pub(super) async fn forward(
    State(agent): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    // `?near=_agent` means this agent's node, wherever the request is answered.
    let request = super::near::resolve_agent(request, &agent.node().name);
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
    let leader_only = is_leader_only(path) || is_snapshot_save(request.method(), path);
    if !leader_only || (stale && !is_peering(path)) || consensus.is_leader() {
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
    let forwarded = match target {
        Target::AnyServer => with_origin_node(forwarded, &agent.node().name),
        Target::Leader(_) => forwarded,
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

/// A client agent's defaults the server cannot know: a session created without a `Node`
/// belongs to the agent that received the request (Consul's client fills in its own node
/// name before the RPC), not to the server that runs it.
fn with_origin_node(mut request: HttpRequest, node: &str) -> HttpRequest {
    let path = request.path_and_query.split('?').next().unwrap_or_default();
    if request.method != "PUT" || path != "/v1/session/create" {
        return request;
    }
    let mut body = if request.body.iter().all(u8::is_ascii_whitespace) {
        serde_json::Map::new()
    } else {
        match serde_json::from_slice::<serde_json::Value>(&request.body) {
            Ok(serde_json::Value::Object(map)) => map,
            // The server reports the malformed body as it would for a local request.
            _ => return request,
        }
    };
    if body.keys().any(|k| k.eq_ignore_ascii_case("node")) {
        return request;
    }
    body.insert("Node".to_string(), serde_json::Value::from(node));
    if let Ok(bytes) = serde_json::to_vec(&body) {
        request.body = bytes;
        request
            .headers
            .retain(|(k, _)| !k.eq_ignore_ascii_case("content-length"));
    }
    request
}

#[cfg(test)]
mod tests {
    use super::*;

    fn create(body: &str) -> HttpRequest {
        HttpRequest {
            method: "PUT".into(),
            path_and_query: "/v1/session/create?dc=dc1".into(),
            headers: vec![("content-length".into(), b"2".to_vec())],
            body: body.as_bytes().to_vec(),
        }
    }

    fn body_of(request: &HttpRequest) -> serde_json::Value {
        serde_json::from_slice(&request.body).unwrap()
    }

    #[test]
    fn only_snapshot_save_goes_to_the_leader() {
        assert!(is_snapshot_save(&http::Method::GET, "/v1/snapshot"));
        assert!(!is_snapshot_save(&http::Method::PUT, "/v1/snapshot"));
        assert!(!is_snapshot_save(&http::Method::GET, "/v1/snapshots"));
    }

    #[test]
    fn session_create_gets_the_client_node() {
        let r = with_origin_node(create(""), "c1");
        assert_eq!(body_of(&r), serde_json::json!({"Node": "c1"}));
        assert!(r.headers.is_empty(), "stale content-length dropped");
        let r = with_origin_node(create(r#"{"Name":"x","LockDelay":"1s"}"#), "c1");
        assert_eq!(
            body_of(&r),
            serde_json::json!({"Name": "x", "LockDelay": "1s", "Node": "c1"})
        );
    }

    #[test]
    fn explicit_node_and_other_requests_are_untouched() {
        let explicit = create(r#"{"node":"other"}"#);
        assert_eq!(with_origin_node(explicit.clone(), "c1"), explicit);
        let garbage = create("[1]");
        assert_eq!(with_origin_node(garbage.clone(), "c1"), garbage);
        let mut renew = create("");
        renew.path_and_query = "/v1/session/renew/abc".into();
        assert_eq!(with_origin_node(renew.clone(), "c1"), renew);
        let mut get = create("");
        get.method = "GET".into();
        assert_eq!(with_origin_node(get.clone(), "c1"), get);
    }

    #[test]
    fn reads_are_idempotent_writes_are_not() {
        assert!(is_idempotent("GET") && is_idempotent("head"));
        for m in ["PUT", "POST", "DELETE", "PATCH"] {
            assert!(!is_idempotent(m), "{m}");
        }
    }

    #[test]
    fn only_connect_failures_never_reached_the_server() {
        let refused = RpcError::Unavailable("tcp connect error".into());
        assert!(never_reached(&refused));
        let refused = RpcError::Unavailable("Connection refused (os error 111)".into());
        assert!(never_reached(&refused));
        let cut = RpcError::Unavailable("h2 protocol error: stream cancelled".into());
        assert!(!never_reached(&cut), "a cancelled call may have run");
        let reset = RpcError::Other("h2 protocol error: connection reset".into());
        assert!(!never_reached(&reset));
        assert!(!never_reached(&RpcError::NotLeader { leader_addr: None }));
    }

    #[test]
    fn agent_endpoints_stay_local() {
        assert!(is_agent_local("/v1/agent/self"));
        assert!(is_agent_local("/v1/event/fire/deploy"));
        assert!(!is_agent_local("/v1/kv/a"));
        assert!(!is_agent_local("/v1/catalog/nodes"));
        assert!(!is_agent_local("/v1/status/leader"));
        assert!(
            !is_agent_local("/v1/operator/keyring"),
            "clients forward keyring operations to a server, as Consul does"
        );
        assert!(is_leader_only("/v1/operator/raft/configuration"));
        assert!(is_leader_only("/v1/peering/token") && is_leader_only("/v1/peerings"));
        assert!(is_peering("/v1/peering/x") && !is_peering("/v1/peered-services"));
        assert!(!is_leader_only("/v1/exported-services"));
        assert!(!is_leader_only("/v1/operator/keyring"));
    }
}
