//! `/v1/operator/raft/*` and `/v1/operator/autopilot/*`: the Raft peer set, peer removal and
//! leadership transfer, and autopilot's configuration (replicated through Raft), health and
//! state (from the autopilot loop's latest state on the leader).

use axum::Router;
use axum::extract::State;
use axum::response::Response;
use axum::routing::delete;
use axum::routing::get;
use axum::routing::post;
use bytes::Bytes;
use http::Method;
use legate_state::autopilot::AutopilotConfig;
use legate_state::command::Command;
use legate_state::command::CommandResult;
use serde_json::Value;
use serde_json::json;

use super::AppState;
use super::body;
use super::error::ApiError;
use super::query::Consistency;
use super::query::Params;
use super::reply;
use crate::agent::Agent;
use crate::autopilot::ServerHealth;
use crate::autopilot::State as AutopilotState;
use crate::server::ServerError;

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/v1/operator/raft/configuration",
            get(raft_configuration).fallback(not_allowed),
        )
        .route(
            "/v1/operator/raft/peer",
            delete(raft_remove_peer).fallback(not_allowed),
        )
        .route(
            "/v1/operator/raft/transfer-leader",
            post(raft_transfer_leader).fallback(not_allowed),
        )
        .route(
            "/v1/operator/autopilot/configuration",
            get(autopilot_get).put(autopilot_put).fallback(not_allowed),
        )
        .route(
            "/v1/operator/autopilot/health",
            get(autopilot_health).fallback(not_allowed),
        )
        .route(
            "/v1/operator/autopilot/state",
            get(autopilot_state).fallback(not_allowed),
        )
}

async fn not_allowed(method: Method) -> ApiError {
    ApiError::MethodNotAllowed(method.to_string())
}

/// Index of the latest Raft configuration entry, from consensus stats.
fn configuration_index(agent: &Agent) -> u64 {
    agent
        .server()
        .consensus()
        .stats()
        .get("latest_configuration_index")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

/// Reads Consul forwards to the leader; without forwarding a follower can only serve `?stale`.
fn require_leader(agent: &Agent, params: &Params) -> Result<(), ApiError> {
    let opts = agent.query_options(params.clone())?;
    if opts.consistency != Consistency::Stale && !agent.server().consensus().is_leader() {
        return Err(ApiError::Internal("No cluster leader".to_string()));
    }
    Ok(())
}

/// `GET /v1/operator/raft/configuration`.
async fn raft_configuration(
    State(agent): State<AppState>,
    params: Params,
) -> Result<Response, ApiError> {
    require_leader(&agent, &params)?;
    let progress = agent.server().consensus().progress();
    let servers: Vec<Value> = agent
        .server()
        .consensus()
        .servers()
        .into_iter()
        .map(|s| {
            let last_index = progress.get(&s.id).map_or(0, |p| p.last_index);
            json!({
                "ID": s.id,
                "Node": s.node,
                "Address": s.address,
                "Leader": s.leader,
                "ProtocolVersion": "3",
                "Voter": s.voter,
                "LastIndex": last_index,
            })
        })
        .collect();
    let body = json!({"Servers": servers, "Index": configuration_index(&agent)});
    reply::json(&body, params.has("pretty"))
}

/// `DELETE /v1/operator/raft/peer?id=|address=`.
async fn raft_remove_peer(
    State(agent): State<AppState>,
    params: Params,
) -> Result<Response, ApiError> {
    agent.query_options(params.clone())?;
    let id = params.non_empty("id");
    let address = params.non_empty("address");
    let servers = agent.server().consensus().servers();
    let found = match (id, address) {
        (None, None) => {
            return Err(ApiError::BadRequest(
                "Must specify either ?id with the server's ID or ?address with IP:port of peer to remove"
                    .to_string(),
            ));
        }
        (Some(_), Some(_)) => {
            return Err(ApiError::BadRequest(
                "Must specify only one of ?id or ?address".to_string(),
            ));
        }
        (Some(id), None) => servers.iter().find(|s| s.id == id).ok_or_else(|| {
            ApiError::Internal(format!("id {id:?} was not found in the Raft configuration"))
        })?,
        (None, Some(address)) => {
            servers
                .iter()
                .find(|s| s.address == address)
                .ok_or_else(|| {
                    ApiError::Internal(format!(
                        "address {address:?} was not found in the Raft configuration"
                    ))
                })?
        }
    };
    let other_voters = servers
        .iter()
        .filter(|s| s.voter && s.id != found.id)
        .count();
    if other_voters == 0 {
        // Raft refuses a configuration without voters.
        return Err(ApiError::Internal(
            "need at least one voter in configuration".to_string(),
        ));
    }
    tracing::warn!(target: "agent.operator", "Removed Raft peer: id={} address={}", found.id, found.address);
    agent
        .server()
        .consensus()
        .remove_server(&found.id)
        .await
        .map_err(|err| ApiError::Internal(ServerError::from(err).to_string()))?;
    Ok(reply::empty())
}

/// `POST /v1/operator/raft/transfer-leader[?id=]`: `{"Success": true}` once the target leads.
async fn raft_transfer_leader(
    State(agent): State<AppState>,
    params: Params,
) -> Result<Response, ApiError> {
    agent.query_options(params.clone())?;
    let servers = agent.server().consensus().servers();
    let id = params.non_empty("id");
    if let Some(id) = id
        && !servers.iter().any(|s| s.id == id)
    {
        return Err(ApiError::Internal(format!(
            "id {id:?} was not found in the Raft configuration"
        )));
    }
    let own_id = &agent.node().id;
    if !servers.iter().any(|s| s.voter && &s.id != own_id) {
        // What Raft answers when no other voter can take over.
        return Err(ApiError::Internal("cannot find peer".to_string()));
    }
    agent
        .server()
        .consensus()
        .transfer_leadership(id)
        .await
        .map_err(|err| ApiError::Internal(err.to_string()))?;
    reply::json(&json!({"Success": true}), params.has("pretty"))
}

/// The stored autopilot configuration, stored first from the agent config if a leader has
/// not done so yet.
async fn autopilot_config(agent: &Agent) -> Result<AutopilotConfig, ApiError> {
    crate::autopilot_config::ensure(agent)
        .await
        .map_err(|err| ApiError::Internal(err.to_string()))
}

/// `GET /v1/operator/autopilot/configuration`.
async fn autopilot_get(
    State(agent): State<AppState>,
    params: Params,
) -> Result<Response, ApiError> {
    require_leader(&agent, &params)?;
    let config = match agent.server().store().view().autopilot_config() {
        Some(config) => config,
        None => autopilot_config(&agent).await?,
    };
    reply::json(
        &crate::autopilot_config::to_json(&config),
        params.has("pretty"),
    )
}

/// `PUT /v1/operator/autopilot/configuration[?cas=]`: `true` or `false` (CAS mismatch).
async fn autopilot_put(
    State(agent): State<AppState>,
    params: Params,
    body: Bytes,
) -> Result<Response, ApiError> {
    agent.query_options(params.clone())?;
    let raw = body::decode_object(&body)?;
    let config = crate::autopilot_config::from_json(&raw)
        .map_err(|err| ApiError::BadRequest(format!("Error parsing autopilot config: {err}")))?;
    let cas = match params.non_empty("cas") {
        None => None,
        Some(v) => Some(
            v.parse::<u64>()
                .map_err(|_| ApiError::BadRequest(format!("Error parsing cas value: {v:?}")))?,
        ),
    };
    // A CAS is against the stored record: make sure there is one.
    autopilot_config(&agent).await?;
    // The record exists by now, so `?cas=0` fails, as in Consul.
    let result = agent
        .server()
        .write(Command::AutopilotSet { config, cas })
        .await
        .map_err(|err| ApiError::Internal(err.to_string()))?;
    match result {
        CommandResult::Bool(done) => Ok(reply::bool_body(done)),
        CommandResult::Rejected(message) => Err(ApiError::Internal(message)),
        _ => Ok(reply::bool_body(true)),
    }
}

/// The autopilot state: the leader's latest, else computed now from what this server sees.
fn autopilot_state_now(agent: &Agent) -> AutopilotState {
    if let Some(state) = agent.autopilot().get() {
        return state;
    }
    let config = agent
        .server()
        .store()
        .view()
        .autopilot_config()
        .unwrap_or_else(|| crate::autopilot_config::from_agent_config(&agent.config().raw));
    crate::autopilot_run::compute(agent, &config, None)
}

/// RFC 3339 in UTC, as Go marshals a `time.Time`.
fn rfc3339(at: std::time::SystemTime) -> String {
    time::OffsetDateTime::from(at)
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

fn last_contact(s: &ServerHealth) -> String {
    legate_types::go_duration::format(s.last_contact.unwrap_or_default())
}

/// One server of `/v1/operator/autopilot/health`.
fn health_json(s: &ServerHealth) -> Value {
    json!({
        "ID": s.id,
        "Name": s.name,
        "Address": s.address,
        "SerfStatus": s.status.as_str(),
        "Version": s.version,
        "Leader": s.leader,
        "LastContact": last_contact(s),
        "LastTerm": s.last_term,
        "LastIndex": s.last_index,
        "Healthy": s.healthy,
        "Voter": s.voter,
        "StableSince": rfc3339(s.stable_since),
    })
}

/// `GET /v1/operator/autopilot/health`.
async fn autopilot_health(
    State(agent): State<AppState>,
    params: Params,
) -> Result<Response, ApiError> {
    require_leader(&agent, &params)?;
    let state = autopilot_state_now(&agent);
    let mut servers: Vec<&ServerHealth> = state.servers.values().collect();
    servers.sort_by(|a, b| b.leader.cmp(&a.leader).then(a.id.cmp(&b.id)));
    let body = json!({
        "Healthy": state.healthy,
        "FailureTolerance": state.failure_tolerance,
        "Servers": servers.into_iter().map(health_json).collect::<Vec<_>>(),
    });
    reply::json(&body, params.has("pretty"))
}

/// One server of `/v1/operator/autopilot/state`.
fn state_server_json(s: &ServerHealth) -> Value {
    let status = if s.leader {
        "leader"
    } else if s.voter {
        "voter"
    } else {
        "non-voter"
    };
    json!({
        "ID": s.id,
        "Name": s.name,
        "Address": s.address,
        "NodeStatus": s.status.as_str(),
        "Version": s.version,
        "LastContact": last_contact(s),
        "LastTerm": s.last_term,
        "LastIndex": s.last_index,
        "Healthy": s.healthy,
        "StableSince": rfc3339(s.stable_since),
        "ReadReplica": false,
        "Status": status,
        "Meta": {"consul-network-segment": "", "consul-version": s.version},
        // Consul CE: every server is a potential voter.
        "NodeType": "voter",
    })
}

/// `GET /v1/operator/autopilot/state`.
async fn autopilot_state(
    State(agent): State<AppState>,
    params: Params,
) -> Result<Response, ApiError> {
    require_leader(&agent, &params)?;
    let state = autopilot_state_now(&agent);
    let servers: serde_json::Map<String, Value> = state
        .servers
        .values()
        .map(|s| (s.id.clone(), state_server_json(s)))
        .collect();
    let body = json!({
        "Healthy": state.healthy,
        "FailureTolerance": state.failure_tolerance,
        "OptimisticFailureTolerance": state.failure_tolerance,
        "Servers": servers,
        "Leader": state.leader,
        "Voters": state.voters,
    });
    reply::json(&body, params.has("pretty"))
}
