//! Bulk health reads keyed by service name, for readers that follow many services at once
//! (a peering exporter): one pass over the catalog instead of one pass per service.

use std::collections::BTreeMap;
use std::collections::BTreeSet;

use crate::model::HealthCheck;
use crate::model::Index;
use crate::model::Node;
use crate::model::Service;
use crate::tables::fold;
use crate::tables::with_first;
use crate::view::StateView;

/// Changes whenever anything in a service's health rows changes: an instance, its node, or a
/// check that applies to it (node-level or its own) is added, modified or removed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct HealthFingerprint {
    /// Highest modify index among the instances, their nodes and their checks.
    pub max_index: Index,
    /// Number of instances.
    pub instances: usize,
    /// Number of (instance, applicable check) pairs.
    pub checks: usize,
}

/// One health row: an instance with its node and the checks that apply to it.
pub type HealthRow = (Node, Service, Vec<HealthCheck>);

impl StateView {
    /// The checks on node `node_key` that apply to service `service_key` (node-level ones and
    /// its own), in check-ID order.
    fn applicable_checks<'a>(
        &'a self,
        node_key: &'a str,
        service_key: &'a str,
    ) -> impl Iterator<Item = &'a HealthCheck> + 'a {
        with_first(&self.tables.checks, node_key)
            .map(|(_, c)| c)
            .filter(move |c| c.service_id.is_empty() || fold(&c.service_id) == service_key)
    }

    /// A [`HealthFingerprint`] for every service name (folded): one pass over the checks
    /// (summarised per node and per service instance), one over the services.
    pub fn service_health_fingerprints(&self) -> BTreeMap<String, HealthFingerprint> {
        // (max modify index, count) of node-level checks per node, and of each instance's own
        // checks per (node, folded service ID).
        let mut node_level: BTreeMap<&str, (Index, usize)> = BTreeMap::new();
        let mut own: BTreeMap<(&str, String), (Index, usize)> = BTreeMap::new();
        for ((node_key, _), c) in &self.tables.checks {
            let slot = if c.service_id.is_empty() {
                node_level.entry(node_key.as_str()).or_default()
            } else {
                own.entry((node_key.as_str(), fold(&c.service_id)))
                    .or_default()
            };
            slot.0 = slot.0.max(c.modify_index);
            slot.1 += 1;
        }
        let mut out: BTreeMap<String, HealthFingerprint> = BTreeMap::new();
        for ((node_key, service_key), s) in &self.tables.services {
            let fp = out.entry(fold(&s.service)).or_default();
            fp.instances += 1;
            fp.max_index = fp.max_index.max(s.modify_index);
            if let Some(node) = self.tables.nodes.get(node_key) {
                fp.max_index = fp.max_index.max(node.modify_index);
            }
            let summaries = [
                node_level.get(node_key.as_str()),
                own.get(&(node_key.as_str(), service_key.clone())),
            ];
            for (max, count) in summaries.into_iter().flatten() {
                fp.max_index = fp.max_index.max(*max);
                fp.checks += count;
            }
        }
        out
    }

    /// Names of the services with at least one typical (kind `""`) instance, sorted.
    pub fn typical_service_names(&self) -> BTreeSet<String> {
        self.tables
            .services
            .values()
            .filter(|s| s.kind.is_empty())
            .map(|s| s.service.clone())
            .collect()
    }

    /// [`StateView::service_health`] for every service in `names` (folded names), in one pass;
    /// keyed by folded name, rows in node then service-ID order.
    pub fn service_health_of(&self, names: &BTreeSet<String>) -> BTreeMap<String, Vec<HealthRow>> {
        let mut out: BTreeMap<String, Vec<HealthRow>> = BTreeMap::new();
        for ((node_key, service_key), s) in &self.tables.services {
            let name = fold(&s.service);
            if !names.contains(&name) {
                continue;
            }
            let Some(node) = self.tables.nodes.get(node_key) else {
                continue;
            };
            let checks = self.node_level_then_own(node_key, service_key);
            out.entry(name)
                .or_default()
                .push((node.clone(), s.clone(), checks));
        }
        out
    }

    /// Node-level checks first, then the service's own, as [`StateView::service_health`].
    fn node_level_then_own(&self, node_key: &str, service_key: &str) -> Vec<HealthCheck> {
        let (node_level, own): (Vec<&HealthCheck>, Vec<&HealthCheck>) = self
            .applicable_checks(node_key, service_key)
            .partition(|c| c.service_id.is_empty());
        node_level.into_iter().chain(own).cloned().collect()
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use crate::Store;
    use crate::command::Command;
    use crate::command::RegisterRequest;
    use crate::model::HealthCheck;
    use crate::model::Node;
    use crate::model::Service;

    fn register(store: &Store, index: u64, node: &str, id: &str, name: &str, status: &str) {
        store.apply(
            index,
            Command::Register(RegisterRequest {
                node: Node {
                    node: node.into(),
                    address: "10.0.0.1".into(),
                    ..Node::default()
                },
                service: Some(Service {
                    id: id.into(),
                    service: name.into(),
                    ..Service::default()
                }),
                checks: vec![HealthCheck {
                    node: node.into(),
                    check_id: format!("{id}-check"),
                    name: "c".into(),
                    status: status.into(),
                    service_id: id.into(),
                    service_name: name.into(),
                    ..HealthCheck::default()
                }],
                ..RegisterRequest::default()
            }),
        );
    }

    #[test]
    fn bulk_rows_equal_per_service_reads() {
        let store = Store::new();
        register(&store, 1, "n1", "web-1", "web", "passing");
        register(&store, 2, "n2", "web-2", "Web", "critical");
        register(&store, 3, "n1", "db-1", "db", "passing");
        let view = store.view();
        let names: BTreeSet<String> = ["web".to_string(), "db".to_string()].into();
        let bulk = view.service_health_of(&names);
        assert_eq!(bulk["web"], view.service_health("web"));
        assert_eq!(bulk["db"], view.service_health("db"));
        assert_eq!(bulk.len(), 2);
    }

    #[test]
    fn fingerprint_moves_with_every_change() {
        let store = Store::new();
        register(&store, 1, "n1", "web-1", "web", "passing");
        register(&store, 2, "n1", "db-1", "db", "passing");
        let before = store.view().service_health_fingerprints();
        // A check of web changes: web moves, db does not.
        register(&store, 3, "n1", "web-1", "web", "critical");
        let after = store.view().service_health_fingerprints();
        assert_ne!(before["web"], after["web"]);
        assert_eq!(before["db"], after["db"]);
        // An instance goes away: the count changes even though no index rose for the rest.
        register(&store, 4, "n2", "web-2", "web", "passing");
        let two = store.view().service_health_fingerprints();
        store.apply(
            5,
            Command::Deregister {
                node: "n2".into(),
                service_id: None,
                check_id: None,
            },
        );
        let one = store.view().service_health_fingerprints();
        assert_eq!(two["web"].instances, 2);
        assert_eq!(one["web"].instances, 1);
        assert_ne!(two["web"], one["web"]);
    }
}
