//! The server role: the replicated state store. [`Server`] joins the pure [`Store`] to
//! consensus — every write is encoded as a [`Command`], proposed to Raft, applied in log order by
//! [`StoreMachine`] on every server — and answers reads from the local store. A follower
//! forwards writes to the leader over server RPC, and makes reads linearizable by waiting
//! until it has applied the leader's read index.

use std::sync::Arc;
use std::time::Duration;

use legate_consensus::Consensus;
use legate_consensus::StateMachine;
use legate_consensus::WriteError;
use legate_rpc::RpcClient;
use legate_rpc::RpcError;
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

/// How long a request waits for a leader to be known before failing (Consul's
/// `rpc_hold_timeout`).
const LEADER_HOLD: Duration = Duration::from_secs(7);
/// Pause between attempts while no leader is known.
const LEADER_RETRY: Duration = Duration::from_millis(50);

/// The replicated store of one server — or, on a client agent, the way to the servers'.
#[derive(Clone)]
pub struct Server {
    store: Arc<Store>,
    consensus: Consensus,
    rpc: RpcClient,
    /// Server RPC addresses of this datacenter's servers, as gossip last reported them.
    known_servers: Arc<std::sync::RwLock<Vec<String>>>,
}

impl Server {
    /// Wrap a store, the consensus group that drives it, and the client used to reach the
    /// other servers.
    pub fn new(store: Arc<Store>, consensus: Consensus, rpc: RpcClient) -> Self {
        Server {
            store,
            consensus,
            rpc,
            known_servers: Arc::default(),
        }
    }

    /// Replace the known servers (called on gossip membership changes).
    pub fn set_known_servers(&self, servers: Vec<String>) {
        *self
            .known_servers
            .write()
            .unwrap_or_else(|p| p.into_inner()) = servers;
    }

    /// The known servers, in a random order so load spreads.
    pub fn known_servers(&self) -> Vec<String> {
        use rand::seq::SliceRandom;
        let mut servers = self
            .known_servers
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        servers.shuffle(&mut rand::rng());
        servers
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
        let bytes = self.propose(encode(&proposal)).await?;
        decode(&bytes).map_err(|err| ServerError::Internal(format!("bad apply result: {err}")))
    }

    /// Propose encoded bytes: here if this server leads, else at the leader, else (on a client
    /// agent, or when no leader is known) through any known server, which redirects to the
    /// leader; waits up to [`LEADER_HOLD`] for a leader.
    pub async fn propose(&self, bytes: Vec<u8>) -> Result<Vec<u8>, ServerError> {
        let deadline = tokio::time::Instant::now() + LEADER_HOLD;
        let mut hint: Option<String> = None;
        loop {
            if tokio::time::Instant::now() >= deadline {
                return Err(ServerError::NoLeader);
            }
            if hint.is_none() {
                match self.consensus.write(bytes.clone()).await {
                    Ok((_index, result)) => return Ok(result),
                    Err(WriteError::NotLeader { leader_addr }) => hint = leader_addr,
                    Err(WriteError::LeadershipLost) => {}
                    Err(other) => return Err(other.into()),
                }
            }
            let targets: Vec<String> = hint
                .take()
                .into_iter()
                .chain(self.known_servers())
                .collect();
            for addr in targets {
                match self.rpc.apply(&addr, bytes.clone()).await {
                    Ok((_index, result)) => return Ok(result),
                    Err(RpcError::NotLeader {
                        leader_addr: Some(leader),
                    }) => {
                        hint = Some(leader);
                        break;
                    }
                    Err(RpcError::NotLeader { leader_addr: None } | RpcError::Unavailable(_)) => {}
                    Err(other) => return Err(ServerError::Internal(other.to_string())),
                }
            }
            if hint.is_none() {
                tokio::time::sleep(LEADER_RETRY).await;
            }
        }
    }

    /// Make local state at least as fresh as the leader's committed state: on the leader a
    /// quorum-confirmed barrier, on a follower the leader's read index, then wait to apply it.
    pub async fn read_barrier(&self) -> Result<(), ServerError> {
        if self.consensus.is_leader() {
            return self
                .consensus
                .read_barrier()
                .await
                .map_err(ServerError::from);
        }
        let Some(leader) = self.consensus.leader_addr() else {
            return Err(ServerError::NoLeader);
        };
        let index = self
            .rpc
            .read_index(&leader)
            .await
            .map_err(|err| match err {
                RpcError::NotLeader { .. } | RpcError::Unavailable(_) => ServerError::NoLeader,
                other => ServerError::Internal(other.to_string()),
            })?;
        self.consensus
            .wait_applied(index, LEADER_HOLD)
            .await
            .map_err(ServerError::from)
    }

    /// The client used to reach other servers.
    pub fn rpc(&self) -> &RpcClient {
        &self.rpc
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
