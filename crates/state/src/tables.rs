//! The in-memory tables behind a store version: persistent ordered maps, cheap to clone (they
//! share structure), keyed the way Consul's memdb indexes them (node names, service IDs, check
//! IDs and config entry kinds/names case-insensitively; KV keys and session IDs exactly).

use imbl::OrdMap;

use crate::model::ConfigEntry;
use crate::model::Coordinate;
use crate::model::HealthCheck;
use crate::model::KvEntry;
use crate::model::Node;
use crate::model::Service;
use crate::model::Session;
use crate::table::TableIndexes;

/// `(folded node name, folded ID)`: the key of services, checks and coordinates.
pub(crate) type NodeKey = (String, String);

/// One immutable version of the whole state.
#[derive(Clone, Debug, Default)]
pub(crate) struct Tables {
    /// By folded node name.
    pub(crate) nodes: OrdMap<String, Node>,
    /// By (folded node name, folded service ID).
    pub(crate) services: OrdMap<NodeKey, Service>,
    /// By (folded node name, folded check ID).
    pub(crate) checks: OrdMap<NodeKey, HealthCheck>,
    /// By exact key.
    pub(crate) kvs: OrdMap<String, KvEntry>,
    /// Deleted KV keys (or deleted-tree prefixes) and the index of the delete.
    pub(crate) tombstones: OrdMap<String, u64>,
    /// By session ID.
    pub(crate) sessions: OrdMap<String, Session>,
    /// By (folded kind, folded name).
    pub(crate) config_entries: OrdMap<NodeKey, ConfigEntry>,
    /// By (folded node name, segment).
    pub(crate) coordinates: OrdMap<NodeKey, Coordinate>,
    /// KV key → Unix ms until which the key may not be locked.
    pub(crate) lock_delays: OrdMap<String, u64>,
    /// Peerings, their secrets and the peers' trust bundles.
    pub(crate) peering: crate::peering_tables::PeeringTables,
    /// The autopilot configuration, once a leader has written one.
    pub(crate) autopilot: Option<crate::autopilot::AutopilotConfig>,
    /// Catalog data imported from cluster peers, by folded peer name. Never part of local reads.
    pub(crate) imported: OrdMap<String, crate::peer_catalog::PeerCatalog>,
    /// Connect CA roots (with keys) and configuration; shared, as it rarely changes.
    pub(crate) connect_ca: std::sync::Arc<crate::connect_ca::CaState>,
    pub(crate) indexes: TableIndexes,
    /// Last Raft index applied.
    pub(crate) last_index: u64,
    /// Latest proposer clock (Unix ms) seen in any command; the time base for lock delays
    /// started by commands that carry no clock (session invalidation by the catalog).
    pub(crate) clock_ms: u64,
    /// Bumped by every restore, so blocking queries wake even when no index rose.
    pub(crate) epoch: u64,
}

/// Fold a case-insensitive identifier into its key form.
pub(crate) fn fold(s: &str) -> String {
    s.to_lowercase()
}

/// Entries of a map keyed by `(a, _)` whose first component is `first`, in key order.
pub(crate) fn with_first<'a, V: Clone>(
    map: &'a OrdMap<NodeKey, V>,
    first: &'a str,
) -> impl Iterator<Item = (&'a NodeKey, &'a V)> + 'a {
    let start = (first.to_string(), String::new());
    map.range(start..).take_while(move |(k, _)| k.0 == first)
}

/// Entries of a string-keyed map whose key starts with `prefix`, in key order.
pub(crate) fn with_prefix<'a, V: Clone>(
    map: &'a OrdMap<String, V>,
    prefix: &'a str,
) -> impl Iterator<Item = (&'a String, &'a V)> + 'a {
    use std::ops::Bound;
    map.range::<_, str>((Bound::Included(prefix), Bound::Unbounded))
        .take_while(move |(k, _)| k.starts_with(prefix))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn with_prefix_stops_at_first_non_match() {
        let mut m: OrdMap<String, u64> = OrdMap::new();
        for (i, k) in ["a", "ab", "abc", "ac", "b"].iter().enumerate() {
            m.insert(k.to_string(), i as u64);
        }
        let keys: Vec<&String> = with_prefix(&m, "ab").map(|(k, _)| k).collect();
        assert_eq!(keys, ["ab", "abc"]);
        assert_eq!(with_prefix(&m, "").count(), 5);
    }

    #[test]
    fn with_first_selects_one_node() {
        let mut m: OrdMap<NodeKey, u64> = OrdMap::new();
        m.insert(("n1".into(), "a".into()), 1);
        m.insert(("n1".into(), "b".into()), 2);
        m.insert(("n10".into(), "a".into()), 3);
        m.insert(("n2".into(), "".into()), 4);
        let vals: Vec<u64> = with_first(&m, "n1").map(|(_, v)| *v).collect();
        assert_eq!(vals, [1, 2]);
    }
}
