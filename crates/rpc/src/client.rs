//! [`RpcClient`]: calls other servers' RPC services, with one lazily connected HTTP/2 channel
//! per address (dropped after a connection failure so the next call dials afresh). It is also
//! the raft transport between servers (`legate_consensus::RaftTransport`).

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::Mutex;
use std::time::Duration;

use legate_consensus::BoxFuture;
use legate_consensus::RaftRpcKind;
use legate_consensus::RaftTransport;
use legate_consensus::TransportError;
use tonic::transport::Channel;
use tonic::transport::Endpoint;

use crate::MAX_MESSAGE_BYTES;
use crate::error::RpcError;
use crate::handler::HttpReply;
use crate::handler::HttpRequest;
use crate::kind;
use crate::pb;
use crate::pb::raft_client::RaftClient;
use crate::pb::server_client::ServerClient;
use crate::server::headers_to_pb;
use crate::server::http_reply_from_pb;

/// How long to wait for a TCP connection to another server.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// A client for other servers' RPC services. Cheap to clone; clones share the channel cache.
#[derive(Clone, Default)]
pub struct RpcClient {
    channels: Arc<Mutex<HashMap<String, Channel>>>,
}

impl std::fmt::Debug for RpcClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RpcClient").finish_non_exhaustive()
    }
}

impl RpcClient {
    /// A client with an empty channel cache.
    pub fn new() -> RpcClient {
        RpcClient::default()
    }

    /// The cached channel to `addr` (`host:port`), created lazily on first use.
    fn channel(&self, addr: &str) -> Result<Channel, RpcError> {
        let mut channels = self.channels.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(ch) = channels.get(addr) {
            return Ok(ch.clone());
        }
        let ch = Endpoint::from_shared(format!("http://{addr}"))
            .map_err(|e| RpcError::Other(format!("invalid server address {addr}: {e}")))?
            .connect_timeout(CONNECT_TIMEOUT)
            .tcp_nodelay(true)
            .connect_lazy();
        channels.insert(addr.to_string(), ch.clone());
        Ok(ch)
    }

    /// Map a call's status, forgetting the channel when the server was unreachable.
    fn fail(&self, addr: &str, status: tonic::Status) -> RpcError {
        let err = RpcError::from(status);
        if matches!(err, RpcError::Unavailable(_)) {
            self.channels
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .remove(addr);
        }
        err
    }

    fn server(&self, addr: &str) -> Result<ServerClient<Channel>, RpcError> {
        Ok(ServerClient::new(self.channel(addr)?)
            .max_decoding_message_size(MAX_MESSAGE_BYTES)
            .max_encoding_message_size(MAX_MESSAGE_BYTES))
    }

    /// Send a raft message to the server at `addr` and return its encoded reply.
    pub async fn raft(
        &self,
        addr: &str,
        kind: RaftRpcKind,
        payload: Vec<u8>,
    ) -> Result<Vec<u8>, RpcError> {
        let mut client = RaftClient::new(self.channel(addr)?)
            .max_decoding_message_size(MAX_MESSAGE_BYTES)
            .max_encoding_message_size(MAX_MESSAGE_BYTES);
        let call = pb::RaftCall {
            kind: kind::to_proto(kind) as i32,
            payload,
        };
        match client.call(call).await {
            Ok(reply) => Ok(reply.into_inner().payload),
            Err(status) => Err(self.fail(addr, status)),
        }
    }

    /// Propose an encoded command on the server at `addr` (the leader); returns the log index
    /// and the encoded result.
    pub async fn apply(&self, addr: &str, command: Vec<u8>) -> Result<(u64, Vec<u8>), RpcError> {
        let mut client = self.server(addr)?;
        match client.apply(pb::ApplyRequest { command }).await {
            Ok(reply) => {
                let reply = reply.into_inner();
                Ok((reply.index, reply.result))
            }
            Err(status) => Err(self.fail(addr, status)),
        }
    }

    /// Ask the server at `addr` (the leader) for a read index.
    pub async fn read_index(&self, addr: &str) -> Result<u64, RpcError> {
        let mut client = self.server(addr)?;
        match client.read_index(pb::Empty {}).await {
            Ok(reply) => Ok(reply.into_inner().index),
            Err(status) => Err(self.fail(addr, status)),
        }
    }

    /// Forward an HTTP API request to the server at `addr`.
    pub async fn http(&self, addr: &str, request: HttpRequest) -> Result<HttpReply, RpcError> {
        let mut client = self.server(addr)?;
        let req = pb::HttpRequest {
            method: request.method,
            path_and_query: request.path_and_query,
            headers: headers_to_pb(request.headers),
            body: request.body,
        };
        match client.http(req).await {
            Ok(reply) => http_reply_from_pb(reply.into_inner()),
            Err(status) => Err(self.fail(addr, status)),
        }
    }
}

impl RaftTransport for RpcClient {
    fn call(
        &self,
        target_addr: &str,
        kind: RaftRpcKind,
        payload: Vec<u8>,
    ) -> BoxFuture<'static, Result<Vec<u8>, TransportError>> {
        let client = self.clone();
        let addr = target_addr.to_string();
        Box::pin(async move {
            client
                .raft(&addr, kind, payload)
                .await
                .map_err(|e| match e {
                    RpcError::Unavailable(m) => TransportError::Unreachable(m),
                    other => TransportError::Remote(other.to_string()),
                })
        })
    }
}
