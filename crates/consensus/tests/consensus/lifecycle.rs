//! Single-voter lifecycle: bootstrap, leadership, writes, restart from the same data dir,
//! and the not-leader path.

use std::sync::Arc;

use legate_consensus::Consensus;
use legate_consensus::WriteError;

use crate::support::KvFsm;
use crate::support::config;
use crate::support::set_cmd;
use crate::support::start_leader;
use crate::support::wait_leader;

/// A fresh in-memory bootstrap node leads, applies writes in order and reports itself.
#[tokio::test]
async fn bootstrap_in_memory_node_leads_and_applies_writes() {
    let fsm = Arc::new(KvFsm::default());
    let node = start_leader(config(None, true, 0), fsm.clone()).await;
    assert!(node.is_leader());
    assert_eq!(node.leader_addr().as_deref(), Some("127.0.0.1:8300"));
    assert_eq!(node.last_contact(), Some(std::time::Duration::ZERO));

    let (i1, r1) = node.write(set_cmd("a", "1")).await.unwrap();
    let (i2, r2) = node.write(set_cmd("a", "2")).await.unwrap();
    assert!(i2 > i1);
    assert_eq!(serde_json::from_slice::<Option<String>>(&r1).unwrap(), None);
    assert_eq!(
        serde_json::from_slice::<Option<String>>(&r2).unwrap(),
        Some("1".into())
    );
    assert!(node.applied_index() >= i2);
    assert_eq!(fsm.state().applied, vec![i1, i2]);
    node.read_barrier().await.unwrap();

    let servers = node.servers();
    assert_eq!(servers.len(), 1);
    let s = &servers[0];
    assert_eq!(s.id, "5f2a6a43-0a3e-4b7e-9d51-3c1b7f0e8a11");
    assert_eq!(s.node, "server-1");
    assert_eq!(s.address, "127.0.0.1:8300");
    assert!(s.leader && s.voter);

    let stats = node.stats();
    assert_eq!(stats["state"], "Leader");
    assert_eq!(stats["num_peers"], "0");
    assert_eq!(stats["applied_index"], i2.to_string());
    assert_eq!(stats["last_log_index"], i2.to_string());
    assert_eq!(stats["commit_index"], i2.to_string());
    node.shutdown().await;
    assert!(!*node.leadership().borrow());
}

/// Acknowledged writes survive a restart from the same data dir; the single voter re-elects
/// itself and the log is replayed into a fresh state machine.
#[tokio::test]
async fn restart_replays_log_from_same_data_dir() {
    let dir = tempfile::tempdir().unwrap();
    let fsm = Arc::new(KvFsm::default());
    let node = start_leader(config(Some(dir.path()), true, 0), fsm.clone()).await;
    let mut last = 0;
    for i in 0..20 {
        last = node
            .write(set_cmd(&format!("k{}", i % 7), &i.to_string()))
            .await
            .unwrap()
            .0;
    }
    let before = fsm.map();
    node.shutdown().await;
    assert!(dir.path().join("raft").join("raft.db").is_file());

    let fsm2 = Arc::new(KvFsm::default());
    let node2 = start_leader(config(Some(dir.path()), true, 0), fsm2.clone()).await;
    assert_eq!(fsm2.map(), before);
    assert_eq!(fsm2.state().restores, 0, "no snapshot was taken");
    assert!(node2.applied_index() >= last);
    // New writes continue after the old log.
    let (next, _) = node2.write(set_cmd("after", "restart")).await.unwrap();
    assert!(next > last);
    node2.shutdown().await;
}

/// A node that is not bootstrapped never leads: writes and read barriers are refused.
#[tokio::test]
async fn write_on_non_leader_returns_not_leader() {
    let node = Consensus::start(config(None, false, 0), Arc::new(KvFsm::default()))
        .await
        .unwrap();
    assert!(!node.is_leader());
    assert_eq!(node.leader_addr(), None);
    let err = node.write(set_cmd("a", "1")).await.unwrap_err();
    assert_eq!(err, WriteError::NotLeader { leader_addr: None });
    assert_eq!(err.to_string(), "No cluster leader");
    assert!(matches!(
        node.read_barrier().await,
        Err(WriteError::NotLeader { .. })
    ));
    assert!(node.servers().is_empty());
    node.shutdown().await;
}

/// After shutdown, writes fail with a shutdown error instead of hanging.
#[tokio::test]
async fn write_after_shutdown_is_refused() {
    let node = start_leader(config(None, true, 0), Arc::new(KvFsm::default())).await;
    node.shutdown().await;
    let err = node.write(set_cmd("a", "1")).await.unwrap_err();
    assert_eq!(err, WriteError::ShuttingDown);
}

/// Leadership changes are logged with the exact messages operators grep for.
#[tokio::test]
async fn leadership_acquired_and_lost_are_logged() {
    let logs = crate::support::LogCapture::default();
    let _guard = tracing::subscriber::set_default(logs.subscriber());
    let node = Consensus::start(config(None, true, 0), Arc::new(KvFsm::default()))
        .await
        .unwrap();
    wait_leader(&node).await;
    assert!(logs.contains("cluster leadership acquired"));
    node.shutdown().await;
    assert!(logs.contains("cluster leadership lost"));
}
