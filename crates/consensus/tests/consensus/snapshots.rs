//! Snapshots: manual and threshold-driven snapshots, log purge, and restart from a snapshot.

use std::sync::Arc;

use crate::support::KvFsm;
use crate::support::config;
use crate::support::eventually;
use crate::support::set_cmd;
use crate::support::start_leader;

fn snapshot_files(dir: &std::path::Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir.join("raft").join("snapshots"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// A manual snapshot is stored on disk and purges the log; a restart restores the state from
/// the snapshot and replays only the entries written after it.
#[tokio::test]
async fn restart_restores_from_snapshot_after_purge() {
    let dir = tempfile::tempdir().unwrap();
    let fsm = Arc::new(KvFsm::default());
    let node = start_leader(config(Some(dir.path()), true, 0), fsm.clone()).await;
    for i in 0..30 {
        node.write(set_cmd(&format!("k{i}"), "v")).await.unwrap();
    }
    node.trigger_snapshot().await.unwrap();
    let snap_index: u64 = node.stats()["last_snapshot_index"].parse().unwrap();
    assert!(snap_index >= 30);
    eventually("log purge up to the snapshot", || {
        node.stats()["last_purged_index"].parse::<u64>().unwrap() >= snap_index
    })
    .await;
    assert_eq!(snapshot_files(dir.path()).len(), 1);

    let (after, _) = node.write(set_cmd("after", "snapshot")).await.unwrap();
    let before = fsm.map();
    node.shutdown().await;

    let fsm2 = Arc::new(KvFsm::default());
    let node2 = start_leader(config(Some(dir.path()), true, 0), fsm2.clone()).await;
    let state = fsm2.state();
    assert_eq!(state.map, before);
    assert_eq!(state.restores, 1);
    assert_eq!(
        state.applied,
        vec![after],
        "only the entry after the snapshot is replayed"
    );
    node2.shutdown().await;
}

/// With a threshold, openraft snapshots on its own; old snapshot files are pruned to two.
#[tokio::test]
async fn threshold_triggers_snapshots_and_keeps_two_files() {
    let dir = tempfile::tempdir().unwrap();
    let fsm = Arc::new(KvFsm::default());
    let node = start_leader(config(Some(dir.path()), true, 10), fsm.clone()).await;
    for i in 0..45 {
        node.write(set_cmd(&format!("k{}", i % 5), &i.to_string()))
            .await
            .unwrap();
    }
    eventually("automatic snapshot", || {
        node.stats()["last_snapshot_index"].parse::<u64>().unwrap() >= 30
    })
    .await;
    eventually("old snapshots pruned", || {
        snapshot_files(dir.path()).len() == 2
    })
    .await;
    let before = fsm.map();
    node.shutdown().await;

    let fsm2 = Arc::new(KvFsm::default());
    let node2 = start_leader(config(Some(dir.path()), true, 10), fsm2.clone()).await;
    assert_eq!(fsm2.map(), before);
    assert_eq!(fsm2.state().restores, 1);
    node2.shutdown().await;
}

/// Without a data dir, snapshots are kept in memory and the same code path works.
#[tokio::test]
async fn in_memory_snapshot_and_purge() {
    let fsm = Arc::new(KvFsm::default());
    let node = start_leader(config(None, true, 0), fsm.clone()).await;
    for i in 0..5 {
        node.write(set_cmd(&format!("k{i}"), "v")).await.unwrap();
    }
    node.trigger_snapshot().await.unwrap();
    let snap_index: u64 = node.stats()["last_snapshot_index"].parse().unwrap();
    assert_eq!(snap_index, node.applied_index());
    eventually("log purge", || {
        node.stats()["last_purged_index"].parse::<u64>().unwrap() >= snap_index
    })
    .await;
    node.write(set_cmd("x", "y")).await.unwrap();
    assert_eq!(fsm.map().len(), 6);
    node.shutdown().await;
}
