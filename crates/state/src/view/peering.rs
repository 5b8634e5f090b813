//! Peering reads: peering rows by name or ID, their secrets and the peers' trust bundles.

use crate::model::Peering;
use crate::model::PeeringSecrets;
use crate::model::PeeringTrustBundle;
use crate::tables::fold;
use crate::view::StateView;

impl StateView {
    /// The peering named `name` (case-insensitively).
    pub fn peering(&self, name: &str) -> Option<Peering> {
        self.tables.peering.by_name(name).cloned()
    }

    /// The peering with local ID `id`.
    pub fn peering_by_id(&self, id: &str) -> Option<Peering> {
        self.tables.peering.peerings.get(id).cloned()
    }

    /// All peerings, sorted by name.
    pub fn peerings(&self) -> Vec<Peering> {
        let t = &self.tables.peering;
        t.names
            .values()
            .filter_map(|id| t.peerings.get(id))
            .cloned()
            .collect()
    }

    /// The secrets of peering `id`.
    pub fn peering_secrets(&self, id: &str) -> Option<PeeringSecrets> {
        self.tables.peering.secrets.get(id).cloned()
    }

    /// The trust bundle of peer `name` (case-insensitively).
    pub fn trust_bundle(&self, name: &str) -> Option<PeeringTrustBundle> {
        self.tables.peering.trust_bundles.get(&fold(name)).cloned()
    }

    /// Every peer's trust bundle, sorted by peer name.
    pub fn trust_bundles(&self) -> Vec<PeeringTrustBundle> {
        self.tables
            .peering
            .trust_bundles
            .values()
            .cloned()
            .collect()
    }
}
