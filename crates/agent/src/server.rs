//! The server role: the replicated state store. [`Server`] joins the pure [`Store`] to
//! consensus — every write is encoded as a [`Command`], proposed to Raft, applied in log order by
//! [`StoreMachine`] on every server — and answers reads from the local store.

use std::sync::Arc;

use legate_consensus::Consensus;
use legate_consensus::StateMachine;
use legate_consensus::WriteError;
use legate_state::Store;
use legate_state::command::Command;
use legate_state::command::CommandResult;
use legate_state::command::Proposal;
use legate_state::command::decode;
use legate_state::command::encode;
use legate_state::snapshot::Snapshot;

/// Why a write did not happen.
#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    /// No leader is known, or this server is not the leader and cannot forward yet.
    #[error("No cluster leader")]
    NoLeader,
    /// The server is shutting down.
    #[error("server is shutting down")]
    ShuttingDown,
    /// Consensus failed in a way the client cannot fix.
    #[error("{0}")]
    Internal(String),
}

impl From<WriteError> for ServerError {
    fn from(err: WriteError) -> Self {
        match err {
            WriteError::NotLeader { .. } => ServerError::NoLeader,
            WriteError::ShuttingDown => ServerError::ShuttingDown,
            other => ServerError::Internal(other.to_string()),
        }
    }
}

/// The replicated store of one server.
#[derive(Clone)]
pub struct Server {
    store: Arc<Store>,
    consensus: Consensus,
}

impl Server {
    /// Wrap a store and the consensus group that drives it.
    pub fn new(store: Arc<Store>, consensus: Consensus) -> Self {
        Server { store, consensus }
    }

    /// The local state store (reads only; writes go through [`Server::write`]).
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// The consensus group.
    pub fn consensus(&self) -> &Consensus {
        &self.consensus
    }

    /// Propose `command`, stamped with this server's clock, wait until it is committed and
    /// applied here, and return its result.
    pub async fn write(&self, command: Command) -> Result<CommandResult, ServerError> {
        let proposal = Proposal {
            now_ms: crate::clock::now_unix_ms(),
            command,
        };
        let (_index, bytes) = self.consensus.write(encode(&proposal)).await?;
        decode(&bytes).map_err(|err| ServerError::Internal(format!("bad apply result: {err}")))
    }
}

/// Adapter that lets consensus drive the state store.
pub struct StoreMachine {
    store: Arc<Store>,
}

impl StoreMachine {
    /// Drive `store`.
    pub fn new(store: Arc<Store>) -> Self {
        StoreMachine { store }
    }
}

impl StateMachine for StoreMachine {
    fn apply(&self, index: u64, command: &[u8]) -> Vec<u8> {
        // A command that does not decode was written by an incompatible build; applying nothing
        // keeps every server identical, and the proposer sees the rejection.
        let result = match decode::<Proposal>(command) {
            Ok(p) => self.store.apply_at(index, p.now_ms, p.command),
            Err(err) => CommandResult::Rejected(format!("undecodable command: {err}")),
        };
        encode(&result)
    }

    fn snapshot(&self) -> Vec<u8> {
        self.store.snapshot().encode()
    }

    fn restore(&self, snapshot: &[u8]) -> Result<(), String> {
        let snapshot = Snapshot::decode(snapshot).map_err(|err| err.to_string())?;
        self.store.restore(snapshot);
        Ok(())
    }
}
