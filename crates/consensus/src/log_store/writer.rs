//! The raft log's writer thread: it owns every write transaction of the log store and commits
//! the operations queued while the previous commit was running as one group — one durable
//! (fsync'd) redb commit for all of them — then reports each operation's outcome in order.
//!
//! Appends are fire-and-forget for the caller (openraft is told through the entries'
//! `IOFlushed` callback once the group is durable); votes, truncations and purges wait for
//! their group's commit. The latest committed log id is written along with the next group.

use std::io;
use std::sync::Arc;
use std::sync::mpsc;
use std::thread::JoinHandle;

use openraft::entry::RaftEntry;
use openraft::storage::IOFlushed;
use redb::Database;
use redb::Durability;
use tokio::sync::oneshot;

use super::KEY_COMMITTED;
use super::KEY_PURGED;
use super::KEY_VOTE;
use super::LOGS;
use super::META;
use super::Tail;
use super::codec::encode_entry;
use super::encode;
use super::io_err;
use crate::types::Entry;
use crate::types::LogId;
use crate::types::TypeConfig;
use crate::types::Vote;

/// Most operations committed as one group; bounds the time a queued caller waits.
const MAX_GROUP: usize = 4096;

/// Where a waiting caller learns the outcome of its operation.
pub(super) type Done = oneshot::Sender<io::Result<()>>;

/// One queued log-store mutation.
pub(super) enum Op {
    /// Write `entries` (contiguous, ascending); `callback` fires once they are durable.
    /// `seq` orders appends (see [`Tail`]).
    Append {
        seq: u64,
        entries: Vec<Entry>,
        callback: IOFlushed<TypeConfig>,
    },
    /// Durably store the vote.
    Vote { vote: Vote, done: Done },
    /// Delete every entry with index `>= from`.
    Truncate { from: u64, done: Done },
    /// Delete every entry up to and including `log_id`, recording it as the last purged id.
    Purge { log_id: LogId, done: Done },
}

impl Op {
    fn complete(self, result: Result<(), &str>) {
        let result = result.map_err(io::Error::other);
        match self {
            Op::Append { callback, .. } => callback.io_completed(result),
            Op::Vote { done, .. } | Op::Truncate { done, .. } | Op::Purge { done, .. } => {
                // The caller may have gone away (shutdown); nothing to tell then.
                let _ = done.send(result);
            }
        }
    }
}

/// Handle to the writer thread; dropping it drains the queue and joins the thread.
pub(super) struct Writer {
    tx: Option<mpsc::Sender<Op>>,
    thread: Option<JoinHandle<()>>,
    start_error: Option<String>,
}

impl Writer {
    /// Start the thread that commits to `db`; `tail` learns which entries became durable.
    pub(super) fn spawn(db: Arc<Database>, tail: Arc<Tail>) -> Self {
        let (tx, rx) = mpsc::channel();
        let spawned = std::thread::Builder::new()
            .name("raft-log-writer".to_string())
            .spawn(move || run(&db, &rx, &tail));
        match spawned {
            Ok(thread) => Writer {
                tx: Some(tx),
                thread: Some(thread),
                start_error: None,
            },
            Err(e) => Writer {
                tx: None,
                thread: None,
                start_error: Some(e.to_string()),
            },
        }
    }

    /// Queue `op`; on failure the op is handed back with the reason.
    pub(super) fn submit(&self, op: Op) -> Result<(), (Op, io::Error)> {
        let Some(tx) = &self.tx else {
            let why = self.start_error.as_deref().unwrap_or("stopped");
            return Err((op, io::Error::other(format!("raft log writer: {why}"))));
        };
        tx.send(op)
            .map_err(|e| (e.0, io::Error::other("raft log writer has stopped")))
    }

    /// Queue `op` and wait for its group to be committed.
    pub(super) async fn call(&self, make: impl FnOnce(Done) -> Op) -> io::Result<()> {
        let (done, wait) = oneshot::channel();
        self.submit(make(done)).map_err(|(_, e)| e)?;
        wait.await
            .map_err(|_| io::Error::other("raft log writer dropped the request"))?
    }
}

impl Drop for Writer {
    fn drop(&mut self) {
        drop(self.tx.take());
        if let Some(thread) = self.thread.take()
            && thread.join().is_err()
        {
            tracing::error!("raft log writer thread panicked");
        }
    }
}

/// The thread body: take a group of queued ops, commit it, report, repeat until the queue
/// is closed and empty.
fn run(db: &Database, rx: &mpsc::Receiver<Op>, tail: &Tail) {
    while let Ok(first) = rx.recv() {
        // Read the committed id before draining: every append it covers was queued before
        // `save_committed` stored it, so those appends are in this group or an earlier one.
        let committed = tail.take_pending_committed();
        let mut group = vec![first];
        group.extend(rx.try_iter().take(MAX_GROUP - 1));
        match commit_group(db, &group, committed) {
            Ok(()) => {
                let last_seq = group.iter().rev().find_map(|op| match op {
                    Op::Append { seq, .. } => Some(*seq),
                    _ => None,
                });
                if let Some(seq) = last_seq {
                    tail.made_durable(seq);
                }
                for op in group {
                    op.complete(Ok(()));
                }
            }
            Err(e) => {
                let msg = e.to_string();
                tracing::error!(error = %msg, "raft log commit failed");
                for op in group {
                    op.complete(Err(&msg));
                }
            }
        }
    }
}

/// Apply `group` in order inside one write transaction and commit it durably.
fn commit_group(db: &Database, group: &[Op], committed: Option<Option<LogId>>) -> io::Result<()> {
    let mut txn = db.begin_write().map_err(io_err)?;
    txn.set_durability(Durability::Immediate).map_err(io_err)?;
    {
        let mut buf = Vec::new();
        let mut logs = txn.open_table(LOGS).map_err(io_err)?;
        let mut meta = txn.open_table(META).map_err(io_err)?;
        for op in group {
            match op {
                Op::Append { entries, .. } => {
                    for e in entries {
                        buf.clear();
                        encode_entry(e, &mut buf)?;
                        logs.insert(e.index(), buf.as_slice()).map_err(io_err)?;
                    }
                }
                Op::Vote { vote, .. } => {
                    meta.insert(KEY_VOTE, encode(vote)?.as_slice())
                        .map_err(io_err)?;
                }
                Op::Truncate { from, .. } => {
                    logs.retain_in(*from.., |_, _| false).map_err(io_err)?;
                }
                Op::Purge { log_id, .. } => {
                    meta.insert(KEY_PURGED, encode(log_id)?.as_slice())
                        .map_err(io_err)?;
                    logs.retain_in(..=log_id.index(), |_, _| false)
                        .map_err(io_err)?;
                }
            }
        }
        if let Some(committed) = committed {
            meta.insert(KEY_COMMITTED, encode(&committed)?.as_slice())
                .map_err(io_err)?;
        }
    }
    txn.commit().map_err(io_err)
}
