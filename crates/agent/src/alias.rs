//! Alias checks: a check whose status mirrors another node's or service's health. [`status`]
//! is the pure rule; [`start`] runs a watcher that re-evaluates it whenever this agent's local
//! state changes (aliases of services on this agent) or the catalog's checks change (aliases of
//! other nodes), and writes the result into local state.

use std::sync::Arc;

use legate_state::Table;
use legate_state::model::HealthCheck;
use legate_state::model::health;
use tokio_util::sync::CancellationToken;

use crate::agent::Agent;

/// What an alias check aims at: a node (empty: this agent's) and optionally a service on it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AliasTarget {
    /// Node name; empty means this agent's node.
    pub node: String,
    /// Service ID; empty means the node's own health.
    pub service_id: String,
}

/// The alias's status from the target node's checks: the worst of the node-level checks and
/// the aliased service's checks (critical wins, then warning); critical when the aliased
/// service is not registered; the alias check itself never counts.
pub fn status(
    own_check_id: &str,
    target: &AliasTarget,
    node_checks: &[HealthCheck],
    service_exists: bool,
) -> (&'static str, String) {
    let mut result = (health::PASSING, "No checks found.".to_string());
    for check in node_checks {
        if check.check_id == own_check_id {
            continue;
        }
        if !check.service_id.is_empty() && check.service_id != target.service_id {
            continue;
        }
        match check.status.as_str() {
            health::CRITICAL => {
                return (
                    health::CRITICAL,
                    format!("Aliased check {:?} failing: {}", check.name, check.output),
                );
            }
            health::WARNING => {
                result = (
                    health::WARNING,
                    format!("Aliased check {:?} failing: {}", check.name, check.output),
                );
            }
            _ if result.0 == health::PASSING => {
                result = (health::PASSING, "All checks passing.".to_string());
            }
            _ => {}
        }
    }
    if !target.service_id.is_empty() && !service_exists {
        return (
            health::CRITICAL,
            format!(
                "Service {} could not be found on node {}",
                target.service_id, target.node
            ),
        );
    }
    result
}

/// Start watching for alias check `check_id`; the runners' `stop` ends the watcher.
pub fn start(agent: &Arc<Agent>, check_id: &str, mut target: AliasTarget) {
    if target.node.is_empty() {
        target.node = agent.node().name.clone();
    }
    let token = agent.runners().track(check_id);
    tokio::spawn(watch(agent.clone(), check_id.to_string(), target, token));
}

async fn watch(agent: Arc<Agent>, check_id: String, target: AliasTarget, token: CancellationToken) {
    let local_target = target.node == agent.node().name;
    let mut local_changes = agent.local().subscribe();
    let store = agent.server().store();
    let tables = [Table::Checks, Table::Services, Table::Nodes];
    loop {
        local_changes.borrow_and_update();
        let view = store.view();
        let (status, output) = if local_target {
            let local = agent.local().snapshot();
            let checks: Vec<HealthCheck> = local.checks.values().map(|c| c.check.clone()).collect();
            let exists = local.services.contains_key(&target.service_id);
            status(&check_id, &target, &checks, exists)
        } else {
            let exists = view
                .node_service(&target.node, &target.service_id)
                .is_some();
            status(&check_id, &target, &view.node_checks(&target.node), exists)
        };
        agent.local().update_check(&check_id, status, &output);
        let seen = view.max_index(&tables);
        tokio::select! {
            () = token.cancelled() => return,
            changed = local_changes.changed(), if local_target => if changed.is_err() { return },
            _ = store.wait_change(&tables, seen, std::future::pending::<()>()), if !local_target => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(id: &str, service_id: &str, status: &str) -> HealthCheck {
        HealthCheck {
            check_id: id.into(),
            name: id.into(),
            service_id: service_id.into(),
            status: status.into(),
            output: format!("{id} says {status}"),
            ..HealthCheck::default()
        }
    }

    fn target(service_id: &str) -> AliasTarget {
        AliasTarget {
            node: "n1".into(),
            service_id: service_id.into(),
        }
    }

    #[test]
    fn worst_of_node_and_service_checks() {
        let checks = [
            check("serfHealth", "", health::PASSING),
            check("web-check", "web", health::WARNING),
            check("db-check", "db", health::CRITICAL),
        ];
        assert_eq!(
            status("alias", &target("web"), &checks, true).0,
            health::WARNING
        );
        assert_eq!(
            status("alias", &target("db"), &checks, true).0,
            health::CRITICAL
        );
        assert_eq!(
            status("alias", &target("api"), &checks, true),
            (health::PASSING, "All checks passing.".to_string())
        );
    }

    #[test]
    fn missing_service_is_critical_and_own_check_is_ignored() {
        let checks = [check("alias", "", health::CRITICAL)];
        let (s, out) = status("alias", &target("web"), &checks, false);
        assert_eq!(s, health::CRITICAL);
        assert_eq!(out, "Service web could not be found on node n1");
        assert_eq!(
            status("alias", &target(""), &checks, false).1,
            "No checks found."
        );
    }
}
