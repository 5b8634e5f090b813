//! Tests of the exporter's change tracking against a real state store.

use std::collections::BTreeMap;

use legate_state::Store;
use legate_state::command::Command;
use legate_state::command::CommandResult;
use legate_state::command::RegisterRequest;
use legate_state::model::ConfigEntry;
use legate_state::model::HealthCheck;
use legate_state::model::Node;
use legate_state::model::Service;
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

    fn register(&mut self, name: &str, status: &str) {
        self.apply(Command::Register(RegisterRequest {
            node: Node {
                node: "n1".into(),
                address: "10.0.0.1".into(),
                ..Node::default()
            },
            skip_node_update: false,
            service: Some(Service {
                id: name.into(),
                service: name.into(),
                ..Service::default()
            }),
            checks: vec![HealthCheck {
                check_id: format!("{name}-check"),
                service_id: name.into(),
                status: status.into(),
                ..HealthCheck::default()
            }],
        }));
    }

    fn export(&mut self, services: &[&str], peer: &str) {
        let list: Vec<_> = services
            .iter()
            .map(|s| json!({"Name": s, "Consumers": [{"Peer": peer}]}))
            .collect();
        self.apply(Command::ConfigSet {
            entry: ConfigEntry {
                kind: "exported-services".into(),
                name: "default".into(),
                body: json!({"Kind": "exported-services", "Name": "default", "Services": list}),
                ..ConfigEntry::default()
            },
            cas: None,
        });
    }

    fn changes(&self, state: &mut ExportState) -> Vec<(ResourceUrl, String, String)> {
        state
            .changes(&self.store.view(), "dc2", |_| true, &[], 1 << 20)
            .unwrap()
            .into_iter()
            .map(|o| {
                let body = o
                    .parts
                    .iter()
                    .map(|p| String::from_utf8(p.clone()).unwrap())
                    .collect::<Vec<_>>()
                    .join("|");
                (o.url, o.id, body)
            })
            .collect()
    }
}

#[test]
fn sends_the_list_then_each_changed_service_once() {
    let mut f = Fixture::new();
    let mut state = ExportState::default();
    // Nothing exported: an empty list, once.
    let first = f.changes(&mut state);
    assert_eq!(
        first,
        vec![(
            ResourceUrl::ExportedServiceList,
            LIST_ID.into(),
            "[]".into()
        )]
    );
    assert!(f.changes(&mut state).is_empty());

    f.register("web", "passing");
    f.register("api", "passing");
    f.export(&["web"], "dc2");
    let sent = f.changes(&mut state);
    assert_eq!(sent.len(), 2, "{sent:?}");
    assert_eq!(sent[0].2, r#"["web"]"#);
    assert_eq!(
        (sent[1].0, sent[1].1.as_str()),
        (ResourceUrl::ExportedService, "web")
    );
    assert!(sent[1].2.contains("overall-check"));
    assert_eq!(state.exported(), ["web".to_string()]);

    // An unrelated service changing sends nothing.
    f.register("api", "critical");
    assert!(f.changes(&mut state).is_empty());

    // web's health changing sends web's snapshot only.
    f.register("web", "critical");
    let sent = f.changes(&mut state);
    assert_eq!(sent.len(), 1);
    assert!(sent[0].2.contains("critical"));

    // Unexported: a new list and one empty snapshot, then nothing.
    f.export(&[], "dc2");
    let sent = f.changes(&mut state);
    assert_eq!(
        sent,
        vec![
            (
                ResourceUrl::ExportedServiceList,
                LIST_ID.into(),
                "[]".into()
            ),
            (ResourceUrl::ExportedService, "web".into(), "[]".into()),
        ]
    );
    assert!(f.changes(&mut state).is_empty());
}

#[test]
fn exports_to_other_peers_are_not_ours() {
    let mut f = Fixture::new();
    f.register("web", "passing");
    f.export(&["web"], "other");
    let mut state = ExportState::default();
    let sent = f.changes(&mut state);
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].2, "[]");
}

#[test]
fn only_subscribed_resources_and_known_addresses_are_sent() {
    let f = Fixture::new();
    let mut state = ExportState::default();
    let out = state
        .changes(
            &f.store.view(),
            "dc2",
            |u| u == ResourceUrl::ServerAddresses,
            &["10.0.0.1:8503".into()],
            1024,
        )
        .unwrap();
    assert_eq!(out.len(), 1);
    assert_eq!(out[0].url, ResourceUrl::ServerAddresses);
    assert_eq!(out[0].parts, vec![br#"["10.0.0.1:8503"]"#.to_vec()]);
    let again = state
        .changes(&f.store.view(), "dc2", |_| false, &["x:1".into()], 1024)
        .unwrap();
    assert!(again.is_empty());
    // No CA yet: no trust bundle.
    assert!(local_bundle(&f.store.view()).is_none());
}

#[test]
fn server_addresses_are_alive_servers_of_our_dc_with_a_peering_port() {
    let member = |name: &str, addr: &str, tags: &[(&str, &str)]| MemberInfo {
        name: name.into(),
        address: addr.into(),
        status: MemberStatus::Alive,
        tags: tags
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect::<BTreeMap<_, _>>(),
    };
    let server = [("role", "consul"), ("dc", "dc1"), ("grpc_tls_port", "8503")];
    let mut dead = member("s0", "10.0.0.9", &server);
    dead.status = MemberStatus::Failed;
    let members = vec![
        member("s2", "10.0.0.2", &server),
        member("s1", "10.0.0.1", &server),
        member("c1", "10.0.0.3", &[("role", "node"), ("dc", "dc1")]),
        member(
            "x1",
            "10.0.0.4",
            &[("role", "consul"), ("dc", "dc2"), ("grpc_tls_port", "8503")],
        ),
        member("s3", "::1", &server),
        dead,
    ];
    let wan = |n: &str| (n == "s2").then(|| "203.0.113.2".to_string());
    assert_eq!(
        server_addresses(&members, "dc1", wan),
        vec!["10.0.0.1:8503", "203.0.113.2:8503", "[::1]:8503"]
    );
}
