//! Keyring operations over real sockets on 127.0.0.1: a three-node pool rotates its key
//! (install, use, remove) through queries answered by every member, saves each change
//! to the keyring files, refuses Consul's forbidden operations with serf's messages, and
//! a newcomer holding only the new key then joins. Waits are on events or on query
//! answers with deadlines; nothing sleeps and then asserts.

use std::net::SocketAddr;
use std::time::Duration;

use legate_gossip::{
    Gossip, GossipConfig, GossipEvent, KeyResponse, Keyring, KeyringOp, Profile, SecretKey,
    read_keyring_file,
};
use tokio::sync::broadcast::error::RecvError;

const DEADLINE: Duration = Duration::from_secs(30);

fn key(byte: u8) -> SecretKey {
    SecretKey::new(vec![byte; 32]).unwrap()
}

fn config(name: &str, keyring: Option<Keyring>, file: Option<std::path::PathBuf>) -> GossipConfig {
    let bind: SocketAddr = "127.0.0.1:0".parse().unwrap();
    let mut config = GossipConfig::new(name, bind, Profile::Local);
    config.keyring = keyring;
    config.keyring_file = file;
    config
}

/// Starts nodes `names` (each with `keyring`), joins all to the first and waits until
/// the first has seen every other one join.
async fn pool(names: &[&str], keyring: Option<Keyring>, dir: &std::path::Path) -> Vec<Gossip> {
    let mut nodes = Vec::new();
    for name in names {
        let file = dir.join(name).join("local.keyring");
        nodes.push(
            Gossip::start(config(name, keyring.clone(), Some(file)))
                .await
                .unwrap(),
        );
    }
    let mut events: Vec<_> = nodes.iter().map(Gossip::events).collect();
    let seed = nodes[0].local_addr();
    for node in &nodes[1..] {
        node.join(&[seed]).await.unwrap();
    }
    let want = names.len();
    for (node, events) in nodes.iter().zip(&mut events) {
        wait_until(events, "every node alive everywhere", || {
            node.alive_members().len() == want
        })
        .await;
    }
    nodes
}

async fn wait_until(
    events: &mut tokio::sync::broadcast::Receiver<GossipEvent>,
    what: &str,
    mut done: impl FnMut() -> bool,
) {
    let wait = async {
        while !done() {
            match events.recv().await {
                Ok(_) | Err(RecvError::Lagged(_)) => {}
                Err(RecvError::Closed) => panic!("events closed waiting for {what}"),
            }
        }
    };
    tokio::time::timeout(DEADLINE, wait)
        .await
        .unwrap_or_else(|_| panic!("timed out waiting for {what}"));
}

/// Runs `op` from `node` until every member answered (a member that joined a moment ago
/// may still be learning about the others).
async fn op_ok(node: &Gossip, op: KeyringOp) -> KeyResponse {
    let response = node.keyring_op(op, 0).await.unwrap();
    assert_eq!(response.error(), None, "{response:?}");
    response
}

fn counts(response: &KeyResponse) -> Vec<(String, usize)> {
    response.keys.iter().map(|(k, n)| (k.clone(), *n)).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rotate_the_key_across_the_pool() {
    let dir = tempfile::tempdir().unwrap();
    let (old, new) = (key(1), key(2));
    let nodes = pool(
        &["a", "b", "c"],
        Some(Keyring::new(old.clone())),
        dir.path(),
    )
    .await;

    let listed = op_ok(&nodes[1], KeyringOp::List).await;
    assert_eq!(listed.num_nodes, 3);
    assert_eq!(counts(&listed), vec![(old.to_base64(), 3)]);
    assert_eq!(listed.primary_keys[&old.to_base64()], 3);

    op_ok(&nodes[0], KeyringOp::Install(new.clone())).await;
    op_ok(&nodes[0], KeyringOp::Install(new.clone())).await;
    let listed = op_ok(&nodes[2], KeyringOp::List).await;
    let mut want = vec![(old.to_base64(), 3), (new.to_base64(), 3)];
    want.sort();
    assert_eq!(counts(&listed), want);

    // Using a key nobody has fails everywhere, with memberlist's message.
    let missing = nodes[0]
        .keyring_op(KeyringOp::Use(key(9)), 0)
        .await
        .unwrap();
    assert_eq!(
        missing.error().as_deref(),
        Some("3/3 nodes reported failure")
    );
    assert!(
        missing
            .messages
            .values()
            .all(|m| m == "Requested key is not in the keyring")
    );

    op_ok(&nodes[0], KeyringOp::Use(new.clone())).await;
    let primary = op_ok(&nodes[1], KeyringOp::List).await;
    assert_eq!(primary.primary_keys[&new.to_base64()], 3);

    let refused = nodes[0]
        .keyring_op(KeyringOp::Remove(new.clone()), 0)
        .await
        .unwrap();
    assert_eq!(
        refused.error().as_deref(),
        Some("3/3 nodes reported failure")
    );
    assert_eq!(
        refused.messages.keys().cloned().collect::<Vec<_>>(),
        ["a", "b", "c"]
    );
    assert!(
        refused
            .messages
            .values()
            .all(|m| m == "Removing the primary key is not allowed")
    );

    op_ok(&nodes[0], KeyringOp::Remove(old.clone())).await;
    let listed = op_ok(&nodes[0], KeyringOp::List).await;
    assert_eq!(counts(&listed), vec![(new.to_base64(), 3)]);
    for name in ["a", "b", "c"] {
        let saved = read_keyring_file(&dir.path().join(name).join("local.keyring"))
            .unwrap()
            .unwrap();
        assert_eq!(saved.list(), vec![new.to_base64()], "{name}'s file");
    }

    // A newcomer with only the new key gets in; one with only the old key does not.
    let newcomer = Gossip::start(config("d", Some(Keyring::new(new.clone())), None))
        .await
        .unwrap();
    newcomer.join(&[nodes[1].local_addr()]).await.unwrap();
    let stale = Gossip::start(config("e", Some(Keyring::new(old)), None))
        .await
        .unwrap();
    assert!(stale.join(&[nodes[1].local_addr()]).await.is_err());
    let mut events = nodes[0].events();
    wait_until(&mut events, "d alive on a", || {
        nodes[0].alive_members().iter().any(|m| m.name == "d")
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_encryption_every_node_reports_it() {
    let dir = tempfile::tempdir().unwrap();
    let nodes = pool(&["x", "y"], None, dir.path()).await;
    let listed = nodes[0].keyring_op(KeyringOp::List, 0).await.unwrap();
    assert_eq!(
        listed.error().as_deref(),
        Some("2/2 nodes reported failure")
    );
    assert!(
        listed
            .messages
            .values()
            .all(|m| m == "Keyring is empty (encryption not enabled)")
    );
    let install = nodes[1]
        .keyring_op(KeyringOp::Install(key(3)), 0)
        .await
        .unwrap();
    assert_eq!(
        install.messages["x"],
        "No keyring to modify (encryption not enabled)"
    );
    assert!(!dir.path().join("x").exists(), "nothing saved");
}
