//! Legate's built-in Connect CA, as pure functions: the cluster's identity ([`ClusterId`],
//! [`TrustDomain`]), SPIFFE IDs ([`SpiffeId`]), the root CA ([`RootCa`]: generation and
//! metadata in Consul's formats), leaf signing for servers and services ([`sign_server_cert`],
//! [`sign_service_leaf`]), and parsing of CA PEMs received from elsewhere ([`parse_ca_pems`]).
//!
//! Time is always passed in (`now`); randomness comes from the crypto provider (aws-lc-rs).
//! This crate does no I/O and knows nothing of Raft: the agent stores what it returns.
#![forbid(unsafe_code)]

mod error;
mod hex;
mod identity;
mod leaf;
mod names;
mod parse;
mod root;
mod spiffe;

pub use error::CaError;
pub use hex::colon_hex;
pub use identity::ClusterId;
pub use identity::TrustDomain;
pub use leaf::IssuedCert;
pub use leaf::LEAF_CERT_TTL;
pub use leaf::server_name;
pub use leaf::sign_server_cert;
pub use leaf::sign_service_leaf;
pub use parse::ParsedCert;
pub use parse::parse_ca_pems;
pub use root::PRIVATE_KEY_BITS;
pub use root::PRIVATE_KEY_TYPE;
pub use root::ROOT_CERT_TTL;
pub use root::ROOT_NAME;
pub use root::RootCa;
pub use spiffe::SpiffeId;
