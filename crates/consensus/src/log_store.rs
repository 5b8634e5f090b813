//! The raft log and vote, stored in redb: `<data_dir>/raft/raft.db`, or redb's in-memory
//! backend when there is no data dir (the same code path either way).
//!
//! Tables: `logs` maps a log index to the JSON-encoded entry; `meta` holds the vote, the last
//! purged log id and the committed log id. Appends, votes, truncations and purges commit with
//! redb's `Durability::Immediate` (fsync before returning); the committed pointer is written
//! with `Durability::None` since openraft only uses it to re-apply faster on restart and a
//! later durable commit makes it durable anyway.

use std::fmt::Debug;
use std::io;
use std::ops::RangeBounds;
use std::path::Path;
use std::sync::Arc;

use openraft::LogState;
use openraft::OptionalSend;
use openraft::RaftLogReader;
use openraft::entry::RaftEntry;
use openraft::storage::IOFlushed;
use openraft::storage::RaftLogStorage;
use redb::Database;
use redb::Durability;
use redb::ReadableDatabase;
use redb::ReadableTable;
use redb::TableDefinition;
use serde::Serialize;
use serde::de::DeserializeOwned;

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

/// redb-backed implementation of openraft's log storage; cheap to clone (it is its own reader).
#[derive(Clone)]
pub(crate) struct RedbLogStore {
    db: Arc<Database>,
}

impl RedbLogStore {
    pub(crate) fn new(db: Arc<Database>) -> Self {
        Self { db }
    }

    fn get_meta<T: DeserializeOwned>(&self, key: &str) -> io::Result<Option<T>> {
        let txn = self.db.begin_read().map_err(io_err)?;
        let table = txn.open_table(META).map_err(io_err)?;
        match table.get(key).map_err(io_err)? {
            None => Ok(None),
            Some(v) => decode(v.value()).map(Some),
        }
    }

    /// Run one write transaction on a blocking thread and commit it with `durability`.
    async fn write<F>(&self, durability: Durability, f: F) -> io::Result<()>
    where
        F: FnOnce(&redb::WriteTransaction) -> io::Result<()> + Send + 'static,
    {
        let db = self.db.clone();
        tokio::task::spawn_blocking(move || {
            let mut txn = db.begin_write().map_err(io_err)?;
            txn.set_durability(durability).map_err(io_err)?;
            f(&txn)?;
            txn.commit().map_err(io_err)
        })
        .await
        .map_err(io_err)?
    }

    async fn put_meta<T: Serialize>(
        &self,
        key: &'static str,
        value: &T,
        durability: Durability,
    ) -> io::Result<()> {
        let bytes = encode(value)?;
        self.write(durability, move |txn| {
            let mut table = txn.open_table(META).map_err(io_err)?;
            table.insert(key, bytes.as_slice()).map_err(io_err)?;
            Ok(())
        })
        .await
    }
}

impl RaftLogReader<TypeConfig> for RedbLogStore {
    async fn try_get_log_entries<RB: RangeBounds<u64> + Clone + Debug + OptionalSend>(
        &mut self,
        range: RB,
    ) -> Result<Vec<Entry>, io::Error> {
        let txn = self.db.begin_read().map_err(io_err)?;
        let table = txn.open_table(LOGS).map_err(io_err)?;
        let start = range.start_bound().cloned();
        let end = range.end_bound().cloned();
        let mut out = Vec::new();
        for item in table.range::<u64>((start, end)).map_err(io_err)? {
            let (_, v) = item.map_err(io_err)?;
            out.push(decode::<Entry>(v.value())?);
        }
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
        let last = {
            let txn = self.db.begin_read().map_err(io_err)?;
            let table = txn.open_table(LOGS).map_err(io_err)?;
            match table.last().map_err(io_err)? {
                None => None,
                Some((_, v)) => Some(decode::<Entry>(v.value())?.log_id()),
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
        self.put_meta(KEY_VOTE, vote, Durability::Immediate).await
    }

    async fn save_committed(&mut self, committed: Option<LogId>) -> Result<(), io::Error> {
        self.put_meta(KEY_COMMITTED, &committed, Durability::None)
            .await
    }

    async fn read_committed(&mut self) -> Result<Option<LogId>, io::Error> {
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
        let records = entries
            .into_iter()
            .map(|e| Ok((e.index(), encode(&e)?)))
            .collect::<io::Result<Vec<(u64, Vec<u8>)>>>()?;
        // The commit (with fsync) finishes before we return, so the entries are readable and
        // durable by the time openraft is told about it.
        self.write(Durability::Immediate, move |txn| {
            let mut table = txn.open_table(LOGS).map_err(io_err)?;
            for (index, bytes) in &records {
                table.insert(*index, bytes.as_slice()).map_err(io_err)?;
            }
            Ok(())
        })
        .await?;
        callback.io_completed(Ok(()));
        Ok(())
    }

    async fn truncate_after(&mut self, last_log_id: Option<LogId>) -> Result<(), io::Error> {
        let from = last_log_id.map_or(0, |id| id.index() + 1);
        tracing::debug!(from, "truncating raft log");
        self.write(Durability::Immediate, move |txn| {
            let mut table = txn.open_table(LOGS).map_err(io_err)?;
            table.retain_in(from.., |_, _| false).map_err(io_err)?;
            Ok(())
        })
        .await
    }

    async fn purge(&mut self, log_id: LogId) -> Result<(), io::Error> {
        let upto = log_id.index();
        tracing::debug!(upto, "purging raft log");
        let purged = encode(&log_id)?;
        self.write(Durability::Immediate, move |txn| {
            let mut meta = txn.open_table(META).map_err(io_err)?;
            meta.insert(KEY_PURGED, purged.as_slice()).map_err(io_err)?;
            let mut table = txn.open_table(LOGS).map_err(io_err)?;
            table.retain_in(..=upto, |_, _| false).map_err(io_err)?;
            Ok(())
        })
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
}
