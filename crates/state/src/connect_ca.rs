//! The Connect CA's replicated state (Consul's `connect-ca-roots` and `connect-ca-config`
//! tables): the trusted roots — one active — with the built-in provider's private keys, and
//! the CA configuration holding the cluster ID the trust domain derives from. Written only by
//! [`crate::command::Command::CaSet`]; the HTTP layer chooses what of it to show (never keys).

use std::collections::BTreeMap;

use serde::Deserialize;
use serde::Serialize;

use crate::model::Index;

/// One trusted root CA (Consul's `CARoot`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CaRoot {
    /// SHA-1 fingerprint of the certificate, colon hex.
    pub id: String,
    /// Human-friendly name, e.g. `Consul CA Primary Cert`.
    pub name: String,
    /// The certificate's serial number.
    pub serial_number: u64,
    /// Subject key identifier, colon hex.
    pub signing_key_id: String,
    /// Trust domain the root was created under when it differs from the current one.
    pub external_trust_domain: String,
    /// Start of validity, RFC 3339.
    pub not_before: String,
    /// End of validity, RFC 3339.
    pub not_after: String,
    /// The certificate, PEM.
    pub root_cert: String,
    /// Intermediates to attach to leaves (none for the built-in provider's primary).
    pub intermediate_certs: Vec<String>,
    /// The built-in provider's private key, PEM. Secret: never leaves the servers.
    pub private_key: String,
    /// Whether leaves are signed by this root now. Exactly one root is active.
    pub active: bool,
    /// `ec` or `rsa`.
    pub private_key_type: String,
    /// Key size in bits.
    pub private_key_bits: u32,
    /// Set by apply.
    pub create_index: Index,
    /// Set by apply.
    pub modify_index: Index,
}

/// The CA configuration (Consul's `CAConfiguration`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CaConfig {
    /// The cluster's UUID; the trust domain is `<cluster_id>.consul`.
    pub cluster_id: String,
    /// Provider name, `consul` for the built-in CA.
    pub provider: String,
    /// Provider settings as Consul shows them (`LeafCertTTL`, `RootCertTTL`, …).
    pub config: BTreeMap<String, serde_json::Value>,
    /// Set by apply.
    pub create_index: Index,
    /// Set by apply.
    pub modify_index: Index,
}

impl CaConfig {
    /// `<cluster_id>.consul`.
    pub fn trust_domain(&self) -> String {
        format!("{}.consul", self.cluster_id)
    }
}

/// Everything the CA tables hold at one index.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CaState {
    /// The configuration, once a leader has bootstrapped the CA.
    pub config: Option<CaConfig>,
    /// Trusted roots, in the order written.
    pub roots: Vec<CaRoot>,
}

impl CaState {
    /// The active root, if any.
    pub fn active_root(&self) -> Option<&CaRoot> {
        self.roots.iter().find(|r| r.active)
    }
}
