//! The dialer's side of peering TLS: trust only the CA roots from the peering token, require
//! the token's exact server name in the acceptor's certificate, and present our own server
//! certificate when we have one to show (not for `ExchangeSecret`: the acceptor cannot know
//! our CA before that call).

use std::fmt;
use std::io;
use std::sync::Arc;
use std::time::Duration;

use rustls::ClientConfig;
use rustls_pki_types::CertificateDer;
use rustls_pki_types::PrivateKeyDer;
use rustls_pki_types::ServerName;
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use tokio_rustls::client::TlsStream;

use super::ALPN_H2;
use super::error::TlsError;
use super::pem;
use super::provider;
use super::trust::root_store;

/// How long the TCP connect plus TLS handshake may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// A certificate chain and key the dialer presents.
pub struct ClientIdentity {
    chain: Vec<CertificateDer<'static>>,
    key: PrivateKeyDer<'static>,
}

impl fmt::Debug for ClientIdentity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientIdentity")
            .field("chain", &self.chain.len())
            .finish_non_exhaustive()
    }
}

impl ClientIdentity {
    /// From a PEM chain (leaf first) and its private key.
    pub fn from_pem(chain_pem: &str, key_pem: &str) -> Result<ClientIdentity, TlsError> {
        Ok(ClientIdentity {
            chain: pem::certificates("client certificate chain", chain_pem)?,
            key: pem::private_key("client private key", key_pem)?,
        })
    }
}

/// The client side of peering TLS.
#[derive(Clone)]
pub struct ClientTls {
    config: Arc<ClientConfig>,
    server_name: ServerName<'static>,
}

impl fmt::Debug for ClientTls {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientTls")
            .field("server_name", &self.server_name)
            .finish_non_exhaustive()
    }
}

impl ClientTls {
    /// Verify servers against `ca_pems` and `server_name`; present `identity` if given.
    pub fn new(
        ca_pems: &[String],
        server_name: &str,
        identity: Option<ClientIdentity>,
    ) -> Result<ClientTls, TlsError> {
        let roots = root_store(pem::all_certificates("peer CA roots", ca_pems)?)?;
        let server_name = ServerName::try_from(server_name.to_string())
            .map_err(|_| TlsError::BadServerName(server_name.to_string()))?;
        let builder = ClientConfig::builder_with_provider(provider())
            .with_safe_default_protocol_versions()?
            .with_root_certificates(roots);
        let mut config = match identity {
            Some(id) => builder.with_client_auth_cert(id.chain, id.key)?,
            None => builder.with_no_client_auth(),
        };
        config.alpn_protocols = vec![ALPN_H2.to_vec()];
        Ok(ClientTls {
            config: Arc::new(config),
            server_name,
        })
    }

    /// The name the server's certificate must carry.
    pub fn server_name(&self) -> &ServerName<'static> {
        &self.server_name
    }

    /// Connect to `addr` (`host:port`) and complete the handshake.
    pub async fn connect(&self, addr: &str) -> Result<TlsStream<TcpStream>, HandshakeError> {
        let fail = |stage, source: io::Error| HandshakeError {
            addr: addr.to_string(),
            stage,
            reason: describe(&source),
        };
        let connect = async {
            let tcp = TcpStream::connect(addr)
                .await
                .map_err(|e| fail(Stage::Connect, e))?;
            let _ = tcp.set_nodelay(true);
            TlsConnector::from(self.config.clone())
                .connect(self.server_name.clone(), tcp)
                .await
                .map_err(|e| fail(Stage::Handshake, e))
        };
        tokio::time::timeout(CONNECT_TIMEOUT, connect)
            .await
            .unwrap_or_else(|_| {
                Err(fail(
                    Stage::Connect,
                    io::Error::new(io::ErrorKind::TimedOut, "timed out"),
                ))
            })
    }
}

/// Where connecting failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Stage {
    /// The TCP connection.
    Connect,
    /// The TLS handshake (certificate verification included).
    Handshake,
}

/// Connecting to a peer server failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{addr}: {} failed: {reason}", match .stage { Stage::Connect => "connect", Stage::Handshake => "TLS handshake" })]
pub struct HandshakeError {
    /// The address dialed.
    pub addr: String,
    /// Where it failed.
    pub stage: Stage,
    /// Why, including rustls' verdict on certificates.
    pub reason: String,
}

/// An I/O error's message, looking inside for a rustls error.
fn describe(err: &io::Error) -> String {
    match err
        .get_ref()
        .and_then(|e| e.downcast_ref::<rustls::Error>())
    {
        Some(tls) => tls.to_string(),
        None => err.to_string(),
    }
}
