//! Real-socket tests of network coordinates: three nodes on 127.0.0.1 probe each other,
//! learn non-origin Vivaldi coordinates and cache each other's; a node with coordinates
//! disabled reports none. Waits poll state with a deadline; nothing asserts on timing.

use std::net::SocketAddr;
use std::time::Duration;

use legate_gossip::{Gossip, GossipConfig, Keyring, MemberStatus, Profile, SecretKey};
use legate_vivaldi::Coordinate;

const DEADLINE: Duration = Duration::from_secs(30);

fn config(name: &str) -> GossipConfig {
    let bind: SocketAddr = "127.0.0.1:0".parse().unwrap();
    let mut config = GossipConfig::new(name, bind, Profile::Local);
    config.coordinate_probe_interval = Some(Duration::from_millis(50));
    let key = SecretKey::new(vec![7; 32]).unwrap().to_base64();
    config.keyring = Some(Keyring::from_base64(&key).unwrap());
    config
}

async fn wait_until(what: &str, mut condition: impl FnMut() -> bool) {
    let poll = async {
        while !condition() {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    };
    tokio::time::timeout(DEADLINE, poll)
        .await
        .unwrap_or_else(|_| panic!("timed out waiting for {what}"));
}

/// Three encrypted nodes converge: each moves off the origin and knows the others'
/// coordinates, and the estimated RTTs between them are finite and non-zero.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn members_learn_coordinates_by_probing() {
    let a = Gossip::start(config("a")).await.unwrap();
    let b = Gossip::start(config("b")).await.unwrap();
    let c = Gossip::start(config("c")).await.unwrap();
    b.join(&[a.local_addr()]).await.unwrap();
    c.join(&[a.local_addr()]).await.unwrap();
    let nodes = [("a", &a), ("b", &b), ("c", &c)];
    wait_until("everyone alive everywhere", || {
        nodes.iter().all(|(_, g)| {
            g.members()
                .iter()
                .filter(|m| m.status == MemberStatus::Alive)
                .count()
                == 3
        })
    })
    .await;
    wait_until("coordinates everywhere", || {
        nodes.iter().all(|(_, g)| {
            g.coordinate().is_some_and(|c| c != Coordinate::default())
                && nodes
                    .iter()
                    .all(|(peer, _)| g.member_coordinate(peer).is_some())
        })
    })
    .await;
    assert_eq!(a.member_coordinate("a"), a.coordinate());
    assert_eq!(a.member_coordinate("nobody"), None);
    let ab = a
        .coordinate()
        .unwrap()
        .distance_to(&b.coordinate().unwrap());
    assert!(ab > Duration::ZERO && ab < Duration::from_secs(1), "{ab:?}");
    assert_eq!(a.stats().dropped_packets, 0);
}

/// With coordinates disabled a node has none and does not answer probes.
#[tokio::test]
async fn disabled_coordinates_report_none() {
    let mut off = config("off");
    off.coordinate_probe_interval = None;
    let off = Gossip::start(off).await.unwrap();
    assert_eq!(off.coordinate(), None);
    assert_eq!(off.member_coordinate("off"), None);
}
