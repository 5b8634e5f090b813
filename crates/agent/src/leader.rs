//! Leader duties: while this server leads, keep the catalog and the Raft configuration in step
//! with gossip membership — this server registered with its `serfHealth` check and `consul`
//! service, every member reconciled (`reconcile::plan`), servers that join gossip added as
//! Raft non-voters (autopilot promotes them once stable), servers that leave removed — on
//! every membership change and at least once a minute.

use std::collections::BTreeMap;
use std::collections::BTreeSet;
use std::sync::Arc;
use std::sync::Mutex;
use std::time::Duration;

use legate_state::command::Command;
use legate_state::command::RegisterRequest;
use legate_state::model::HealthCheck;
use legate_state::model::Service;
use legate_state::model::health;
use legate_types::version::CONSUL_VERSION;

use crate::agent::Agent;
use crate::anti_entropy::CONSUL_SERVICE_ID;
use crate::anti_entropy::SERF_HEALTH_CHECK_ID;
use crate::reconcile::MemberInfo;
use crate::reconcile::MemberStatus;

const RETRY: Duration = Duration::from_millis(100);
/// A full reconciliation runs at least this often while leading (Consul's reconcile_interval).
const RECONCILE_INTERVAL: Duration = Duration::from_secs(60);

/// Run leader duties whenever this server holds leadership.
pub async fn run(agent: Arc<Agent>) {
    let shutdown = agent.shutdown_token();
    let mut leadership = agent.server().consensus().leadership();
    let mut members = agent.members_subscribe();
    let adding: Arc<Mutex<BTreeSet<String>>> = Arc::default();
    tokio::spawn(crate::peering_cleanup::run(agent.clone()));
    loop {
        let leading = *leadership.borrow_and_update();
        if leading {
            crate::connect_ca::on_leadership(&agent).await;
            members.borrow_and_update();
            if let Err(err) = reconcile_once(&agent, &adding).await {
                tracing::warn!(target: "agent.leader", error = %err, "failed to reconcile members");
                tokio::select! {
                    () = shutdown.cancelled() => return,
                    () = tokio::time::sleep(RETRY) => {}
                }
                continue;
            }
        }
        tokio::select! {
            () = shutdown.cancelled() => return,
            changed = leadership.changed() => if changed.is_err() { return },
            changed = members.changed(), if leading => if changed.is_err() { return },
            () = tokio::time::sleep(RECONCILE_INTERVAL), if leading => {}
        }
    }
}

/// One reconciliation: this server's registration, the catalog from gossip, Raft membership.
async fn reconcile_once(
    agent: &Arc<Agent>,
    adding: &Arc<Mutex<BTreeSet<String>>>,
) -> Result<(), String> {
    let server = agent.server();
    server
        .write(self_registration(agent))
        .await
        .map_err(|e| e.to_string())?;
    let Some(lan) = agent.lan() else {
        return Ok(());
    };
    let me = &agent.node().name;
    let members: Vec<_> = lan
        .members()
        .iter()
        .map(crate::membership::member_info)
        .filter(|m| &m.name != me)
        .collect();
    let dc = &agent.node().datacenter;
    for command in crate::reconcile::plan(dc, &members, &[], &server.store().view()) {
        server.write(command).await.map_err(|e| e.to_string())?;
    }
    raft_membership(agent, &members, adding).await;
    readdress_moved_servers(agent, adding);
    Ok(())
}

/// Re-add servers (this one included) whose Raft entry has another RPC address than the one
/// they now advertise in gossip, in the background as additions are.
fn readdress_moved_servers(agent: &Arc<Agent>, adding: &Arc<Mutex<BTreeSet<String>>>) {
    let Some(lan) = agent.lan() else {
        return;
    };
    let members: Vec<MemberInfo> = lan
        .members()
        .iter()
        .map(crate::membership::member_info)
        .collect();
    let servers = agent.server().consensus().servers();
    let dc = &agent.node().datacenter;
    for moved in crate::reconcile::moved_servers(dc, &members, &servers) {
        let newly = adding
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(moved.id.clone());
        if !newly {
            continue;
        }
        let (agent, adding) = (agent.clone(), adding.clone());
        tokio::spawn(async move {
            tracing::info!(target: "agent.leader", "server moved: server={} old={} new={}",
                moved.name, moved.old_addr, moved.new_addr);
            let result = agent
                .server()
                .consensus()
                .update_address(&moved.id, &moved.name, &moved.new_addr)
                .await;
            if let Err(err) = result {
                tracing::warn!(target: "agent.leader", error = %err,
                    "failed to move server {} to {}", moved.name, moved.new_addr);
            }
            adding
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .remove(&moved.id);
            agent.members_changed();
        });
    }
}

/// Add alive servers of this datacenter that Raft does not know as non-voters (autopilot
/// promotes them once they are stable), and remove servers that left.
async fn raft_membership(
    agent: &Arc<Agent>,
    members: &[MemberInfo],
    adding: &Arc<Mutex<BTreeSet<String>>>,
) {
    let consensus = agent.server().consensus();
    let known: BTreeMap<String, bool> = consensus
        .servers()
        .into_iter()
        .map(|s| (s.id, s.voter))
        .collect();
    for m in members {
        let is_server = m.tags.get("role").map(String::as_str) == Some("consul");
        let same_dc = m.tags.get("dc") == Some(&agent.node().datacenter);
        let (Some(id), Some(port)) = (m.tags.get("id"), m.tags.get("port")) else {
            continue;
        };
        if !is_server || !same_dc {
            continue;
        }
        match m.status {
            // New servers join as non-voters; autopilot promotes them once stable.
            MemberStatus::Alive if !known.contains_key(id) => {
                let newly = adding
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .insert(id.clone());
                if !newly {
                    continue;
                }
                let (agent, adding, id, name) =
                    (agent.clone(), adding.clone(), id.clone(), m.name.clone());
                let addr = format!("{}:{port}", m.address);
                tokio::spawn(async move {
                    tracing::info!(target: "agent.leader", "adding server to Raft: server={name} address={addr}");
                    if let Err(err) = agent
                        .server()
                        .consensus()
                        .add_nonvoter(&id, &name, &addr)
                        .await
                    {
                        tracing::warn!(target: "agent.leader", error = %err, "failed to add server {name}");
                    }
                    adding.lock().unwrap_or_else(|p| p.into_inner()).remove(&id);
                    agent.members_changed();
                });
            }
            MemberStatus::Left if known.contains_key(id) => {
                tracing::info!(target: "agent.leader", "removing server that left: server={}", m.name);
                if let Err(err) = consensus.remove_server(id).await {
                    tracing::warn!(target: "agent.leader", error = %err, "failed to remove server {}", m.name);
                }
            }
            _ => {}
        }
    }
}

/// The catalog registration of this server: node, `consul` service, `serfHealth` check.
pub fn self_registration(agent: &Agent) -> Command {
    let config = agent.config();
    let node = agent.catalog_node();
    let service = config.server.then(|| {
        let mut meta = BTreeMap::new();
        meta.insert("non_voter".to_string(), "false".to_string());
        meta.insert("raft_version".to_string(), "3".to_string());
        meta.insert("read_replica".to_string(), "false".to_string());
        meta.insert("serf_protocol_current".to_string(), "2".to_string());
        meta.insert("serf_protocol_max".to_string(), "5".to_string());
        meta.insert("serf_protocol_min".to_string(), "1".to_string());
        meta.insert("version".to_string(), CONSUL_VERSION.to_string());
        if let Some(port) = config.ports.grpc_tls {
            meta.insert("grpc_tls_port".to_string(), port.to_string());
        }
        if let Some(port) = config.ports.grpc {
            meta.insert("grpc_port".to_string(), port.to_string());
        }
        Service {
            id: CONSUL_SERVICE_ID.to_string(),
            service: CONSUL_SERVICE_ID.to_string(),
            port: config.ports.server.unwrap_or(8300),
            meta,
            ..Service::default()
        }
    });
    let serf_health = HealthCheck {
        node: node.node.clone(),
        check_id: SERF_HEALTH_CHECK_ID.to_string(),
        name: "Serf Health Status".to_string(),
        status: health::PASSING.to_string(),
        output: "Agent alive and reachable".to_string(),
        definition: serde_json::json!({}),
        ..HealthCheck::default()
    };
    Command::Register(RegisterRequest {
        node,
        skip_node_update: false,
        service,
        checks: vec![serf_health],
    })
}
