//! Adapter from openraft's state-machine traits to the byte-oriented [`StateMachine`].
//!
//! It feeds committed normal entries to the application in log order, tracks what openraft
//! needs on top (last applied log id, last membership), and builds/installs snapshots through
//! the [`SnapshotStore`]. A snapshot's bytes are taken from the application on the state-machine
//! worker (so they are consistent with the last applied id); only the disk write happens in
//! openraft's spawned builder task.

use std::io;
use std::sync::Arc;
use std::sync::Mutex;
use std::sync::MutexGuard;
use std::sync::atomic::AtomicU64;
use std::sync::atomic::Ordering;

use futures::Stream;
use futures::TryStreamExt as _;
use openraft::EntryPayload;
use openraft::OptionalSend;
use openraft::RaftSnapshotBuilder;
use openraft::storage::EntryResponder;
use openraft::storage::RaftStateMachine;

use crate::fsm::StateMachine;
use crate::snapshot_store::SnapshotStore;
use crate::types::LogId;
use crate::types::SnapshotMeta;
use crate::types::StoredMembership;
use crate::types::TypeConfig;

type Snapshot = openraft::alias::SnapshotOf<TypeConfig, Vec<u8>>;

#[derive(Default, Clone)]
struct Applied {
    last_applied: Option<LogId>,
    last_membership: StoredMembership,
}

struct Shared {
    fsm: Arc<dyn StateMachine>,
    applied: Mutex<Applied>,
    applied_index: Arc<AtomicU64>,
    snapshots: Arc<SnapshotStore>,
}

/// openraft state machine backed by an application [`StateMachine`]; cheap to clone.
#[derive(Clone)]
pub(crate) struct SmAdapter {
    shared: Arc<Shared>,
}

impl SmAdapter {
    /// Create the adapter, restoring the application from the latest stored snapshot if any.
    pub(crate) fn recover(
        fsm: Arc<dyn StateMachine>,
        snapshots: Arc<SnapshotStore>,
        applied_index: Arc<AtomicU64>,
    ) -> io::Result<Self> {
        let mut applied = Applied::default();
        if let Some((meta, data)) = snapshots.load_current()? {
            fsm.restore(&data)
                .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))?;
            tracing::info!(last_log_id = ?meta.last_log_id, bytes = data.len(), "restored state from raft snapshot");
            applied.last_applied = meta.last_log_id;
            applied.last_membership = meta.last_membership.clone();
        }
        applied_index.store(
            applied.last_applied.as_ref().map_or(0, |id| id.index),
            Ordering::Release,
        );
        let shared = Shared {
            fsm,
            applied: Mutex::new(applied),
            applied_index,
            snapshots,
        };
        Ok(Self {
            shared: Arc::new(shared),
        })
    }

    fn applied(&self) -> MutexGuard<'_, Applied> {
        self.shared
            .applied
            .lock()
            .unwrap_or_else(|e| e.into_inner())
    }

    /// Capture a consistent snapshot of the application state right now.
    fn capture(&self) -> SnapshotBuilder {
        let applied = self.applied().clone();
        let data = self.shared.fsm.snapshot();
        SnapshotBuilder {
            meta: SnapshotMeta {
                last_log_id: applied.last_applied,
                last_membership: applied.last_membership,
            },
            data,
            store: self.shared.snapshots.clone(),
        }
    }
}

/// Writes one captured snapshot to the [`SnapshotStore`].
pub(crate) struct SnapshotBuilder {
    meta: SnapshotMeta,
    data: Vec<u8>,
    store: Arc<SnapshotStore>,
}

impl RaftSnapshotBuilder<TypeConfig> for SnapshotBuilder {
    type SnapshotData = Vec<u8>;

    async fn build_snapshot(&mut self) -> Result<Snapshot, io::Error> {
        let meta = self.meta.clone();
        let data = std::mem::take(&mut self.data);
        let store = self.store.clone();
        let (m, d) = (meta.clone(), data.clone());
        tokio::task::spawn_blocking(move || store.save(&m, d))
            .await
            .map_err(io::Error::other)??;
        tracing::info!(last_log_id = ?meta.last_log_id, bytes = data.len(), "raft snapshot saved");
        Ok(Snapshot {
            meta,
            snapshot: data,
        })
    }
}

impl RaftStateMachine<TypeConfig> for SmAdapter {
    type SnapshotData = Vec<u8>;
    type SnapshotBuilder = SnapshotBuilder;

    async fn applied_state(&mut self) -> Result<(Option<LogId>, StoredMembership), io::Error> {
        let a = self.applied();
        Ok((a.last_applied, a.last_membership.clone()))
    }

    async fn apply<Strm>(&mut self, mut entries: Strm) -> Result<(), io::Error>
    where
        Strm: Stream<Item = Result<EntryResponder<TypeConfig>, io::Error>> + Unpin + OptionalSend,
    {
        while let Some((entry, responder)) = entries.try_next().await? {
            let index = entry.log_id.index;
            let response = match entry.payload {
                EntryPayload::Blank => Vec::new(),
                EntryPayload::Normal(cmd) => self.shared.fsm.apply(index, &cmd.0),
                EntryPayload::Membership(m) => {
                    self.applied().last_membership = StoredMembership::new(Some(entry.log_id), m);
                    Vec::new()
                }
            };
            self.applied().last_applied = Some(entry.log_id);
            self.shared.applied_index.store(index, Ordering::Release);
            if let Some(responder) = responder {
                responder.send(response);
            }
        }
        Ok(())
    }

    async fn try_create_snapshot_builder(&mut self, _force: bool) -> Option<Self::SnapshotBuilder> {
        Some(self.capture())
    }

    async fn get_snapshot_builder(&mut self) -> Self::SnapshotBuilder {
        self.capture()
    }

    async fn install_snapshot(
        &mut self,
        meta: &SnapshotMeta,
        snapshot: Vec<u8>,
    ) -> Result<(), io::Error> {
        self.shared
            .fsm
            .restore(&snapshot)
            .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))?;
        let store = self.shared.snapshots.clone();
        let m = meta.clone();
        let bytes = snapshot.len();
        tokio::task::spawn_blocking(move || store.save(&m, snapshot))
            .await
            .map_err(io::Error::other)??;
        {
            let mut a = self.applied();
            a.last_applied = meta.last_log_id;
            a.last_membership = meta.last_membership.clone();
        }
        let index = meta.last_log_id.as_ref().map_or(0, |id| id.index);
        self.shared.applied_index.store(index, Ordering::Release);
        tracing::info!(last_log_id = ?meta.last_log_id, bytes, "installed raft snapshot");
        Ok(())
    }

    async fn get_current_snapshot(&mut self) -> Result<Option<Snapshot>, io::Error> {
        let store = self.shared.snapshots.clone();
        let loaded = tokio::task::spawn_blocking(move || store.load_current())
            .await
            .map_err(io::Error::other)??;
        Ok(loaded.map(|(meta, snapshot)| Snapshot { meta, snapshot }))
    }
}
