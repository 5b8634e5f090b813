//! The exporter half of a stream: what changed since it was last sent. [`ExportState`] keeps,
//! per resource, what the peer last received on this stream (state of the world: a new stream
//! starts empty and sends everything) and [`ExportState::changes`] turns a state view into the
//! resources to send now — the exported-service list for this peer (named by the peering's
//! *local* name in the `exported-services` entry), one snapshot per exported service that
//! changed (an unexported one once as an empty snapshot), our trust bundle, and to a dialer
//! our servers' peering addresses.

use std::collections::BTreeMap;
use std::collections::BTreeSet;

use legate_peering::exporter::EXPORTED_SERVICES_KIND;
use legate_peering::exporter::EXPORTED_SERVICES_NAME;
use legate_peering::exporter::exported_service_names;
use legate_peering::exporter::snapshot_from_rows;
use legate_peerstream::ResourceUrl;
use legate_peerstream::single_part;
use legate_peerstream::split_parts;
use legate_state::HealthFingerprint;
use legate_state::StateView;
use legate_state::command::ImportedInstance;
use serde::Deserialize;
use serde::Serialize;

use crate::reconcile::MemberInfo;
use crate::reconcile::MemberStatus;

/// Resource ID of the exported-service list.
pub const LIST_ID: &str = "exported-service-list";
/// Resource ID of the server addresses.
pub const ADDRESSES_ID: &str = "server-addresses";

/// The trust-bundle resource: the exporter's CA roots and trust domain.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BundleResource {
    /// `<cluster id>.consul`.
    #[serde(rename = "TrustDomain")]
    pub trust_domain: String,
    /// Every CA root, PEM.
    #[serde(rename = "RootPEMs")]
    pub root_pems: Vec<String>,
}

/// One resource to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outgoing {
    /// Its URL.
    pub url: ResourceUrl,
    /// Its ID (service name for exported services).
    pub id: String,
    /// Its parts, JSON.
    pub parts: Vec<Vec<u8>>,
}

/// What the peer last received on this stream.
#[derive(Debug, Clone, Default)]
pub struct ExportState {
    list: Option<Vec<String>>,
    services: BTreeMap<String, Vec<ImportedInstance>>,
    /// The health fingerprint each service had when its snapshot above was built.
    fingerprints: BTreeMap<String, Option<HealthFingerprint>>,
    bundle: Option<BundleResource>,
    addresses: Option<Vec<String>>,
}

impl ExportState {
    /// The service names last sent in the list (empty before the first).
    pub fn exported(&self) -> &[String] {
        self.list.as_deref().unwrap_or_default()
    }

    /// The resources to send for the current `view`. `peer` is the peering's local name,
    /// `subscribed` says which URLs the peer subscribed to, `addresses` are our servers'
    /// peering addresses (sent only when non-empty).
    pub fn changes(
        &mut self,
        view: &StateView,
        peer: &str,
        subscribed: impl Fn(ResourceUrl) -> bool,
        addresses: &[String],
        max_part_bytes: usize,
    ) -> Result<Vec<Outgoing>, serde_json::Error> {
        let mut out = Vec::new();
        let names = view
            .config_entry(EXPORTED_SERVICES_KIND, EXPORTED_SERVICES_NAME)
            .map(|entry| exported_service_names(view, &entry, peer))
            .unwrap_or_default();
        if subscribed(ResourceUrl::ExportedServiceList) && self.list.as_ref() != Some(&names) {
            out.push(Outgoing {
                url: ResourceUrl::ExportedServiceList,
                id: LIST_ID.to_string(),
                parts: single_part(&names)?,
            });
            self.list = Some(names.clone());
        }
        if subscribed(ResourceUrl::ExportedService) {
            let wanted: BTreeSet<&String> = names.iter().collect();
            let known: Vec<String> = self.services.keys().cloned().collect();
            // Only services whose health rows moved are rebuilt (one catalog pass for the
            // fingerprints, one for the rows), so a change costs O(catalog), not
            // O(exported services × catalog).
            let fingerprints = view.service_health_fingerprints();
            let fingerprint = |name: &str| fingerprints.get(&name.to_lowercase()).copied();
            let stale: BTreeSet<String> = names
                .iter()
                .filter(|n| {
                    !self.services.contains_key(*n)
                        || self.fingerprints.get(*n).copied() != Some(fingerprint(n))
                })
                .map(|n| n.to_lowercase())
                .collect();
            let mut rows = view.service_health_of(&stale);
            for name in names
                .iter()
                .chain(known.iter().filter(|k| !wanted.contains(k)))
            {
                let snapshot = if !wanted.contains(name) {
                    Vec::new()
                } else if stale.contains(&name.to_lowercase()) {
                    self.fingerprints.insert(name.clone(), fingerprint(name));
                    snapshot_from_rows(rows.remove(&name.to_lowercase()).unwrap_or_default())
                } else {
                    continue;
                };
                if self.services.get(name) == Some(&snapshot) {
                    continue;
                }
                out.push(Outgoing {
                    url: ResourceUrl::ExportedService,
                    id: name.clone(),
                    parts: split_parts(&snapshot, max_part_bytes)?,
                });
                if wanted.contains(name) {
                    self.services.insert(name.clone(), snapshot);
                } else {
                    self.services.remove(name);
                    self.fingerprints.remove(name);
                }
            }
        }
        if subscribed(ResourceUrl::TrustBundle)
            && let Some(bundle) = local_bundle(view)
            && self.bundle.as_ref() != Some(&bundle)
        {
            out.push(Outgoing {
                url: ResourceUrl::TrustBundle,
                id: bundle.trust_domain.clone(),
                parts: single_part(&bundle)?,
            });
            self.bundle = Some(bundle);
        }
        if subscribed(ResourceUrl::ServerAddresses)
            && !addresses.is_empty()
            && self.addresses.as_deref() != Some(addresses)
        {
            out.push(Outgoing {
                url: ResourceUrl::ServerAddresses,
                id: ADDRESSES_ID.to_string(),
                parts: single_part(&addresses)?,
            });
            self.addresses = Some(addresses.to_vec());
        }
        Ok(out)
    }
}

/// Our trust bundle, once the CA exists.
pub fn local_bundle(view: &StateView) -> Option<BundleResource> {
    let ca = view.ca_state();
    let config = ca.config.as_ref().filter(|_| !ca.roots.is_empty())?;
    Some(BundleResource {
        trust_domain: config.trust_domain(),
        root_pems: ca.roots.iter().map(|r| r.root_cert.clone()).collect(),
    })
}

/// `host:port` on the peering port of every alive server of `dc`, sorted by name: the WAN
/// address (`wan_of`) when known, else the gossip address, with the `grpc_tls_port` tag.
pub fn server_addresses(
    members: &[MemberInfo],
    dc: &str,
    wan_of: impl Fn(&str) -> Option<String>,
) -> Vec<String> {
    let mut servers: Vec<&MemberInfo> = members
        .iter()
        .filter(|m| {
            m.status == MemberStatus::Alive
                && m.tags.get("role").map(String::as_str) == Some("consul")
                && m.tags.get("dc").map(String::as_str) == Some(dc)
        })
        .collect();
    servers.sort_by(|a, b| a.name.cmp(&b.name));
    servers
        .into_iter()
        .filter_map(|m| {
            let port = m
                .tags
                .get("grpc_tls_port")
                .and_then(|p| p.parse::<u16>().ok())
                .filter(|p| *p > 0)?;
            let host = wan_of(&m.name)
                .filter(|w| !w.is_empty())
                .unwrap_or_else(|| m.address.clone());
            Some(join_host_port(&host, port))
        })
        .collect()
}

/// Go's `net.JoinHostPort`: IPv6 hosts in brackets.
pub fn join_host_port(host: &str, port: u16) -> String {
    if host.contains(':') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    }
}

#[cfg(test)]
#[path = "export_tests.rs"]
mod tests;
