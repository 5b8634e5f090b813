//! The dialer: [`PeerClient`] is one TLS connection to one peer server; [`PeerDialer`] walks
//! the peer's address ring until a server answers and follows `x-legate-leader` redirects
//! from followers to the leader. Backing off between attempts is the caller's loop, with
//! [`crate::next_backoff`] and [`DialError::failure_kind`].

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::Context;
use std::task::Poll;
use std::time::Duration;

use http::Uri;
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;
use tokio::sync::mpsc;
use tokio_rustls::client::TlsStream;
use tokio_stream::wrappers::ReceiverStream;
use tonic::Code;
use tonic::Status;
use tonic::Streaming;
use tonic::transport::Channel;
use tonic::transport::Endpoint;

use crate::backoff::AddressRing;
use crate::backoff::FailureKind;
use crate::parts::MAX_MESSAGE_BYTES;
use crate::pb::ExchangeSecretRequest;
use crate::pb::ExchangeSecretResponse;
use crate::pb::ReplicationMessage;
use crate::pb::peer_stream_client::PeerStreamClient;
use crate::pb::replication_message::Open;
use crate::pb::replication_message::Payload;
use crate::status::leader_redirect;
use crate::tls::ClientTls;
use crate::tls::HandshakeError;
use crate::tls::Stage;

/// Most leader redirects followed for one call.
const MAX_REDIRECTS: usize = 3;
/// Room for outbound messages before senders wait.
const OUTBOUND_BUFFER: usize = 64;

/// Dialing a peer failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DialError {
    /// The peering has no addresses to dial.
    #[error("no peer server addresses to dial")]
    NoAddresses,
    /// No address could be connected to; one failure per address tried.
    #[error("no peer server reachable: {}", join(.0))]
    Unreachable(Vec<HandshakeError>),
    /// A server answered the call with an error.
    #[error("peer server {addr} refused: {} {}{}", .status.code(), .status.message(), cause(.status))]
    Rejected {
        /// The server that answered.
        addr: String,
        /// Its answer.
        status: Status,
    },
    /// Followers kept redirecting.
    #[error("too many leader redirects, last to {0}")]
    TooManyRedirects(String),
}

fn join(errors: &[HandshakeError]) -> String {
    errors
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("; ")
}

/// The innermost cause of a status that came from the transport (a TLS alert, say), as
/// `": cause"`; empty when the status carries none.
fn cause(status: &Status) -> String {
    let mut last = None;
    let mut next: Option<&(dyn std::error::Error + 'static)> = std::error::Error::source(status);
    while let Some(e) = next {
        let inner_tls = e
            .downcast_ref::<std::io::Error>()
            .and_then(|io| io.get_ref())
            .and_then(|i| i.downcast_ref::<rustls::Error>());
        last = Some(match inner_tls {
            Some(tls) => tls.to_string(),
            None => e.to_string(),
        });
        next = e.source();
    }
    last.map(|c| format!(": {c}")).unwrap_or_default()
}

impl DialError {
    /// Which backoff applies before the next attempt.
    pub fn failure_kind(&self) -> FailureKind {
        match self {
            DialError::Rejected { status, .. } => match status.code() {
                Code::FailedPrecondition => FailureKind::NotLeader,
                Code::ResourceExhausted => FailureKind::Overloaded,
                _ => FailureKind::Other,
            },
            DialError::TooManyRedirects(_) => FailureKind::NotLeader,
            _ => FailureKind::Other,
        }
    }

    /// The gRPC status a server answered with, if one did.
    pub fn status(&self) -> Option<&Status> {
        match self {
            DialError::Rejected { status, .. } => Some(status),
            _ => None,
        }
    }
}

/// A connection to one peer server.
#[derive(Debug, Clone)]
pub struct PeerClient {
    addr: String,
    inner: PeerStreamClient<Channel>,
}

/// An open replication stream, from the dialer's side. `Open` has already been queued.
#[derive(Debug)]
pub struct DialedStream {
    /// The server that accepted the stream.
    pub addr: String,
    /// Queue messages to the acceptor; dropping it ends our half of the stream.
    pub outbound: mpsc::Sender<ReplicationMessage>,
    /// Messages from the acceptor.
    pub inbound: Streaming<ReplicationMessage>,
}

impl PeerClient {
    /// Connect to `addr` (`host:port`) and complete the TLS handshake.
    pub async fn connect(addr: &str, tls: &ClientTls) -> Result<PeerClient, HandshakeError> {
        let connector = Connector {
            addr: addr.to_string(),
            tls: tls.clone(),
        };
        let failed = |reason: String| HandshakeError {
            addr: addr.to_string(),
            stage: Stage::Connect,
            reason,
        };
        let endpoint = Endpoint::from_shared(format!("http://{addr}"))
            .map_err(|e| failed(e.to_string()))?
            .http2_keep_alive_interval(Duration::from_secs(30))
            .keep_alive_timeout(Duration::from_secs(10))
            .keep_alive_while_idle(true);
        let channel = endpoint
            .connect_with_connector(connector)
            .await
            .map_err(|err| handshake_error(&err).unwrap_or_else(|| failed(err.to_string())))?;
        let inner = PeerStreamClient::new(channel)
            .max_decoding_message_size(MAX_MESSAGE_BYTES)
            .max_encoding_message_size(MAX_MESSAGE_BYTES);
        Ok(PeerClient {
            addr: addr.to_string(),
            inner,
        })
    }

    /// The server this client talks to.
    pub fn addr(&self) -> &str {
        &self.addr
    }

    /// Call `ExchangeSecret`.
    pub async fn exchange_secret(
        &mut self,
        request: ExchangeSecretRequest,
    ) -> Result<ExchangeSecretResponse, Status> {
        Ok(self.inner.exchange_secret(request).await?.into_inner())
    }

    /// Call `StreamResources`, sending `open` first.
    pub async fn stream_resources(&mut self, open: Open) -> Result<DialedStream, Status> {
        let (tx, rx) = mpsc::channel(OUTBOUND_BUFFER);
        let first = ReplicationMessage {
            payload: Some(Payload::Open(open)),
        };
        tx.try_send(first)
            .map_err(|_| Status::internal("outbound queue refused Open"))?;
        let response = self.inner.stream_resources(ReceiverStream::new(rx)).await?;
        Ok(DialedStream {
            addr: self.addr.clone(),
            outbound: tx,
            inbound: response.into_inner(),
        })
    }
}

/// The `HandshakeError` inside a transport error, if connecting failed in our connector.
fn handshake_error(err: &(dyn std::error::Error + 'static)) -> Option<HandshakeError> {
    let mut next = Some(err);
    while let Some(e) = next {
        if let Some(h) = e.downcast_ref::<HandshakeError>() {
            return Some(h.clone());
        }
        next = e.source();
    }
    None
}

/// Dials a peer's servers in turn and follows leader redirects.
#[derive(Debug, Clone)]
pub struct PeerDialer {
    ring: AddressRing,
    tls: ClientTls,
}

impl PeerDialer {
    /// A dialer over `ring` with `tls`.
    pub fn new(ring: AddressRing, tls: ClientTls) -> PeerDialer {
        PeerDialer { ring, tls }
    }

    /// The address ring (the current address is the one that last worked).
    pub fn ring(&self) -> &AddressRing {
        &self.ring
    }

    /// The address ring, to replace addresses when the peering changes.
    pub fn ring_mut(&mut self) -> &mut AddressRing {
        &mut self.ring
    }

    /// Connect to the first reachable address, one turn of the ring from the current one.
    pub async fn connect(&mut self) -> Result<PeerClient, DialError> {
        if self.ring.is_empty() {
            return Err(DialError::NoAddresses);
        }
        let mut failures = Vec::new();
        for addr in self.ring.one_turn() {
            match PeerClient::connect(&addr, &self.tls).await {
                Ok(client) => return Ok(client),
                Err(err) => {
                    tracing::debug!(error = %err, "peering dial failed");
                    failures.push(err);
                    self.ring.advance();
                }
            }
        }
        Err(DialError::Unreachable(failures))
    }

    /// `ExchangeSecret` with the first reachable server, following redirects to the leader.
    pub async fn exchange_secret(
        &mut self,
        request: ExchangeSecretRequest,
    ) -> Result<ExchangeSecretResponse, DialError> {
        self.call(move |mut client| {
            let request = request.clone();
            async move { client.exchange_secret(request).await }
        })
        .await
    }

    /// Open a replication stream with the first reachable server, following redirects.
    pub async fn open_stream(&mut self, open: Open) -> Result<DialedStream, DialError> {
        self.call(move |mut client| {
            let open = open.clone();
            async move { client.stream_resources(open).await }
        })
        .await
    }

    async fn call<T, F, Fut>(&mut self, mut call: F) -> Result<T, DialError>
    where
        F: FnMut(PeerClient) -> Fut,
        Fut: Future<Output = Result<T, Status>>,
    {
        let mut client = self.connect().await?;
        let mut redirects = 0;
        loop {
            let addr = client.addr().to_string();
            match call(client).await {
                Ok(value) => {
                    self.ring.prefer(&addr);
                    return Ok(value);
                }
                Err(status) => match leader_redirect(&status) {
                    Some(leader) if leader != addr && redirects < MAX_REDIRECTS => {
                        redirects += 1;
                        tracing::debug!(from = %addr, to = %leader, "peering: following leader redirect");
                        client = PeerClient::connect(&leader, &self.tls)
                            .await
                            .map_err(|e| DialError::Unreachable(vec![e]))?;
                    }
                    Some(leader) if leader != addr => {
                        return Err(DialError::TooManyRedirects(leader));
                    }
                    _ => return Err(DialError::Rejected { addr, status }),
                },
            }
        }
    }
}

/// Opens TCP + TLS to one fixed address for tonic's channel.
#[derive(Clone)]
struct Connector {
    addr: String,
    tls: ClientTls,
}

impl fmt::Debug for Connector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Connector")
            .field("addr", &self.addr)
            .finish()
    }
}

impl tower::Service<Uri> for Connector {
    type Response = TokioIo<TlsStream<TcpStream>>;
    type Error = HandshakeError;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, HandshakeError>> + Send>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), HandshakeError>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, _uri: Uri) -> Self::Future {
        let this = self.clone();
        Box::pin(async move { this.tls.connect(&this.addr).await.map(TokioIo::new) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failure_kinds_follow_status_codes() {
        let rejected = |status| DialError::Rejected {
            addr: "a:1".into(),
            status,
        };
        assert_eq!(
            rejected(Status::failed_precondition("x")).failure_kind(),
            FailureKind::NotLeader
        );
        assert_eq!(
            rejected(Status::resource_exhausted("x")).failure_kind(),
            FailureKind::Overloaded
        );
        assert_eq!(
            rejected(Status::permission_denied("x")).failure_kind(),
            FailureKind::Other
        );
        assert_eq!(DialError::NoAddresses.failure_kind(), FailureKind::Other);
        assert_eq!(
            DialError::TooManyRedirects("b:2".into()).failure_kind(),
            FailureKind::NotLeader
        );
    }

    #[test]
    fn unreachable_lists_every_address() {
        let e = |addr: &str| HandshakeError {
            addr: addr.into(),
            stage: Stage::Connect,
            reason: "refused".into(),
        };
        let msg = DialError::Unreachable(vec![e("a:1"), e("b:2")]).to_string();
        assert_eq!(
            msg,
            "no peer server reachable: a:1: connect failed: refused; b:2: connect failed: refused"
        );
    }

    #[test]
    fn finds_handshake_error_in_source_chain() {
        #[derive(Debug, thiserror::Error)]
        #[error("outer")]
        struct Outer(#[source] HandshakeError);
        let inner = HandshakeError {
            addr: "a:1".into(),
            stage: Stage::Handshake,
            reason: "invalid peer certificate: UnknownIssuer".into(),
        };
        assert_eq!(handshake_error(&Outer(inner.clone())), Some(inner));
        assert_eq!(handshake_error(&std::io::Error::other("x")), None);
    }
}
