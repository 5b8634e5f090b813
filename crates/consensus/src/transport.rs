//! The public transport seam between raft nodes: [`RaftTransport`] carries opaque, already
//! encoded raft messages to a peer's RPC address, and [`RaftRpcKind`] says which message it is.
//!
//! This crate encodes every openraft request and reply itself (see `wire`), so an
//! implementation (the `legate-rpc` crate over tonic, or an in-process router in tests) only
//! moves bytes and never sees an openraft type. The receiving side hands the bytes to
//! [`Consensus::handle_raft_rpc`](crate::Consensus::handle_raft_rpc).

use std::future::Future;
use std::pin::Pin;

/// A boxed, sendable future, as returned by [`RaftTransport::call`].
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Which raft message a payload carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RaftRpcKind {
    /// Log replication and heartbeats.
    AppendEntries,
    /// A vote request during an election.
    Vote,
    /// A pre-vote request (only sent when pre-vote is enabled).
    PreVote,
    /// A whole snapshot in one message (no chunking or streaming yet).
    InstallSnapshot,
    /// The leader asks the target to take over leadership.
    TransferLeader,
}

impl RaftRpcKind {
    /// Every kind, in wire order.
    pub const ALL: [RaftRpcKind; 5] = [
        RaftRpcKind::AppendEntries,
        RaftRpcKind::Vote,
        RaftRpcKind::PreVote,
        RaftRpcKind::InstallSnapshot,
        RaftRpcKind::TransferLeader,
    ];

    /// A short, stable name for logs and metrics.
    pub fn as_str(self) -> &'static str {
        match self {
            RaftRpcKind::AppendEntries => "append_entries",
            RaftRpcKind::Vote => "vote",
            RaftRpcKind::PreVote => "pre_vote",
            RaftRpcKind::InstallSnapshot => "install_snapshot",
            RaftRpcKind::TransferLeader => "transfer_leader",
        }
    }
}

/// Why a raft message could not be delivered or answered.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TransportError {
    /// The target could not be reached (connection refused, reset, no route); raft backs off.
    #[error("peer unreachable: {0}")]
    Unreachable(String),
    /// The target answered with an error (e.g. it is shutting down or could not decode).
    #[error("peer returned an error: {0}")]
    Remote(String),
}

/// Delivers encoded raft messages to other servers.
///
/// `call` sends `payload` to the server whose RPC address is `target_addr`, which must pass it
/// to [`Consensus::handle_raft_rpc`](crate::Consensus::handle_raft_rpc) with the same `kind`,
/// and resolves to the encoded reply. Timeouts are applied by the caller.
pub trait RaftTransport: Send + Sync + 'static {
    /// Send one raft message and wait for its reply.
    fn call(
        &self,
        target_addr: &str,
        kind: RaftRpcKind,
        payload: Vec<u8>,
    ) -> BoxFuture<'static, Result<Vec<u8>, TransportError>>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kind_names_are_distinct() {
        let mut names: Vec<_> = RaftRpcKind::ALL.iter().map(|k| k.as_str()).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), RaftRpcKind::ALL.len());
    }
}
