//! [`CaError`]: every way a CA operation can fail, with the context in the message.

/// A failed CA operation.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CaError {
    /// A cluster ID that is not a UUID.
    #[error("cluster_id was supplied but was not a valid UUID: {0:?}")]
    InvalidClusterId(String),
    /// A SPIFFE ID that does not parse.
    #[error("invalid SPIFFE ID {id:?}: {reason}")]
    InvalidSpiffeId {
        /// The text given.
        id: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A PEM value that does not hold a usable certificate. `index` counts from 0.
    #[error("CA PEM {index} is invalid: {reason}")]
    InvalidCaPem {
        /// Position of the PEM in the list given.
        index: usize,
        /// What is wrong with it.
        reason: String,
    },
    /// A certificate PEM that does not parse.
    #[error("invalid certificate: {0}")]
    InvalidCertificate(String),
    /// A private key PEM that does not parse, or does not match its certificate.
    #[error("invalid private key: {0}")]
    InvalidPrivateKey(String),
    /// Key generation or signing failed in the crypto provider.
    #[error("certificate generation failed: {0}")]
    Generation(String),
}

impl From<rcgen::Error> for CaError {
    fn from(err: rcgen::Error) -> Self {
        CaError::Generation(err.to_string())
    }
}
