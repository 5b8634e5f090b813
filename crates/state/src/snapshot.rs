//! Whole-state snapshots: a plain serde value holding every record, the table indexes, KV
//! tombstones, lock delays and the last applied index. Used for Raft snapshots and the
//! snapshot endpoints; encoded like commands (version byte + JSON).

use serde::Deserialize;
use serde::Serialize;

use crate::command::DecodeError;
use crate::model::ConfigEntry;
use crate::model::Coordinate;
use crate::model::HealthCheck;
use crate::model::KvEntry;
use crate::model::Node;
use crate::model::Service;
use crate::model::Session;
use crate::table::TableIndexes;
use crate::tables::Tables;
use crate::tables::fold;

/// The whole state at one index.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Snapshot {
    /// Last Raft index applied when the snapshot was taken.
    pub last_index: u64,
    pub table_indexes: TableIndexes,
    pub nodes: Vec<Node>,
    pub services: Vec<ServiceRecord>,
    pub checks: Vec<HealthCheck>,
    pub kvs: Vec<KvEntry>,
    /// Deleted KV keys (or deleted-tree prefixes) with the index of the delete.
    pub tombstones: Vec<(String, u64)>,
    pub sessions: Vec<Session>,
    pub config_entries: Vec<ConfigEntry>,
    pub coordinates: Vec<Coordinate>,
    /// KV key → Unix ms until which it may not be locked.
    pub lock_delays: Vec<(String, u64)>,
    /// The autopilot configuration (absent in snapshots written before it existed).
    #[serde(default)]
    pub autopilot: Option<crate::autopilot::AutopilotConfig>,
    /// Peering rows (absent in snapshots written before peering existed).
    #[serde(default)]
    pub peerings: Vec<crate::model::Peering>,
    /// Peering secrets, by peering.
    #[serde(default)]
    pub peering_secrets: Vec<crate::model::PeeringSecrets>,
    /// Peers' trust bundles.
    #[serde(default)]
    pub peering_trust_bundles: Vec<crate::model::PeeringTrustBundle>,
    /// Latest proposer clock (Unix ms) seen in a command.
    #[serde(default)]
    pub clock_ms: u64,
    /// Connect CA roots (private keys included) and configuration.
    #[serde(default)]
    pub connect_ca: crate::connect_ca::CaState,
    /// Catalog data imported from cluster peers, one record per peer.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub imported: Vec<crate::peer_catalog::PeerCatalogRecord>,
}

/// A service instance with the node it is registered on.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ServiceRecord {
    pub node: String,
    pub service: Service,
}

impl Snapshot {
    /// Encode as the version byte followed by JSON.
    pub fn encode(&self) -> Vec<u8> {
        crate::command::encode(self)
    }

    /// Decode bytes written by [`Snapshot::encode`].
    pub fn decode(bytes: &[u8]) -> Result<Snapshot, DecodeError> {
        crate::command::decode(bytes)
    }

    pub(crate) fn from_tables(t: &Tables) -> Snapshot {
        let services = t
            .services
            .iter()
            .map(|((node_key, _), service)| ServiceRecord {
                node: t
                    .nodes
                    .get(node_key)
                    .map_or_else(|| node_key.clone(), |n| n.node.clone()),
                service: service.clone(),
            })
            .collect();
        Snapshot {
            last_index: t.last_index,
            table_indexes: t.indexes,
            nodes: t.nodes.values().cloned().collect(),
            services,
            checks: t.checks.values().cloned().collect(),
            kvs: t.kvs.values().cloned().collect(),
            tombstones: t.tombstones.iter().map(|(k, v)| (k.clone(), *v)).collect(),
            sessions: t.sessions.values().cloned().collect(),
            config_entries: t.config_entries.values().cloned().collect(),
            coordinates: t.coordinates.values().cloned().collect(),
            lock_delays: t.lock_delays.iter().map(|(k, v)| (k.clone(), *v)).collect(),
            autopilot: t.autopilot.clone(),
            peerings: t.peering.peerings.values().cloned().collect(),
            peering_secrets: t.peering.secrets.values().cloned().collect(),
            peering_trust_bundles: t.peering.trust_bundles.values().cloned().collect(),
            clock_ms: t.clock_ms,
            connect_ca: (*t.connect_ca).clone(),
            imported: crate::peer_catalog::to_records(&t.imported),
        }
    }

    pub(crate) fn into_tables(self) -> Tables {
        let mut t = Tables {
            indexes: self.table_indexes,
            last_index: self.last_index,
            clock_ms: self.clock_ms,
            ..Tables::default()
        };
        for n in self.nodes {
            t.nodes.insert(fold(&n.node), n);
        }
        for r in self.services {
            t.services
                .insert((fold(&r.node), fold(&r.service.id)), r.service);
        }
        for c in self.checks {
            t.checks.insert((fold(&c.node), fold(&c.check_id)), c);
        }
        for e in self.kvs {
            t.kvs.insert(e.key.clone(), e);
        }
        t.tombstones.extend(self.tombstones);
        for s in self.sessions {
            t.sessions.insert(s.id.clone(), s);
        }
        for e in self.config_entries {
            t.config_entries.insert((fold(&e.kind), fold(&e.name)), e);
        }
        for c in self.coordinates {
            t.coordinates.insert((fold(&c.node), c.segment.clone()), c);
        }
        t.lock_delays.extend(self.lock_delays);
        t.peering = crate::peering_tables::PeeringTables::from_records(
            self.peerings,
            self.peering_secrets,
            self.peering_trust_bundles,
        );
        t.imported = crate::peer_catalog::from_records(self.imported);
        t.autopilot = self.autopilot;
        t.connect_ca = std::sync::Arc::new(self.connect_ca);
        t
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encode_decode_round_trip() {
        let snap = Snapshot {
            last_index: 7,
            kvs: vec![KvEntry {
                key: "a".to_string(),
                value: Some(vec![0, 1, 255]),
                modify_index: 7,
                ..KvEntry::default()
            }],
            tombstones: vec![("b".to_string(), 6)],
            lock_delays: vec![("a".to_string(), 99)],
            ..Snapshot::default()
        };
        let bytes = snap.encode();
        assert_eq!(bytes[0], crate::command::ENCODING_VERSION);
        assert_eq!(Snapshot::decode(&bytes).unwrap(), snap);
    }

    #[test]
    fn decode_rejects_bad_input() {
        assert!(matches!(Snapshot::decode(&[]), Err(DecodeError::Empty)));
        assert!(matches!(
            Snapshot::decode(&[9, b'{']),
            Err(DecodeError::Version(9))
        ));
        assert!(matches!(
            Snapshot::decode(&[1, b'{']),
            Err(DecodeError::Body(_))
        ));
    }
}
