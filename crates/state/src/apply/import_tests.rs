//! Tests of the `Import*` commands: state-of-the-world snapshots per service, list pruning,
//! dropping a peer, index behaviour, and isolation from local reads.

use std::collections::BTreeMap;
use std::collections::BTreeSet;

use proptest::prelude::*;

use crate::Store;
use crate::Table;
use crate::command::Command;
use crate::command::CommandResult;
use crate::command::ImportedInstance;
use crate::command::RegisterRequest;
use crate::model::HealthCheck;
use crate::model::Node;
use crate::model::Service;
use crate::model::health;
use crate::peer_catalog::ImportedService;
use crate::snapshot::Snapshot;

fn instance(node: &str, id: &str, name: &str, status: &str) -> ImportedInstance {
    ImportedInstance {
        node: Node {
            node: node.to_string(),
            address: format!("10.1.0.{}", node.len()),
            ..Node::default()
        },
        service: Service {
            id: id.to_string(),
            service: name.to_string(),
            port: 8080,
            ..Service::default()
        },
        checks: vec![HealthCheck {
            check_id: format!("{id}:overall-check"),
            name: "overall-check".to_string(),
            status: status.to_string(),
            service_id: id.to_string(),
            ..HealthCheck::default()
        }],
    }
}

fn snapshot(peer: &str, service: &str, instances: Vec<ImportedInstance>) -> Command {
    Command::ImportServiceSnapshot {
        peer: peer.to_string(),
        service: service.to_string(),
        instances,
    }
}

fn ids(rows: Vec<(Node, Service)>) -> Vec<String> {
    rows.into_iter()
        .map(|(n, s)| format!("{}/{}", n.node, s.id))
        .collect()
}

/// A store with one local node `local` running `web`.
fn store_with_local_web() -> Store {
    let s = Store::new();
    let r = s.apply(
        1,
        Command::Register(RegisterRequest {
            node: Node {
                node: "local".to_string(),
                address: "127.0.0.1".to_string(),
                ..Node::default()
            },
            service: Some(Service {
                id: "web".to_string(),
                service: "web".to_string(),
                ..Service::default()
            }),
            ..RegisterRequest::default()
        }),
    );
    assert_eq!(r, CommandResult::Ok);
    s
}

#[test]
fn snapshot_imports_rows_visible_only_through_the_peer_view() {
    let s = store_with_local_web();
    let r = s.apply(
        2,
        snapshot(
            "peer-a",
            "web",
            vec![
                instance("n1", "web-1", "web", health::PASSING),
                instance("n2", "web-2", "web", health::CRITICAL),
            ],
        ),
    );
    assert_eq!(r, CommandResult::Ok);
    let v = s.view();
    assert_eq!(ids(v.service_instances("web")), ["local/web"]);
    assert_eq!(v.nodes().len(), 1);
    assert!(v.checks_in_state(health::ANY).is_empty());

    let p = v.for_peer("PEER-A");
    assert_eq!(ids(p.service_instances("web")), ["n1/web-1", "n2/web-2"]);
    let (node, svc, checks) = &p.service_health("web")[0];
    assert_eq!(node.peer_name, "peer-a");
    assert_eq!(svc.peer_name, "peer-a");
    assert_eq!(checks.len(), 1);
    assert_eq!(checks[0].peer_name, "peer-a");
    assert_eq!(checks[0].node, "n1");
    assert_eq!(checks[0].service_name, "web");
    assert_eq!((svc.create_index, svc.modify_index), (2, 2));
    assert_eq!(v.table_index(Table::Services), 2);
    assert_eq!(v.table_index(Table::Nodes), 2);
    assert_eq!(v.table_index(Table::Checks), 2);
    assert!(v.for_peer("other").nodes().is_empty());
}

#[test]
fn identical_snapshot_changes_no_index() {
    let s = Store::new();
    let inst = || vec![instance("n1", "web-1", "web", health::PASSING)];
    s.apply(2, snapshot("p", "web", inst()));
    s.apply(3, snapshot("p", "web", inst()));
    let v = s.view();
    assert_eq!(v.index(), 3);
    for t in [Table::Nodes, Table::Services, Table::Checks] {
        assert_eq!(v.table_index(t), 2, "{t:?}");
    }
    let mut changed = inst();
    changed[0].checks[0].status = health::WARNING.to_string();
    s.apply(4, snapshot("p", "web", changed));
    let v = s.view();
    assert_eq!(v.table_index(Table::Checks), 4);
    assert_eq!(v.table_index(Table::Services), 2);
    let check = &v.for_peer("p").service_checks("web")[0];
    assert_eq!((check.create_index, check.modify_index), (2, 4));
}

#[test]
fn snapshot_deletes_missing_instances_checks_and_orphan_nodes() {
    let s = Store::new();
    s.apply(
        2,
        snapshot(
            "p",
            "web",
            vec![
                instance("n1", "web-1", "web", health::PASSING),
                instance("n2", "web-2", "web", health::PASSING),
            ],
        ),
    );
    s.apply(
        3,
        snapshot("p", "db", vec![instance("n2", "db-1", "db", "")]),
    );
    let mut only_n2 = instance("n2", "web-2", "web", health::PASSING);
    only_n2.checks.clear();
    s.apply(4, snapshot("p", "web", vec![only_n2]));
    let p = s.view().for_peer("p");
    assert_eq!(ids(p.service_instances("web")), ["n2/web-2"]);
    let names: Vec<String> = p.nodes().into_iter().map(|n| n.node).collect();
    assert_eq!(names, ["n2"], "n1 lost its only service");
    let checks: Vec<String> = p
        .node_checks("n2")
        .into_iter()
        .map(|c| c.check_id)
        .collect();
    assert_eq!(
        checks,
        ["db-1:overall-check"],
        "web-2's check left the snapshot"
    );
    assert_eq!(p.service_checks("db")[0].status, health::CRITICAL);

    s.apply(5, snapshot("p", "web", Vec::new()));
    let p = s.view().for_peer("p");
    assert!(p.service_instances("web").is_empty());
    assert_eq!(ids(p.service_instances("db")), ["n2/db-1"]);
    assert_eq!(s.view().table_index(Table::Services), 5);
}

#[test]
fn node_checks_in_a_snapshot_are_reconciled_per_node() {
    let s = Store::new();
    let mut inst = instance("n1", "web-1", "web", health::PASSING);
    inst.checks.push(HealthCheck {
        check_id: "serfHealth".to_string(),
        status: health::PASSING.to_string(),
        ..HealthCheck::default()
    });
    s.apply(2, snapshot("p", "web", vec![inst]));
    let health = s.view().for_peer("p").service_health("web");
    assert_eq!(health[0].2.len(), 2);
    s.apply(
        3,
        snapshot("p", "web", vec![instance("n1", "web-1", "web", "")]),
    );
    let p = s.view().for_peer("p");
    let checks: Vec<String> = p
        .node_checks("n1")
        .into_iter()
        .map(|c| c.check_id)
        .collect();
    assert_eq!(checks, ["web-1:overall-check"]);
}

#[test]
fn service_list_prunes_unlisted_services_but_keeps_sidecar_twins() {
    let s = Store::new();
    s.apply(
        2,
        snapshot("p", "web", vec![instance("n1", "web-1", "web", "")]),
    );
    let mut sidecar = instance("gw", "web-sidecar-proxy", "web-sidecar-proxy", "");
    sidecar.service.kind = "connect-proxy".to_string();
    s.apply(3, snapshot("p", "web-sidecar-proxy", vec![sidecar]));
    s.apply(
        4,
        snapshot("p", "db", vec![instance("n1", "db-1", "db", "")]),
    );
    s.apply(
        5,
        snapshot("q", "db", vec![instance("n1", "db-1", "db", "")]),
    );
    s.apply(
        6,
        Command::ImportServiceList {
            peer: "p".to_string(),
            services: vec!["web".to_string()],
        },
    );
    let v = s.view();
    let p = v.for_peer("p");
    assert_eq!(
        p.services().keys().cloned().collect::<Vec<_>>(),
        ["web", "web-sidecar-proxy"]
    );
    assert!(p.node_checks("n1").iter().all(|c| c.service_name == "web"));
    assert_eq!(ids(v.for_peer("q").service_instances("db")), ["n1/db-1"]);
    assert_eq!(
        v.imported_services(),
        [
            ImportedService {
                peer: "p".into(),
                service: "web".into()
            },
            ImportedService {
                peer: "q".into(),
                service: "db".into()
            },
        ]
    );
    assert_eq!(v.imported_peers(), ["p", "q"]);
    assert_eq!(v.table_index(Table::Services), 6);
}

#[test]
fn drop_peer_removes_everything_of_that_peer_only() {
    let s = Store::new();
    s.apply(
        2,
        snapshot("p", "web", vec![instance("n1", "web-1", "web", "")]),
    );
    s.apply(
        3,
        snapshot("q", "web", vec![instance("n1", "web-1", "web", "")]),
    );
    s.apply(
        4,
        Command::ImportDropPeer {
            peer: "P".to_string(),
        },
    );
    let v = s.view();
    assert!(v.for_peer("p").nodes().is_empty());
    assert_eq!(v.for_peer("q").nodes().len(), 1);
    assert_eq!(v.table_index(Table::Nodes), 4);
    s.apply(
        5,
        Command::ImportDropPeer {
            peer: "nobody".to_string(),
        },
    );
    assert_eq!(s.view().table_index(Table::Nodes), 4, "no-op drop");
}

#[test]
fn bad_snapshots_are_rejected_without_change() {
    let s = Store::new();
    let r = s.apply(2, snapshot("", "web", vec![instance("n1", "w", "web", "")]));
    assert!(matches!(r, CommandResult::Rejected(_)));
    let r = s.apply(3, snapshot("p", "web", vec![instance("n1", "d", "db", "")]));
    assert!(matches!(r, CommandResult::Rejected(_)));
    let mut foreign = instance("n1", "w", "web", "");
    foreign.checks[0].service_id = "other".to_string();
    let r = s.apply(4, snapshot("p", "web", vec![foreign]));
    assert!(matches!(r, CommandResult::Rejected(_)));
    let v = s.view();
    assert!(v.imported_services().is_empty());
    assert_eq!(v.table_index(Table::Nodes), 0);
}

#[test]
fn imported_rows_survive_snapshot_and_restore() {
    let s = store_with_local_web();
    s.apply(
        2,
        snapshot("Peer-A", "web", vec![instance("n1", "web-1", "web", "")]),
    );
    let snap = s.snapshot();
    assert_eq!(snap.imported.len(), 1);
    assert_eq!(snap.imported[0].peer, "Peer-A");
    let decoded = Snapshot::decode(&snap.encode()).expect("decodes");
    let t = Store::new();
    t.restore(decoded);
    assert_eq!(t.snapshot(), snap);
    assert_eq!(
        ids(t.view().for_peer("peer-a").service_instances("web")),
        ["n1/web-1"]
    );
}

#[test]
fn local_json_has_no_peer_name_and_imported_json_has_it() {
    let local = serde_json::to_value(Node::default()).expect("json");
    assert!(local.get("PeerName").is_none());
    let imported = serde_json::to_value(Node {
        peer_name: "p".to_string(),
        ..Node::default()
    })
    .expect("json");
    assert_eq!(imported["PeerName"], "p");
    let old: Node = serde_json::from_str(
        r#"{"ID":"","Node":"n","Address":"","Datacenter":"",
        "TaggedAddresses":{},"Meta":{},"CreateIndex":1,"ModifyIndex":1}"#,
    )
    .expect("records written before PeerName decode");
    assert!(old.peer_name.is_empty());
}

const PEERS: &[&str] = &["p", "q"];
const SERVICES: &[&str] = &["web", "db", "api"];
const NODES: &[&str] = &["n1", "n2", "n3"];

/// One random command: a snapshot of a service with a subset of (node, instance no., status).
fn snapshot_strategy() -> impl Strategy<Value = (usize, usize, Vec<(usize, usize, usize)>)> {
    (
        0..PEERS.len(),
        0..SERVICES.len(),
        proptest::collection::vec((0..NODES.len(), 0..2usize, 0..3usize), 0..5),
    )
}

fn build(service: &str, picks: &[(usize, usize, usize)]) -> Vec<ImportedInstance> {
    let statuses = [health::PASSING, health::WARNING, health::CRITICAL];
    let mut seen = BTreeSet::new();
    picks
        .iter()
        .filter(|(n, i, _)| seen.insert((*n, *i)))
        .map(|(n, i, st)| instance(NODES[*n], &format!("{service}-{i}"), service, statuses[*st]))
        .collect()
}

/// `(node, service ID, check status)` rows of a set of instances, sorted.
fn rows_of(instances: &[ImportedInstance]) -> Vec<(String, String, String)> {
    let mut rows: Vec<_> = instances
        .iter()
        .map(|i| {
            (
                i.node.node.clone(),
                i.service.id.clone(),
                i.checks[0].status.clone(),
            )
        })
        .collect();
    rows.sort();
    rows
}

proptest! {
    /// After any sequence of snapshots, each peer's view of each service is exactly the last
    /// snapshot sent for it, the peer holds no node without a service, and local reads are
    /// untouched.
    #[test]
    fn peer_view_equals_last_snapshot_per_service(
        cmds in proptest::collection::vec(snapshot_strategy(), 1..25)
    ) {
        let s = store_with_local_web();
        let local_before = (s.view().nodes(), s.view().services(), s.view().checks_in_state(health::ANY));
        let mut last: BTreeMap<(usize, usize), Vec<ImportedInstance>> = BTreeMap::new();
        for (i, (peer, service, picks)) in cmds.iter().enumerate() {
            let instances = build(SERVICES[*service], picks);
            last.insert((*peer, *service), instances.clone());
            let r = s.apply(2 + i as u64, snapshot(PEERS[*peer], SERVICES[*service], instances));
            prop_assert_eq!(r, CommandResult::Ok);
        }
        let v = s.view();
        for (p, peer) in PEERS.iter().enumerate() {
            let pv = v.for_peer(peer);
            let mut used_nodes = BTreeSet::new();
            for (sv, service) in SERVICES.iter().enumerate() {
                let expected = last.get(&(p, sv)).map(|i| rows_of(i)).unwrap_or_default();
                let mut got: Vec<(String, String, String)> = pv
                    .service_health(service)
                    .into_iter()
                    .map(|(n, s, c)| {
                        used_nodes.insert(n.node.clone());
                        let status = c.first().map(|c| c.status.clone()).unwrap_or_default();
                        (n.node, s.id, status)
                    })
                    .collect();
                got.sort();
                prop_assert_eq!(got, expected);
            }
            let nodes: BTreeSet<String> = pv.nodes().into_iter().map(|n| n.node).collect();
            prop_assert_eq!(nodes, used_nodes);
        }
        let local_after = (v.nodes(), v.services(), v.checks_in_state(health::ANY));
        prop_assert_eq!(local_before, local_after);
        let snap = s.snapshot();
        let t = Store::new();
        t.restore(snap.clone());
        prop_assert_eq!(t.snapshot(), snap);
    }
}
