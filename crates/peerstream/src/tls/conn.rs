//! An accepted peering connection after the TLS handshake, and what handlers learn about it:
//! the remote address and the peer's certificate chain, already verified by the handshake
//! against some trusted peer bundle ([`PeerConnInfo`], in every request's extensions).

use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::Context;
use std::task::Poll;

use rustls_pki_types::CertificateDer;
use rustls_pki_types::UnixTime;
use tokio::io::AsyncRead;
use tokio::io::AsyncWrite;
use tokio::io::ReadBuf;
use tokio::net::TcpStream;
use tokio_rustls::server::TlsStream;
use tonic::transport::server::Connected;

use super::trust::TrustBundle;
use super::trust::TrustError;

/// A certificate chain a peer presented (end entity first), verified at handshake time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PeerChain(Arc<[CertificateDer<'static>]>);

impl PeerChain {
    /// Wrap a chain.
    pub fn new(chain: Vec<CertificateDer<'static>>) -> PeerChain {
        PeerChain(chain.into())
    }

    /// The certificates, end entity first.
    pub fn certificates(&self) -> &[CertificateDer<'static>] {
        &self.0
    }

    /// Whether the chain verifies against one particular peering's bundle (the handshake only
    /// proved it verifies against *some* trusted bundle).
    pub fn verify_against(&self, bundle: &TrustBundle, now: UnixTime) -> Result<(), TrustError> {
        bundle.verify(&self.0, now)
    }
}

/// What the peering port knows about the connection a request came on.
#[derive(Debug, Clone, Default)]
pub struct PeerConnInfo {
    /// The remote socket address.
    pub remote_addr: Option<SocketAddr>,
    /// The client certificate chain, when one was presented (and so verified).
    pub peer_chain: Option<PeerChain>,
}

/// A TLS connection accepted on the peering port.
#[derive(Debug)]
pub struct ServerConn {
    inner: TlsStream<TcpStream>,
    info: PeerConnInfo,
}

impl ServerConn {
    /// Wrap a completed handshake.
    pub(crate) fn new(inner: TlsStream<TcpStream>, remote_addr: Option<SocketAddr>) -> ServerConn {
        let peer_chain = inner
            .get_ref()
            .1
            .peer_certificates()
            .filter(|c| !c.is_empty())
            .map(|c| PeerChain::new(c.iter().map(|c| c.clone().into_owned()).collect()));
        ServerConn {
            inner,
            info: PeerConnInfo {
                remote_addr,
                peer_chain,
            },
        }
    }

    /// What handlers see of this connection.
    pub fn info(&self) -> &PeerConnInfo {
        &self.info
    }
}

impl Connected for ServerConn {
    type ConnectInfo = PeerConnInfo;

    fn connect_info(&self) -> PeerConnInfo {
        self.info.clone()
    }
}

impl AsyncRead for ServerConn {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_read(cx, buf)
    }
}

impl AsyncWrite for ServerConn {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write(cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }
}
