//! The resource URLs a peering stream carries and who may subscribe to which.

use std::fmt;

use crate::session::Role;

/// A kind of resource on the peering stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[non_exhaustive]
pub enum ResourceUrl {
    /// The full list of service names exported to the peer.
    ExportedServiceList,
    /// One exported service, state of the world (all instances).
    ExportedService,
    /// The exporter's CA roots and trust domain.
    TrustBundle,
    /// The acceptor's server addresses, for the dialer's address ring.
    ServerAddresses,
}

impl ResourceUrl {
    /// Every resource URL, in subscription order.
    pub const ALL: [ResourceUrl; 4] = [
        ResourceUrl::ExportedServiceList,
        ResourceUrl::ExportedService,
        ResourceUrl::TrustBundle,
        ResourceUrl::ServerAddresses,
    ];

    /// The wire form.
    pub fn as_str(self) -> &'static str {
        match self {
            ResourceUrl::ExportedServiceList => "exported-service-list",
            ResourceUrl::ExportedService => "exported-service",
            ResourceUrl::TrustBundle => "trust-bundle",
            ResourceUrl::ServerAddresses => "server-addresses",
        }
    }

    /// Parse the wire form; `None` for an unknown URL.
    pub fn parse(s: &str) -> Option<ResourceUrl> {
        ResourceUrl::ALL.into_iter().find(|url| url.as_str() == s)
    }

    /// Whether a stream end in `role` may subscribe to this resource: server addresses flow
    /// from the acceptor to the dialer only; everything else flows both ways.
    pub fn subscribable_by(self, role: Role) -> bool {
        match self {
            ResourceUrl::ServerAddresses => role == Role::Dialer,
            _ => true,
        }
    }

    /// The resources an end in `role` subscribes to when its stream starts.
    pub fn subscriptions_for(role: Role) -> Vec<ResourceUrl> {
        ResourceUrl::ALL
            .into_iter()
            .filter(|url| url.subscribable_by(role))
            .collect()
    }
}

impl fmt::Display for ResourceUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wire_forms_round_trip() {
        for url in ResourceUrl::ALL {
            assert_eq!(ResourceUrl::parse(url.as_str()), Some(url));
        }
        assert_eq!(ResourceUrl::parse("exported-services"), None);
        assert_eq!(ResourceUrl::parse(""), None);
    }

    #[test]
    fn only_the_dialer_subscribes_to_server_addresses() {
        assert_eq!(
            ResourceUrl::subscriptions_for(Role::Dialer),
            ResourceUrl::ALL.to_vec()
        );
        assert_eq!(
            ResourceUrl::subscriptions_for(Role::Acceptor),
            vec![
                ResourceUrl::ExportedServiceList,
                ResourceUrl::ExportedService,
                ResourceUrl::TrustBundle
            ]
        );
    }
}
