//! Which peer certificate chains the peering port trusts. The agent implements [`PeerTrust`]
//! over the trust bundles in its state store (read at handshake time, so a bundle stored by
//! `ExchangeSecret` is trusted by the next handshake); [`TrustBundle`] verifies a chain against
//! one peer's CA roots and [`StaticTrust`] is a fixed set of them.

use std::fmt;
use std::sync::Arc;

use rustls::RootCertStore;
use rustls::server::WebPkiClientVerifier;
use rustls::server::danger::ClientCertVerifier;
use rustls_pki_types::CertificateDer;
use rustls_pki_types::UnixTime;

use super::error::TlsError;
use super::pem;
use super::provider;

/// Why a presented chain is not trusted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TrustError {
    /// No certificate was presented.
    #[error("no certificate presented")]
    EmptyChain,
    /// No peer bundle is trusted at all.
    #[error("no peer trust bundles")]
    NoBundles,
    /// The chain does not verify against any trusted bundle.
    #[error("certificate not trusted: {0}")]
    NotTrusted(String),
}

/// Decides, at handshake time, whether a peer's certificate chain (end entity first) is
/// signed by a currently trusted peer CA.
pub trait PeerTrust: Send + Sync + fmt::Debug {
    /// `Ok` when `chain` verifies against any trusted peer bundle at `now`.
    fn verify(&self, chain: &[CertificateDer<'_>], now: UnixTime) -> Result<(), TrustError>;
}

/// One peer's CA roots, ready to verify chains.
#[derive(Clone)]
pub struct TrustBundle {
    roots: usize,
    verifier: Arc<dyn ClientCertVerifier>,
}

impl fmt::Debug for TrustBundle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TrustBundle")
            .field("roots", &self.roots)
            .finish_non_exhaustive()
    }
}

impl TrustBundle {
    /// A bundle of the CA certificates in `ca_pems` (one or more per string).
    pub fn from_pems(ca_pems: &[String]) -> Result<TrustBundle, TlsError> {
        let certs = pem::all_certificates("peer CA roots", ca_pems)?;
        TrustBundle::from_der(certs)
    }

    /// A bundle of DER CA certificates.
    pub fn from_der(certs: Vec<CertificateDer<'static>>) -> Result<TrustBundle, TlsError> {
        let roots = certs.len();
        let store = root_store(certs)?;
        let verifier = WebPkiClientVerifier::builder_with_provider(Arc::new(store), provider())
            .build()
            .map_err(|err| TlsError::Verifier(err.to_string()))?;
        Ok(TrustBundle { roots, verifier })
    }

    /// `Ok` when `chain` (end entity first) is signed by these roots and valid at `now`.
    pub fn verify(&self, chain: &[CertificateDer<'_>], now: UnixTime) -> Result<(), TrustError> {
        let (end_entity, intermediates) = chain.split_first().ok_or(TrustError::EmptyChain)?;
        self.verifier
            .verify_client_cert(end_entity, intermediates, now)
            .map(|_| ())
            .map_err(|err| TrustError::NotTrusted(err.to_string()))
    }
}

/// A root store of `certs`, naming the first one rustls refuses.
pub(crate) fn root_store(certs: Vec<CertificateDer<'static>>) -> Result<RootCertStore, TlsError> {
    let mut store = RootCertStore::empty();
    for (index, cert) in certs.into_iter().enumerate() {
        store.add(cert).map_err(|err| TlsError::BadCa {
            index,
            reason: err.to_string(),
        })?;
    }
    Ok(store)
}

/// A fixed set of trusted peer bundles.
#[derive(Debug, Clone, Default)]
pub struct StaticTrust {
    bundles: Vec<TrustBundle>,
}

impl StaticTrust {
    /// Trust chains verifying against any of `bundles`.
    pub fn new(bundles: Vec<TrustBundle>) -> StaticTrust {
        StaticTrust { bundles }
    }
}

impl PeerTrust for StaticTrust {
    fn verify(&self, chain: &[CertificateDer<'_>], now: UnixTime) -> Result<(), TrustError> {
        verify_any(&self.bundles, chain, now)
    }
}

/// `Ok` when `chain` verifies against any of `bundles`; otherwise the last refusal.
pub(crate) fn verify_any(
    bundles: &[TrustBundle],
    chain: &[CertificateDer<'_>],
    now: UnixTime,
) -> Result<(), TrustError> {
    if chain.is_empty() {
        return Err(TrustError::EmptyChain);
    }
    let mut last = TrustError::NoBundles;
    for bundle in bundles {
        match bundle.verify(chain, now) {
            Ok(()) => return Ok(()),
            Err(err) => last = err,
        }
    }
    Err(last)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_trust_refuses_everything() {
        let t = StaticTrust::default();
        assert_eq!(t.verify(&[], UnixTime::now()), Err(TrustError::EmptyChain));
        let junk = CertificateDer::from(vec![1u8, 2, 3]);
        assert_eq!(
            t.verify(&[junk], UnixTime::now()),
            Err(TrustError::NoBundles)
        );
    }

    #[test]
    fn bundle_needs_certificates() {
        assert!(matches!(
            TrustBundle::from_pems(&[]),
            Err(TlsError::NoCertificate { .. })
        ));
        assert!(matches!(
            TrustBundle::from_der(vec![CertificateDer::from(vec![0u8; 8])]),
            Err(TlsError::BadCa { index: 0, .. })
        ));
    }
}
