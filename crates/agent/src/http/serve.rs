//! Serving the API on a listener. Header names go out in Go's canonical form
//! (`X-Consul-Index`, `X-Consul-Knownleader`, `Content-Type`), as Consul's do: HTTP header
//! names are case-insensitive, but scripts grep for them. On shutdown the listener stops
//! accepting and open connections are asked to finish (callers bound how long they wait).

use std::convert::Infallible;
use std::future::Future;

use axum::Router;
use hyper::body::Incoming;
use hyper_util::rt::TokioExecutor;
use hyper_util::rt::TokioIo;
use hyper_util::server::conn::auto;
use hyper_util::server::graceful::GracefulShutdown;
use tokio::io::AsyncRead;
use tokio::io::AsyncWrite;
use tower::Service;

/// Anything that accepts byte streams (TCP and Unix listeners).
pub trait Accept: Send + 'static {
    /// The connection type.
    type Io: AsyncRead + AsyncWrite + Unpin + Send + 'static;
    /// Accept one connection.
    fn accept(&self) -> impl Future<Output = std::io::Result<Self::Io>> + Send;
}

impl Accept for tokio::net::TcpListener {
    type Io = tokio::net::TcpStream;

    async fn accept(&self) -> std::io::Result<Self::Io> {
        let (stream, _) = tokio::net::TcpListener::accept(self).await?;
        // Small request/response exchanges: do not wait to coalesce packets.
        let _ = stream.set_nodelay(true);
        Ok(stream)
    }
}

impl Accept for tokio::net::UnixListener {
    type Io = tokio::net::UnixStream;

    async fn accept(&self) -> std::io::Result<Self::Io> {
        let (stream, _) = tokio::net::UnixListener::accept(self).await?;
        Ok(stream)
    }
}

/// Serve `router` on `listener` until `shutdown` completes, then drain open connections.
pub async fn serve<L: Accept>(
    listener: L,
    router: Router,
    shutdown: impl Future<Output = ()> + Send,
) {
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder.http1().title_case_headers(true);
    let graceful = GracefulShutdown::new();
    tokio::pin!(shutdown);
    loop {
        let io = tokio::select! {
            () = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok(io) => io,
                Err(err) => {
                    // Running out of file descriptors and the like: keep serving.
                    tracing::warn!(target: "agent.http", error = %err, "accept failed");
                    continue;
                }
            },
        };
        let router = router.clone();
        let service = hyper::service::service_fn(move |request: hyper::Request<Incoming>| {
            let mut router = router.clone();
            async move {
                Ok::<_, Infallible>(
                    router
                        .call(request.map(axum::body::Body::new))
                        .await
                        .unwrap_or_else(|never| match never {}),
                )
            }
        });
        let connection = builder.serve_connection_with_upgrades(TokioIo::new(io), service);
        let connection = graceful.watch(connection.into_owned());
        tokio::spawn(async move {
            let _ = connection.await;
        });
    }
    graceful.shutdown().await;
}
