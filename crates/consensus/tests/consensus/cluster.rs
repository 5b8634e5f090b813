//! Multi-server groups over the in-process router: forming a group, leader failover, network
//! cuts with snapshot catch-up, membership changes, leadership transfer and follower reads.

use std::time::Duration;

use legate_consensus::WriteError;

use crate::router::Cluster;
use crate::router::patiently;
use crate::router::peer;
use crate::support::PATIENCE;
use crate::support::eventually;
use crate::support::set_cmd;

/// Three nodes, each told the same voter list (bootstrap-expect style), elect one leader and
/// replicate its writes to both followers, which then report a recent leader contact.
#[tokio::test]
async fn three_nodes_form_group_and_replicate() {
    let c = Cluster::start(3, 0).await;
    c.initialize(3).await;
    let l = c.wait_leader(&[0, 1, 2]).await;
    for i in 0..10 {
        c.nodes[l]
            .raft
            .write(set_cmd(&format!("k{i}"), "v"))
            .await
            .unwrap();
    }
    c.wait_converged(l, &[0, 1, 2]).await;
    assert_eq!(c.nodes[l].fsm.map().len(), 10);

    let servers = c.nodes[l].raft.servers();
    assert_eq!(servers.len(), 3);
    assert!(servers.iter().all(|s| s.voter));
    assert_eq!(servers.iter().filter(|s| s.leader).count(), 1);
    for (i, n) in c.nodes.iter().enumerate() {
        if i != l {
            assert!(!n.raft.is_leader());
            assert_eq!(n.raft.leader_addr(), Some(peer(l).rpc_addr));
            assert!(n.raft.last_contact().is_some(), "follower heard the leader");
            assert!(matches!(
                n.raft.write(set_cmd("x", "y")).await,
                Err(WriteError::NotLeader {
                    leader_addr: Some(_)
                })
            ));
        }
    }
    // Initialising again is a no-op.
    c.initialize(3).await;
    c.shutdown().await;
}

/// The leader shuts down; the other two elect a new leader, accept writes, and every write
/// acknowledged by the old leader is still there.
#[tokio::test]
async fn leader_shutdown_elects_new_leader_without_losing_acked_writes() {
    let c = Cluster::start(3, 0).await;
    c.initialize(3).await;
    let old = c.wait_leader(&[0, 1, 2]).await;
    for i in 0..20 {
        c.nodes[old]
            .raft
            .write(set_cmd(&format!("a{i}"), "1"))
            .await
            .unwrap();
    }
    c.nodes[old].raft.shutdown().await;
    c.router.unregister(&peer(old).rpc_addr);

    let rest: Vec<usize> = (0..3).filter(|&i| i != old).collect();
    let new = c.wait_leader(&rest).await;
    for i in 0..5 {
        c.nodes[new]
            .raft
            .write(set_cmd(&format!("b{i}"), "2"))
            .await
            .unwrap();
    }
    let map = c.nodes[new].fsm.map();
    for i in 0..20 {
        assert_eq!(map.get(&format!("a{i}")).map(String::as_str), Some("1"));
    }
    assert_eq!(map.len(), 25);
    c.wait_converged(new, &rest).await;
    c.shutdown().await;
}

/// A cut-off leader is replaced; after the cut heals it follows the new leader. A follower
/// cut off while the leader snapshots and purges its log catches up through a snapshot.
#[tokio::test]
async fn cut_nodes_rejoin_and_catch_up_via_snapshot() {
    let c = Cluster::start(3, 5).await;
    c.initialize(3).await;
    let first = c.wait_leader(&[0, 1, 2]).await;
    c.nodes[first].raft.write(set_cmd("k", "0")).await.unwrap();

    // Cut the leader: the other two elect a new one and keep going.
    c.router.cut(&peer(first).rpc_addr);
    let rest: Vec<usize> = (0..3).filter(|&i| i != first).collect();
    let second = c.wait_leader(&rest).await;
    c.nodes[second].raft.write(set_cmd("k", "1")).await.unwrap();
    c.router.heal(&peer(first).rpc_addr);
    eventually("old leader steps down", || {
        !c.nodes[first].raft.is_leader()
            && c.nodes[first].raft.leader_addr() == Some(peer(second).rpc_addr)
    })
    .await;
    c.wait_converged(second, &[0, 1, 2]).await;

    // Cut a follower, write well past the trailing-log window and snapshot.
    let follower = rest.iter().copied().find(|&i| i != second).unwrap();
    c.router.cut(&peer(follower).rpc_addr);
    for i in 0..40 {
        c.nodes[second]
            .raft
            .write(set_cmd(&format!("s{i}"), "v"))
            .await
            .unwrap();
    }
    c.nodes[second].raft.trigger_snapshot().await.unwrap();
    let follower_last: u64 = c.nodes[follower].raft.stats()["last_log_index"]
        .parse()
        .unwrap();
    eventually("leader purges past the follower's log", || {
        c.nodes[second].raft.stats()["last_purged_index"]
            .parse::<u64>()
            .unwrap()
            > follower_last
    })
    .await;
    let restores_before = c.nodes[follower].fsm.state().restores;
    c.router.heal(&peer(follower).rpc_addr);
    c.wait_converged(second, &[0, 1, 2]).await;
    assert!(
        c.nodes[follower].fsm.state().restores > restores_before,
        "the follower installed a snapshot"
    );
    c.shutdown().await;
}

/// Grow a single-voter group with `add_voter` (learner first, then promotion) and
/// `add_nonvoter`, then shrink it with `remove_server`.
#[tokio::test]
async fn add_and_remove_servers() {
    let c = Cluster::start(4, 0).await;
    c.initialize(1).await;
    let l = c.wait_leader(&[0]).await;
    let leader = &c.nodes[l].raft;
    leader.write(set_cmd("before", "join")).await.unwrap();

    for i in [1, 2] {
        let p = peer(i);
        patiently("add_voter", leader.add_voter(&p.id, &p.name, &p.rpc_addr))
            .await
            .unwrap();
    }
    let p3 = peer(3);
    leader
        .add_nonvoter(&p3.id, &p3.name, &p3.rpc_addr)
        .await
        .unwrap();
    let servers = leader.servers();
    assert_eq!(servers.len(), 4);
    assert_eq!(servers.iter().filter(|s| s.voter).count(), 3);
    assert!(!servers.iter().find(|s| s.id == p3.id).unwrap().voter);

    leader.write(set_cmd("after", "join")).await.unwrap();
    c.wait_converged(l, &[0, 1, 2, 3]).await;

    // Adding an existing voter again is a no-op; a non-leader refuses membership changes.
    let p1 = peer(1);
    leader
        .add_voter(&p1.id, &p1.name, &p1.rpc_addr)
        .await
        .unwrap();
    assert!(matches!(
        c.nodes[1].raft.remove_server(&p3.id).await,
        Err(WriteError::NotLeader { .. })
    ));

    leader.remove_server(&p3.id).await.unwrap();
    leader.remove_server(&peer(2).id).await.unwrap();
    let ids: Vec<String> = leader.servers().into_iter().map(|s| s.id).collect();
    assert_eq!(ids, vec![peer(0).id, peer(1).id]);
    leader.write(set_cmd("after", "remove")).await.unwrap();
    c.wait_converged(l, &[0, 1]).await;
    c.shutdown().await;
}

/// Leadership moves to the chosen voter, then (with no target) to some other voter.
#[tokio::test]
async fn transfer_leadership_to_chosen_and_any_voter() {
    let c = Cluster::start(3, 0).await;
    c.initialize(3).await;
    let l = c.wait_leader(&[0, 1, 2]).await;
    let to = (l + 1) % 3;
    patiently(
        "transfer",
        c.nodes[l].raft.transfer_leadership(Some(&peer(to).id)),
    )
    .await
    .unwrap();
    let now = c.wait_leader(&[to]).await;
    assert_eq!(now, to);
    patiently("transfer", c.nodes[to].raft.transfer_leadership(None))
        .await
        .unwrap();
    let others: Vec<usize> = (0..3).filter(|&i| i != to).collect();
    c.wait_leader(&others).await;
    assert!(matches!(
        c.nodes[to].raft.transfer_leadership(None).await,
        Err(WriteError::NotLeader { .. })
    ));
    c.shutdown().await;
}

/// A follower read: the leader hands out a read index after a quorum check, the follower
/// waits until it applied that index and then sees the acknowledged write.
#[tokio::test]
async fn follower_read_index_sees_acknowledged_write() {
    let c = Cluster::start(3, 0).await;
    c.initialize(3).await;
    let l = c.wait_leader(&[0, 1, 2]).await;
    let f = (l + 1) % 3;
    for i in 0..5 {
        let (index, _) = c.nodes[l]
            .raft
            .write(set_cmd("key", &i.to_string()))
            .await
            .unwrap();
        let read_index = c.nodes[l].raft.read_index().await.unwrap();
        assert!(read_index >= index);
        c.nodes[f]
            .raft
            .wait_applied(read_index, PATIENCE)
            .await
            .unwrap();
        assert_eq!(
            c.nodes[f].fsm.map().get("key").map(String::as_str),
            Some(i.to_string().as_str())
        );
    }
    assert!(matches!(
        c.nodes[f].raft.read_index().await,
        Err(WriteError::NotLeader {
            leader_addr: Some(_)
        })
    ));
    // Waiting for an index nobody wrote times out instead of hanging.
    assert!(matches!(
        c.nodes[f]
            .raft
            .wait_applied(1_000_000, Duration::from_millis(50))
            .await,
        Err(WriteError::Timeout(_))
    ));
    c.shutdown().await;
}
