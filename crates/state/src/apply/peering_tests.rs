//! Unit tests of peering writes: upsert rules, soft and hard deletes, secrets through the
//! generate → exchange → establish → open life cycle, trust bundles and snapshots.

use crate::Store;
use crate::command::Command;
use crate::command::CommandResult;
use crate::model::Peering;
use crate::model::PeeringRemote;
use crate::model::PeeringSecrets;
use crate::model::PeeringState;
use crate::model::PeeringTrustBundle;
use crate::model::SecretsWrite;
use crate::snapshot::Snapshot;
use crate::table::Table;

fn acceptor(id: &str, name: &str) -> Peering {
    Peering {
        id: id.to_string(),
        name: name.to_string(),
        ..Peering::default()
    }
}

fn dialer(id: &str, name: &str) -> Peering {
    Peering {
        peer_server_addresses: vec!["10.0.0.9:8503".to_string()],
        peer_id: "remote-id".to_string(),
        remote: PeeringRemote {
            datacenter: "dc2".to_string(),
            ..PeeringRemote::default()
        },
        ..acceptor(id, name)
    }
}

fn write(p: Peering) -> Command {
    Command::PeeringWrite {
        peering: p,
        secrets: None,
    }
}

fn write_with(p: Peering, secrets: SecretsWrite) -> Command {
    Command::PeeringWrite {
        peering: p,
        secrets: Some(secrets),
    }
}

fn secrets_write(id: &str, request: SecretsWrite) -> Command {
    Command::PeeringSecretsWrite {
        peering_id: id.to_string(),
        request,
    }
}

fn rejected(r: CommandResult) -> String {
    match r {
        CommandResult::Rejected(m) => m,
        other => panic!("expected a rejection, got {other:?}"),
    }
}

fn generate(e: &str) -> SecretsWrite {
    SecretsWrite::GenerateToken {
        establishment: e.to_string(),
    }
}

#[test]
fn new_rows_default_to_pending_and_upserts_keep_create_index_and_state() {
    let s = Store::new();
    assert_eq!(
        s.apply(1, write(acceptor("id1", "peer-a"))),
        CommandResult::Ok
    );
    let v = s.view();
    let p = v.peering("PEER-A").unwrap();
    assert_eq!(p.state, PeeringState::Pending);
    assert_eq!((p.create_index, p.modify_index), (1, 1));
    assert_eq!(v.table_index(Table::Peerings), 1);

    let mut established = acceptor("id1", "peer-a");
    established.state = PeeringState::Establishing;
    s.apply(2, write(established));
    s.apply(3, write(acceptor("id1", "peer-a")));
    let p = s.view().peering_by_id("id1").unwrap();
    assert_eq!(p.state, PeeringState::Establishing, "UNDEFINED keeps state");
    assert_eq!((p.create_index, p.modify_index), (1, 3));
}

#[test]
fn empty_remote_keeps_the_stored_one() {
    let s = Store::new();
    s.apply(1, write(dialer("id1", "peer-a")));
    let mut again = dialer("id1", "peer-a");
    again.remote = PeeringRemote::default();
    s.apply(2, write(again));
    assert_eq!(s.view().peering("peer-a").unwrap().remote.datacenter, "dc2");
}

#[test]
fn write_rejects_missing_fields_and_bad_deletion_state() {
    let s = Store::new();
    assert_eq!(
        rejected(s.apply(1, write(acceptor("", "a")))),
        "Missing Peering ID"
    );
    assert_eq!(
        rejected(s.apply(2, write(acceptor("x", "")))),
        "Missing Peering Name"
    );
    let mut deleting = acceptor("x", "a");
    deleting.state = PeeringState::Deleting;
    assert_eq!(
        rejected(s.apply(3, write(deleting.clone()))),
        "Missing deletion time for peering in deleting state"
    );
    deleting.deleted_at_ms = Some(10);
    assert_eq!(
        rejected(s.apply(4, write(deleting.clone()))),
        "cannot create a new peering marked for deletion"
    );
    deleting.state = PeeringState::Pending;
    assert_eq!(
        rejected(s.apply(5, write(deleting))),
        "Unexpected state for peering with deletion time: PENDING"
    );
    assert!(s.view().peerings().is_empty());
    assert_eq!(s.view().table_index(Table::Peerings), 0);
}

#[test]
fn a_name_keeps_its_role_and_its_id() {
    let s = Store::new();
    s.apply(1, write(acceptor("id1", "peer-a")));
    assert_eq!(
        rejected(s.apply(2, write(dialer("id1", "peer-a")))),
        "Cannot switch peering dialing mode from false to true"
    );
    assert_eq!(
        rejected(s.apply(3, write(acceptor("id2", "peer-a")))),
        "A peering already exists with the name \"peer-a\" and a different ID \"id1\""
    );
    assert_eq!(
        rejected(s.apply(4, write(acceptor("id1", "peer-b")))),
        "A peering already exists with the ID \"id1\" and a different name \"peer-a\""
    );
}

#[test]
fn soft_delete_freezes_the_row_drops_secrets_and_is_idempotent() {
    let s = Store::new();
    s.apply(1, write_with(acceptor("id1", "peer-a"), generate("e1")));
    assert!(s.view().peering_secrets("id1").is_some());
    s.apply_at(
        2,
        77_000,
        Command::PeeringDelete {
            name: "Peer-A".into(),
        },
    );
    let v = s.view();
    let p = v.peering("peer-a").unwrap();
    assert_eq!(p.state, PeeringState::Deleting);
    assert_eq!(p.deleted_at_ms, Some(77_000));
    assert_eq!(p.modify_index, 2);
    assert!(v.peering_secrets("id1").is_none());
    assert_eq!(v.table_index(Table::PeeringSecrets), 2);

    // Deleting again, or deleting something absent, changes nothing.
    s.apply_at(
        3,
        99_000,
        Command::PeeringDelete {
            name: "peer-a".into(),
        },
    );
    s.apply(
        4,
        Command::PeeringDelete {
            name: "ghost".into(),
        },
    );
    let p = s.view().peering("peer-a").unwrap();
    assert_eq!((p.deleted_at_ms, p.modify_index), (Some(77_000), 2));

    // A row marked for deletion cannot be written, except the no-op transitions.
    assert_eq!(
        rejected(s.apply(5, write(acceptor("id1", "peer-a")))),
        "cannot write to peering that is marked for deletion"
    );
    let mut terminated = acceptor("id1", "peer-a");
    terminated.state = PeeringState::Terminated;
    assert_eq!(s.apply(6, write(terminated)), CommandResult::Ok);
    assert_eq!(
        s.view().peering("peer-a").unwrap().state,
        PeeringState::Deleting
    );
}

#[test]
fn hard_remove_requires_an_inactive_row() {
    let s = Store::new();
    s.apply(1, write(acceptor("id1", "peer-a")));
    assert_eq!(
        rejected(s.apply(2, Command::PeeringRemove { id: "id1".into() })),
        "cannot delete a peering without first marking for deletion"
    );
    s.apply(
        3,
        Command::PeeringDelete {
            name: "peer-a".into(),
        },
    );
    assert_eq!(
        s.apply(4, Command::PeeringRemove { id: "id1".into() }),
        CommandResult::Ok
    );
    let v = s.view();
    assert!(v.peering("peer-a").is_none());
    assert!(v.peering_by_id("id1").is_none());
    assert_eq!(v.table_index(Table::Peerings), 4);
    // The name is free again, for either role.
    assert_eq!(
        s.apply(5, write(dialer("id2", "peer-a"))),
        CommandResult::Ok
    );
    assert_eq!(
        s.apply(6, Command::PeeringRemove { id: "ghost".into() }),
        CommandResult::Ok
    );
}

#[test]
fn terminated_rows_lose_their_secrets() {
    let s = Store::new();
    s.apply(1, write_with(acceptor("id1", "peer-a"), generate("e1")));
    let mut terminated = acceptor("id1", "peer-a");
    terminated.state = PeeringState::Terminated;
    s.apply(2, write(terminated));
    assert!(s.view().peering_secrets("id1").is_none());
    assert_eq!(
        s.view().peering("peer-a").unwrap().state,
        PeeringState::Terminated
    );
}

/// The acceptor's whole secret life cycle: a token, a second token replacing the first, the
/// exchange (checked again at apply), and the promotion of the pending secret on open.
#[test]
fn acceptor_secret_life_cycle() {
    let s = Store::new();
    s.apply(1, write_with(acceptor("id1", "peer-a"), generate("e1")));
    s.apply(2, write_with(acceptor("id1", "peer-a"), generate("e2")));
    let exchange = |e: &str, p: &str| {
        secrets_write(
            "id1",
            SecretsWrite::Exchange {
                establishment: e.to_string(),
                pending: p.to_string(),
            },
        )
    };
    assert_eq!(
        rejected(s.apply(3, exchange("e1", "p1"))),
        "invalid establishment secret"
    );
    assert_eq!(s.apply(4, exchange("e2", "p1")), CommandResult::Ok);
    assert_eq!(
        rejected(s.apply(5, exchange("e2", "p2"))),
        "invalid establishment secret: peering was already established"
    );
    let promote = |a: &str| {
        secrets_write(
            "id1",
            SecretsWrite::PromotePending {
                active: a.to_string(),
            },
        )
    };
    assert_eq!(
        rejected(s.apply(6, promote("nope"))),
        "invalid pending stream secret"
    );
    assert_eq!(s.apply(7, promote("p1")), CommandResult::Ok);
    let got = s.view().peering_secrets("id1").unwrap();
    assert_eq!(
        got,
        PeeringSecrets {
            peering_id: "id1".into(),
            establishment: None,
            pending: None,
            active: Some("p1".into()),
        }
    );
    // A new token keeps the active stream secret.
    s.apply(8, write_with(acceptor("id1", "peer-a"), generate("e3")));
    let got = s.view().peering_secrets("id1").unwrap();
    assert_eq!(got.active.as_deref(), Some("p1"));
    assert_eq!(got.establishment.as_deref(), Some("e3"));
    // A secret already held is refused.
    assert_eq!(
        rejected(s.apply(9, write_with(acceptor("id1", "peer-a"), generate("p1")))),
        "peering secret is already in use, retry the operation"
    );
}

#[test]
fn a_failed_secret_write_undoes_the_peering_write() {
    let s = Store::new();
    let r = s.apply(
        1,
        write_with(
            acceptor("id1", "peer-a"),
            SecretsWrite::Establish { active: "a".into() },
        ),
    );
    assert_eq!(
        rejected(r),
        "an accepting peer should not have called Establish RPC"
    );
    assert!(s.view().peering("peer-a").is_none());
}

#[test]
fn dialer_stores_only_an_active_secret() {
    let s = Store::new();
    s.apply(1, write(dialer("id1", "peer-a")));
    assert_eq!(
        rejected(s.apply(2, secrets_write("id1", generate("e1")))),
        "invalid request type when persisting stream secret for dialing peer"
    );
    let mut establishing = dialer("id1", "peer-a");
    establishing.state = PeeringState::Establishing;
    let r = s.apply(
        3,
        write_with(
            establishing,
            SecretsWrite::Establish {
                active: "s1".into(),
            },
        ),
    );
    assert_eq!(r, CommandResult::Ok);
    let v = s.view();
    assert_eq!(
        v.peering_secrets("id1").unwrap().active.as_deref(),
        Some("s1")
    );
    assert_eq!(
        v.peering("peer-a").unwrap().state,
        PeeringState::Establishing
    );
    assert_eq!(
        rejected(s.apply(4, secrets_write("ghost", generate("e")))),
        "unknown peering \"ghost\" for secret"
    );
}

#[test]
fn trust_bundles_need_a_live_peering_and_refresh_its_ca_pems() {
    let s = Store::new();
    let bundle = |roots: &[&str]| PeeringTrustBundle {
        trust_domain: "abc.consul".into(),
        peer_name: "peer-a".into(),
        root_pems: roots.iter().map(|r| r.to_string()).collect(),
        exported_partition: "default".into(),
        ..PeeringTrustBundle::default()
    };
    assert_eq!(
        rejected(s.apply(1, Command::PeeringTrustBundleWrite(bundle(&["r1"])))),
        "cannot write peering trust bundle for unknown peering peer-a"
    );
    s.apply(2, write(dialer("id1", "peer-a")));
    s.apply(3, Command::PeeringTrustBundleWrite(bundle(&["r1"])));
    s.apply(4, Command::PeeringTrustBundleWrite(bundle(&["r1", "r2\n"])));
    let v = s.view();
    let b = v.trust_bundle("PEER-A").unwrap();
    assert_eq!((b.create_index, b.modify_index), (3, 4));
    assert_eq!(v.peering("peer-a").unwrap().peer_ca_pems, ["r1\n", "r2\n"]);
    assert_eq!(v.peering("peer-a").unwrap().modify_index, 4);
    assert_eq!(v.trust_bundles().len(), 1);
    assert_eq!(v.table_index(Table::PeeringTrustBundles), 4);

    s.apply(
        5,
        Command::PeeringTrustBundleDelete {
            name: "peer-a".into(),
        },
    );
    assert!(s.view().trust_bundle("peer-a").is_none());
    s.apply(
        6,
        Command::PeeringTrustBundleDelete {
            name: "peer-a".into(),
        },
    );
    assert_eq!(s.view().table_index(Table::PeeringTrustBundles), 5);

    s.apply(
        7,
        Command::PeeringDelete {
            name: "peer-a".into(),
        },
    );
    assert_eq!(
        rejected(s.apply(8, Command::PeeringTrustBundleWrite(bundle(&["r3"])))),
        "cannot write to peering that is marked for deletion"
    );
}

#[test]
fn peerings_list_sorted_by_name_and_survive_snapshots() {
    let s = Store::new();
    s.apply(1, write_with(acceptor("id-z", "zeta"), generate("e1")));
    s.apply(2, write(dialer("id-a", "alpha")));
    s.apply(
        3,
        Command::PeeringTrustBundleWrite(PeeringTrustBundle {
            peer_name: "alpha".into(),
            root_pems: vec!["r\n".into()],
            ..PeeringTrustBundle::default()
        }),
    );
    let names: Vec<String> = s.view().peerings().into_iter().map(|p| p.name).collect();
    assert_eq!(names, ["alpha", "zeta"]);

    let bytes = s.snapshot().encode();
    let restored = Store::new();
    restored.restore(Snapshot::decode(&bytes).unwrap());
    let v = restored.view();
    assert_eq!(v.peerings(), s.view().peerings());
    assert_eq!(v.peering("ZETA").unwrap().id, "id-z");
    assert_eq!(v.peering_secrets("id-z"), s.view().peering_secrets("id-z"));
    assert_eq!(v.trust_bundle("alpha"), s.view().trust_bundle("alpha"));
    assert_eq!(v.table_index(Table::Peerings), 3);
}

#[test]
fn old_snapshots_without_peering_fields_still_decode() {
    let json = br#"{"last_index":3,"table_indexes":{"nodes":1,"services":0,"checks":0,"kvs":3,"sessions":0,"config_entries":0,"coordinates":0},"nodes":[],"services":[],"checks":[],"kvs":[],"tombstones":[],"sessions":[],"config_entries":[],"coordinates":[],"lock_delays":[]}"#;
    let mut bytes = vec![crate::command::ENCODING_VERSION];
    bytes.extend_from_slice(json);
    let snap = Snapshot::decode(&bytes).unwrap();
    assert!(snap.peerings.is_empty());
    assert_eq!(snap.table_indexes.get(Table::Peerings), 0);
}
