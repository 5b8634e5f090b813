//! Real-socket tests on 127.0.0.1: nodes join, fail, leave, exchange user events and
//! tags, and a node with the wrong key is refused. Every wait is on events with a
//! deadline; nothing sleeps and then asserts.

use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::time::Duration;

use legate_gossip::{
    Gossip, GossipConfig, GossipError, GossipEvent, Keyring, MemberStatus, Profile, SecretKey, Tags,
};
use tokio::sync::broadcast::Receiver;
use tokio::sync::broadcast::error::RecvError;

const DEADLINE: Duration = Duration::from_secs(30);

fn key(byte: u8) -> String {
    SecretKey::new(vec![byte; 32]).unwrap().to_base64()
}

fn config(name: &str, keyring: Option<&str>) -> GossipConfig {
    let bind: SocketAddr = "127.0.0.1:0".parse().unwrap();
    let mut config = GossipConfig::new(name, bind, Profile::Local);
    config.tags = [("role".to_string(), "node".to_string())].into();
    config.keyring = keyring.map(|k| Keyring::from_base64(k).unwrap());
    config
}

struct Node {
    gossip: Gossip,
    events: Receiver<GossipEvent>,
}

async fn start(config: GossipConfig) -> Node {
    let gossip = Gossip::start(config).await.unwrap();
    let events = gossip.events();
    Node { gossip, events }
}

/// Waits for the first event matching `pred`, returning it.
async fn wait_for<T>(
    events: &mut Receiver<GossipEvent>,
    what: &str,
    mut pred: impl FnMut(&GossipEvent) -> Option<T>,
) -> T {
    let wait = async {
        loop {
            match events.recv().await {
                Ok(event) => {
                    if let Some(found) = pred(&event) {
                        return found;
                    }
                }
                Err(RecvError::Lagged(_)) => {}
                Err(RecvError::Closed) => panic!("event channel closed waiting for {what}"),
            }
        }
    };
    tokio::time::timeout(DEADLINE, wait)
        .await
        .unwrap_or_else(|_| panic!("timed out waiting for {what}"))
}

/// Starts `n` nodes, joins all to the first, and waits until every node has seen
/// every other one join.
async fn cluster(n: usize, keyring: Option<&str>) -> Vec<Node> {
    let mut nodes = Vec::new();
    for i in 0..n {
        nodes.push(start(config(&format!("node{i}"), keyring)).await);
    }
    let seed = nodes[0].gossip.local_addr();
    for node in &nodes[1..] {
        assert_eq!(node.gossip.join(&[seed]).await.unwrap(), 1);
    }
    let names: BTreeSet<String> = (0..n).map(|i| format!("node{i}")).collect();
    for node in &mut nodes {
        let me = node.gossip.local_member().name;
        let mut missing: BTreeSet<String> = names.iter().filter(|n| **n != me).cloned().collect();
        while !missing.is_empty() {
            let joined = wait_for(&mut node.events, "member joins", |e| match e {
                GossipEvent::MemberJoin(m) => Some(m.name.clone()),
                _ => None,
            })
            .await;
            missing.remove(&joined);
        }
    }
    nodes
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn five_encrypted_nodes_see_five_alive_members() {
    let key = key(1);
    let nodes = cluster(5, Some(&key)).await;
    for node in &nodes {
        let alive = node.gossip.alive_members();
        assert_eq!(alive.len(), 5, "{:?}", node.gossip.members());
        assert!(
            alive
                .iter()
                .all(|m| m.tags.get("role").map(String::as_str) == Some("node"))
        );
        assert_eq!(node.gossip.stats().dropped_packets, 0);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_without_leave_is_failed_then_reaped() {
    let mut nodes = Vec::new();
    for i in 0..3 {
        let mut c = config(&format!("node{i}"), None);
        c.reconnect_timeout = Duration::from_secs(1);
        nodes.push(start(c).await);
    }
    let seed = nodes[0].gossip.local_addr();
    for node in &nodes[1..] {
        node.gossip.join(&[seed]).await.unwrap();
    }
    for name in ["node1", "node2"] {
        wait_for(&mut nodes[0].events, "joins", |e| match e {
            GossipEvent::MemberJoin(m) if m.name == name => Some(()),
            _ => None,
        })
        .await;
    }
    let victim = nodes.pop().unwrap();
    victim.gossip.shutdown();
    let failed = wait_for(&mut nodes[0].events, "node2 failed", |e| match e {
        GossipEvent::MemberFailed(m) if m.name == "node2" => Some(m.clone()),
        _ => None,
    })
    .await;
    assert_eq!(failed.status, MemberStatus::Failed);
    wait_for(&mut nodes[0].events, "node2 reaped", |e| match e {
        GossipEvent::MemberReap(m) if m.name == "node2" => Some(()),
        _ => None,
    })
    .await;
    assert!(nodes[0].gossip.members().iter().all(|m| m.name != "node2"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn graceful_leave_is_seen_as_left() {
    let mut nodes = cluster(3, None).await;
    nodes[2].gossip.leave().await.unwrap();
    for node in &mut nodes[..2] {
        let left = wait_for(&mut node.events, "node2 left", |e| match e {
            GossipEvent::MemberLeave(m) if m.name == "node2" => Some(m.clone()),
            GossipEvent::MemberFailed(m) if m.name == "node2" => {
                panic!("graceful leave reported as failure: {m:?}")
            }
            _ => None,
        })
        .await;
        assert_eq!(left.status, MemberStatus::Left);
    }
    assert_eq!(nodes[2].gossip.local_member().status, MemberStatus::Left);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn user_event_reaches_every_node_exactly_once() {
    let mut nodes = cluster(4, Some(&key(2))).await;
    nodes[1]
        .gossip
        .user_event("deploy", b"v1", false)
        .await
        .unwrap();
    // A second event from another node marks the end of the first one's spread.
    for node in &mut nodes {
        wait_for(&mut node.events, "deploy", |e| match e {
            GossipEvent::UserEvent(u) if u.name == "deploy" => Some(()),
            _ => None,
        })
        .await;
    }
    nodes[3]
        .gossip
        .user_event("marker", b"", true)
        .await
        .unwrap();
    for node in &mut nodes {
        let dups = wait_for(&mut node.events, "marker", {
            let mut dups = 0;
            move |e| match e {
                GossipEvent::UserEvent(u) if u.name == "deploy" => {
                    dups += 1;
                    None
                }
                GossipEvent::UserEvent(u) if u.name == "marker" => {
                    assert!(u.coalesce);
                    Some(dups)
                }
                _ => None,
            }
        })
        .await;
        assert_eq!(dups, 0, "deploy delivered more than once");
    }
    let err = nodes[0]
        .gossip
        .user_event("big", &[0; 600], false)
        .await
        .unwrap_err();
    assert!(
        err.to_string()
            .starts_with("user event exceeds configured limit of 512 bytes"),
        "{err}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn node_with_wrong_key_cannot_join() {
    let good = start(config("good", Some(&key(3)))).await;
    let bad = start(config("bad", Some(&key(4)))).await;
    let err = bad
        .gossip
        .join(&[good.gossip.local_addr()])
        .await
        .unwrap_err();
    assert!(matches!(err, GossipError::Join(_)));
    assert!(
        err.to_string()
            .contains("No installed keys could decrypt the message"),
        "{err}"
    );
    assert_eq!(good.gossip.stats().rejected_streams, 1);
    assert_eq!(good.gossip.members().len(), 1);
    assert_eq!(bad.gossip.members().len(), 1);

    let plain = start(config("plain", None)).await;
    let err = plain
        .gossip
        .join(&[good.gossip.local_addr()])
        .await
        .unwrap_err();
    assert!(
        err.to_string()
            .contains("Encryption is configured but remote state is not encrypted"),
        "{err}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn set_tags_propagates() {
    let mut nodes = cluster(3, None).await;
    let tags: Tags = [
        ("role".to_string(), "consul".to_string()),
        ("dc".to_string(), "dc1".to_string()),
    ]
    .into();
    nodes[1].gossip.set_tags(tags.clone()).await.unwrap();
    for i in [0, 2] {
        let updated = wait_for(&mut nodes[i].events, "node1 update", |e| match e {
            GossipEvent::MemberUpdate(m) if m.name == "node1" => Some(m.clone()),
            _ => None,
        })
        .await;
        assert_eq!(updated.tags, tags);
    }
    assert_eq!(nodes[1].gossip.local_member().tags, tags);
}

#[tokio::test]
async fn keyring_operations() {
    let (a, b) = (key(5), key(6));
    let node = start(config("k", Some(&a))).await;
    node.gossip.install_key(&b).unwrap();
    assert_eq!(node.gossip.list_keys().unwrap(), vec![a.clone(), b.clone()]);
    let err = node.gossip.remove_key(&a).unwrap_err();
    assert_eq!(err.to_string(), "Removing the primary key is not allowed");
    node.gossip.use_key(&b).unwrap();
    node.gossip.remove_key(&a).unwrap();
    assert_eq!(node.gossip.list_keys().unwrap(), vec![b]);
    assert!(node.gossip.use_key(&key(7)).is_err());

    let plain = start(config("p", None)).await;
    assert!(matches!(
        plain.gossip.list_keys(),
        Err(GossipError::EncryptionDisabled)
    ));
}

#[tokio::test]
async fn join_errors() {
    let node = start(config("lonely", None)).await;
    assert!(matches!(
        node.gossip.join(&[]).await,
        Err(GossipError::NoJoinAddresses)
    ));
    let err = node.gossip.force_leave("nobody", false).await.unwrap_err();
    assert_eq!(err.to_string(), "No node found with name 'nobody'");
}
