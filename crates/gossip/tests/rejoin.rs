//! The member snapshot on real sockets: a graceful leave records the members and the
//! leave marker, and a restart with `rejoin_after_leave` re-joins them without any
//! explicit join. Every wait is on events with a deadline.

use std::net::SocketAddr;
use std::time::Duration;

use legate_gossip::{Gossip, GossipConfig, GossipEvent, Profile, read_member_snapshot};
use tokio::sync::broadcast::Receiver;
use tokio::sync::broadcast::error::RecvError;

const DEADLINE: Duration = Duration::from_secs(30);

fn config(name: &str, snapshot: Option<std::path::PathBuf>, rejoin: bool) -> GossipConfig {
    let bind: SocketAddr = "127.0.0.1:0".parse().unwrap();
    let mut config = GossipConfig::new(name, bind, Profile::Local);
    config.snapshot_file = snapshot;
    config.rejoin_after_leave = rejoin;
    config
}

/// Waits until `events` reports `want` for the member `name`.
async fn wait_member(events: &mut Receiver<GossipEvent>, name: &str, want: &str) {
    let wait = async {
        loop {
            let event = match events.recv().await {
                Ok(event) => event,
                Err(RecvError::Lagged(_)) => continue,
                Err(RecvError::Closed) => panic!("events closed"),
            };
            let (kind, member) = match &event {
                GossipEvent::MemberJoin(m) => ("join", m),
                GossipEvent::MemberLeave(m) => ("leave", m),
                _ => continue,
            };
            if kind == want && member.name == name {
                return;
            }
        }
    };
    tokio::time::timeout(DEADLINE, wait)
        .await
        .unwrap_or_else(|_| panic!("timed out waiting for {name} {want}"));
}

#[tokio::test]
async fn leave_is_recorded_and_rejoin_after_leave_rejoins() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("serf/local.snapshot");
    let a = Gossip::start(config("a", None, false)).await.unwrap();
    let mut a_events = a.events();

    let b = Gossip::start(config("b", Some(file.clone()), false))
        .await
        .unwrap();
    b.join(&[a.local_addr()]).await.unwrap();
    wait_member(&mut a_events, "b", "join").await;
    b.leave().await.unwrap();
    wait_member(&mut a_events, "b", "leave").await;
    let saved = read_member_snapshot(&file).unwrap().unwrap();
    assert!(saved.left, "the leave marker is written");
    assert_eq!(saved.alive.get("a"), Some(&a.local_addr()));
    assert!(saved.clocks.member > 0);
    assert_eq!(saved.rejoin_addrs(false), Vec::<SocketAddr>::new());
    b.shutdown();

    // Restarted with rejoin_after_leave: back without calling join.
    let b = Gossip::start(config("b", Some(file.clone()), true))
        .await
        .unwrap();
    wait_member(&mut a_events, "b", "join").await;
    let local = b.local_member();
    let seen = a.members().into_iter().find(|m| m.name == "b").unwrap();
    assert_eq!(seen.addr, local.addr, "a knows b's new address");
    assert!(
        local.status_ltime > saved.clocks.member,
        "the new intent is newer than the previous run's clock"
    );
}
