//! The peering port's gRPC server. [`PeerStreamService`] implements the generated
//! `PeerStream` service by handing each call to the agent's [`PeerStreamHandler`] together
//! with what the TLS layer learnt about the caller; [`serve`] runs it over [`TlsIncoming`].
//!
//! Mechanism only: the handler decides leadership (answer with [`crate::not_leader`]), secrets
//! (`PermissionDenied`) and whether the presented chain belongs to *this* peering
//! ([`PeerChain::verify_against`]). The service enforces what holds for every peering: a
//! stream needs a client certificate, and its first message must be `Open`.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use futures::Stream;
use tokio::net::TcpListener;
use tonic::Request;
use tonic::Response;
use tonic::Status;
use tonic::Streaming;
use tonic::transport::Server;

use crate::parts::MAX_MESSAGE_BYTES;
use crate::pb::ExchangeSecretRequest;
use crate::pb::ExchangeSecretResponse;
use crate::pb::ReplicationMessage;
use crate::pb::peer_stream_server::PeerStream;
use crate::pb::peer_stream_server::PeerStreamServer;
use crate::pb::replication_message::Open;
use crate::pb::replication_message::Payload;
use crate::tls::PeerChain;
use crate::tls::PeerConnInfo;
use crate::tls::ServerTls;
use crate::tls::TlsIncoming;

/// Messages from the dialer after its `Open`.
pub type InboundStream = Pin<Box<dyn Stream<Item = Result<ReplicationMessage, Status>> + Send>>;
/// Messages to the dialer; ending it (or yielding an error) ends the call.
pub type OutboundStream = Pin<Box<dyn Stream<Item = Result<ReplicationMessage, Status>> + Send>>;

/// What the agent plugs into the peering port.
pub trait PeerStreamHandler: Send + Sync + 'static {
    /// Trade an establishment secret for a stream secret. `conn.peer_chain` is usually `None`
    /// here: the acceptor does not trust the dialer's CA until this call stores it.
    fn exchange_secret(
        &self,
        request: ExchangeSecretRequest,
        conn: PeerConnInfo,
    ) -> impl Future<Output = Result<ExchangeSecretResponse, Status>> + Send;

    /// Accept (or refuse) a stream whose first message was `open`. `peer` verified against
    /// some trusted bundle at handshake time; check it against this peering's own bundle.
    /// Return the messages to send; consume `inbound` for the dialer's messages.
    fn open_stream(
        &self,
        open: Open,
        peer: PeerChain,
        conn: PeerConnInfo,
        inbound: InboundStream,
    ) -> impl Future<Output = Result<OutboundStream, Status>> + Send;
}

/// The generated `PeerStream` service, delegating to a handler.
#[derive(Debug)]
pub struct PeerStreamService<H> {
    handler: Arc<H>,
}

impl<H: PeerStreamHandler> PeerStreamService<H> {
    /// The tonic service for `handler`, with the peering message size limits.
    pub fn server(handler: Arc<H>) -> PeerStreamServer<PeerStreamService<H>> {
        PeerStreamServer::new(PeerStreamService { handler })
            .max_decoding_message_size(MAX_MESSAGE_BYTES)
            .max_encoding_message_size(MAX_MESSAGE_BYTES)
    }
}

fn conn_info<T>(request: &Request<T>) -> PeerConnInfo {
    request
        .extensions()
        .get::<PeerConnInfo>()
        .cloned()
        .unwrap_or_default()
}

#[tonic::async_trait]
impl<H: PeerStreamHandler> PeerStream for PeerStreamService<H> {
    async fn exchange_secret(
        &self,
        request: Request<ExchangeSecretRequest>,
    ) -> Result<Response<ExchangeSecretResponse>, Status> {
        let conn = conn_info(&request);
        self.handler
            .exchange_secret(request.into_inner(), conn)
            .await
            .map(Response::new)
    }

    type StreamResourcesStream = OutboundStream;

    async fn stream_resources(
        &self,
        request: Request<Streaming<ReplicationMessage>>,
    ) -> Result<Response<OutboundStream>, Status> {
        let conn = conn_info(&request);
        let Some(peer) = conn.peer_chain.clone() else {
            return Err(Status::unauthenticated(
                "a peering stream requires the dialer's server certificate",
            ));
        };
        let mut inbound = request.into_inner();
        let open = match inbound.message().await? {
            Some(ReplicationMessage {
                payload: Some(Payload::Open(open)),
            }) => open,
            Some(_) => return Err(Status::invalid_argument("first message must be Open")),
            None => return Err(Status::cancelled("stream closed before Open")),
        };
        let outbound = self
            .handler
            .open_stream(open, peer, conn, Box::pin(inbound))
            .await?;
        Ok(Response::new(outbound))
    }
}

/// Serve the peering port on `listener` until `shutdown` completes.
pub async fn serve<H: PeerStreamHandler>(
    listener: TcpListener,
    tls: &ServerTls,
    handler: Arc<H>,
    shutdown: impl Future<Output = ()> + Send,
) -> Result<(), tonic::transport::Error> {
    Server::builder()
        .http2_keepalive_interval(Some(Duration::from_secs(30)))
        .http2_keepalive_timeout(Some(Duration::from_secs(10)))
        .add_service(PeerStreamService::server(handler))
        .serve_with_incoming_shutdown(TlsIncoming::new(listener, tls), shutdown)
        .await
}
