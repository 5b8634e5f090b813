//! Catalog and health reads: nodes, services, checks and Consul's `CheckServiceNode` rows.
//! Node names, service names and IDs match case-insensitively, as in Consul.

use std::collections::BTreeMap;
use std::collections::BTreeSet;

use crate::model::HealthCheck;
use crate::model::Node;
use crate::model::Service;
use crate::model::health;
use crate::tables::fold;
use crate::tables::with_first;
use crate::view::StateView;

impl StateView {
    /// All nodes, sorted by node name.
    pub fn nodes(&self) -> Vec<Node> {
        self.tables.nodes.values().cloned().collect()
    }

    /// One node by name.
    pub fn node(&self, name: &str) -> Option<Node> {
        self.tables.nodes.get(&fold(name)).cloned()
    }

    /// Service name → sorted unique tags (Consul's `/v1/catalog/services`).
    pub fn services(&self) -> BTreeMap<String, Vec<String>> {
        let mut out: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for s in self.tables.services.values() {
            out.entry(s.service.clone())
                .or_default()
                .extend(s.tags.iter().cloned());
        }
        out.into_iter()
            .map(|(name, tags)| (name, tags.into_iter().collect()))
            .collect()
    }

    /// Every instance of `service` with its node, sorted by node then service ID.
    pub fn service_instances(&self, service: &str) -> Vec<(Node, Service)> {
        let wanted = fold(service);
        self.tables
            .services
            .iter()
            .filter(|(_, s)| fold(&s.service) == wanted)
            .filter_map(|((node_key, _), s)| {
                let node = self.tables.nodes.get(node_key)?;
                Some((node.clone(), s.clone()))
            })
            .collect()
    }

    /// A node and its services (sorted by ID); `None` if the node is unknown.
    pub fn node_services(&self, node: &str) -> Option<(Node, Vec<Service>)> {
        let key = fold(node);
        let n = self.tables.nodes.get(&key)?.clone();
        let services = with_first(&self.tables.services, &key)
            .map(|(_, s)| s.clone())
            .collect();
        Some((n, services))
    }

    /// One service instance on a node.
    pub fn node_service(&self, node: &str, service_id: &str) -> Option<Service> {
        self.tables
            .services
            .get(&(fold(node), fold(service_id)))
            .cloned()
    }

    /// A node's checks (node-level and service-level), sorted by check ID.
    pub fn node_checks(&self, node: &str) -> Vec<HealthCheck> {
        with_first(&self.tables.checks, &fold(node))
            .map(|(_, c)| c.clone())
            .collect()
    }

    /// Checks bound to instances of `service`, sorted by node then check ID.
    pub fn service_checks(&self, service: &str) -> Vec<HealthCheck> {
        let wanted = fold(service);
        self.tables
            .checks
            .values()
            .filter(|c| !c.service_id.is_empty() && fold(&c.service_name) == wanted)
            .cloned()
            .collect()
    }

    /// Checks with `status`; [`health::ANY`] matches every check. Sorted by node, check ID.
    pub fn checks_in_state(&self, status: &str) -> Vec<HealthCheck> {
        self.tables
            .checks
            .values()
            .filter(|c| status == health::ANY || c.status == status)
            .cloned()
            .collect()
    }

    /// Consul's `CheckServiceNode` rows for `service`: each instance with its node's
    /// node-level checks followed by the instance's own checks.
    pub fn service_health(&self, service: &str) -> Vec<(Node, Service, Vec<HealthCheck>)> {
        self.service_instances(service)
            .into_iter()
            .map(|(node, svc)| {
                let node_key = fold(&node.node);
                let service_key = fold(&svc.id);
                let on_node: Vec<&HealthCheck> = with_first(&self.tables.checks, &node_key)
                    .map(|(_, c)| c)
                    .collect();
                let node_level = on_node.iter().filter(|c| c.service_id.is_empty());
                let own = on_node
                    .iter()
                    .filter(|c| !c.service_id.is_empty() && fold(&c.service_id) == service_key);
                let checks = node_level.chain(own).map(|c| (*c).clone()).collect();
                (node, svc, checks)
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use crate::Store;
    use crate::command::Command;
    use crate::command::RegisterRequest;
    use crate::model::HealthCheck;
    use crate::model::Node;
    use crate::model::Service;
    use crate::model::health;

    fn register(
        s: &Store,
        idx: u64,
        node: &str,
        svc: (&str, &str, &[&str]),
        checks: &[(&str, &str, &str)],
    ) {
        let r = s.apply(
            idx,
            Command::Register(RegisterRequest {
                node: Node {
                    node: node.to_string(),
                    ..Node::default()
                },
                skip_node_update: false,
                service: Some(Service {
                    id: svc.0.to_string(),
                    service: svc.1.to_string(),
                    tags: svc.2.iter().map(|t| t.to_string()).collect(),
                    ..Service::default()
                }),
                checks: checks
                    .iter()
                    .map(|(id, sid, status)| HealthCheck {
                        check_id: id.to_string(),
                        service_id: sid.to_string(),
                        status: status.to_string(),
                        ..HealthCheck::default()
                    })
                    .collect(),
            }),
        );
        assert_eq!(r, crate::command::CommandResult::Ok);
    }

    fn fixture() -> Store {
        let s = Store::new();
        register(
            &s,
            1,
            "n2",
            ("web-b", "web", &["v2", "a"]),
            &[
                ("serfHealth", "", health::PASSING),
                ("web-b-chk", "web-b", health::CRITICAL),
            ],
        );
        register(
            &s,
            2,
            "n1",
            ("web-a", "web", &["v1", "a"]),
            &[
                ("serfHealth", "", health::WARNING),
                ("web-a-chk", "web-a", health::PASSING),
            ],
        );
        register(
            &s,
            3,
            "n1",
            ("db", "db", &[]),
            &[("db-chk", "db", health::PASSING)],
        );
        s
    }

    #[test]
    fn nodes_and_services_are_sorted() {
        let v = fixture().view();
        let names: Vec<String> = v.nodes().into_iter().map(|n| n.node).collect();
        assert_eq!(names, ["n1", "n2"]);
        let services = v.services();
        assert_eq!(services["web"], ["a", "v1", "v2"]);
        assert_eq!(services["db"], Vec::<String>::new());
        let inst: Vec<(String, String)> = v
            .service_instances("WEB")
            .into_iter()
            .map(|(n, s)| (n.node, s.id))
            .collect();
        assert_eq!(
            inst,
            [("n1".into(), "web-a".into()), ("n2".into(), "web-b".into())]
        );
        let (_, on_n1) = v.node_services("n1").unwrap();
        let ids: Vec<String> = on_n1.into_iter().map(|s| s.id).collect();
        assert_eq!(ids, ["db", "web-a"]);
        assert!(v.node_services("nope").is_none());
    }

    #[test]
    fn check_queries() {
        let v = fixture().view();
        let ids = |cs: Vec<HealthCheck>| {
            cs.into_iter()
                .map(|c| format!("{}/{}", c.node, c.check_id))
                .collect::<Vec<_>>()
        };
        assert_eq!(
            ids(v.node_checks("n1")),
            ["n1/db-chk", "n1/serfHealth", "n1/web-a-chk"]
        );
        assert_eq!(
            ids(v.service_checks("web")),
            ["n1/web-a-chk", "n2/web-b-chk"]
        );
        assert_eq!(ids(v.checks_in_state(health::CRITICAL)), ["n2/web-b-chk"]);
        assert_eq!(v.checks_in_state(health::ANY).len(), 5);
    }

    #[test]
    fn service_health_puts_node_checks_first() {
        let v = fixture().view();
        let rows = v.service_health("web");
        assert_eq!(rows.len(), 2);
        let (node, svc, checks) = &rows[0];
        assert_eq!((node.node.as_str(), svc.id.as_str()), ("n1", "web-a"));
        let ids: Vec<&str> = checks.iter().map(|c| c.check_id.as_str()).collect();
        assert_eq!(ids, ["serfHealth", "web-a-chk"]);
        assert!(v.service_health("nope").is_empty());
    }
}
