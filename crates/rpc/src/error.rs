//! [`RpcError`] and its mapping to and from gRPC statuses.

use legate_consensus::ConsensusError;
use legate_consensus::WriteError;
use tonic::Code;
use tonic::Status;
use tonic::metadata::MetadataValue;

/// Metadata key carrying the leader's RPC address on a not-leader error.
pub const LEADER_ADDR_KEY: &str = "x-legate-leader-addr";

/// Why an RPC failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RpcError {
    /// The server is not the leader; retry at `leader_addr` if one is known.
    #[error("{}", not_leader_text(leader_addr))]
    NotLeader {
        /// RPC address of the current leader, if the server knows one.
        leader_addr: Option<String>,
    },
    /// The server could not be reached or is shutting down; the request may be retried.
    #[error("server unavailable: {0}")]
    Unavailable(String),
    /// Any other failure (the message says what).
    #[error("{0}")]
    Other(String),
}

fn not_leader_text(leader_addr: &Option<String>) -> String {
    match leader_addr {
        Some(addr) => format!("node is not the leader (leader is {addr})"),
        None => "No cluster leader".to_string(),
    }
}

impl From<RpcError> for Status {
    fn from(e: RpcError) -> Status {
        match e {
            RpcError::NotLeader { leader_addr } => {
                let msg = not_leader_text(&leader_addr);
                let mut status = Status::failed_precondition(msg);
                if let Some(v) = leader_addr.and_then(|a| MetadataValue::try_from(a).ok()) {
                    status.metadata_mut().insert(LEADER_ADDR_KEY, v);
                }
                status
            }
            RpcError::Unavailable(m) => Status::unavailable(m),
            RpcError::Other(m) => Status::internal(m),
        }
    }
}

impl From<Status> for RpcError {
    fn from(s: Status) -> RpcError {
        match s.code() {
            Code::FailedPrecondition => RpcError::NotLeader {
                leader_addr: s
                    .metadata()
                    .get(LEADER_ADDR_KEY)
                    .and_then(|v| v.to_str().ok())
                    .map(str::to_string),
            },
            Code::Unavailable | Code::Cancelled | Code::DeadlineExceeded => {
                RpcError::Unavailable(s.message().to_string())
            }
            _ => RpcError::Other(s.message().to_string()),
        }
    }
}

/// Lets a handler backed by `legate_consensus::Consensus` answer `apply`/`read_index` with `?`.
impl From<WriteError> for RpcError {
    fn from(e: WriteError) -> RpcError {
        match e {
            WriteError::NotLeader { leader_addr } => RpcError::NotLeader { leader_addr },
            WriteError::ShuttingDown => RpcError::Unavailable(e.to_string()),
            other => RpcError::Other(other.to_string()),
        }
    }
}

/// Lets a handler backed by `legate_consensus::Consensus` answer `raft` with `?`.
impl From<ConsensusError> for RpcError {
    fn from(e: ConsensusError) -> RpcError {
        match e {
            ConsensusError::ShuttingDown => RpcError::Unavailable(e.to_string()),
            other => RpcError::Other(other.to_string()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn not_leader_round_trips_through_status() {
        for leader_addr in [None, Some("10.0.0.1:8300".to_string())] {
            let e = RpcError::NotLeader { leader_addr };
            assert_eq!(RpcError::from(Status::from(e.clone())), e);
        }
    }

    #[test]
    fn other_codes_map_to_unavailable_or_other() {
        let e = RpcError::Unavailable("down".into());
        assert_eq!(RpcError::from(Status::from(e.clone())), e);
        let e = RpcError::Other("boom".into());
        assert_eq!(RpcError::from(Status::from(e.clone())), e);
        assert_eq!(
            RpcError::from(WriteError::ShuttingDown),
            RpcError::Unavailable("raft is shutting down".into())
        );
    }
}
