//! Tests of the exporter core against a real state store.

use legate_state::Store;
use legate_state::command::Command;
use legate_state::command::CommandResult;
use legate_state::command::RegisterRequest;
use legate_state::model::ConfigEntry;
use legate_state::model::HealthCheck;
use legate_state::model::Node;
use legate_state::model::Service;
use legate_state::model::health;
use serde_json::Value;
use serde_json::json;

use super::*;

struct Fixture {
    store: Store,
    index: u64,
}

impl Fixture {
    fn new() -> Fixture {
        Fixture {
            store: Store::new(),
            index: 0,
        }
    }

    fn apply(&mut self, command: Command) {
        self.index += 1;
        let r = self.store.apply(self.index, command);
        assert!(
            matches!(r, CommandResult::Ok | CommandResult::Bool(true)),
            "{r:?}"
        );
    }

    /// Register `service` (ID `id`, kind `kind`) on `node` with checks `(id, service?, status)`.
    fn register(
        &mut self,
        node: &str,
        id: &str,
        name: &str,
        kind: &str,
        checks: &[(&str, bool, &str)],
    ) {
        self.apply(Command::Register(RegisterRequest {
            node: Node {
                node: node.to_string(),
                address: "10.0.0.1".to_string(),
                ..Node::default()
            },
            skip_node_update: false,
            service: Some(Service {
                id: id.to_string(),
                service: name.to_string(),
                kind: kind.to_string(),
                ..Service::default()
            }),
            checks: checks
                .iter()
                .map(|(cid, on_service, status)| HealthCheck {
                    check_id: cid.to_string(),
                    service_id: if *on_service {
                        id.to_string()
                    } else {
                        String::new()
                    },
                    status: status.to_string(),
                    ..HealthCheck::default()
                })
                .collect(),
        }));
    }

    fn config(&mut self, kind: &str, name: &str, body: Value) -> ConfigEntry {
        let entry = ConfigEntry {
            kind: kind.to_string(),
            name: name.to_string(),
            body,
            ..ConfigEntry::default()
        };
        self.apply(Command::ConfigSet {
            entry: entry.clone(),
            cas: None,
        });
        entry
    }
}

fn exports(body: Value) -> Value {
    let mut b = json!({"Kind": "exported-services", "Name": "default"});
    b["Services"] = body;
    b
}

#[test]
fn wildcard_expands_to_typical_services_without_consul_or_sidecars() {
    let mut f = Fixture::new();
    f.register("n1", "consul", "consul", "", &[]);
    f.register("n1", "web", "web", "", &[]);
    f.register(
        "n1",
        "web-sidecar-proxy",
        "web-sidecar-proxy",
        "connect-proxy",
        &[],
    );
    f.register("n1", "gw", "gw", "mesh-gateway", &[]);
    f.register("n2", "db", "db", "", &[]);
    let entry = f.config(
        EXPORTED_SERVICES_KIND,
        EXPORTED_SERVICES_NAME,
        exports(json!([
            {"Name": "*", "Consumers": [{"Peer": "alpha"}]},
            {"Name": "api", "Consumers": [{"Peer": "beta"}, {"Partition": "part1"}]},
            {"Name": "consul", "Consumers": [{"Peer": "beta"}]},
            {"Name": "db-sidecar-proxy", "Consumers": [{"Peer": "beta"}]},
        ])),
    );
    let view = f.store.view();
    assert_eq!(
        exported_service_names(&view, &entry, "ALPHA"),
        ["db", "web"]
    );
    assert_eq!(exported_service_names(&view, &entry, "beta"), ["api"]);
    assert!(exported_service_names(&view, &entry, "gamma").is_empty());
    let resolved = resolved_exports(&view, &entry);
    let names: Vec<&str> = resolved.iter().map(|r| r.service.as_str()).collect();
    assert_eq!(names, ["api", "db", "db-sidecar-proxy", "web"]);
    assert_eq!(resolved[0].peers, ["beta"]);
    assert_eq!(resolved[0].partitions, ["part1"]);
}

#[test]
fn sameness_groups_expand_to_their_members() {
    let mut f = Fixture::new();
    f.config(
        "sameness-group",
        "sg",
        json!({"Kind": "sameness-group", "Name": "sg",
            "Members": [{"Peer": "beta"}, {"Partition": "p2"}, {"Peer": "alpha"}]}),
    );
    let entry = f.config(
        EXPORTED_SERVICES_KIND,
        EXPORTED_SERVICES_NAME,
        exports(json!([
            {"Name": "web", "Consumers": [{"SamenessGroup": "sg"}, {"Peer": "alpha"}]},
            {"Name": "db", "Consumers": [{"SamenessGroup": "missing"}]},
        ])),
    );
    let resolved = resolved_exports(&f.store.view(), &entry);
    assert_eq!(
        resolved,
        [ResolvedExport {
            service: "web".into(),
            peers: vec!["alpha".into(), "beta".into()],
            partitions: vec!["p2".into()],
        }]
    );
}

#[test]
fn snapshot_strips_mesh_blocks_and_flattens_health() {
    let mut f = Fixture::new();
    f.register(
        "n1",
        "web-1",
        "web",
        "",
        &[
            ("serfHealth", false, health::PASSING),
            ("web-chk", true, health::WARNING),
        ],
    );
    f.register("n2", "web-2", "web", "", &[]);
    f.register(
        "n2",
        "web-sidecar-proxy",
        "web-sidecar-proxy",
        "connect-proxy",
        &[],
    );
    let mut native = f.store.view().node_service("n2", "web-2").unwrap();
    native.connect = Some(json!({"Native": true}));
    native.tagged_addresses.insert(
        "consul-virtual".into(),
        legate_state::model::ServiceAddress {
            address: "240.0.0.1".into(),
            port: 80,
        },
    );
    f.apply(Command::Register(RegisterRequest {
        node: f.store.view().node("n2").unwrap(),
        skip_node_update: true,
        service: Some(native),
        checks: Vec::new(),
    }));

    let snap = service_snapshot(&f.store.view(), "web");
    assert_eq!(snap.len(), 2);
    let one = &snap[0];
    assert_eq!(
        (one.node.node.as_str(), one.service.id.as_str()),
        ("n1", "web-1")
    );
    assert_eq!((one.node.create_index, one.service.modify_index), (0, 0));
    assert_eq!(one.checks.len(), 1);
    let check = &one.checks[0];
    assert_eq!(check.check_id, "web-1:overall-check");
    assert_eq!(check.name, "overall-check");
    assert_eq!(check.status, health::WARNING);
    assert_eq!(
        (
            check.node.as_str(),
            check.service_id.as_str(),
            check.service_name.as_str()
        ),
        ("n1", "web-1", "web")
    );
    assert_eq!(check.output, "");
    let two = &snap[1];
    assert!(two.service.connect.is_none());
    assert!(two.service.tagged_addresses.is_empty());
    assert!(two.checks.is_empty(), "no checks, no synthetic check");
    assert!(service_snapshot(&f.store.view(), "web-sidecar-proxy").is_empty());
    assert!(service_snapshot(&f.store.view(), "nope").is_empty());
}

#[test]
fn flattening_orders_maintenance_critical_warning_passing() {
    let check = |id: &str, status: &str| HealthCheck {
        check_id: id.to_string(),
        status: status.to_string(),
        ..HealthCheck::default()
    };
    let status = |checks: &[HealthCheck]| flatten_checks("n", "s", "svc", checks)[0].status.clone();
    assert_eq!(status(&[check("a", health::PASSING)]), health::PASSING);
    assert_eq!(
        status(&[check("a", health::PASSING), check("b", health::WARNING)]),
        health::WARNING
    );
    assert_eq!(
        status(&[check("a", health::CRITICAL), check("b", health::WARNING)]),
        health::CRITICAL
    );
    assert_eq!(
        status(&[
            check("a", health::CRITICAL),
            check("_node_maintenance", health::CRITICAL)
        ]),
        health::MAINTENANCE
    );
    assert_eq!(
        status(&[check("_service_maintenance:s", health::CRITICAL)]),
        health::MAINTENANCE
    );
    assert!(flatten_checks("n", "s", "svc", &[]).is_empty());
    let unnamed = flatten_checks("n", "", "svc", &[check("a", health::PASSING)]);
    assert_eq!(unnamed[0].check_id, "svc:overall-check");
    assert_eq!(unnamed[0].service_id, "svc");
}

/// The exporter's output is exactly what the importer stores: feeding a snapshot to
/// `ImportServiceSnapshot` on another store reproduces it under the peer view.
#[test]
fn snapshot_round_trips_through_the_importer() {
    let mut f = Fixture::new();
    f.register(
        "n1",
        "web-1",
        "web",
        "",
        &[("web-chk", true, health::CRITICAL)],
    );
    let snap = service_snapshot(&f.store.view(), "web");
    let importer = Store::new();
    let r = importer.apply(
        1,
        Command::ImportServiceSnapshot {
            peer: "dc1-peer".to_string(),
            service: "web".to_string(),
            instances: snap.clone(),
        },
    );
    assert_eq!(r, CommandResult::Ok);
    let rows = importer.view().for_peer("dc1-peer").service_health("web");
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].2[0].status, health::CRITICAL);
    assert_eq!(rows[0].2[0].peer_name, "dc1-peer");
    assert!(importer.view().service_health("web").is_empty());
}
