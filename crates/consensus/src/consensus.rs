//! [`Consensus`]: one raft node replicating an application [`StateMachine`].
//!
//! It wires the redb log store, the snapshot store, the state-machine adapter and the network
//! adapter into an openraft node, bootstraps a single-voter group when asked, and exposes a
//! small API with no openraft types in it. Membership changes live in `membership`, follower
//! reads in `reads` and the server side of raft RPC in `rpc_server`.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::Mutex;
use std::sync::MutexGuard;
use std::sync::atomic::AtomicU64;
use std::sync::atomic::Ordering;
use std::time::Duration;

use openraft::ReadPolicy;
use openraft::async_runtime::watch::WatchReceiver as _;
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tokio::time::Instant;

use crate::config::RaftConfig;
use crate::convert;
use crate::error::ConsensusError;
use crate::error::WriteError;
use crate::fsm::StateMachine;
use crate::leadership;
use crate::log_store::RedbLogStore;
use crate::log_store::open_db;
use crate::network::NetworkFactory;
use crate::snapshot_store::SnapshotStore;
use crate::state_machine::SmAdapter;
use crate::status;
use crate::status::ServerInfo;
use crate::types::Command;
use crate::types::NodeKey;
use crate::types::NodeMeta;
use crate::types::RaftHandle;

/// A running raft node. Cheap to clone; all clones share the node.
#[derive(Clone)]
pub struct Consensus {
    pub(crate) inner: Arc<Inner>,
}

pub(crate) struct Inner {
    pub(crate) raft: RaftHandle,
    leader_rx: watch::Receiver<bool>,
    applied_index: Arc<AtomicU64>,
    tracker: Mutex<Option<JoinHandle<()>>>,
    /// When this node last accepted an append-entries (or heartbeat) from a leader.
    pub(crate) last_leader_contact: Mutex<Option<Instant>>,
}

impl Inner {
    pub(crate) fn last_leader_contact(&self) -> MutexGuard<'_, Option<Instant>> {
        self.last_leader_contact
            .lock()
            .unwrap_or_else(|e| e.into_inner())
    }
}

impl std::fmt::Debug for Consensus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Consensus")
            .field("id", self.inner.raft.node_id())
            .finish()
    }
}

impl Consensus {
    /// Open storage, restore the latest snapshot into `fsm`, start the raft node and, if
    /// `cfg.bootstrap` is set and the node has never been initialised, form a single-voter group.
    pub async fn start(
        cfg: RaftConfig,
        fsm: Arc<dyn StateMachine>,
    ) -> Result<Consensus, ConsensusError> {
        let config = Arc::new(cfg.to_openraft()?);
        let raft_dir = cfg.data_dir.as_ref().map(|d| d.join("raft"));
        let storage = |e: std::io::Error| ConsensusError::Storage(e.to_string());

        let db = open_db(raft_dir.as_deref())?;
        let snapshots =
            SnapshotStore::open(raft_dir.as_ref().map(|d| d.join("snapshots"))).map_err(storage)?;
        let applied_index = Arc::new(AtomicU64::new(0));
        let sm =
            SmAdapter::recover(fsm, Arc::new(snapshots), applied_index.clone()).map_err(storage)?;

        let id = NodeKey(cfg.node_id.clone());
        let raft = RaftHandle::new(
            id.clone(),
            config,
            NetworkFactory::new(id.clone(), cfg.transport.clone()),
            RedbLogStore::new(db),
            sm,
        )
        .await
        .map_err(convert::fatal_to_consensus)?;

        let initialized = raft
            .is_initialized()
            .await
            .map_err(convert::fatal_to_consensus)?;
        if cfg.bootstrap && !initialized {
            let meta = NodeMeta {
                name: cfg.node_name.clone(),
                rpc_addr: cfg.rpc_addr.clone(),
            };
            tracing::info!(node_id = %id, "bootstrapping single-voter raft group");
            raft.initialize(BTreeMap::from([(id.clone(), meta)]))
                .await
                .map_err(|e| ConsensusError::Raft(e.to_string()))?;
        } else if initialized && raft.voter_ids().eq([id.clone()]) {
            // We are the only voter: no need to wait out an election timeout after a restart.
            raft.trigger()
                .elect(false)
                .await
                .map_err(convert::fatal_to_consensus)?;
        }

        let (leader_tx, leader_rx) = watch::channel(false);
        let tracker = tokio::spawn(leadership::track(raft.clone(), leader_tx));
        Ok(Consensus {
            inner: Arc::new(Inner {
                raft,
                leader_rx,
                applied_index,
                tracker: Mutex::new(Some(tracker)),
                last_leader_contact: Mutex::new(None),
            }),
        })
    }

    /// Propose; resolves after commit+apply on this node with the response bytes and log index.
    pub async fn write(&self, command: Vec<u8>) -> Result<(u64, Vec<u8>), WriteError> {
        let resp = self
            .inner
            .raft
            .client_write(Command(command))
            .await
            .map_err(convert::write_error)?;
        Ok((resp.log_id.index, resp.data))
    }

    /// Confirm leadership with a quorum (read-index) and wait until this node's state machine
    /// has applied everything committed so far; used by `?consistent` reads.
    pub async fn read_barrier(&self) -> Result<(), WriteError> {
        self.inner
            .raft
            .ensure_linearizable(ReadPolicy::ReadIndex)
            .await
            .map_err(convert::read_error)?;
        Ok(())
    }

    /// Whether this node is currently the raft leader (possibly not yet established: see
    /// [`Consensus::is_established_leader`]).
    pub fn is_leader(&self) -> bool {
        self.inner.raft.is_leader()
    }

    /// Whether this node leads *and* has established its leadership: confirmed by a quorum
    /// and applied everything committed before its term, so its state may answer reads.
    pub fn is_established_leader(&self) -> bool {
        *self.inner.leader_rx.borrow() && self.inner.raft.is_leader()
    }

    /// RPC address of the current leader, if one is known.
    pub fn leader_addr(&self) -> Option<String> {
        status::leader_addr(&self.inner.raft.metrics().borrow_watched())
    }

    /// Time since the leader was last heard from: zero on the leader itself; on other servers
    /// the time since the last append-entries or heartbeat accepted from a leader, `None` if
    /// none has arrived since this node started.
    pub fn last_contact(&self) -> Option<Duration> {
        if self.is_leader() {
            return Some(Duration::ZERO);
        }
        self.inner.last_leader_contact().map(|at| at.elapsed())
    }

    /// The servers of the current membership.
    pub fn servers(&self) -> Vec<ServerInfo> {
        status::servers(&self.inner.raft.metrics().borrow_watched())
    }

    /// A watch that is `true` while this node leads (published once leadership is established).
    pub fn leadership(&self) -> watch::Receiver<bool> {
        self.inner.leader_rx.clone()
    }

    /// Raft log index of the last entry applied to the state machine on this node.
    pub fn applied_index(&self) -> u64 {
        self.inner.applied_index.load(Ordering::Acquire)
    }

    /// Consul-style raft stats (`state`, `term`, `last_log_index`, `commit_index`, ...).
    pub fn stats(&self) -> BTreeMap<String, String> {
        let last_contact = match self.last_contact() {
            Some(d) => format!("{d:?}"),
            None => "never".to_string(),
        };
        status::stats(
            &self.inner.raft.metrics().borrow_watched(),
            self.applied_index(),
            &last_contact,
        )
    }

    /// Take a snapshot now (and purge the log it covers); resolves once the snapshot is stored.
    pub async fn trigger_snapshot(&self) -> Result<(), ConsensusError> {
        let raft = &self.inner.raft;
        let want = raft
            .metrics()
            .borrow_watched()
            .last_applied
            .as_ref()
            .map(|id| id.index);
        let Some(want) = want else {
            return Ok(());
        };
        raft.trigger()
            .snapshot()
            .await
            .map_err(convert::fatal_to_consensus)?;
        raft.wait(None)
            .metrics(
                move |m| m.snapshot.as_ref().is_some_and(|s| s.index >= want),
                "snapshot covers applied index",
            )
            .await
            .map_err(|e| ConsensusError::Raft(e.to_string()))?;
        Ok(())
    }

    /// Stop the raft node and wait for its tasks to finish. Idempotent.
    pub async fn shutdown(&self) {
        if let Err(e) = self.inner.raft.shutdown().await {
            tracing::warn!(error = %e, "raft shutdown reported an error");
        }
        let tracker = self
            .inner
            .tracker
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take();
        if let Some(tracker) = tracker {
            let _ = tracker.await;
        }
    }
}
