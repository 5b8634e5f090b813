//! `/v1/operator/raft/*` and `/v1/operator/autopilot/*`: the Raft peer set, peer removal and
//! leadership transfer (which a single-server group can only refuse, with Consul's texts), and
//! autopilot's configuration, health and state.
//!
//! The autopilot configuration has no state-store command yet, so it is kept in agent memory
//! (per node ID, see [`AUTOPILOT`]) and is neither replicated nor persisted.

use std::collections::BTreeMap;
use std::sync::Mutex;

use axum::Router;
use axum::extract::State;
use axum::response::Response;
use axum::routing::delete;
use axum::routing::get;
use axum::routing::post;
use bytes::Bytes;
use http::Method;
use legate_types::version::CONSUL_VERSION;
use serde_json::Value;
use serde_json::json;

use super::AppState;
use super::body;
use super::error::ApiError;
use super::query::Consistency;
use super::query::Params;
use super::reply;
use crate::agent::Agent;

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

/// Raft figures of this server, from consensus stats.
struct RaftNumbers {
    term: u64,
    last_index: u64,
    configuration_index: u64,
}

fn raft_numbers(agent: &Agent) -> RaftNumbers {
    let stats = agent.server().consensus().stats();
    let num = |k: &str| stats.get(k).and_then(|v| v.parse().ok()).unwrap_or(0);
    RaftNumbers {
        term: num("term"),
        last_index: num("last_log_index"),
        configuration_index: num("latest_configuration_index"),
    }
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
    let numbers = raft_numbers(&agent);
    let own_id = agent.node().id.clone();
    let servers: Vec<Value> = agent
        .server()
        .consensus()
        .servers()
        .into_iter()
        .map(|s| {
            let last_index = if s.id == own_id {
                numbers.last_index
            } else {
                0
            };
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
    let body = json!({"Servers": servers, "Index": numbers.configuration_index});
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
    // Membership changes need server-to-server RPC, which does not exist yet.
    Err(ApiError::Internal(
        "removing a Raft peer is not supported yet".to_string(),
    ))
}

/// `POST /v1/operator/raft/transfer-leader[?id=]`.
async fn raft_transfer_leader(
    State(agent): State<AppState>,
    params: Params,
) -> Result<Response, ApiError> {
    agent.query_options(params.clone())?;
    let servers = agent.server().consensus().servers();
    if let Some(id) = params.non_empty("id")
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
    Err(ApiError::Internal(
        "leadership transfer is not supported yet".to_string(),
    ))
}

/// Autopilot settings (Consul's `AutopilotConfig`).
#[derive(Clone, Debug, PartialEq)]
struct AutopilotConfig {
    cleanup_dead_servers: bool,
    last_contact_threshold: String,
    max_trailing_logs: u64,
    min_quorum: u64,
    server_stabilization_time: String,
    redundancy_zone_tag: String,
    disable_upgrade_migration: bool,
    upgrade_version_tag: String,
    create_index: u64,
    modify_index: u64,
}

impl Default for AutopilotConfig {
    fn default() -> Self {
        AutopilotConfig {
            cleanup_dead_servers: true,
            last_contact_threshold: "200ms".to_string(),
            max_trailing_logs: 250,
            min_quorum: 0,
            server_stabilization_time: "10s".to_string(),
            redundancy_zone_tag: String::new(),
            disable_upgrade_migration: false,
            upgrade_version_tag: String::new(),
            create_index: 0,
            modify_index: 0,
        }
    }
}

impl AutopilotConfig {
    fn to_json(&self) -> Value {
        json!({
            "CleanupDeadServers": self.cleanup_dead_servers,
            "LastContactThreshold": self.last_contact_threshold,
            "MaxTrailingLogs": self.max_trailing_logs,
            "MinQuorum": self.min_quorum,
            "ServerStabilizationTime": self.server_stabilization_time,
            "RedundancyZoneTag": self.redundancy_zone_tag,
            "DisableUpgradeMigration": self.disable_upgrade_migration,
            "UpgradeVersionTag": self.upgrade_version_tag,
            "CreateIndex": self.create_index,
            "ModifyIndex": self.modify_index,
        })
    }

    /// Apply a PUT body: keys case-insensitive, durations as Go strings or nanoseconds; absent
    /// keys take Go's zero value, as Consul's decoding into a fresh struct does.
    fn from_json(value: &Value) -> Result<AutopilotConfig, String> {
        let Value::Object(map) = value else {
            return Err("expected a JSON object".to_string());
        };
        let get = |name: &str| {
            map.iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(name))
                .map(|(_, v)| v)
        };
        let boolean = |name: &str| -> Result<bool, String> {
            match get(name) {
                None | Some(Value::Null) => Ok(false),
                Some(Value::Bool(b)) => Ok(*b),
                Some(other) => Err(format!("{name}: expected a bool, got {other}")),
            }
        };
        let number = |name: &str| -> Result<u64, String> {
            match get(name) {
                None | Some(Value::Null) => Ok(0),
                Some(v) => v
                    .as_u64()
                    .ok_or_else(|| format!("{name}: expected a non-negative integer, got {v}")),
            }
        };
        let string = |name: &str| -> Result<String, String> {
            match get(name) {
                None | Some(Value::Null) => Ok(String::new()),
                Some(Value::String(s)) => Ok(s.clone()),
                Some(other) => Err(format!("{name}: expected a string, got {other}")),
            }
        };
        let duration = |name: &str| -> Result<String, String> {
            let nanos = match get(name) {
                None | Some(Value::Null) => return Ok("0s".to_string()),
                Some(Value::String(s)) => legate_types::go_duration::parse(s)
                    .map_err(|_| format!("time: invalid duration {s:?}"))?,
                Some(Value::Number(n)) => std::time::Duration::from_nanos(
                    n.as_u64()
                        .ok_or_else(|| format!("{name}: invalid duration {n}"))?,
                ),
                Some(other) => return Err(format!("{name}: invalid duration {other}")),
            };
            Ok(legate_types::go_duration::format(nanos))
        };
        Ok(AutopilotConfig {
            cleanup_dead_servers: boolean("CleanupDeadServers")?,
            last_contact_threshold: duration("LastContactThreshold")?,
            max_trailing_logs: number("MaxTrailingLogs")?,
            min_quorum: number("MinQuorum")?,
            server_stabilization_time: duration("ServerStabilizationTime")?,
            redundancy_zone_tag: string("RedundancyZoneTag")?,
            disable_upgrade_migration: boolean("DisableUpgradeMigration")?,
            upgrade_version_tag: string("UpgradeVersionTag")?,
            create_index: 0,
            modify_index: 0,
        })
    }
}

/// Autopilot configuration by node ID (several agents can share a process in tests). To be
/// replaced by a replicated record once the state store has one.
static AUTOPILOT: Mutex<BTreeMap<String, AutopilotConfig>> = Mutex::new(BTreeMap::new());

fn autopilot_config(agent: &Agent) -> AutopilotConfig {
    let configs = AUTOPILOT.lock().unwrap_or_else(|p| p.into_inner());
    // The defaults count as written at index 1, so a first `?cas=1` can replace them.
    configs
        .get(&agent.node().id)
        .cloned()
        .unwrap_or_else(|| AutopilotConfig {
            create_index: 1,
            modify_index: 1,
            ..AutopilotConfig::default()
        })
}

/// `GET /v1/operator/autopilot/configuration`.
async fn autopilot_get(
    State(agent): State<AppState>,
    params: Params,
) -> Result<Response, ApiError> {
    require_leader(&agent, &params)?;
    reply::json(&autopilot_config(&agent).to_json(), params.has("pretty"))
}

/// `PUT /v1/operator/autopilot/configuration[?cas=]`.
async fn autopilot_put(
    State(agent): State<AppState>,
    params: Params,
    body: Bytes,
) -> Result<Response, ApiError> {
    agent.query_options(params.clone())?;
    if !agent.server().consensus().is_leader() {
        return Err(ApiError::Internal("No cluster leader".to_string()));
    }
    let raw = body::decode_object(&body)?;
    let mut config = AutopilotConfig::from_json(&raw)
        .map_err(|err| ApiError::BadRequest(format!("Error parsing autopilot config: {err}")))?;
    let cas = match params.non_empty("cas") {
        None => None,
        Some(v) => Some(
            v.parse::<u64>()
                .map_err(|_| ApiError::BadRequest(format!("Error parsing cas value: {v:?}")))?,
        ),
    };
    let current = autopilot_config(&agent);
    if cas.is_some_and(|c| c != current.modify_index) {
        return Ok(reply::bool_body(false));
    }
    let index = agent.server().consensus().applied_index().max(1);
    config.create_index = current.create_index.max(1);
    config.modify_index = index.max(current.modify_index + 1);
    AUTOPILOT
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .insert(agent.node().id.clone(), config);
    Ok(reply::bool_body(true))
}

/// When this server became stable: the agent's start, RFC 3339 in UTC.
fn stable_since(agent: &Agent) -> String {
    let started = time::OffsetDateTime::from(agent.started());
    started
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

/// `GET /v1/operator/autopilot/health`.
async fn autopilot_health(
    State(agent): State<AppState>,
    params: Params,
) -> Result<Response, ApiError> {
    require_leader(&agent, &params)?;
    let numbers = raft_numbers(&agent);
    let servers: Vec<Value> = agent
        .server()
        .consensus()
        .servers()
        .into_iter()
        .map(|s| {
            json!({
                "ID": s.id,
                "Name": s.node,
                "Address": s.address,
                "SerfStatus": "alive",
                "Version": CONSUL_VERSION,
                "Leader": s.leader,
                "LastContact": "0s",
                "LastTerm": numbers.term,
                "LastIndex": numbers.last_index,
                "Healthy": true,
                "Voter": s.voter,
                "StableSince": stable_since(&agent),
            })
        })
        .collect();
    let body = json!({
        "Healthy": true,
        "FailureTolerance": failure_tolerance(&servers),
        "Servers": servers,
    });
    reply::json(&body, params.has("pretty"))
}

/// How many voters may fail with quorum kept.
fn failure_tolerance(servers: &[Value]) -> usize {
    let voters = servers.iter().filter(|s| s["Voter"] == true).count();
    voters.saturating_sub(voters / 2 + 1)
}

/// `GET /v1/operator/autopilot/state`.
async fn autopilot_state(
    State(agent): State<AppState>,
    params: Params,
) -> Result<Response, ApiError> {
    require_leader(&agent, &params)?;
    let numbers = raft_numbers(&agent);
    let raft_servers = agent.server().consensus().servers();
    let mut servers = serde_json::Map::new();
    let mut leader = String::new();
    let mut voters = Vec::new();
    for s in &raft_servers {
        if s.leader {
            leader = s.id.clone();
        }
        if s.voter {
            voters.push(s.id.clone());
        }
        let status = if s.leader {
            "leader"
        } else if s.voter {
            "voter"
        } else {
            "non-voter"
        };
        servers.insert(
            s.id.clone(),
            json!({
                "ID": s.id,
                "Name": s.node,
                "Address": s.address,
                "NodeStatus": "alive",
                "Version": CONSUL_VERSION,
                "LastContact": "0s",
                "LastTerm": numbers.term,
                "LastIndex": numbers.last_index,
                "Healthy": true,
                "StableSince": stable_since(&agent),
                "ReadReplica": false,
                "Status": status,
                "Meta": {"consul-network-segment": "", "consul-version": CONSUL_VERSION},
                "NodeType": if s.voter { "voter" } else { "read-replica" },
            }),
        );
    }
    let tolerance = voters.len().saturating_sub(voters.len() / 2 + 1);
    let body = json!({
        "Healthy": true,
        "FailureTolerance": tolerance,
        "OptimisticFailureTolerance": tolerance,
        "Servers": servers,
        "Leader": leader,
        "Voters": voters,
    });
    reply::json(&body, params.has("pretty"))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn autopilot_defaults_match_consul() {
        let json = AutopilotConfig::default().to_json();
        assert_eq!(json["CleanupDeadServers"], true);
        assert_eq!(json["LastContactThreshold"], "200ms");
        assert_eq!(json["MaxTrailingLogs"], 250);
        assert_eq!(json["ServerStabilizationTime"], "10s");
    }

    #[test]
    fn autopilot_body_decodes_case_insensitively() {
        let c = AutopilotConfig::from_json(&json!({"cleanupdeadservers": true,
            "LastContactThreshold": "1s", "MaxTrailingLogs": 10, "ServerStabilizationTime": 5_000_000_000u64}))
        .unwrap();
        assert!(c.cleanup_dead_servers);
        assert_eq!(c.last_contact_threshold, "1s");
        assert_eq!(c.max_trailing_logs, 10);
        assert_eq!(c.server_stabilization_time, "5s");
        assert!(AutopilotConfig::from_json(&json!({"LastContactThreshold": "soon"})).is_err());
    }

    #[test]
    fn tolerance_counts_voters() {
        let v = |n: usize| vec![json!({"Voter": true}); n];
        assert_eq!(failure_tolerance(&v(1)), 0);
        assert_eq!(failure_tolerance(&v(3)), 1);
        assert_eq!(failure_tolerance(&v(5)), 2);
    }
}
