//! Reads of data imported from cluster peers: a peer-scoped view on which every catalog and
//! health read works unchanged (the `?peer=` parameter), and the list of imported services.

use std::collections::BTreeSet;
use std::sync::Arc;

use crate::peer_catalog::ImportedService;
use crate::tables::fold;
use crate::view::StateView;

impl StateView {
    /// A view whose catalog tables (nodes, services, checks) hold what was imported from
    /// `peer` (matched case-insensitively; empty when nothing was), and everything else as in
    /// this view. Table indexes are shared, so blocking reads on it wake on imports.
    pub fn for_peer(&self, peer: &str) -> StateView {
        let imported = self.tables.imported.get(&fold(peer)).cloned();
        let mut tables = (*self.tables).clone();
        let pc = imported.unwrap_or_default();
        tables.nodes = pc.nodes;
        tables.services = pc.services;
        tables.checks = pc.checks;
        StateView::new(Arc::new(tables))
    }

    /// Every typical (kind `""`) service imported from any peer, sorted by peer then service.
    /// Synthetic `-sidecar-proxy` services (kind `connect-proxy`) are not listed.
    pub fn imported_services(&self) -> Vec<ImportedService> {
        let mut out: BTreeSet<ImportedService> = BTreeSet::new();
        for pc in self.tables.imported.values() {
            for s in pc.services.values().filter(|s| s.kind.is_empty()) {
                out.insert(ImportedService {
                    peer: s.peer_name.clone(),
                    service: s.service.clone(),
                });
            }
        }
        out.into_iter().collect()
    }

    /// Names of the peers some data is imported from, sorted.
    pub fn imported_peers(&self) -> Vec<String> {
        let names: BTreeSet<String> = self
            .tables
            .imported
            .values()
            .filter_map(|pc| pc.services.values().next().map(|s| s.peer_name.clone()))
            .collect();
        names.into_iter().collect()
    }
}
