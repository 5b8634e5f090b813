//! The server side of raft RPC: [`Consensus::handle_raft_rpc`] decodes a message that arrived
//! through a [`RaftTransport`](crate::RaftTransport), hands it to openraft and encodes the
//! reply. Accepted append-entries also refresh the follower's "last contact" time.

use openraft::errors::Fatal;
use openraft::errors::RaftError;
use openraft::raft::AppendEntriesRequest;
use openraft::raft::AppendEntriesResponse;
use openraft::raft::TransferLeaderRequest;
use openraft::raft::VoteRequest;
use tokio::time::Instant;

use crate::consensus::Consensus;
use crate::error::ConsensusError;
use crate::transport::RaftRpcKind;
use crate::types::TypeConfig;
use crate::wire;

type Snapshot = openraft::alias::SnapshotOf<TypeConfig, Vec<u8>>;

fn fatal(f: Fatal<TypeConfig>) -> ConsensusError {
    match f {
        Fatal::Stopped => ConsensusError::ShuttingDown,
        Fatal::StorageError(e) => ConsensusError::Storage(e.to_string()),
        other => ConsensusError::Raft(other.to_string()),
    }
}

fn raft_error(e: RaftError<TypeConfig>) -> ConsensusError {
    match e {
        RaftError::Fatal(f) => fatal(f),
        RaftError::APIError(never) => match never {},
    }
}

fn reply<T: serde::Serialize>(msg: &T) -> Result<Vec<u8>, ConsensusError> {
    wire::encode(msg).map_err(ConsensusError::InvalidRpc)
}

impl Consensus {
    /// Handle one raft message received from another server and return the encoded reply.
    ///
    /// `kind` and `payload` are exactly what the sender's [`RaftTransport`](crate::RaftTransport)
    /// was given. Errors: [`ConsensusError::InvalidRpc`] for undecodable payloads,
    /// [`ConsensusError::ShuttingDown`] once this node stopped.
    pub async fn handle_raft_rpc(
        &self,
        kind: RaftRpcKind,
        payload: &[u8],
    ) -> Result<Vec<u8>, ConsensusError> {
        let raft = &self.inner.raft;
        match kind {
            RaftRpcKind::AppendEntries => {
                let req: AppendEntriesRequest<TypeConfig> =
                    wire::decode(payload).map_err(ConsensusError::InvalidRpc)?;
                let resp = raft.append_entries(req).await.map_err(raft_error)?;
                if !matches!(resp, AppendEntriesResponse::HigherVote(_)) {
                    *self.inner.last_leader_contact() = Some(Instant::now());
                }
                reply(&resp)
            }
            RaftRpcKind::Vote => {
                let req: VoteRequest<TypeConfig> =
                    wire::decode(payload).map_err(ConsensusError::InvalidRpc)?;
                reply(&raft.vote(req).await.map_err(raft_error)?)
            }
            RaftRpcKind::PreVote => {
                let req: VoteRequest<TypeConfig> =
                    wire::decode(payload).map_err(ConsensusError::InvalidRpc)?;
                reply(&raft.pre_vote(req).await.map_err(raft_error)?)
            }
            RaftRpcKind::InstallSnapshot => {
                let (header, data) =
                    wire::decode_snapshot(payload).map_err(ConsensusError::InvalidRpc)?;
                let snapshot = Snapshot {
                    meta: header.meta,
                    snapshot: data,
                };
                let resp = raft
                    .install_full_snapshot(header.vote, snapshot)
                    .await
                    .map_err(fatal)?;
                *self.inner.last_leader_contact() = Some(Instant::now());
                reply(&resp)
            }
            RaftRpcKind::TransferLeader => {
                let req: TransferLeaderRequest<TypeConfig> =
                    wire::decode(payload).map_err(ConsensusError::InvalidRpc)?;
                reply(&raft.handle_transfer_leader(req).await.map_err(fatal)?)
            }
        }
    }
}
