//! The raft log and vote, stored in redb: `<data_dir>/raft/raft.db`, or redb's in-memory
//! backend when there is no data dir (the same code path either way).
//!
//! Tables: `logs` maps a log index to the entry (binary, see `codec`); `meta` holds the vote, the last
//! purged log id and the committed log id. All writes go through one writer thread
//! (`writer`), which commits whatever was queued during the previous commit as one group with
//! redb's `Durability::Immediate` (fsync before anyone is told it is done): an append is
//! acknowledged to openraft (its `IOFlushed` callback) only after its group is durable; votes,
//! truncations and purges return only then. The committed log id is only recorded in memory
//! by `save_committed` and written with the next group (openraft uses it to re-apply faster on
//! restart; it may lag, never lead, the durable log).
//!
//! Appended entries are kept in memory ([`Tail`]) until they are durable and a little longer,
//! so openraft can read them as soon as `append` returns and the state machine reads the
//! entries it applies without touching redb.

mod codec;
mod writer;

use std::collections::BTreeMap;
use std::fmt::Debug;
use std::io;
use std::ops::Bound;
use std::ops::RangeBounds;
use std::path::Path;
use std::sync::Arc;
use std::sync::Mutex;
use std::sync::MutexGuard;

use openraft::LogState;
use openraft::OptionalSend;
use openraft::RaftLogReader;
use openraft::entry::RaftEntry;
use openraft::storage::IOFlushed;
use openraft::storage::RaftLogStorage;
use redb::Database;
use redb::ReadableDatabase;
use redb::ReadableTable;
use redb::TableDefinition;
use serde::Serialize;
use serde::de::DeserializeOwned;

use self::writer::Op;
use self::writer::Writer;
use crate::error::ConsensusError;
use crate::types::Entry;
use crate::types::LogId;
use crate::types::TypeConfig;
use crate::types::Vote;

const LOGS: TableDefinition<'_, u64, &[u8]> = TableDefinition::new("logs");
const META: TableDefinition<'_, &str, &[u8]> = TableDefinition::new("meta");

const KEY_VOTE: &str = "vote";
const KEY_PURGED: &str = "last_purged_log_id";
const KEY_COMMITTED: &str = "committed";

/// Durable entries kept in memory behind the not-yet-durable ones, for the readers.
const TAIL_KEEP: usize = 1024;

/// Open (or create) the raft database: a file under `raft_dir`, or in memory for `None`.
pub(crate) fn open_db(raft_dir: Option<&Path>) -> Result<Arc<Database>, ConsensusError> {
    let storage = |e: &dyn std::fmt::Display| ConsensusError::Storage(e.to_string());
    let db = match raft_dir {
        Some(dir) => {
            std::fs::create_dir_all(dir).map_err(|e| storage(&e))?;
            Database::create(dir.join("raft.db")).map_err(|e| storage(&e))?
        }
        None => Database::builder()
            .create_with_backend(redb::backends::InMemoryBackend::new())
            .map_err(|e| storage(&e))?,
    };
    let txn = db.begin_write().map_err(|e| storage(&e))?;
    txn.open_table(LOGS).map_err(|e| storage(&e))?;
    txn.open_table(META).map_err(|e| storage(&e))?;
    txn.commit().map_err(|e| storage(&e))?;
    Ok(Arc::new(db))
}

/// The newest log entries, in memory.
///
/// Invariant: when non-empty, `entries` holds every log entry whose index is at least its
/// first key (a suffix of the log), including all entries not yet durable in redb. Only
/// durable entries are evicted, oldest first, so everything below the first key is in redb.
#[derive(Default)]
struct Tail {
    state: Mutex<TailState>,
}

#[derive(Default)]
struct TailState {
    /// Index → (append sequence number, entry).
    entries: BTreeMap<u64, (u64, Entry)>,
    /// Sequence number of the next append.
    next_seq: u64,
    /// Committed id saved since the last group commit, waiting to be written.
    pending_committed: Option<Option<LogId>>,
    /// Latest committed id saved by this process.
    committed: Option<Option<LogId>>,
}

impl Tail {
    fn lock(&self) -> MutexGuard<'_, TailState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Called by the writer once every append up to `seq` is durable.
    fn made_durable(&self, seq: u64) {
        let mut s = self.lock();
        while s.entries.len() > TAIL_KEEP {
            match s.entries.first_key_value() {
                Some((_, (entry_seq, _))) if *entry_seq <= seq => {
                    s.entries.pop_first();
                }
                _ => break,
            }
        }
    }

    /// Called by the writer before it drains a group.
    fn take_pending_committed(&self) -> Option<Option<LogId>> {
        self.lock().pending_committed.take()
    }
}

/// redb-backed implementation of openraft's log storage; cheap to clone (it is its own reader).
#[derive(Clone)]
pub(crate) struct RedbLogStore {
    inner: Arc<Inner>,
}

struct Inner {
    db: Arc<Database>,
    tail: Arc<Tail>,
    /// Declared last: dropping it joins the writer thread, after which `db` may close.
    writer: Writer,
}

impl RedbLogStore {
    /// Wrap `db` and start its writer thread.
    pub(crate) fn new(db: Arc<Database>) -> Self {
        let tail = Arc::new(Tail::default());
        let writer = Writer::spawn(db.clone(), tail.clone());
        Self {
            inner: Arc::new(Inner { db, tail, writer }),
        }
    }

    fn get_meta<T: DeserializeOwned>(&self, key: &str) -> io::Result<Option<T>> {
        let txn = self.inner.db.begin_read().map_err(io_err)?;
        let table = txn.open_table(META).map_err(io_err)?;
        match table.get(key).map_err(io_err)? {
            None => Ok(None),
            Some(v) => decode(v.value()).map(Some),
        }
    }

    /// Entries with index in `lo..hi` stored in redb.
    fn read_db(&self, lo: u64, hi: u64) -> io::Result<Vec<Entry>> {
        let mut out = Vec::new();
        if lo >= hi {
            return Ok(out);
        }
        let txn = self.inner.db.begin_read().map_err(io_err)?;
        let table = txn.open_table(LOGS).map_err(io_err)?;
        for item in table.range::<u64>(lo..hi).map_err(io_err)? {
            let (_, v) = item.map_err(io_err)?;
            out.push(codec::decode_entry(v.value())?);
        }
        Ok(out)
    }
}

/// `range` as a half-open `lo..hi`.
fn bounds(range: &impl RangeBounds<u64>) -> (u64, u64) {
    let lo = match range.start_bound() {
        Bound::Included(&x) => x,
        Bound::Excluded(&x) => x.saturating_add(1),
        Bound::Unbounded => 0,
    };
    let hi = match range.end_bound() {
        Bound::Included(&x) => x.saturating_add(1),
        Bound::Excluded(&x) => x,
        Bound::Unbounded => u64::MAX,
    };
    (lo, hi)
}

impl RaftLogReader<TypeConfig> for RedbLogStore {
    async fn try_get_log_entries<RB: RangeBounds<u64> + Clone + Debug + OptionalSend>(
        &mut self,
        range: RB,
    ) -> Result<Vec<Entry>, io::Error> {
        let (lo, hi) = bounds(&range);
        if lo >= hi {
            return Ok(Vec::new());
        }
        let (split, from_tail) = {
            let s = self.inner.tail.lock();
            match s.entries.first_key_value() {
                None => (hi, Vec::new()),
                Some((&first, _)) => {
                    let from = lo.max(first);
                    let tail: Vec<Entry> = if from < hi {
                        s.entries
                            .range(from..hi)
                            .map(|(_, (_, e))| e.clone())
                            .collect()
                    } else {
                        Vec::new()
                    };
                    (first.min(hi), tail)
                }
            }
        };
        let mut out = self.read_db(lo, split)?;
        out.extend(from_tail);
        Ok(out)
    }

    async fn read_vote(&mut self) -> Result<Option<Vote>, io::Error> {
        self.get_meta(KEY_VOTE)
    }
}

impl RaftLogStorage<TypeConfig> for RedbLogStore {
    type LogReader = Self;

    async fn get_log_state(&mut self) -> Result<LogState<TypeConfig>, io::Error> {
        let last_purged_log_id: Option<LogId> = self.get_meta(KEY_PURGED)?;
        let cached = self
            .inner
            .tail
            .lock()
            .entries
            .last_key_value()
            .map(|(_, (_, e))| e.log_id());
        let last = match cached {
            Some(id) => Some(id),
            None => {
                let txn = self.inner.db.begin_read().map_err(io_err)?;
                let table = txn.open_table(LOGS).map_err(io_err)?;
                match table.last().map_err(io_err)? {
                    None => None,
                    Some((_, v)) => Some(codec::decode_entry(v.value())?.log_id()),
                }
            }
        };
        Ok(LogState {
            last_log_id: last.or(last_purged_log_id),
            last_purged_log_id,
        })
    }

    async fn get_log_reader(&mut self) -> Self::LogReader {
        self.clone()
    }

    async fn save_vote(&mut self, vote: &Vote) -> Result<(), io::Error> {
        let vote = vote.clone();
        self.inner
            .writer
            .call(move |done| Op::Vote { vote, done })
            .await
    }

    async fn save_committed(&mut self, committed: Option<LogId>) -> Result<(), io::Error> {
        let mut s = self.inner.tail.lock();
        s.pending_committed = Some(committed);
        s.committed = Some(committed);
        Ok(())
    }

    async fn read_committed(&mut self) -> Result<Option<LogId>, io::Error> {
        let cached = self.inner.tail.lock().committed;
        if let Some(committed) = cached {
            return Ok(committed);
        }
        Ok(self.get_meta::<Option<LogId>>(KEY_COMMITTED)?.flatten())
    }

    async fn append<I>(
        &mut self,
        entries: I,
        callback: IOFlushed<TypeConfig>,
    ) -> Result<(), io::Error>
    where
        I: IntoIterator<Item = Entry> + OptionalSend,
        I::IntoIter: OptionalSend,
    {
        let entries: Vec<Entry> = entries.into_iter().collect();
        let Some(first) = entries.first().map(|e| e.index()) else {
            callback.io_completed(Ok(()));
            return Ok(());
        };
        // Readable as soon as we return; durable (and reported so) once the writer's group
        // containing them has committed. Queued under the lock so sequence order is queue order.
        let mut s = self.inner.tail.lock();
        let seq = s.next_seq;
        s.next_seq += 1;
        s.entries.split_off(&first);
        for e in &entries {
            s.entries.insert(e.index(), (seq, e.clone()));
        }
        let queued = self.inner.writer.submit(Op::Append {
            seq,
            entries,
            callback,
        });
        if let Err((_, e)) = queued {
            s.entries.split_off(&first);
            return Err(e);
        }
        Ok(())
    }

    async fn truncate_after(&mut self, last_log_id: Option<LogId>) -> Result<(), io::Error> {
        let from = last_log_id.map_or(0, |id| id.index() + 1);
        tracing::debug!(from, "truncating raft log");
        self.inner.tail.lock().entries.split_off(&from);
        self.inner
            .writer
            .call(move |done| Op::Truncate { from, done })
            .await
    }

    async fn purge(&mut self, log_id: LogId) -> Result<(), io::Error> {
        let upto = log_id.index();
        tracing::debug!(upto, "purging raft log");
        {
            let mut s = self.inner.tail.lock();
            let keep = s.entries.split_off(&(upto.saturating_add(1)));
            s.entries = keep;
        }
        self.inner
            .writer
            .call(move |done| Op::Purge { log_id, done })
            .await
    }
}

fn encode<T: Serialize>(v: &T) -> io::Result<Vec<u8>> {
    serde_json::to_vec(v).map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))
}

fn decode<T: DeserializeOwned>(bytes: &[u8]) -> io::Result<T> {
    serde_json::from_slice(bytes).map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))
}

fn io_err(e: impl std::fmt::Display) -> io::Error {
    io::Error::other(e.to_string())
}

#[cfg(test)]
mod tests {
    use openraft::storage::RaftLogStorageExt as _;

    use super::*;

    fn blank(term: u64, index: u64) -> Entry {
        let leader = openraft::alias::CommittedLeaderIdOf::<TypeConfig>::new(term);
        Entry::new_blank(openraft::LogId::new(leader, index))
    }

    #[tokio::test]
    async fn file_store_keeps_log_and_vote_across_reopen() {
        let dir = tempfile::tempdir().unwrap();
        {
            let mut store = RedbLogStore::new(open_db(Some(dir.path())).unwrap());
            store
                .blocking_append((0..5).map(|i| blank(1, i)))
                .await
                .unwrap();
            let vote = Vote::new_committed(1, crate::types::NodeKey("a".into()));
            store.save_vote(&vote).await.unwrap();
            store.purge(blank(1, 1).log_id).await.unwrap();
            store
                .truncate_after(Some(blank(1, 3).log_id))
                .await
                .unwrap();
        }
        let mut store = RedbLogStore::new(open_db(Some(dir.path())).unwrap());
        let state = store.get_log_state().await.unwrap();
        assert_eq!(state.last_purged_log_id.map(|id| id.index), Some(1));
        assert_eq!(state.last_log_id.map(|id| id.index), Some(3));
        let indexes: Vec<u64> = store
            .try_get_log_entries(..)
            .await
            .unwrap()
            .iter()
            .map(|e| e.index())
            .collect();
        assert_eq!(indexes, vec![2, 3]);
        assert!(store.read_vote().await.unwrap().is_some());
    }

    fn indexes(entries: &[Entry]) -> Vec<u64> {
        entries.iter().map(|e| e.index()).collect()
    }

    #[tokio::test]
    async fn appended_entries_are_readable_before_and_durable_after_the_callback() {
        let dir = tempfile::tempdir().unwrap();
        {
            let mut store = RedbLogStore::new(open_db(Some(dir.path())).unwrap());
            let (tx, rx) = <TypeConfig as openraft::type_config::TypeConfigExt>::oneshot();
            store
                .append((0..3).map(|i| blank(1, i)), IOFlushed::signal(tx))
                .await
                .unwrap();
            let read = store.try_get_log_entries(0..3).await.unwrap();
            assert_eq!(indexes(&read), vec![0, 1, 2]);
            rx.await.unwrap().unwrap();
            store
                .save_committed(Some(blank(1, 2).log_id))
                .await
                .unwrap();
            // The committed id rides along with the next group.
            store.blocking_append([blank(1, 3)]).await.unwrap();
        }
        let mut store = RedbLogStore::new(open_db(Some(dir.path())).unwrap());
        let read = store.try_get_log_entries(..).await.unwrap();
        assert_eq!(indexes(&read), vec![0, 1, 2, 3]);
        let committed = store.read_committed().await.unwrap();
        assert_eq!(committed.map(|id| id.index), Some(2));
    }

    #[tokio::test]
    async fn reads_span_redb_and_the_in_memory_tail() {
        let mut store = RedbLogStore::new(open_db(None).unwrap());
        let n = (TAIL_KEEP as u64) * 2 + 10;
        for chunk in (0..n).collect::<Vec<_>>().chunks(100) {
            store
                .blocking_append(chunk.iter().map(|&i| blank(1, i)))
                .await
                .unwrap();
        }
        // Older entries were evicted from the tail and come from redb.
        let first_cached = *store.inner.tail.lock().entries.keys().next().unwrap();
        assert!(first_cached > 0);
        let all = store.try_get_log_entries(..).await.unwrap();
        assert_eq!(indexes(&all), (0..n).collect::<Vec<_>>());
        let across = store
            .try_get_log_entries(first_cached - 2..=first_cached + 1)
            .await
            .unwrap();
        assert_eq!(
            indexes(&across),
            (first_cached - 2..=first_cached + 1).collect::<Vec<_>>()
        );
        store
            .truncate_after(Some(blank(1, first_cached - 5).log_id))
            .await
            .unwrap();
        let state = store.get_log_state().await.unwrap();
        assert_eq!(state.last_log_id.map(|id| id.index), Some(first_cached - 5));
        let tail = store.try_get_log_entries(first_cached - 7..).await.unwrap();
        assert_eq!(
            indexes(&tail),
            (first_cached - 7..=first_cached - 5).collect::<Vec<_>>()
        );
    }
}
