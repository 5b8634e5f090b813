//! [`serve`]: the tonic server for the `Raft` and `Server` services on one TCP listener,
//! dispatching every call to an [`RpcHandler`].

use std::future::Future;
use std::sync::Arc;

use tokio::net::TcpListener;
use tokio_stream::wrappers::TcpListenerStream;
use tonic::Request;
use tonic::Response;
use tonic::Status;

use crate::MAX_MESSAGE_BYTES;
use crate::error::RpcError;
use crate::handler::HttpReply;
use crate::handler::HttpRequest;
use crate::handler::RpcHandler;
use crate::kind;
use crate::pb;
use crate::pb::raft_server::RaftServer;
use crate::pb::server_server::ServerServer;

/// Serve both RPC services on `listener` until `shutdown` resolves, then stop accepting and
/// let in-flight calls finish.
pub async fn serve(
    listener: TcpListener,
    handler: Arc<dyn RpcHandler>,
    shutdown: impl Future<Output = ()> + Send,
) -> Result<(), RpcError> {
    let svc = Service { handler };
    tonic::transport::Server::builder()
        .add_service(
            RaftServer::new(svc.clone())
                .max_decoding_message_size(MAX_MESSAGE_BYTES)
                .max_encoding_message_size(MAX_MESSAGE_BYTES),
        )
        .add_service(
            ServerServer::new(svc)
                .max_decoding_message_size(MAX_MESSAGE_BYTES)
                .max_encoding_message_size(MAX_MESSAGE_BYTES),
        )
        .serve_with_incoming_shutdown(TcpListenerStream::new(listener), shutdown)
        .await
        .map_err(|e| RpcError::Other(format!("rpc server: {e}")))
}

#[derive(Clone)]
struct Service {
    handler: Arc<dyn RpcHandler>,
}

fn headers_from_pb(headers: Vec<pb::Header>) -> Vec<(String, Vec<u8>)> {
    headers.into_iter().map(|h| (h.name, h.value)).collect()
}

pub(crate) fn headers_to_pb(headers: Vec<(String, Vec<u8>)>) -> Vec<pb::Header> {
    headers
        .into_iter()
        .map(|(name, value)| pb::Header { name, value })
        .collect()
}

#[tonic::async_trait]
impl pb::raft_server::Raft for Service {
    async fn call(
        &self,
        request: Request<pb::RaftCall>,
    ) -> Result<Response<pb::RaftReply>, Status> {
        let call = request.into_inner();
        let kind = kind::from_proto(call.kind)
            .ok_or_else(|| Status::invalid_argument(format!("unknown raft kind {}", call.kind)))?;
        let payload = self.handler.raft(kind, call.payload).await?;
        Ok(Response::new(pb::RaftReply { payload }))
    }
}

#[tonic::async_trait]
impl pb::server_server::Server for Service {
    async fn apply(
        &self,
        request: Request<pb::ApplyRequest>,
    ) -> Result<Response<pb::ApplyReply>, Status> {
        let (index, result) = self.handler.apply(request.into_inner().command).await?;
        Ok(Response::new(pb::ApplyReply { index, result }))
    }

    async fn read_index(
        &self,
        _request: Request<pb::Empty>,
    ) -> Result<Response<pb::ReadIndexReply>, Status> {
        let index = self.handler.read_index().await?;
        Ok(Response::new(pb::ReadIndexReply { index }))
    }

    async fn http(
        &self,
        request: Request<pb::HttpRequest>,
    ) -> Result<Response<pb::HttpReply>, Status> {
        let req = request.into_inner();
        let reply = self
            .handler
            .http(HttpRequest {
                method: req.method,
                path_and_query: req.path_and_query,
                headers: headers_from_pb(req.headers),
                body: req.body,
            })
            .await?;
        Ok(Response::new(pb::HttpReply {
            status: u32::from(reply.status),
            headers: headers_to_pb(reply.headers),
            body: reply.body,
        }))
    }
}

/// Convert a protobuf reply back into an [`HttpReply`] (client side).
pub(crate) fn http_reply_from_pb(reply: pb::HttpReply) -> Result<HttpReply, RpcError> {
    let status = u16::try_from(reply.status)
        .map_err(|_| RpcError::Other(format!("invalid HTTP status {}", reply.status)))?;
    Ok(HttpReply {
        status,
        headers: headers_from_pb(reply.headers),
        body: reply.body,
    })
}
