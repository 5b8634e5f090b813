//! The server's client-certificate verifier: client certificates are optional (a dialer
//! exchanging its secret has no certificate the acceptor could trust yet), and a presented
//! chain must satisfy the [`PeerTrust`] consulted at handshake time.

use std::sync::Arc;

use rustls::CertificateError;
use rustls::DigitallySignedStruct;
use rustls::DistinguishedName;
use rustls::OtherError;
use rustls::SignatureScheme;
use rustls::client::danger::HandshakeSignatureValid;
use rustls::crypto::WebPkiSupportedAlgorithms;
use rustls::server::danger::ClientCertVerified;
use rustls::server::danger::ClientCertVerifier;
use rustls_pki_types::CertificateDer;
use rustls_pki_types::UnixTime;

use super::trust::PeerTrust;

/// Verifies client chains through a [`PeerTrust`].
#[derive(Debug)]
pub(crate) struct DynamicClientVerifier {
    trust: Arc<dyn PeerTrust>,
    algorithms: WebPkiSupportedAlgorithms,
}

impl DynamicClientVerifier {
    pub(crate) fn new(trust: Arc<dyn PeerTrust>, algorithms: WebPkiSupportedAlgorithms) -> Self {
        DynamicClientVerifier { trust, algorithms }
    }
}

impl ClientCertVerifier for DynamicClientVerifier {
    fn offer_client_auth(&self) -> bool {
        true
    }

    fn client_auth_mandatory(&self) -> bool {
        false
    }

    fn root_hint_subjects(&self) -> &[DistinguishedName] {
        &[]
    }

    fn verify_client_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        now: UnixTime,
    ) -> Result<ClientCertVerified, rustls::Error> {
        let mut chain = Vec::with_capacity(1 + intermediates.len());
        chain.push(end_entity.clone());
        chain.extend(intermediates.iter().cloned());
        self.trust
            .verify(&chain, now)
            .map(|()| ClientCertVerified::assertion())
            .map_err(|err| {
                tracing::debug!(error = %err, "peering client certificate refused");
                rustls::Error::InvalidCertificate(CertificateError::Other(OtherError(Arc::new(
                    err,
                ))))
            })
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.algorithms.supported_schemes()
    }
}
