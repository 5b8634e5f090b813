//! Errors building TLS configurations from PEMs.

/// Why a TLS configuration could not be built.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TlsError {
    /// A PEM input held no certificate.
    #[error("{what}: no certificate found")]
    NoCertificate {
        /// Which input.
        what: &'static str,
    },
    /// A PEM input could not be read.
    #[error("{what}: {reason}")]
    BadPem {
        /// Which input.
        what: &'static str,
        /// The parser's complaint.
        reason: String,
    },
    /// A CA certificate was refused as a trust anchor.
    #[error("CA certificate {index}: {reason}")]
    BadCa {
        /// Which certificate, counting from 0.
        index: usize,
        /// Why.
        reason: String,
    },
    /// The server name is not a valid DNS name.
    #[error("invalid server name {0:?}")]
    BadServerName(String),
    /// rustls refused the configuration (key does not match the certificate, …).
    #[error("TLS configuration: {0}")]
    Rustls(#[from] rustls::Error),
    /// The client verifier could not be built.
    #[error("TLS client verifier: {0}")]
    Verifier(String),
}
