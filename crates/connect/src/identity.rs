//! The cluster's identity: [`ClusterId`] (a UUID, from `connect.ca_config.cluster_id` or
//! generated once at CA bootstrap) and the [`TrustDomain`] derived from it,
//! `<cluster_id>.consul`, the authority of every SPIFFE ID the cluster's CA signs.

use std::fmt;

use crate::error::CaError;

/// The UUID that names a cluster's CA, lowercase hyphenated.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ClusterId(String);

impl ClusterId {
    /// A new random cluster ID (UUID v4).
    pub fn generate() -> ClusterId {
        ClusterId(uuid::Uuid::new_v4().to_string())
    }

    /// Parse a configured cluster ID; Consul accepts only a UUID here.
    pub fn parse(s: &str) -> Result<ClusterId, CaError> {
        // Consul's parser takes exactly the 36-character hyphenated form.
        if s.len() != 36 {
            return Err(CaError::InvalidClusterId(s.to_string()));
        }
        let id = uuid::Uuid::parse_str(s).map_err(|_| CaError::InvalidClusterId(s.to_string()))?;
        Ok(ClusterId(id.hyphenated().to_string()))
    }

    /// The ID as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ClusterId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A SPIFFE trust domain, e.g. `7f42f496-fbc7-8692-05ed-334aa5340c1e.consul`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TrustDomain(String);

impl TrustDomain {
    /// `<cluster_id>.consul`, the trust domain of a cluster's own CA.
    pub fn from_cluster_id(cluster_id: &str) -> TrustDomain {
        TrustDomain(format!("{}.consul", cluster_id.to_lowercase()))
    }

    /// A trust domain as given (e.g. read from a peer's trust bundle): a lowercase DNS-like
    /// name of letters, digits, `-` and `.`.
    pub fn parse(s: &str) -> Result<TrustDomain, CaError> {
        let ok = !s.is_empty()
            && s.len() <= 255
            && s.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'.')
            && !s.starts_with('.')
            && !s.ends_with('.');
        if ok {
            Ok(TrustDomain(s.to_string()))
        } else {
            Err(CaError::InvalidSpiffeId {
                id: s.to_string(),
                reason: "trust domain must be a lowercase DNS name".to_string(),
            })
        }
    }

    /// The trust domain as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The first 8 characters, as Consul abbreviates the trust domain in common names.
    pub(crate) fn short(&self) -> &str {
        self.0.get(..8).unwrap_or(&self.0)
    }
}

impl fmt::Display for TrustDomain {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_ids_parse_and_differ() {
        let a = ClusterId::generate();
        let b = ClusterId::generate();
        assert_ne!(a, b);
        assert_eq!(ClusterId::parse(a.as_str()).unwrap(), a);
    }

    #[test]
    fn parse_accepts_uuids_only() {
        let id = ClusterId::parse("7F42F496-FBC7-8692-05ED-334AA5340C1E").unwrap();
        assert_eq!(id.as_str(), "7f42f496-fbc7-8692-05ed-334aa5340c1e");
        for bad in [
            "",
            "x",
            "7f42f496fbc7869205ed334aa5340c1e",
            "7f42f496-fbc7-8692-05ed-334aa5340c1z",
        ] {
            assert_eq!(
                ClusterId::parse(bad),
                Err(CaError::InvalidClusterId(bad.to_string())),
                "{bad}"
            );
        }
    }

    #[test]
    fn trust_domain_is_cluster_id_dot_consul() {
        let td = TrustDomain::from_cluster_id("7f42f496-fbc7-8692-05ed-334aa5340c1e");
        assert_eq!(td.as_str(), "7f42f496-fbc7-8692-05ed-334aa5340c1e.consul");
        assert_eq!(td.short(), "7f42f496");
        assert_eq!(td.to_string(), td.as_str());
    }

    #[test]
    fn trust_domain_parse_rejects_odd_names() {
        assert!(TrustDomain::parse("abc.consul").is_ok());
        for bad in ["", "ABC.consul", ".consul", "a/b", "a.consul."] {
            assert!(TrustDomain::parse(bad).is_err(), "{bad}");
        }
    }
}
