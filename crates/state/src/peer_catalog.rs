//! Catalog data imported from one cluster peer: its nodes, service instances and checks, kept
//! apart from the local catalog (Consul keys them by `PeerName` in the same tables; we keep one
//! [`PeerCatalog`] per peer so local reads can never see them). Reads of a peer's data go through
//! [`crate::StateView::for_peer`]; writes through the `Import*` commands (`apply/import.rs`).
//! Owns the in-memory form and its snapshot form ([`PeerCatalogRecord`]).

use imbl::OrdMap;
use serde::Deserialize;
use serde::Serialize;

use crate::model::HealthCheck;
use crate::model::Node;
use crate::snapshot::ServiceRecord;
use crate::tables::NodeKey;
use crate::tables::fold;

/// One peer's imported catalog, keyed exactly like the local catalog tables.
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct PeerCatalog {
    /// By folded node name.
    pub(crate) nodes: OrdMap<String, Node>,
    /// By (folded node name, folded service ID).
    pub(crate) services: OrdMap<NodeKey, crate::model::Service>,
    /// By (folded node name, folded check ID).
    pub(crate) checks: OrdMap<NodeKey, HealthCheck>,
}

impl PeerCatalog {
    /// Whether nothing is imported.
    pub(crate) fn is_empty(&self) -> bool {
        self.nodes.is_empty() && self.services.is_empty() && self.checks.is_empty()
    }
}

/// One service imported from one peer (Consul's `ImportedService`, CE fields).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct ImportedService {
    /// The peer name as stored on the imported rows.
    pub peer: String,
    /// The service name.
    pub service: String,
}

/// Snapshot form of one peer's imported catalog.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct PeerCatalogRecord {
    /// The peer name, as the importing commands spelled it.
    pub peer: String,
    pub nodes: Vec<Node>,
    pub services: Vec<ServiceRecord>,
    pub checks: Vec<HealthCheck>,
}

/// Every peer's imported catalog in snapshot form, sorted by folded peer name.
pub(crate) fn to_records(imported: &OrdMap<String, PeerCatalog>) -> Vec<PeerCatalogRecord> {
    imported
        .iter()
        .map(|(key, pc)| PeerCatalogRecord {
            peer: peer_display_name(key, pc),
            nodes: pc.nodes.values().cloned().collect(),
            services: pc
                .services
                .iter()
                .map(|((node_key, _), service)| ServiceRecord {
                    node: pc
                        .nodes
                        .get(node_key)
                        .map_or_else(|| node_key.clone(), |n| n.node.clone()),
                    service: service.clone(),
                })
                .collect(),
            checks: pc.checks.values().cloned().collect(),
        })
        .collect()
}

/// Rebuild the imported tables from snapshot records.
pub(crate) fn from_records(records: Vec<PeerCatalogRecord>) -> OrdMap<String, PeerCatalog> {
    let mut out: OrdMap<String, PeerCatalog> = OrdMap::new();
    for r in records {
        let pc = out.entry(fold(&r.peer)).or_default();
        for n in r.nodes {
            pc.nodes.insert(fold(&n.node), n);
        }
        for s in r.services {
            pc.services
                .insert((fold(&s.node), fold(&s.service.id)), s.service);
        }
        for c in r.checks {
            pc.checks.insert((fold(&c.node), fold(&c.check_id)), c);
        }
    }
    out
}

/// The peer name as stored on the imported rows (the folded key if there are none).
fn peer_display_name(key: &str, pc: &PeerCatalog) -> String {
    pc.nodes
        .values()
        .map(|n| n.peer_name.clone())
        .chain(pc.services.values().map(|s| s.peer_name.clone()))
        .find(|p| !p.is_empty())
        .unwrap_or_else(|| key.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Service;

    #[test]
    fn records_round_trip() {
        let mut pc = PeerCatalog::default();
        pc.nodes.insert(
            "n1".into(),
            Node {
                node: "N1".into(),
                peer_name: "Peer-A".into(),
                ..Node::default()
            },
        );
        pc.services.insert(
            ("n1".into(), "web".into()),
            Service {
                id: "web".into(),
                service: "web".into(),
                peer_name: "Peer-A".into(),
                ..Service::default()
            },
        );
        pc.checks.insert(
            ("n1".into(), "web:overall-check".into()),
            HealthCheck {
                node: "N1".into(),
                check_id: "web:overall-check".into(),
                peer_name: "Peer-A".into(),
                ..HealthCheck::default()
            },
        );
        let mut imported = OrdMap::new();
        imported.insert("peer-a".to_string(), pc);
        let records = to_records(&imported);
        assert_eq!(records[0].peer, "Peer-A");
        assert_eq!(records[0].services[0].node, "N1");
        assert_eq!(from_records(records), imported);
    }

    #[test]
    fn empty_catalog_is_empty() {
        assert!(PeerCatalog::default().is_empty());
    }
}
