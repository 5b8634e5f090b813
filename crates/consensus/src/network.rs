//! The raft network adapter: openraft's client side, over a [`RaftTransport`].
//!
//! Each outgoing openraft request is encoded (see `wire`), sent through the configured
//! transport to the target's RPC address (from its membership record) and the reply decoded.
//! Transport failures become openraft `Unreachable` errors (raft backs off) and calls that exceed
//! openraft's soft TTL become `Timeout`s. Without a transport every remote node is unreachable,
//! which is enough for a single-voter group.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use openraft::errors::RPCError;
use openraft::errors::ReplicationClosed;
use openraft::errors::StreamingError;
use openraft::errors::Timeout;
use openraft::errors::Unreachable;
use openraft::network::RPCOption;
use openraft::network::RPCTypes;
use openraft::network::RaftNetworkFactory;
use openraft::network::RaftNetworkV2;
use openraft::raft::AppendEntriesRequest;
use openraft::raft::AppendEntriesResponse;
use openraft::raft::SnapshotResponse;
use openraft::raft::TransferLeaderRequest;
use openraft::raft::TransferLeaderResponse;
use openraft::raft::VoteRequest;
use openraft::raft::VoteResponse;
use serde::de::DeserializeOwned;

use crate::transport::RaftRpcKind;
use crate::transport::RaftTransport;
use crate::transport::TransportError;
use crate::types::NodeKey;
use crate::types::NodeMeta;
use crate::types::TypeConfig;
use crate::types::Vote;
use crate::wire;

type Snapshot = openraft::alias::SnapshotOf<TypeConfig, Vec<u8>>;

/// Creates one [`PeerClient`] per remote node.
#[derive(Clone)]
pub(crate) struct NetworkFactory {
    id: NodeKey,
    transport: Option<Arc<dyn RaftTransport>>,
}

impl NetworkFactory {
    pub(crate) fn new(id: NodeKey, transport: Option<Arc<dyn RaftTransport>>) -> Self {
        Self { id, transport }
    }
}

/// A client for one remote node.
#[derive(Clone)]
pub(crate) struct PeerClient {
    id: NodeKey,
    target: NodeKey,
    addr: String,
    transport: Option<Arc<dyn RaftTransport>>,
}

/// Why one call failed, before it is mapped to the error type of the openraft method.
enum CallError {
    Unreachable(String),
    Timeout(Duration),
}

impl PeerClient {
    /// Send one encoded message and return the raw reply, bounded by `ttl`.
    async fn call(
        &self,
        kind: RaftRpcKind,
        payload: Result<Vec<u8>, String>,
        ttl: Duration,
    ) -> Result<Vec<u8>, CallError> {
        let Some(transport) = &self.transport else {
            return Err(CallError::Unreachable(format!(
                "no server RPC transport configured: cannot reach {} at {}",
                self.target, self.addr
            )));
        };
        let payload = payload.map_err(CallError::Unreachable)?;
        match tokio::time::timeout(ttl, transport.call(&self.addr, kind, payload)).await {
            Err(_) => Err(CallError::Timeout(ttl)),
            Ok(Ok(reply)) => Ok(reply),
            Ok(Err(TransportError::Unreachable(m) | TransportError::Remote(m))) => Err(
                CallError::Unreachable(format!("{} to {}: {m}", kind.as_str(), self.addr)),
            ),
        }
    }

    /// Call and decode, mapping failures to openraft's `RPCError`.
    async fn request<T: DeserializeOwned>(
        &self,
        kind: RaftRpcKind,
        action: RPCTypes,
        payload: Result<Vec<u8>, String>,
        option: &RPCOption,
    ) -> Result<T, RPCError<TypeConfig>> {
        let reply = self
            .call(kind, payload, option.soft_ttl())
            .await
            .map_err(|e| match e {
                CallError::Unreachable(m) => RPCError::Unreachable(Unreachable::from_string(m)),
                CallError::Timeout(timeout) => RPCError::Timeout(self.timeout(action, timeout)),
            })?;
        wire::decode(&reply).map_err(|m| RPCError::Unreachable(Unreachable::from_string(m)))
    }

    fn timeout(&self, action: RPCTypes, timeout: Duration) -> Timeout<TypeConfig> {
        Timeout {
            action,
            id: self.id.clone(),
            target: self.target.clone(),
            timeout,
        }
    }
}

impl RaftNetworkFactory<TypeConfig> for NetworkFactory {
    type Network = PeerClient;

    async fn new_client(&mut self, target: NodeKey, node: &NodeMeta) -> PeerClient {
        PeerClient {
            id: self.id.clone(),
            target,
            addr: node.rpc_addr.clone(),
            transport: self.transport.clone(),
        }
    }
}

impl RaftNetworkV2<TypeConfig> for PeerClient {
    type SnapshotData = Vec<u8>;

    async fn append_entries(
        &mut self,
        rpc: AppendEntriesRequest<TypeConfig>,
        option: RPCOption,
    ) -> Result<AppendEntriesResponse<TypeConfig>, RPCError<TypeConfig>> {
        let payload = wire::encode(&rpc);
        self.request(
            RaftRpcKind::AppendEntries,
            RPCTypes::AppendEntries,
            payload,
            &option,
        )
        .await
    }

    async fn vote(
        &mut self,
        rpc: VoteRequest<TypeConfig>,
        option: RPCOption,
    ) -> Result<VoteResponse<TypeConfig>, RPCError<TypeConfig>> {
        let payload = wire::encode(&rpc);
        self.request(RaftRpcKind::Vote, RPCTypes::Vote, payload, &option)
            .await
    }

    async fn pre_vote(
        &mut self,
        rpc: VoteRequest<TypeConfig>,
        option: RPCOption,
    ) -> Result<VoteResponse<TypeConfig>, RPCError<TypeConfig>> {
        let payload = wire::encode(&rpc);
        self.request(RaftRpcKind::PreVote, RPCTypes::Vote, payload, &option)
            .await
    }

    async fn full_snapshot(
        &mut self,
        vote: Vote,
        snapshot: Snapshot,
        cancel: impl Future<Output = ReplicationClosed> + Send + 'static,
        option: RPCOption,
    ) -> Result<SnapshotResponse<TypeConfig>, StreamingError<TypeConfig>> {
        let header = wire::SnapshotHeader {
            vote,
            meta: snapshot.meta,
        };
        let payload = wire::encode_snapshot(&header, &snapshot.snapshot);
        let call = self.call(RaftRpcKind::InstallSnapshot, payload, option.soft_ttl());
        let reply = tokio::select! {
            closed = cancel => return Err(StreamingError::Closed(closed)),
            reply = call => reply,
        };
        let reply = reply.map_err(|e| match e {
            CallError::Unreachable(m) => StreamingError::Unreachable(Unreachable::from_string(m)),
            CallError::Timeout(t) => {
                StreamingError::Timeout(self.timeout(RPCTypes::InstallSnapshot, t))
            }
        })?;
        wire::decode(&reply).map_err(|m| StreamingError::Unreachable(Unreachable::from_string(m)))
    }

    async fn transfer_leader(
        &mut self,
        req: TransferLeaderRequest<TypeConfig>,
        option: RPCOption,
    ) -> Result<TransferLeaderResponse<TypeConfig>, RPCError<TypeConfig>> {
        let payload = wire::encode(&req);
        self.request(
            RaftRpcKind::TransferLeader,
            RPCTypes::TransferLeader,
            payload,
            &option,
        )
        .await
    }
}
