//! Mutual TLS for the peering port, on rustls with the aws-lc-rs provider and nothing from
//! tonic's TLS features: PEM loading ([`pem`]), trust in peer CA bundles ([`PeerTrust`],
//! [`TrustBundle`]), the server side ([`ServerTls`], whose client verifier asks a
//! [`PeerTrust`] at handshake time and makes client certificates optional) and the client side
//! ([`ClientTls`], which verifies the server against the token's CAs and exact server name).

mod client;
mod conn;
mod error;
mod incoming;
pub mod pem;
mod server;
mod trust;
mod verifier;

pub use client::ClientIdentity;
pub use client::ClientTls;
pub use client::HandshakeError;
pub use client::Stage;
pub use conn::PeerChain;
pub use conn::PeerConnInfo;
pub use conn::ServerConn;
pub use error::TlsError;
pub use incoming::TlsIncoming;
pub use server::ServerTls;
pub use trust::PeerTrust;
pub use trust::StaticTrust;
pub use trust::TrustBundle;
pub use trust::TrustError;

use std::sync::Arc;

use rustls::crypto::CryptoProvider;

/// The one crypto provider Legate uses.
pub(crate) fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::aws_lc_rs::default_provider())
}

/// gRPC runs over HTTP/2 only.
pub(crate) const ALPN_H2: &[u8] = b"h2";
