//! What this server answers on server RPC: Raft messages from the other servers, forwarded
//! writes (`Apply`, proposed here; a follower answers "not leader" with the leader's address),
//! read indexes for followers' linearizable reads, and HTTP API requests forwarded by client
//! agents, run through this server's own router.

use std::sync::Arc;
use std::sync::OnceLock;
use std::sync::Weak;

use http_body_util::BodyExt;
use legate_consensus::BoxFuture;
use legate_consensus::RaftRpcKind;
use legate_rpc::HttpReply;
use legate_rpc::HttpRequest;
use legate_rpc::RpcError;
use legate_rpc::RpcHandler;
use tower::ServiceExt;

use crate::agent::Agent;

/// The RPC face of a server agent. Holds the agent weakly; the router for forwarded HTTP
/// requests is built once, on the first one (it lives as long as the RPC server task).
pub struct AgentRpc {
    agent: Weak<Agent>,
    router: OnceLock<axum::Router>,
}

impl AgentRpc {
    /// Answer RPC for `agent`.
    pub fn new(agent: &Arc<Agent>) -> Self {
        AgentRpc {
            agent: Arc::downgrade(agent),
            router: OnceLock::new(),
        }
    }

    fn router(&self) -> Result<axum::Router, RpcError> {
        if let Some(router) = self.router.get() {
            return Ok(router.clone());
        }
        let router = crate::http::router(self.agent()?);
        Ok(self.router.get_or_init(|| router).clone())
    }

    fn agent(&self) -> Result<Arc<Agent>, RpcError> {
        self.agent
            .upgrade()
            .ok_or_else(|| RpcError::Unavailable("agent is shutting down".to_string()))
    }
}

impl RpcHandler for AgentRpc {
    fn raft(
        &self,
        kind: RaftRpcKind,
        payload: Vec<u8>,
    ) -> BoxFuture<'static, Result<Vec<u8>, RpcError>> {
        let agent = self.agent();
        Box::pin(async move {
            let consensus = agent?.server().consensus().clone();
            Ok(consensus.handle_raft_rpc(kind, &payload).await?)
        })
    }

    fn apply(&self, command: Vec<u8>) -> BoxFuture<'static, Result<(u64, Vec<u8>), RpcError>> {
        let agent = self.agent();
        Box::pin(async move {
            let consensus = agent?.server().consensus().clone();
            Ok(consensus.write(command).await?)
        })
    }

    fn read_index(&self) -> BoxFuture<'static, Result<u64, RpcError>> {
        let agent = self.agent();
        Box::pin(async move {
            let consensus = agent?.server().consensus().clone();
            Ok(consensus.read_index().await?)
        })
    }

    fn http(&self, request: HttpRequest) -> BoxFuture<'static, Result<HttpReply, RpcError>> {
        let router = self.router();
        Box::pin(async move {
            let router = router?;
            let mut builder = http::Request::builder()
                .method(request.method.as_str())
                .uri(request.path_and_query.as_str());
            for (name, value) in &request.headers {
                builder = builder.header(name.as_str(), value.as_slice());
            }
            let request = builder
                .body(axum::body::Body::from(request.body))
                .map_err(|err| RpcError::Other(format!("bad forwarded request: {err}")))?;
            let response = router
                .oneshot(request)
                .await
                .unwrap_or_else(|never| match never {});
            let status = response.status().as_u16();
            let headers = response
                .headers()
                .iter()
                .map(|(k, v)| (k.as_str().to_string(), v.as_bytes().to_vec()))
                .collect();
            let body = response
                .into_body()
                .collect()
                .await
                .map_err(|err| RpcError::Other(format!("reading forwarded response: {err}")))?
                .to_bytes()
                .to_vec();
            Ok(HttpReply {
                status,
                headers,
                body,
            })
        })
    }
}
