//! Anti-entropy: make the catalog's view of this node equal the agent's local state. [`plan`]
//! is pure — local state and catalog in, the register/deregister commands that reconcile them
//! out — and [`run`] applies the plan whenever local state changes and once a minute.

use std::sync::Arc;
use std::time::Duration;

use legate_state::StateView;
use legate_state::command::Command;
use legate_state::command::RegisterRequest;
use legate_state::model::HealthCheck;
use legate_state::model::Node;
use legate_state::model::Service;

use crate::agent::Agent;
use crate::local::LocalSnapshot;

/// The service the leader registers for every server; never touched by anti-entropy.
pub const CONSUL_SERVICE_ID: &str = "consul";
/// The check the leader keeps for every member; never touched by anti-entropy.
pub const SERF_HEALTH_CHECK_ID: &str = "serfHealth";

/// How often a full sync runs even when nothing changed locally.
const FULL_SYNC_INTERVAL: Duration = Duration::from_secs(60);
/// Pause before retrying a failed sync (no leader yet, …).
const RETRY_INTERVAL: Duration = Duration::from_millis(250);

fn without_indexes_service(s: &Service) -> Service {
    Service {
        create_index: 0,
        modify_index: 0,
        ..s.clone()
    }
}

fn without_indexes_check(c: &HealthCheck) -> HealthCheck {
    HealthCheck {
        create_index: 0,
        modify_index: 0,
        ..c.clone()
    }
}

fn node_differs(wanted: &Node, actual: &Node) -> bool {
    wanted.id != actual.id
        || wanted.address != actual.address
        || wanted.tagged_addresses != actual.tagged_addresses
        || wanted.meta != actual.meta
        || wanted.datacenter != actual.datacenter
}

/// What the catalog holds for one node: all anti-entropy needs to compare against. Servers
/// read it from their store; client agents fetch it from a server.
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct CatalogNode {
    /// The node, if registered.
    pub node: Option<Node>,
    /// Its services.
    pub services: Vec<Service>,
    /// Its checks.
    pub checks: Vec<HealthCheck>,
}

impl CatalogNode {
    /// Read node `name` from a state view.
    pub fn read(view: &StateView, name: &str) -> Self {
        CatalogNode {
            node: view.node(name),
            services: view.node_services(name).map(|(_, s)| s).unwrap_or_default(),
            checks: view.node_checks(name),
        }
    }
}

/// The commands that make the catalog's `catalog` entry for `node` match `local`.
pub fn plan(node: &Node, local: &LocalSnapshot, catalog: &CatalogNode) -> Vec<Command> {
    let mut commands = Vec::new();
    let catalog_node = catalog.node.clone();
    let catalog_services = &catalog.services;
    let catalog_checks = &catalog.checks;
    let register = |service: Option<Service>, checks: Vec<HealthCheck>| {
        Command::Register(RegisterRequest {
            node: node.clone(),
            skip_node_update: false,
            service,
            checks,
        })
    };

    if catalog_node.as_ref().is_none_or(|n| node_differs(node, n)) {
        commands.push(register(None, Vec::new()));
    }

    for service in local.services.values() {
        let in_sync = catalog_services
            .iter()
            .find(|s| s.id == service.id)
            .is_some_and(|s| without_indexes_service(s) == without_indexes_service(service));
        let checks_out_of_sync: Vec<HealthCheck> = local
            .checks
            .values()
            .map(|c| &c.check)
            .filter(|c| c.service_id == service.id)
            .filter(|c| {
                !catalog_checks
                    .iter()
                    .any(|k| without_indexes_check(k) == without_indexes_check(c))
            })
            .cloned()
            .collect();
        if !in_sync || !checks_out_of_sync.is_empty() {
            commands.push(register(Some(service.clone()), checks_out_of_sync));
        }
    }

    let node_checks: Vec<HealthCheck> = local
        .checks
        .values()
        .map(|c| &c.check)
        .filter(|c| c.service_id.is_empty())
        .filter(|c| {
            !catalog_checks
                .iter()
                .any(|k| without_indexes_check(k) == without_indexes_check(c))
        })
        .cloned()
        .collect();
    if !node_checks.is_empty() {
        commands.push(register(None, node_checks));
    }

    for service in catalog_services {
        if service.id != CONSUL_SERVICE_ID && !local.services.contains_key(&service.id) {
            commands.push(Command::Deregister {
                node: node.node.clone(),
                service_id: Some(service.id.clone()),
                check_id: None,
            });
        }
    }
    for check in catalog_checks {
        let owned_by_removed_service = !check.service_id.is_empty()
            && !local.services.contains_key(&check.service_id)
            && check.service_id != CONSUL_SERVICE_ID;
        if check.check_id != SERF_HEALTH_CHECK_ID
            && !owned_by_removed_service
            && !local.checks.contains_key(&check.check_id)
        {
            commands.push(Command::Deregister {
                node: node.node.clone(),
                service_id: None,
                check_id: Some(check.check_id.clone()),
            });
        }
    }
    commands
}

/// Keep the catalog in sync with local state until the agent shuts down.
pub async fn run(agent: Arc<Agent>) {
    let shutdown = agent.shutdown_token();
    let mut changes = agent.local().subscribe();
    loop {
        changes.borrow_and_update();
        let synced = sync_once(&agent).await;
        let wait = if synced {
            FULL_SYNC_INTERVAL
        } else {
            RETRY_INTERVAL
        };
        tokio::select! {
            () = shutdown.cancelled() => return,
            changed = changes.changed() => if changed.is_err() { return },
            () = tokio::time::sleep(wait) => {}
        }
    }
}

/// Apply one sync plan; false when it must be retried.
pub async fn sync_once(agent: &Agent) -> bool {
    let node = agent.catalog_node();
    let catalog = match agent.catalog_entry(&node.node).await {
        Ok(catalog) => catalog,
        Err(err) => {
            tracing::debug!(target: "agent", error = %err, "anti-entropy sync deferred");
            return false;
        }
    };
    let commands = plan(&node, &agent.local().snapshot(), &catalog);
    for command in commands {
        if let Err(err) = agent.server().write(command).await {
            tracing::debug!(target: "agent", error = %err, "anti-entropy sync deferred");
            return false;
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use legate_state::Store;
    use legate_state::model::health;

    use super::*;
    use crate::local::LocalState;

    fn node() -> Node {
        Node {
            id: "11111111-1111-1111-1111-111111111111".into(),
            node: "n1".into(),
            address: "127.0.0.1".into(),
            datacenter: "dc1".into(),
            ..Node::default()
        }
    }

    /// The plan for node `n1` against the store as it is now.
    fn plan_now(local: &LocalState, store: &Store) -> Vec<Command> {
        plan(
            &node(),
            &local.snapshot(),
            &CatalogNode::read(&store.view(), "n1"),
        )
    }

    fn apply_all(store: &Store, commands: Vec<Command>) {
        for command in commands {
            let index = store.last_index() + 1;
            store.apply(index, command);
        }
    }

    #[test]
    fn converges_and_then_plans_nothing() {
        let store = Store::new();
        let local = LocalState::new();
        let web = Service {
            id: "web".into(),
            service: "web".into(),
            tags: vec!["v1".into()],
            port: 80,
            ..Service::default()
        };
        local.add_service(
            web.clone(),
            vec![(
                HealthCheck {
                    node: "n1".into(),
                    check_id: "service:web".into(),
                    name: "Service 'web' check".into(),
                    status: health::CRITICAL.into(),
                    service_id: "web".into(),
                    service_name: "web".into(),
                    service_tags: vec!["v1".into()],
                    check_type: "ttl".into(),
                    ..HealthCheck::default()
                },
                None,
            )],
        );
        let first = plan_now(&local, &store);
        assert!(!first.is_empty());
        apply_all(&store, first);
        assert_eq!(plan_now(&local, &store), Vec::new());

        local.update_check("service:web", health::PASSING, "ok");
        let update = plan_now(&local, &store);
        assert_eq!(update.len(), 1);
        apply_all(&store, update);
        assert_eq!(store.view().node_checks("n1")[0].status, health::PASSING);

        local.remove_service("web");
        let removal = plan_now(&local, &store);
        assert_eq!(
            removal,
            vec![Command::Deregister {
                node: "n1".into(),
                service_id: Some("web".into()),
                check_id: None
            }]
        );
        apply_all(&store, removal);
        assert!(store.view().node_checks("n1").is_empty());
        assert_eq!(plan_now(&local, &store), Vec::new());
    }
}
