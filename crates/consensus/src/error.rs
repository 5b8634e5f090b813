//! Public error types: [`WriteError`] for proposals and reads, [`ConsensusError`] for the
//! node's lifecycle. Both carry only strings, never openraft types.

/// Why a write (or a read barrier) did not succeed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum WriteError {
    /// This server is not the leader; `leader_addr` is the leader's RPC address if known.
    #[error("{}", not_leader_text(leader_addr))]
    NotLeader {
        /// RPC address of the current leader, if one is known.
        leader_addr: Option<String>,
    },
    /// Leadership was lost while the request was in flight; its outcome is unknown.
    #[error("leadership lost while committing log")]
    LeadershipLost,
    /// The raft node is shutting down or has stopped.
    #[error("raft is shutting down")]
    ShuttingDown,
    /// An unrecoverable raft or storage error.
    #[error("raft fatal error: {0}")]
    Fatal(String),
    /// The request did not finish in time (e.g. waiting for an index to be applied, or for a
    /// new server to catch up); it may still complete later.
    #[error("timed out: {0}")]
    Timeout(String),
    /// The raft engine rejected the request (e.g. another membership change is in progress,
    /// or the target server is unknown).
    #[error("request rejected: {0}")]
    Rejected(String),
}

fn not_leader_text(leader_addr: &Option<String>) -> String {
    match leader_addr {
        Some(addr) => format!("node is not the leader (leader is {addr})"),
        None => "No cluster leader".to_string(),
    }
}

/// Errors from starting, snapshotting or otherwise managing the consensus node.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ConsensusError {
    /// The log, vote or snapshot storage failed.
    #[error("raft storage error: {0}")]
    Storage(String),
    /// The raft engine reported an error.
    #[error("raft error: {0}")]
    Raft(String),
    /// The configuration is invalid.
    #[error("invalid raft configuration: {0}")]
    Config(String),
    /// The node has been shut down.
    #[error("raft is shutting down")]
    ShuttingDown,
    /// A raft RPC payload could not be decoded (or a reply encoded).
    #[error("invalid raft RPC: {0}")]
    InvalidRpc(String),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn not_leader_texts_are_readable() {
        let none = WriteError::NotLeader { leader_addr: None };
        assert_eq!(none.to_string(), "No cluster leader");
        let some = WriteError::NotLeader {
            leader_addr: Some("10.0.0.1:8300".into()),
        };
        assert_eq!(
            some.to_string(),
            "node is not the leader (leader is 10.0.0.1:8300)"
        );
    }
}
