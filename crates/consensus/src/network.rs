//! The raft network adapter.
//!
//! **For now every remote node is unreachable**: each RPC (append-entries, vote, pre-vote,
//! snapshot, leader transfer) fails at once with openraft's `Unreachable` error. That is enough
//! for a single-voter group, which never needs to talk to anyone. Server-to-server RPC over
//! tonic replaces this adapter in a later issue; the factory already receives each target's
//! membership record (node name and RPC address) so the real client can dial it.

use std::future::Future;

use openraft::errors::RPCError;
use openraft::errors::ReplicationClosed;
use openraft::errors::StreamingError;
use openraft::errors::Unreachable;
use openraft::network::RPCOption;
use openraft::network::RaftNetworkFactory;
use openraft::network::RaftNetworkV2;
use openraft::raft::AppendEntriesRequest;
use openraft::raft::AppendEntriesResponse;
use openraft::raft::SnapshotResponse;
use openraft::raft::VoteRequest;
use openraft::raft::VoteResponse;

use crate::types::NodeKey;
use crate::types::NodeMeta;
use crate::types::TypeConfig;
use crate::types::Vote;

type Snapshot = openraft::alias::SnapshotOf<TypeConfig, Vec<u8>>;

/// Creates one [`PeerClient`] per remote node.
#[derive(Debug, Default, Clone)]
pub(crate) struct NetworkFactory;

/// A client for one remote node; currently always unreachable.
#[derive(Debug, Clone)]
pub(crate) struct PeerClient {
    target: NodeKey,
    addr: String,
}

impl PeerClient {
    fn unreachable(&self) -> Unreachable<TypeConfig> {
        Unreachable::from_string(format!(
            "no server RPC transport yet: cannot reach {} at {}",
            self.target, self.addr
        ))
    }
}

impl RaftNetworkFactory<TypeConfig> for NetworkFactory {
    type Network = PeerClient;

    async fn new_client(&mut self, target: NodeKey, node: &NodeMeta) -> PeerClient {
        PeerClient {
            target,
            addr: node.rpc_addr.clone(),
        }
    }
}

impl RaftNetworkV2<TypeConfig> for PeerClient {
    type SnapshotData = Vec<u8>;

    async fn append_entries(
        &mut self,
        _rpc: AppendEntriesRequest<TypeConfig>,
        _option: RPCOption,
    ) -> Result<AppendEntriesResponse<TypeConfig>, RPCError<TypeConfig>> {
        Err(RPCError::Unreachable(self.unreachable()))
    }

    async fn vote(
        &mut self,
        _rpc: VoteRequest<TypeConfig>,
        _option: RPCOption,
    ) -> Result<VoteResponse<TypeConfig>, RPCError<TypeConfig>> {
        Err(RPCError::Unreachable(self.unreachable()))
    }

    async fn pre_vote(
        &mut self,
        _rpc: VoteRequest<TypeConfig>,
        _option: RPCOption,
    ) -> Result<VoteResponse<TypeConfig>, RPCError<TypeConfig>> {
        Err(RPCError::Unreachable(self.unreachable()))
    }

    async fn full_snapshot(
        &mut self,
        _vote: Vote,
        _snapshot: Snapshot,
        _cancel: impl Future<Output = ReplicationClosed> + Send + 'static,
        _option: RPCOption,
    ) -> Result<SnapshotResponse<TypeConfig>, StreamingError<TypeConfig>> {
        Err(StreamingError::Unreachable(self.unreachable()))
    }
}
