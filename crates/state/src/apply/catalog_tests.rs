//! Unit tests of catalog writes (register, deregister, cascades, node ID rules).

use crate::Store;
use crate::command::Command;
use crate::command::CommandResult;
use crate::command::RegisterRequest;
use crate::model::HealthCheck;
use crate::model::Node;
use crate::model::Service;
use crate::model::Session;
use crate::model::health;
use crate::table::Table;

fn node(name: &str) -> Node {
    Node {
        node: name.to_string(),
        address: "10.0.0.1".to_string(),
        datacenter: "dc1".to_string(),
        ..Node::default()
    }
}

fn service(id: &str, name: &str) -> Service {
    Service {
        id: id.to_string(),
        service: name.to_string(),
        tags: vec!["t1".to_string()],
        port: 8080,
        ..Service::default()
    }
}

fn check(id: &str, service_id: &str, status: &str) -> HealthCheck {
    HealthCheck {
        check_id: id.to_string(),
        name: id.to_string(),
        status: status.to_string(),
        service_id: service_id.to_string(),
        ..HealthCheck::default()
    }
}

fn reg(node_name: &str, svc: Option<Service>, checks: Vec<HealthCheck>) -> Command {
    Command::Register(RegisterRequest {
        node: node(node_name),
        skip_node_update: false,
        service: svc,
        checks,
    })
}

#[test]
fn register_creates_node_service_and_check() {
    let s = Store::new();
    let r = s.apply(
        3,
        reg(
            "n1",
            Some(service("web1", "web")),
            vec![check("c1", "web1", health::PASSING)],
        ),
    );
    assert_eq!(r, CommandResult::Ok);
    let v = s.view();
    let n = v.node("n1").unwrap();
    assert_eq!((n.create_index, n.modify_index), (3, 3));
    let svc = v.node_service("n1", "web1").unwrap();
    assert_eq!((svc.create_index, svc.modify_index), (3, 3));
    let checks = v.node_checks("n1");
    assert_eq!(checks.len(), 1);
    assert_eq!(checks[0].service_name, "web");
    assert_eq!(checks[0].service_tags, vec!["t1".to_string()]);
    assert_eq!(checks[0].node, "n1");
    for t in [Table::Nodes, Table::Services, Table::Checks] {
        assert_eq!(v.table_index(t), 3);
    }
    assert_eq!(v.table_index(Table::Kvs), 0);
}

#[test]
fn unchanged_reregistration_keeps_indexes() {
    let s = Store::new();
    s.apply(1, reg("n1", Some(service("web1", "web")), vec![]));
    s.apply(2, reg("n1", Some(service("web1", "web")), vec![]));
    let v = s.view();
    assert_eq!(v.node("n1").unwrap().modify_index, 1);
    assert_eq!(v.node_service("n1", "web1").unwrap().modify_index, 1);
    assert_eq!(v.table_index(Table::Nodes), 1);
    assert_eq!(v.index(), 2);

    let mut changed = node("n1");
    changed.address = "10.0.0.2".to_string();
    s.apply(
        4,
        Command::Register(RegisterRequest {
            node: changed,
            ..RegisterRequest::default()
        }),
    );
    let n = s.view().node("n1").unwrap();
    assert_eq!((n.create_index, n.modify_index), (1, 4));
}

#[test]
fn skip_node_update_keeps_existing_node() {
    let s = Store::new();
    s.apply(1, reg("n1", None, vec![]));
    let mut changed = node("n1");
    changed.address = "10.9.9.9".to_string();
    s.apply(
        2,
        Command::Register(RegisterRequest {
            node: changed,
            skip_node_update: true,
            service: Some(service("db", "db")),
            checks: vec![],
        }),
    );
    let v = s.view();
    assert_eq!(v.node("n1").unwrap().address, "10.0.0.1");
    assert!(v.node_service("n1", "db").is_some());
}

#[test]
fn check_for_unknown_service_is_rejected_without_change() {
    let s = Store::new();
    s.apply(1, reg("n1", None, vec![]));
    let before = s.snapshot();
    let r = s.apply(
        2,
        reg(
            "n1",
            Some(service("web1", "web")),
            vec![check("c1", "nope", health::PASSING)],
        ),
    );
    assert_eq!(
        r,
        CommandResult::Rejected("Unknown service ID 'nope' for check ID 'c1'".to_string())
    );
    let after = s.snapshot();
    assert_eq!(before.nodes, after.nodes);
    assert!(after.services.is_empty());
}

#[test]
fn check_may_name_service_in_same_request_or_existing() {
    let s = Store::new();
    assert_eq!(
        s.apply(
            1,
            reg(
                "n1",
                Some(service("web1", "web")),
                vec![check("c1", "web1", health::PASSING)]
            )
        ),
        CommandResult::Ok
    );
    assert_eq!(
        s.apply(
            2,
            reg("n1", None, vec![check("c2", "web1", health::WARNING)])
        ),
        CommandResult::Ok
    );
    assert_eq!(s.view().service_checks("web").len(), 2);
}

#[test]
fn node_id_conflicts_follow_consul() {
    let s = Store::new();
    let mut a = node("alpha");
    a.id = "11111111-1111-1111-1111-111111111111".to_string();
    s.apply(
        1,
        Command::Register(RegisterRequest {
            node: a.clone(),
            checks: vec![check("serfHealth", "", health::PASSING)],
            ..RegisterRequest::default()
        }),
    );
    // Same name, another ID, while the holder is healthy: rejected.
    let mut b = node("alpha");
    b.id = "22222222-2222-2222-2222-222222222222".to_string();
    let r = s.apply(
        2,
        Command::Register(RegisterRequest {
            node: b.clone(),
            ..RegisterRequest::default()
        }),
    );
    let CommandResult::Rejected(msg) = r else {
        panic!("expected rejection, got {r:?}")
    };
    assert!(
        msg.contains("Node name alpha is reserved by node 11111111"),
        "{msg}"
    );
    assert_eq!(s.view().node("alpha").unwrap().id, a.id);

    // Once its serf check is critical, the name can be taken.
    s.apply(
        3,
        Command::Register(RegisterRequest {
            node: a.clone(),
            checks: vec![check("serfHealth", "", health::CRITICAL)],
            ..RegisterRequest::default()
        }),
    );
    assert_eq!(
        s.apply(
            4,
            Command::Register(RegisterRequest {
                node: b.clone(),
                ..RegisterRequest::default()
            })
        ),
        CommandResult::Ok
    );
    assert_eq!(s.view().node("alpha").unwrap().id, b.id);
}

#[test]
fn node_id_reused_with_new_name_renames_node() {
    let s = Store::new();
    let mut a = node("old");
    a.id = "11111111-1111-1111-1111-111111111111".to_string();
    s.apply(
        1,
        Command::Register(RegisterRequest {
            node: a.clone(),
            service: Some(service("web1", "web")),
            ..RegisterRequest::default()
        }),
    );
    a.node = "new".to_string();
    assert_eq!(
        s.apply(
            2,
            Command::Register(RegisterRequest {
                node: a,
                ..RegisterRequest::default()
            })
        ),
        CommandResult::Ok
    );
    let v = s.view();
    assert!(v.node("old").is_none());
    assert!(v.node_services("old").is_none());
    assert_eq!(v.node("new").unwrap().create_index, 1);
}

#[test]
fn deregister_node_cascades() {
    let s = Store::new();
    s.apply(
        1,
        reg(
            "n1",
            Some(service("web1", "web")),
            vec![
                check("serfHealth", "", health::PASSING),
                check("c1", "web1", health::PASSING),
            ],
        ),
    );
    s.apply(
        2,
        Command::SessionCreate(Session {
            id: "s1".to_string(),
            node: "n1".to_string(),
            node_checks: vec!["serfHealth".to_string()],
            ..Session::default()
        }),
    );
    s.apply(
        3,
        Command::CoordinateBatch(vec![crate::model::Coordinate {
            node: "n1".to_string(),
            ..Default::default()
        }]),
    );
    s.apply(
        4,
        Command::Deregister {
            node: "n1".to_string(),
            service_id: None,
            check_id: None,
        },
    );
    let v = s.view();
    assert!(v.nodes().is_empty());
    assert!(v.services().is_empty());
    assert!(v.checks_in_state(health::ANY).is_empty());
    assert!(v.sessions().is_empty());
    assert!(v.coordinates().is_empty());
    for t in [
        Table::Nodes,
        Table::Services,
        Table::Checks,
        Table::Sessions,
        Table::Coordinates,
    ] {
        assert_eq!(v.table_index(t), 4, "{t:?}");
    }
}

#[test]
fn deregister_service_removes_its_checks_only() {
    let s = Store::new();
    s.apply(
        1,
        reg(
            "n1",
            Some(service("web1", "web")),
            vec![
                check("node-check", "", health::PASSING),
                check("c1", "web1", health::PASSING),
            ],
        ),
    );
    s.apply(
        2,
        Command::Deregister {
            node: "n1".to_string(),
            service_id: Some("web1".to_string()),
            check_id: None,
        },
    );
    let v = s.view();
    assert!(v.node_service("n1", "web1").is_none());
    let ids: Vec<String> = v
        .node_checks("n1")
        .into_iter()
        .map(|c| c.check_id)
        .collect();
    assert_eq!(ids, ["node-check"]);
    // Unknown targets are no-ops.
    assert_eq!(
        s.apply(
            3,
            Command::Deregister {
                node: "ghost".to_string(),
                service_id: None,
                check_id: None
            }
        ),
        CommandResult::Ok
    );
    assert_eq!(s.view().table_index(Table::Nodes), 1);
}

#[test]
fn critical_check_invalidates_sessions() {
    let s = Store::new();
    s.apply(
        1,
        reg("n1", None, vec![check("serfHealth", "", health::PASSING)]),
    );
    s.apply(
        2,
        Command::SessionCreate(Session {
            id: "s1".to_string(),
            node: "n1".to_string(),
            node_checks: vec!["serfHealth".to_string()],
            ..Session::default()
        }),
    );
    assert_eq!(s.view().sessions().len(), 1);
    s.apply(
        3,
        reg("n1", None, vec![check("serfHealth", "", health::WARNING)]),
    );
    assert_eq!(s.view().sessions().len(), 1);
    s.apply(
        4,
        reg("n1", None, vec![check("serfHealth", "", health::CRITICAL)]),
    );
    let v = s.view();
    assert!(v.sessions().is_empty());
    assert_eq!(v.table_index(Table::Sessions), 4);
}

#[test]
fn check_status_defaults_to_critical() {
    let s = Store::new();
    s.apply(1, reg("n1", None, vec![check("c", "", "")]));
    assert_eq!(s.view().node_checks("n1")[0].status, health::CRITICAL);
}

#[test]
fn node_names_are_case_insensitive() {
    let s = Store::new();
    s.apply(1, reg("Node1", Some(service("web1", "web")), vec![]));
    s.apply(2, reg("node1", None, vec![]));
    let v = s.view();
    assert_eq!(v.nodes().len(), 1);
    assert_eq!(v.node("NODE1").unwrap().node, "Node1");
    assert_eq!(v.node("node1").unwrap().modify_index, 1);
}

#[test]
fn deregister_with_service_and_check_removes_the_service_only() {
    let s = Store::new();
    s.apply(
        1,
        reg(
            "n1",
            Some(service("web1", "web")),
            vec![
                check("node-check", "", health::PASSING),
                check("c1", "web1", health::PASSING),
            ],
        ),
    );
    s.apply(
        2,
        Command::Deregister {
            node: "n1".to_string(),
            service_id: Some("web1".to_string()),
            check_id: Some("node-check".to_string()),
        },
    );
    let ids: Vec<String> = s
        .view()
        .node_checks("n1")
        .into_iter()
        .map(|c| c.check_id)
        .collect();
    assert_eq!(ids, ["node-check"]);
}
