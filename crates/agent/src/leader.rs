//! Leader duties: while this server leads, keep every server member registered in the catalog
//! with its `serfHealth` check and the `consul` service. (Gossip-driven reconciliation of other
//! members arrives with the gossip layer.)

use std::collections::BTreeMap;
use std::sync::Arc;
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

const RETRY: Duration = Duration::from_millis(100);

/// Run leader duties whenever this server holds leadership.
pub async fn run(agent: Arc<Agent>) {
    let shutdown = agent.shutdown_token();
    let mut leadership = agent.server().consensus().leadership();
    loop {
        if *leadership.borrow_and_update() {
            while let Err(err) = agent.server().write(self_registration(&agent)).await {
                tracing::warn!(target: "agent.leader", error = %err, "failed to reconcile member");
                tokio::select! {
                    () = shutdown.cancelled() => return,
                    () = tokio::time::sleep(RETRY) => {}
                }
                if !*leadership.borrow() {
                    break;
                }
            }
        }
        tokio::select! {
            () = shutdown.cancelled() => return,
            changed = leadership.changed() => if changed.is_err() { return },
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
