//! [`RpcHandler`], the server-side trait the agent implements, and the plain HTTP request and
//! reply types carried by the `Http` RPC.

use legate_consensus::BoxFuture;
use legate_consensus::RaftRpcKind;

use crate::error::RpcError;

/// An HTTP API request forwarded by a client agent to a server.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HttpRequest {
    /// `GET`, `PUT`, ...
    pub method: String,
    /// Path and query string, e.g. `/v1/kv/foo?recurse`.
    pub path_and_query: String,
    /// Header names and raw values, in order (names may repeat).
    pub headers: Vec<(String, Vec<u8>)>,
    /// Request body.
    pub body: Vec<u8>,
}

/// The server's answer to an [`HttpRequest`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HttpReply {
    /// HTTP status code.
    pub status: u16,
    /// Header names and raw values, in order (names may repeat).
    pub headers: Vec<(String, Vec<u8>)>,
    /// Response body.
    pub body: Vec<u8>,
}

/// What a server does with each RPC; [`serve`](crate::serve) dispatches to it.
pub trait RpcHandler: Send + Sync + 'static {
    /// A raft message from another server (pass to `Consensus::handle_raft_rpc`).
    fn raft(
        &self,
        kind: RaftRpcKind,
        payload: Vec<u8>,
    ) -> BoxFuture<'static, Result<Vec<u8>, RpcError>>;
    /// Propose an encoded command; resolves to its log index and encoded result.
    fn apply(&self, command: Vec<u8>) -> BoxFuture<'static, Result<(u64, Vec<u8>), RpcError>>;
    /// Confirm leadership and return the read index.
    fn read_index(&self) -> BoxFuture<'static, Result<u64, RpcError>>;
    /// Run a forwarded HTTP API request through the server's router.
    fn http(&self, request: HttpRequest) -> BoxFuture<'static, Result<HttpReply, RpcError>>;
}
