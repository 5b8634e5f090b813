//! The runtime of the member snapshot (see `crate::member_snapshot` for the file and the
//! decisions): reading it at start (clocks restored, members to re-join), a task that
//! rewrites it when membership or clocks change (at most every `SNAPSHOT_INTERVAL`), the
//! leave marker written by a graceful leave, and the re-join task.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use super::{Inner, guard};
use crate::core::Core;
use crate::member_snapshot::{
    MemberSnapshot, SNAPSHOT_INTERVAL, SnapshotBuilder, read_member_snapshot, write_member_snapshot,
};

/// The snapshot file and the builder of its next content.
#[derive(Debug)]
pub(super) struct SnapshotWriter {
    path: PathBuf,
    builder: SnapshotBuilder,
}

/// What start-up takes from a previous run's snapshot.
pub(super) struct Restored {
    /// The writer for this run (`None` without a snapshot file).
    pub(super) writer: Option<SnapshotWriter>,
    /// The previous run's snapshot, if any.
    pub(super) previous: Option<MemberSnapshot>,
    /// Members to re-join.
    pub(super) rejoin: Vec<SocketAddr>,
}

/// Reads the snapshot at `path`. A missing file is a first start; an unreadable one is
/// logged and ignored (the node then starts alone, as without a snapshot).
pub(super) fn restore(path: Option<PathBuf>, rejoin_after_leave: bool) -> Restored {
    let Some(path) = path else {
        return Restored {
            writer: None,
            previous: None,
            rejoin: Vec::new(),
        };
    };
    let previous = read_member_snapshot(&path).unwrap_or_else(|err| {
        tracing::warn!(error = %err, "gossip: ignoring the member snapshot");
        None
    });
    let rejoin = previous
        .as_ref()
        .map(|p| p.rejoin_addrs(rejoin_after_leave))
        .unwrap_or_default();
    if previous.as_ref().is_some_and(|p| p.left) {
        if rejoin_after_leave {
            tracing::info!("gossip: ignoring the previous leave in the member snapshot");
        } else {
            tracing::info!("gossip: left gracefully last time; not re-joining (see -rejoin)");
        }
    }
    Restored {
        writer: Some(SnapshotWriter {
            path,
            builder: SnapshotBuilder::new(previous.as_ref(), rejoin_after_leave),
        }),
        previous,
        rejoin,
    }
}

impl Inner {
    /// Writes the snapshot if it changed; with `left` the leave marker is set.
    pub(super) fn save_snapshot(&self, left: bool) {
        let mut writer = guard(&self.snapshot);
        let Some(writer) = writer.as_mut() else {
            return;
        };
        let next = {
            let core = guard(&self.core);
            if core.has_left() && !left {
                // The leave marker stays until the next run.
                return;
            }
            next_snapshot(&core, &mut writer.builder, left)
        };
        if let Some(snapshot) = next
            && let Err(err) = write_member_snapshot(&writer.path, &snapshot)
        {
            tracing::warn!(error = %err, "gossip: cannot save the member snapshot");
        }
    }
}

fn next_snapshot(core: &Core, builder: &mut SnapshotBuilder, left: bool) -> Option<MemberSnapshot> {
    let local = core.local_member().name;
    builder.next(&local, &core.members(), core.clocks(), left)
}

/// Rewrites the snapshot while the pool runs.
pub(super) async fn run_writer(inner: Arc<Inner>) {
    let mut every = tokio::time::interval(SNAPSHOT_INTERVAL);
    loop {
        every.tick().await;
        inner.save_snapshot(false);
    }
}

/// Re-joins the previous run's members, one at a time, until one answers (serf's
/// `handleRejoin`); gives up quietly when none does (`retry_join` may still help).
pub(super) async fn run_rejoin(inner: Arc<Inner>, addrs: Vec<SocketAddr>) {
    for addr in &addrs {
        if guard(&inner.core).has_left() {
            return;
        }
        match inner.push_pull(*addr, true).await {
            Ok(()) => {
                tracing::info!(%addr, "gossip: re-joined a previously known member");
                return;
            }
            Err(reason) => tracing::debug!(%addr, %reason, "gossip: re-join attempt failed"),
        }
    }
    tracing::warn!(
        tried = addrs.len(),
        "gossip: failed to re-join any previously known member"
    );
}
