//! A server that comes back at a new RPC address (same id, same data) is moved in the
//! membership with `update_address`: the leader re-adds a follower at its new address and keeps
//! replicating to it; a leader whose own entry is stale rewrites it in place.

use legate_consensus::AddressUpdate;
use legate_consensus::WriteError;

use crate::router::Cluster;
use crate::router::patiently;
use crate::router::peer;
use crate::support::set_cmd;

/// Route node `i` at `new_addr` only, as if it restarted listening there.
fn move_node(c: &Cluster, i: usize, new_addr: &str) {
    c.router.unregister(&peer(i).rpc_addr);
    c.router.register(new_addr, c.nodes[i].raft.clone());
}

fn address_of(c: &Cluster, on: usize, i: usize) -> String {
    c.nodes[on]
        .raft
        .servers()
        .into_iter()
        .find(|s| s.id == peer(i).id)
        .map(|s| s.address)
        .unwrap_or_default()
}

#[tokio::test]
async fn moved_follower_is_re_added_at_its_new_address() {
    let c = Cluster::start(3, 0).await;
    c.initialize(3).await;
    let l = c.wait_leader(&[0, 1, 2]).await;
    let f = (l + 1) % 3;
    let leader = &c.nodes[l].raft;
    leader.write(set_cmd("before", "move")).await.unwrap();
    c.wait_converged(l, &[0, 1, 2]).await;

    let new_addr = "10.0.1.9:8301";
    move_node(&c, f, new_addr);
    let p = peer(f);
    assert!(matches!(
        c.nodes[f]
            .raft
            .update_address(&p.id, &p.name, new_addr)
            .await,
        Err(WriteError::NotLeader { .. })
    ));
    let moved = patiently(
        "update_address",
        leader.update_address(&p.id, &p.name, new_addr),
    )
    .await
    .unwrap();
    assert_eq!(moved, AddressUpdate::Moved);
    assert_eq!(address_of(&c, l, f), new_addr);
    let servers = leader.servers();
    assert_eq!(servers.len(), 3);
    assert!(
        servers.iter().all(|s| s.voter),
        "the moved server votes again"
    );

    leader.write(set_cmd("after", "move")).await.unwrap();
    c.wait_converged(l, &[0, 1, 2]).await;
    assert_eq!(
        leader
            .update_address(&p.id, &p.name, new_addr)
            .await
            .unwrap(),
        AddressUpdate::Unchanged
    );
    assert_eq!(
        leader
            .update_address("00000000-0000-0000-0000-0000000000ff", "x", "10.9.9.9:1")
            .await
            .unwrap(),
        AddressUpdate::Unchanged,
        "unknown servers are left alone"
    );
    c.shutdown().await;
}

#[tokio::test]
async fn leader_with_a_stale_own_address_rewrites_it() {
    let c = Cluster::start(3, 0).await;
    c.initialize(3).await;
    let l = c.wait_leader(&[0, 1, 2]).await;
    let p = peer(l);
    let new_addr = "10.0.1.7:8301";
    move_node(&c, l, new_addr);
    let done = patiently(
        "update_address on the leader itself",
        c.nodes[l].raft.update_address(&p.id, &p.name, new_addr),
    )
    .await
    .unwrap();
    assert_eq!(done, AddressUpdate::Rewritten);
    assert_eq!(address_of(&c, l, l), new_addr);
    c.nodes[l].raft.write(set_cmd("k", "v")).await.unwrap();
    c.wait_converged(l, &[0, 1, 2]).await;
    for i in 0..3 {
        if i != l {
            crate::support::eventually("followers learn the new leader address", || {
                c.nodes[i].raft.leader_addr().as_deref() == Some(new_addr)
            })
            .await;
        }
    }
    c.shutdown().await;
}
