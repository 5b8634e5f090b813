//! [`SpiffeId`]: the identities Consul's CA writes into URI SANs, parsed and formatted in
//! Consul's layouts:
//!
//! | kind | URI |
//! |---|---|
//! | signing (CA) | `spiffe://<td>` |
//! | service | `spiffe://<td>[/ap/<partition>]/ns/<ns>/dc/<dc>/svc/<service>` |
//! | client agent | `spiffe://<td>[/ap/<partition>]/agent/client/dc/<dc>/id/<node>` |
//! | server | `spiffe://<td>/agent/server/dc/<dc>` |
//! | mesh gateway | `spiffe://<td>[/ap/<partition>]/gateway/mesh/dc/<dc>` |
//!
//! The `/ap/` segment appears only for a partition other than `default`.

use std::fmt;
use std::str::FromStr;

use crate::error::CaError;
use crate::identity::TrustDomain;

const SCHEME: &str = "spiffe://";
const DEFAULT_PARTITION: &str = "default";

/// A SPIFFE ID of one of the kinds Consul issues.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum SpiffeId {
    /// The CA itself (`spiffe://<td>`), the URI SAN of root and intermediate certificates.
    Signing {
        /// The trust domain.
        trust_domain: TrustDomain,
    },
    /// A service instance's identity.
    Service {
        /// The trust domain.
        trust_domain: TrustDomain,
        /// Admin partition; `None` for `default`.
        partition: Option<String>,
        /// Namespace (`default` in CE).
        namespace: String,
        /// Datacenter.
        datacenter: String,
        /// Service name.
        service: String,
    },
    /// A client agent's identity.
    Agent {
        /// The trust domain.
        trust_domain: TrustDomain,
        /// Admin partition; `None` for `default`.
        partition: Option<String>,
        /// Datacenter.
        datacenter: String,
        /// Node name.
        node: String,
    },
    /// The identity shared by every server of a datacenter.
    Server {
        /// The trust domain.
        trust_domain: TrustDomain,
        /// Datacenter.
        datacenter: String,
    },
    /// A mesh gateway's identity.
    MeshGateway {
        /// The trust domain.
        trust_domain: TrustDomain,
        /// Admin partition; `None` for `default`.
        partition: Option<String>,
        /// Datacenter.
        datacenter: String,
    },
}

impl SpiffeId {
    /// The ID of service `service` in namespace `default` of datacenter `dc`.
    pub fn service(trust_domain: &TrustDomain, dc: &str, service: &str) -> SpiffeId {
        SpiffeId::Service {
            trust_domain: trust_domain.clone(),
            partition: None,
            namespace: "default".to_string(),
            datacenter: dc.to_string(),
            service: service.to_string(),
        }
    }

    /// The ID of client agent `node` in datacenter `dc`.
    pub fn agent(trust_domain: &TrustDomain, dc: &str, node: &str) -> SpiffeId {
        SpiffeId::Agent {
            trust_domain: trust_domain.clone(),
            partition: None,
            datacenter: dc.to_string(),
            node: node.to_string(),
        }
    }

    /// The ID shared by the servers of datacenter `dc`.
    pub fn server(trust_domain: &TrustDomain, dc: &str) -> SpiffeId {
        SpiffeId::Server {
            trust_domain: trust_domain.clone(),
            datacenter: dc.to_string(),
        }
    }

    /// The trust domain the ID belongs to.
    pub fn trust_domain(&self) -> &TrustDomain {
        match self {
            SpiffeId::Signing { trust_domain }
            | SpiffeId::Service { trust_domain, .. }
            | SpiffeId::Agent { trust_domain, .. }
            | SpiffeId::Server { trust_domain, .. }
            | SpiffeId::MeshGateway { trust_domain, .. } => trust_domain,
        }
    }

    /// Parse a `spiffe://` URI in one of Consul's layouts.
    pub fn parse(uri: &str) -> Result<SpiffeId, CaError> {
        let bad = |reason: &str| CaError::InvalidSpiffeId {
            id: uri.to_string(),
            reason: reason.to_string(),
        };
        let rest = uri
            .strip_prefix(SCHEME)
            .ok_or_else(|| bad("must start with spiffe://"))?;
        let (host, path) = match rest.split_once('/') {
            Some((_, "")) => return Err(bad("empty path")),
            Some((host, path)) => (host, path),
            None => (rest, ""),
        };
        let trust_domain = TrustDomain::parse(host).map_err(|_| bad("invalid trust domain"))?;
        if path.is_empty() {
            return Ok(SpiffeId::Signing { trust_domain });
        }
        let mut parts: Vec<&str> = path.split('/').collect();
        if parts.iter().any(|p| !valid_segment(p)) {
            return Err(bad("empty or invalid path segment"));
        }
        let partition = match parts.as_slice() {
            ["ap", ap, ..] => {
                let ap = (*ap).to_string();
                parts.drain(..2);
                Some(ap).filter(|p| p != DEFAULT_PARTITION)
            }
            _ => None,
        };
        let had_partition = path.starts_with("ap/");
        match parts.as_slice() {
            ["ns", ns, "dc", dc, "svc", svc] => Ok(SpiffeId::Service {
                trust_domain,
                partition,
                namespace: (*ns).to_string(),
                datacenter: (*dc).to_string(),
                service: (*svc).to_string(),
            }),
            ["agent", "client", "dc", dc, "id", node] => Ok(SpiffeId::Agent {
                trust_domain,
                partition,
                datacenter: (*dc).to_string(),
                node: (*node).to_string(),
            }),
            ["agent", "server", "dc", dc] if !had_partition => Ok(SpiffeId::Server {
                trust_domain,
                datacenter: (*dc).to_string(),
            }),
            ["gateway", "mesh", "dc", dc] => Ok(SpiffeId::MeshGateway {
                trust_domain,
                partition,
                datacenter: (*dc).to_string(),
            }),
            _ => Err(bad("not a service, agent, server or mesh gateway identity")),
        }
    }
}

/// A path segment Consul could have written: non-empty, no URI delimiters or spaces.
fn valid_segment(s: &str) -> bool {
    !s.is_empty()
        && !s
            .chars()
            .any(|c| matches!(c, '/' | '?' | '#' | '%') || c.is_whitespace() || c.is_control())
}

impl fmt::Display for SpiffeId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ap = |f: &mut fmt::Formatter<'_>, partition: &Option<String>| match partition {
            Some(p) if p != DEFAULT_PARTITION => write!(f, "/ap/{p}"),
            _ => Ok(()),
        };
        write!(f, "{SCHEME}{}", self.trust_domain())?;
        match self {
            SpiffeId::Signing { .. } => Ok(()),
            SpiffeId::Service {
                partition,
                namespace,
                datacenter,
                service,
                ..
            } => {
                ap(f, partition)?;
                write!(f, "/ns/{namespace}/dc/{datacenter}/svc/{service}")
            }
            SpiffeId::Agent {
                partition,
                datacenter,
                node,
                ..
            } => {
                ap(f, partition)?;
                write!(f, "/agent/client/dc/{datacenter}/id/{node}")
            }
            SpiffeId::Server { datacenter, .. } => write!(f, "/agent/server/dc/{datacenter}"),
            SpiffeId::MeshGateway {
                partition,
                datacenter,
                ..
            } => {
                ap(f, partition)?;
                write!(f, "/gateway/mesh/dc/{datacenter}")
            }
        }
    }
}

impl FromStr for SpiffeId {
    type Err = CaError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        SpiffeId::parse(s)
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    const TD: &str = "7f42f496-fbc7-8692-05ed-334aa5340c1e.consul";

    fn td() -> TrustDomain {
        TrustDomain::parse(TD).unwrap()
    }

    #[test]
    fn formats_consul_layouts() {
        assert_eq!(
            SpiffeId::service(&td(), "dc1", "web").to_string(),
            format!("spiffe://{TD}/ns/default/dc/dc1/svc/web")
        );
        assert_eq!(
            SpiffeId::agent(&td(), "dc1", "node-1").to_string(),
            format!("spiffe://{TD}/agent/client/dc/dc1/id/node-1")
        );
        assert_eq!(
            SpiffeId::server(&td(), "dc1").to_string(),
            format!("spiffe://{TD}/agent/server/dc/dc1")
        );
        let signing = SpiffeId::Signing { trust_domain: td() };
        assert_eq!(signing.to_string(), format!("spiffe://{TD}"));
        let gw = SpiffeId::MeshGateway {
            trust_domain: td(),
            partition: Some("p1".to_string()),
            datacenter: "dc2".to_string(),
        };
        assert_eq!(
            gw.to_string(),
            format!("spiffe://{TD}/ap/p1/gateway/mesh/dc/dc2")
        );
    }

    #[test]
    fn parses_default_partition_as_none() {
        let id =
            SpiffeId::parse(&format!("spiffe://{TD}/ap/default/ns/ns1/dc/dc1/svc/db")).unwrap();
        assert_eq!(
            id,
            SpiffeId::Service {
                trust_domain: td(),
                partition: None,
                namespace: "ns1".to_string(),
                datacenter: "dc1".to_string(),
                service: "db".to_string(),
            }
        );
        assert_eq!(
            id.to_string(),
            format!("spiffe://{TD}/ns/ns1/dc/dc1/svc/db")
        );
    }

    #[test]
    fn rejects_malformed_ids() {
        for bad in [
            "",
            "http://x.consul/ns/default/dc/dc1/svc/web",
            "spiffe://",
            "spiffe://X.consul",
            "spiffe://x.consul/",
            "spiffe://x.consul/ns/default/dc/dc1/svc/",
            "spiffe://x.consul/ns/default/dc/dc1/svc/web/extra",
            "spiffe://x.consul/ns//dc/dc1/svc/web",
            "spiffe://x.consul/ap/p1/agent/server/dc/dc1",
            "spiffe://x.consul/unknown/kind",
        ] {
            let err = SpiffeId::parse(bad).unwrap_err();
            assert!(
                matches!(err, CaError::InvalidSpiffeId { .. }),
                "{bad}: {err}"
            );
        }
    }

    fn segment() -> impl Strategy<Value = String> {
        "[a-z0-9][a-z0-9_.-]{0,15}"
    }

    fn any_id() -> impl Strategy<Value = SpiffeId> {
        let partition =
            || proptest::option::of(segment()).prop_map(|p| p.filter(|p| p != "default"));
        let td =
            "[a-z0-9]{1,8}(\\.[a-z0-9-]{1,8}){0,2}".prop_map(|s| TrustDomain::parse(&s).unwrap());
        prop_oneof![
            td.clone()
                .prop_map(|trust_domain| SpiffeId::Signing { trust_domain }),
            (td.clone(), partition(), segment(), segment(), segment()).prop_map(
                |(trust_domain, partition, namespace, datacenter, service)| SpiffeId::Service {
                    trust_domain,
                    partition,
                    namespace,
                    datacenter,
                    service,
                }
            ),
            (td.clone(), partition(), segment(), segment()).prop_map(
                |(trust_domain, partition, datacenter, node)| SpiffeId::Agent {
                    trust_domain,
                    partition,
                    datacenter,
                    node,
                }
            ),
            (td.clone(), segment()).prop_map(|(trust_domain, datacenter)| SpiffeId::Server {
                trust_domain,
                datacenter,
            }),
            (td, partition(), segment()).prop_map(|(trust_domain, partition, datacenter)| {
                SpiffeId::MeshGateway {
                    trust_domain,
                    partition,
                    datacenter,
                }
            }),
        ]
    }

    proptest! {
        #[test]
        fn format_then_parse_round_trips(id in any_id()) {
            prop_assert_eq!(SpiffeId::parse(&id.to_string()).unwrap(), id);
        }

        #[test]
        fn parse_never_panics(s in "\\PC{0,80}") {
            let _ = SpiffeId::parse(&s);
            let _ = SpiffeId::parse(&format!("spiffe://{s}"));
        }
    }
}
