//! Property tests over random command sequences: snapshot/restore fidelity, index ordering,
//! atomicity of rejected commands and failed transactions, and key roll-up against a naive
//! reference.

use std::collections::BTreeSet;

use proptest::collection::vec;
use proptest::prelude::*;
use serde_json::json;

use crate::Store;
use crate::Table;
use crate::command::Command;
use crate::command::CommandResult;
use crate::command::KvOp;
use crate::command::KvVerb;
use crate::command::RegisterRequest;
use crate::command::TxnOp;
use crate::model::ConfigEntry;
use crate::model::Coordinate;
use crate::model::HealthCheck;
use crate::model::Node;
use crate::model::Service;
use crate::model::Session;
use crate::model::SessionBehavior;
use crate::model::health;
use crate::snapshot::Snapshot;

const KEYS: &[&str] = &["a", "a/b", "a/c", "a/b/c", "b", "b/", "ab", "c/d/e"];
const SESSIONS: &[&str] = &["s1", "s2", "s3"];
const NODES: &[&str] = &["n1", "n2", "N1"];
const NODE_IDS: &[&str] = &[
    "",
    "11111111-0000-0000-0000-000000000000",
    "22222222-0000-0000-0000-000000000000",
];
const SERVICES: &[&str] = &["web1", "web2", "db"];
const CHECKS: &[&str] = &["serfHealth", "c1", "c2"];
const STATUSES: &[&str] = &[health::PASSING, health::WARNING, health::CRITICAL, ""];

fn pick(items: &'static [&'static str]) -> impl Strategy<Value = String> {
    proptest::sample::select(items).prop_map(str::to_string)
}

fn kv_op(verbs: &'static [KvVerb]) -> impl Strategy<Value = KvOp> {
    (
        proptest::sample::select(verbs),
        pick(KEYS),
        proptest::option::of(pick(&["x", "y", ""])),
        0u64..3,
        0u64..16,
        proptest::option::of(pick(SESSIONS)),
        0u64..40_000,
    )
        .prop_map(|(verb, key, value, flags, index, session, now_ms)| KvOp {
            verb,
            key,
            value: value.map(String::into_bytes),
            flags,
            index,
            session,
            now_ms,
        })
}

const WRITE_VERBS: &[KvVerb] = &[
    KvVerb::Set,
    KvVerb::Cas,
    KvVerb::Lock,
    KvVerb::Unlock,
    KvVerb::Delete,
    KvVerb::DeleteCas,
    KvVerb::DeleteTree,
];

const ALL_VERBS: &[KvVerb] = &[
    KvVerb::Set,
    KvVerb::Cas,
    KvVerb::Lock,
    KvVerb::Unlock,
    KvVerb::Get,
    KvVerb::GetTree,
    KvVerb::CheckIndex,
    KvVerb::CheckSession,
    KvVerb::CheckNotExists,
    KvVerb::Delete,
    KvVerb::DeleteCas,
    KvVerb::DeleteTree,
];

fn register() -> impl Strategy<Value = Command> {
    let check = (
        pick(CHECKS),
        proptest::option::of(pick(&["web1", "web2", "db", "ghost"])),
        pick(STATUSES),
    )
        .prop_map(|(id, service_id, status)| HealthCheck {
            check_id: id,
            service_id: service_id.unwrap_or_default(),
            status,
            ..HealthCheck::default()
        });
    let service = (
        pick(SERVICES),
        pick(&["web", "db"]),
        vec(pick(&["t1", "t2"]), 0..3),
    )
        .prop_map(|(id, name, tags)| Service {
            id,
            service: name,
            tags,
            ..Service::default()
        });
    (
        pick(NODES),
        pick(NODE_IDS),
        pick(&["10.0.0.1", "10.0.0.2"]),
        any::<bool>(),
        proptest::option::of(service),
        vec(check, 0..3),
    )
        .prop_map(|(name, id, address, skip, service, checks)| {
            Command::Register(RegisterRequest {
                node: Node {
                    id,
                    node: name,
                    address,
                    ..Node::default()
                },
                skip_node_update: skip,
                service,
                checks,
            })
        })
}

fn command() -> impl Strategy<Value = Command> {
    prop_oneof![
        4 => kv_op(WRITE_VERBS).prop_map(Command::Kv),
        2 => vec(kv_op(ALL_VERBS).prop_map(TxnOp::Kv), 1..4).prop_map(Command::Txn),
        3 => register(),
        1 => (pick(NODES), proptest::option::of(pick(SERVICES)), proptest::option::of(pick(CHECKS)))
            .prop_map(|(node, service_id, check_id)| Command::Deregister { node, service_id, check_id }),
        3 => (pick(SESSIONS), pick(NODES), vec(pick(CHECKS), 0..2), any::<bool>(), 0u64..3)
            .prop_map(|(id, node, node_checks, delete, delay_s)| Command::SessionCreate(Session {
                id,
                node,
                node_checks,
                behavior: if delete { SessionBehavior::Delete } else { SessionBehavior::Release },
                lock_delay_ns: delay_s * 1_000_000_000,
                ..Session::default()
            })),
        1 => (pick(SESSIONS), 0u64..40_000).prop_map(|(id, now_ms)| Command::SessionDestroy { id, now_ms }),
        1 => (pick(&["service-defaults", "proxy-defaults"]), pick(&["web", "Web", "global"]), 0u64..5, proptest::option::of(0u64..16))
            .prop_map(|(kind, name, v, cas)| Command::ConfigSet {
                entry: ConfigEntry { kind, name, body: json!({ "v": v }), ..ConfigEntry::default() },
                cas,
            }),
        1 => (pick(&["service-defaults", "proxy-defaults"]), pick(&["web", "global"]), proptest::option::of(0u64..16))
            .prop_map(|(kind, name, cas)| Command::ConfigDelete { kind, name, cas }),
        1 => vec((pick(NODES), pick(&["", "seg"])), 0..3).prop_map(|cs| Command::CoordinateBatch(
            cs.into_iter()
                .map(|(node, segment)| Coordinate { node, segment, coord: json!({ "Height": 0.1 }), modify_index: 0 })
                .collect(),
        )),
    ]
}

/// Whether the command left the state untouched by contract.
fn must_not_change(result: &CommandResult) -> bool {
    match result {
        CommandResult::Rejected(_) => true,
        CommandResult::Txn(o) => !o.errors.is_empty(),
        _ => false,
    }
}

/// Apply `cmds` at indexes 1, 2, …, checking atomicity on the way.
fn run(cmds: Vec<Command>) -> Store {
    let store = Store::new();
    for (i, cmd) in cmds.into_iter().enumerate() {
        let index = i as u64 + 1;
        let before = store.snapshot();
        let result = store.apply(index, cmd);
        if must_not_change(&result) {
            let mut after = store.snapshot();
            assert_eq!(after.last_index, index);
            after.last_index = before.last_index;
            assert_eq!(before, after, "{result:?} changed the state");
        }
        assert_eq!(store.last_index(), index);
    }
    store
}

fn check_index_order(snap: &Snapshot) {
    let t = &snap.table_indexes;
    let last = snap.last_index;
    let within = |table: Table, create: u64, modify: u64, what: &str| {
        assert!(
            create <= modify,
            "{what}: create {create} > modify {modify}"
        );
        assert!(
            modify <= t.get(table),
            "{what}: modify {modify} > table {}",
            t.get(table)
        );
        assert!(t.get(table) <= last, "{table:?} index beyond last index");
        assert!(modify > 0, "{what}: zero modify index");
    };
    for n in &snap.nodes {
        within(Table::Nodes, n.create_index, n.modify_index, &n.node);
    }
    for s in &snap.services {
        within(
            Table::Services,
            s.service.create_index,
            s.service.modify_index,
            &s.service.id,
        );
    }
    for c in &snap.checks {
        within(Table::Checks, c.create_index, c.modify_index, &c.check_id);
    }
    for e in &snap.kvs {
        within(Table::Kvs, e.create_index, e.modify_index, &e.key);
    }
    for (key, idx) in &snap.tombstones {
        within(Table::Kvs, *idx, *idx, key);
    }
    for s in &snap.sessions {
        within(Table::Sessions, s.create_index, s.modify_index, &s.id);
    }
    for e in &snap.config_entries {
        within(
            Table::ConfigEntries,
            e.create_index,
            e.modify_index,
            &e.name,
        );
    }
    for c in &snap.coordinates {
        within(Table::Coordinates, c.modify_index, c.modify_index, &c.node);
    }
    assert!(t.max() <= last);
}

/// Referential integrity: every service, check, coordinate and session has its node; every
/// check's service exists; every held lock's session exists.
fn check_references(snap: &Snapshot) {
    let nodes: BTreeSet<String> = snap.nodes.iter().map(|n| n.node.to_lowercase()).collect();
    let services: BTreeSet<(String, String)> = snap
        .services
        .iter()
        .map(|s| (s.node.to_lowercase(), s.service.id.to_lowercase()))
        .collect();
    for s in &snap.services {
        assert!(nodes.contains(&s.node.to_lowercase()));
    }
    for c in &snap.checks {
        assert!(nodes.contains(&c.node.to_lowercase()));
        if !c.service_id.is_empty() {
            assert!(services.contains(&(c.node.to_lowercase(), c.service_id.to_lowercase())));
        }
    }
    for c in &snap.coordinates {
        assert!(nodes.contains(&c.node.to_lowercase()));
    }
    let sessions: BTreeSet<&str> = snap.sessions.iter().map(|s| s.id.as_str()).collect();
    for s in &snap.sessions {
        assert!(nodes.contains(&s.node.to_lowercase()));
    }
    for e in &snap.kvs {
        if let Some(s) = &e.session {
            assert!(
                sessions.contains(s.as_str()),
                "{} held by dead session {s}",
                e.key
            );
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    /// (a) snapshot → encode → decode → restore into a new store yields the same state.
    #[test]
    fn snapshot_restore_round_trip(cmds in vec(command(), 0..40)) {
        let store = run(cmds);
        let snap = store.snapshot();
        let decoded = Snapshot::decode(&snap.encode()).unwrap();
        let other = Store::new();
        other.restore(decoded);
        prop_assert_eq!(other.snapshot(), snap);
        let (a, b) = (store.view(), other.view());
        prop_assert_eq!(a.nodes(), b.nodes());
        prop_assert_eq!(a.services(), b.services());
        prop_assert_eq!(a.service_health("web"), b.service_health("web"));
        prop_assert_eq!(a.kv_list(""), b.kv_list(""));
        prop_assert_eq!(a.kv_index("a/"), b.kv_index("a/"));
        prop_assert_eq!(a.sessions(), b.sessions());
        prop_assert_eq!(a.config_entries(None), b.config_entries(None));
        prop_assert_eq!(a.coordinates(), b.coordinates());
        for t in Table::ALL {
            prop_assert_eq!(a.table_index(t), b.table_index(t));
        }
        prop_assert_eq!(a.index(), b.index());
    }

    /// (b) CreateIndex ≤ ModifyIndex ≤ table index ≤ last index, and references hold;
    /// (c) is checked inside `run` after every command.
    #[test]
    fn indexes_are_ordered_and_references_hold(cmds in vec(command(), 0..60)) {
        let store = run(cmds);
        let snap = store.snapshot();
        check_index_order(&snap);
        check_references(&snap);
    }

    /// (d) `kv_keys` with a separator matches a naive roll-up.
    #[test]
    fn kv_keys_match_reference(
        keys in vec("[ab/!0]{0,6}", 0..20),
        prefix in "[ab/]{0,2}",
        sep in proptest::sample::select(&["/", "b", "//", "a/", ""][..]),
    ) {
        let store = Store::new();
        for (i, key) in keys.iter().enumerate() {
            let op = KvOp {
                verb: KvVerb::Set,
                key: key.clone(),
                value: None,
                flags: 0,
                index: 0,
                session: None,
                now_ms: 0,
            };
            store.apply(i as u64 + 1, Command::Kv(op));
        }
        let expected: BTreeSet<String> = keys
            .iter()
            .filter(|k| k.starts_with(&prefix))
            .map(|k| {
                let rest = &k[prefix.len()..];
                match rest.find(sep) {
                    Some(at) if !sep.is_empty() => format!("{prefix}{}{sep}", &rest[..at]),
                    _ => k.clone(),
                }
            })
            .collect();
        let got = store.view().kv_keys(&prefix, Some(sep));
        prop_assert_eq!(got, expected.into_iter().collect::<Vec<_>>());
    }
}
