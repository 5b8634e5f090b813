//! The cluster-peering tables of one store version: peerings (by ID, with a unique index by
//! folded name), their secrets (by peering ID) and the peers' trust bundles (by folded peer
//! name). Writes are in `apply/peering.rs`, reads in `view/peering.rs`; this file owns the
//! in-memory layout and its snapshot conversion.

use imbl::OrdMap;

use crate::model::Peering;
use crate::model::PeeringSecrets;
use crate::model::PeeringTrustBundle;
use crate::tables::fold;

/// Peering rows, secrets and trust bundles.
#[derive(Clone, Debug, Default)]
pub(crate) struct PeeringTables {
    /// By peering ID.
    pub(crate) peerings: OrdMap<String, Peering>,
    /// Folded peering name → peering ID.
    pub(crate) names: OrdMap<String, String>,
    /// By peering ID.
    pub(crate) secrets: OrdMap<String, PeeringSecrets>,
    /// By folded peer name.
    pub(crate) trust_bundles: OrdMap<String, PeeringTrustBundle>,
}

impl PeeringTables {
    /// The peering named `name` (case-insensitively).
    pub(crate) fn by_name(&self, name: &str) -> Option<&Peering> {
        self.names
            .get(&fold(name))
            .and_then(|id| self.peerings.get(id))
    }

    /// Insert or replace a peering row, keeping the name index in step.
    pub(crate) fn insert(&mut self, peering: Peering) {
        self.names.insert(fold(&peering.name), peering.id.clone());
        self.peerings.insert(peering.id.clone(), peering);
    }

    /// Remove a peering row by ID; returns it if it existed.
    pub(crate) fn remove(&mut self, id: &str) -> Option<Peering> {
        let removed = self.peerings.remove(id)?;
        self.names.remove(&fold(&removed.name));
        Some(removed)
    }

    /// Rebuild from snapshot records.
    pub(crate) fn from_records(
        peerings: Vec<Peering>,
        secrets: Vec<PeeringSecrets>,
        bundles: Vec<PeeringTrustBundle>,
    ) -> PeeringTables {
        let mut t = PeeringTables::default();
        for p in peerings {
            t.insert(p);
        }
        for s in secrets {
            t.secrets.insert(s.peering_id.clone(), s);
        }
        for b in bundles {
            t.trust_bundles.insert(fold(&b.peer_name), b);
        }
        t
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn name_index_follows_inserts_and_removes() {
        let mut t = PeeringTables::default();
        t.insert(Peering {
            id: "id1".into(),
            name: "peer-a".into(),
            ..Peering::default()
        });
        assert_eq!(t.by_name("PEER-A").map(|p| p.id.as_str()), Some("id1"));
        assert!(t.remove("id1").is_some());
        assert!(t.by_name("peer-a").is_none());
        assert!(t.remove("id1").is_none());
    }
}
