//! The stream of TLS connections tonic serves: an accept loop that runs each handshake in its
//! own task (a slow or hostile client cannot hold up the others) and yields only connections
//! whose handshake completed. Failed handshakes are logged, not yielded.

use std::io;
use std::pin::Pin;
use std::task::Context;
use std::task::Poll;
use std::time::Duration;

use futures::Stream;
use tokio::net::TcpListener;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio_rustls::TlsAcceptor;

use super::conn::ServerConn;
use super::server::ServerTls;

/// How long a client gets to complete the handshake.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// Accepted, handshaken connections; dropping it stops accepting.
#[derive(Debug)]
pub struct TlsIncoming {
    rx: mpsc::Receiver<ServerConn>,
    accept_loop: JoinHandle<()>,
}

impl TlsIncoming {
    /// Start accepting on `listener`.
    pub fn new(listener: TcpListener, tls: &ServerTls) -> TlsIncoming {
        let (tx, rx) = mpsc::channel(64);
        let acceptor = TlsAcceptor::from(tls.config());
        let accept_loop = tokio::spawn(accept_loop(listener, acceptor, tx));
        TlsIncoming { rx, accept_loop }
    }
}

impl Drop for TlsIncoming {
    fn drop(&mut self) {
        self.accept_loop.abort();
    }
}

impl Stream for TlsIncoming {
    type Item = Result<ServerConn, io::Error>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.get_mut().rx.poll_recv(cx).map(|c| c.map(Ok))
    }
}

async fn accept_loop(listener: TcpListener, acceptor: TlsAcceptor, tx: mpsc::Sender<ServerConn>) {
    loop {
        let (tcp, remote) = match listener.accept().await {
            Ok(accepted) => accepted,
            Err(err) => {
                tracing::warn!(error = %err, "peering port: accept failed");
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        if tx.is_closed() {
            return;
        }
        let _ = tcp.set_nodelay(true);
        let acceptor = acceptor.clone();
        let tx = tx.clone();
        tokio::spawn(async move {
            match tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(tcp)).await {
                Ok(Ok(tls)) => {
                    let _ = tx.send(ServerConn::new(tls, Some(remote))).await;
                }
                Ok(Err(err)) => {
                    tracing::debug!(%remote, error = %err, "peering port: TLS handshake failed");
                }
                Err(_) => tracing::debug!(%remote, "peering port: TLS handshake timed out"),
            }
        });
    }
}
