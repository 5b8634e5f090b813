//! This server's peering certificate, `server.<dc>.peering.<trust domain>`, signed by the
//! active Connect CA root: presented on the peering port and as the dialer's client identity.
//! [`issue`] is the pure signing step; [`needs_reissue`] decides rotation (a new active root, or
//! less than half the certificate's lifetime left); [`CertSlot`] holds the current one.

use std::sync::RwLock;

use legate_connect::IssuedCert;
use legate_connect::RootCa;
use legate_connect::TrustDomain;
use legate_state::connect_ca::CaState;
use time::OffsetDateTime;

/// A server certificate and the root that signed it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerCert {
    /// Leaf certificate, PEM.
    pub cert_pem: String,
    /// Its private key, PEM.
    pub key_pem: String,
    /// ID of the signing root.
    pub root_id: String,
    /// Start of validity.
    pub valid_after: OffsetDateTime,
    /// End of validity.
    pub valid_before: OffsetDateTime,
}

/// Sign a server certificate for datacenter `dc` with the active root of `ca`; `None` when
/// the CA is not initialised.
pub fn issue(ca: &CaState, dc: &str, now: OffsetDateTime) -> Result<Option<ServerCert>, String> {
    let (Some(config), Some(root)) = (ca.config.as_ref(), ca.active_root()) else {
        return Ok(None);
    };
    let td = TrustDomain::from_cluster_id(&config.cluster_id);
    let signer =
        RootCa::from_pems(&root.root_cert, &root.private_key).map_err(|e| e.to_string())?;
    let IssuedCert {
        cert_pem,
        private_key_pem,
        valid_after,
        valid_before,
        ..
    } = legate_connect::sign_server_cert(&signer, dc, &td, now).map_err(|e| e.to_string())?;
    Ok(Some(ServerCert {
        cert_pem,
        key_pem: private_key_pem,
        root_id: root.id.clone(),
        valid_after,
        valid_before,
    }))
}

/// Whether `current` must be replaced: none yet, signed by another root than the active one,
/// or past half its lifetime.
pub fn needs_reissue(current: Option<&ServerCert>, ca: &CaState, now: OffsetDateTime) -> bool {
    let Some(cert) = current else {
        return true;
    };
    if ca.active_root().is_none_or(|r| r.id != cert.root_id) {
        return true;
    }
    let half = (cert.valid_before - cert.valid_after) / 2;
    now >= cert.valid_after + half
}

/// The current server certificate, shared by the port and the dialers.
#[derive(Debug, Default)]
pub struct CertSlot {
    current: RwLock<Option<ServerCert>>,
}

impl CertSlot {
    /// The current certificate.
    pub fn get(&self) -> Option<ServerCert> {
        self.current
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Replace the current certificate.
    pub fn set(&self, cert: ServerCert) {
        *self.current.write().unwrap_or_else(|p| p.into_inner()) = Some(cert);
    }
}

#[cfg(test)]
mod tests {
    use legate_state::connect_ca::CaConfig;
    use legate_state::connect_ca::CaRoot;

    use super::*;

    fn ca(now: OffsetDateTime) -> CaState {
        let cluster = "11111111-2222-3333-4444-555555555555";
        let td = TrustDomain::from_cluster_id(cluster);
        let root = RootCa::generate_with_ttl(&td, now, legate_connect::ROOT_CERT_TTL).unwrap();
        CaState {
            config: Some(CaConfig {
                cluster_id: cluster.into(),
                ..CaConfig::default()
            }),
            roots: vec![CaRoot {
                id: "root-1".into(),
                root_cert: root.cert_pem().to_string(),
                private_key: root.private_key_pem().to_string(),
                active: true,
                ..CaRoot::default()
            }],
        }
    }

    #[test]
    fn issues_from_the_active_root_and_rotates_at_half_life() {
        let now = OffsetDateTime::now_utc();
        assert_eq!(issue(&CaState::default(), "dc1", now), Ok(None));
        let state = ca(now);
        let cert = issue(&state, "dc1", now).unwrap().unwrap();
        assert_eq!(cert.root_id, "root-1");
        assert!(cert.cert_pem.contains("BEGIN CERTIFICATE"));
        assert!(needs_reissue(None, &state, now));
        assert!(!needs_reissue(Some(&cert), &state, now));
        let life = cert.valid_before - cert.valid_after;
        assert!(needs_reissue(
            Some(&cert),
            &state,
            cert.valid_after + life / 2
        ));
        let mut rotated = state.clone();
        rotated.roots[0].id = "root-2".into();
        assert!(needs_reissue(Some(&cert), &rotated, now));
    }

    #[test]
    fn slot_holds_the_latest() {
        let slot = CertSlot::default();
        assert!(slot.get().is_none());
        let now = OffsetDateTime::now_utc();
        let cert = issue(&ca(now), "dc1", now).unwrap().unwrap();
        slot.set(cert.clone());
        assert_eq!(slot.get(), Some(cert));
    }
}
