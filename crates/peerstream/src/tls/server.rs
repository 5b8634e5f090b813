//! The peering port's TLS server configuration: the server presents its
//! `server.<dc>.peering.<trust-domain>` certificate (replaceable while running, for rotation)
//! and verifies optional client certificates through a [`PeerTrust`].

use std::fmt;
use std::sync::Arc;
use std::sync::RwLock;

use rustls::ServerConfig;
use rustls::server::ClientHello;
use rustls::server::ResolvesServerCert;
use rustls::sign::CertifiedKey;

use super::ALPN_H2;
use super::error::TlsError;
use super::pem;
use super::provider;
use super::trust::PeerTrust;
use super::verifier::DynamicClientVerifier;

/// The server side of peering TLS.
#[derive(Clone)]
pub struct ServerTls {
    config: Arc<ServerConfig>,
    cert: Arc<CertSlot>,
}

impl fmt::Debug for ServerTls {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ServerTls").finish_non_exhaustive()
    }
}

impl ServerTls {
    /// Present `chain_pem` (leaf first) with `key_pem`; verify client chains with `trust`.
    pub fn new(
        chain_pem: &str,
        key_pem: &str,
        trust: Arc<dyn PeerTrust>,
    ) -> Result<ServerTls, TlsError> {
        let provider = provider();
        let cert = Arc::new(CertSlot {
            current: RwLock::new(certified_key(chain_pem, key_pem)?),
        });
        let verifier = Arc::new(DynamicClientVerifier::new(
            trust,
            provider.signature_verification_algorithms,
        ));
        let mut config = ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()?
            .with_client_cert_verifier(verifier)
            .with_cert_resolver(cert.clone());
        config.alpn_protocols = vec![ALPN_H2.to_vec()];
        Ok(ServerTls {
            config: Arc::new(config),
            cert,
        })
    }

    /// Present a new certificate from the next handshake on (leaf rotation).
    pub fn set_certificate(&self, chain_pem: &str, key_pem: &str) -> Result<(), TlsError> {
        let key = certified_key(chain_pem, key_pem)?;
        match self.cert.current.write() {
            Ok(mut current) => *current = key,
            Err(poisoned) => *poisoned.into_inner() = key,
        }
        Ok(())
    }

    /// The rustls configuration.
    pub fn config(&self) -> Arc<ServerConfig> {
        self.config.clone()
    }
}

fn certified_key(chain_pem: &str, key_pem: &str) -> Result<Arc<CertifiedKey>, TlsError> {
    let chain = pem::certificates("server certificate chain", chain_pem)?;
    let key = pem::private_key("server private key", key_pem)?;
    Ok(Arc::new(CertifiedKey::from_der(chain, key, &provider())?))
}

/// The certificate the server presents now.
struct CertSlot {
    current: RwLock<Arc<CertifiedKey>>,
}

impl fmt::Debug for CertSlot {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CertSlot").finish_non_exhaustive()
    }
}

impl ResolvesServerCert for CertSlot {
    fn resolve(&self, _hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        match self.current.read() {
            Ok(current) => Some(current.clone()),
            Err(poisoned) => Some(poisoned.into_inner().clone()),
        }
    }
}
