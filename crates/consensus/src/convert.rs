//! Conversions from openraft errors and metrics into this crate's public, string-only types.

use openraft::errors::ClientWriteError;
use openraft::errors::Fatal;
use openraft::errors::ForwardToLeader;
use openraft::errors::LinearizableReadError;
use openraft::errors::RaftError;

use crate::error::ConsensusError;
use crate::error::WriteError;
use crate::types::TypeConfig;

fn not_leader(f: &ForwardToLeader<TypeConfig>) -> WriteError {
    WriteError::NotLeader {
        leader_addr: f.leader_node.as_ref().map(|n| n.rpc_addr.clone()),
    }
}

pub(crate) fn fatal_to_write(f: Fatal<TypeConfig>) -> WriteError {
    match f {
        Fatal::Stopped => WriteError::ShuttingDown,
        other => WriteError::Fatal(other.to_string()),
    }
}

pub(crate) fn fatal_to_consensus(f: Fatal<TypeConfig>) -> ConsensusError {
    match f {
        Fatal::Stopped => ConsensusError::ShuttingDown,
        Fatal::StorageError(e) => ConsensusError::Storage(e.to_string()),
        other => ConsensusError::Raft(other.to_string()),
    }
}

pub(crate) fn write_error(e: RaftError<TypeConfig, ClientWriteError<TypeConfig>>) -> WriteError {
    match e {
        RaftError::Fatal(f) => fatal_to_write(f),
        RaftError::APIError(ClientWriteError::ForwardToLeader(f)) => not_leader(&f),
        RaftError::APIError(ClientWriteError::LogEntryDiscarded(_)) => WriteError::LeadershipLost,
        RaftError::APIError(other) => WriteError::Fatal(other.to_string()),
    }
}

pub(crate) fn read_error(
    e: RaftError<TypeConfig, LinearizableReadError<TypeConfig>>,
) -> WriteError {
    match e {
        RaftError::Fatal(f) => fatal_to_write(f),
        RaftError::APIError(LinearizableReadError::ForwardToLeader(f)) => not_leader(&f),
        RaftError::APIError(LinearizableReadError::QuorumNotEnough(_)) => {
            WriteError::LeadershipLost
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::NodeKey;
    use crate::types::NodeMeta;

    #[test]
    fn forward_to_leader_carries_rpc_addr() {
        let f = ForwardToLeader::<TypeConfig>::new(
            NodeKey("id".into()),
            NodeMeta {
                name: "n".into(),
                rpc_addr: "1.2.3.4:8300".into(),
            },
        );
        let e = write_error(RaftError::APIError(ClientWriteError::ForwardToLeader(f)));
        assert_eq!(
            e,
            WriteError::NotLeader {
                leader_addr: Some("1.2.3.4:8300".into())
            }
        );
        assert_eq!(fatal_to_write(Fatal::Stopped), WriteError::ShuttingDown);
    }
}
