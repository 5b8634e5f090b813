//! Table names and the per-table index bookkeeping blocking queries watch. Owns nothing else:
//! the records live in `tables.rs`.

use serde::Deserialize;
use serde::Serialize;

/// One table of the state store. Each has an index: the Raft index of its last change.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum Table {
    /// Catalog nodes.
    Nodes,
    /// Service instances.
    Services,
    /// Health checks.
    Checks,
    /// Key/value entries (deletes included, through tombstones).
    Kvs,
    /// Sessions.
    Sessions,
    /// Config entries.
    ConfigEntries,
    /// Network coordinates.
    Coordinates,
    /// Peering rows.
    Peerings,
    /// Peering secrets.
    PeeringSecrets,
    /// Peers' trust bundles.
    PeeringTrustBundles,
    /// Connect CA roots and configuration.
    ConnectCa,
}

impl Table {
    /// Every table, in slot order.
    pub const ALL: [Table; 11] = [
        Table::Nodes,
        Table::Services,
        Table::Checks,
        Table::Kvs,
        Table::Sessions,
        Table::ConfigEntries,
        Table::Coordinates,
        Table::Peerings,
        Table::PeeringSecrets,
        Table::PeeringTrustBundles,
        Table::ConnectCa,
    ];

    /// Position of the table in per-table arrays.
    pub(crate) fn slot(self) -> usize {
        match self {
            Table::Nodes => 0,
            Table::Services => 1,
            Table::Checks => 2,
            Table::Kvs => 3,
            Table::Sessions => 4,
            Table::ConfigEntries => 5,
            Table::Coordinates => 6,
            Table::Peerings => 7,
            Table::PeeringSecrets => 8,
            Table::PeeringTrustBundles => 9,
            Table::ConnectCa => 10,
        }
    }
}

/// The index of the last change to each table (0 if the table was never written).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TableIndexes {
    pub nodes: u64,
    pub services: u64,
    pub checks: u64,
    pub kvs: u64,
    pub sessions: u64,
    pub config_entries: u64,
    pub coordinates: u64,
    #[serde(default)]
    pub peerings: u64,
    #[serde(default)]
    pub peering_secrets: u64,
    #[serde(default)]
    pub peering_trust_bundles: u64,
    #[serde(default)]
    pub connect_ca: u64,
}

impl TableIndexes {
    /// The index of `table`.
    pub fn get(&self, table: Table) -> u64 {
        *self.field(table)
    }

    /// Set the index of `table`.
    pub fn set(&mut self, table: Table, index: u64) {
        *self.field_mut(table) = index;
    }

    /// The largest index of any table.
    pub fn max(&self) -> u64 {
        Table::ALL.iter().map(|t| self.get(*t)).max().unwrap_or(0)
    }

    /// Per table, the larger of the two indexes.
    pub fn max_with(&self, other: &TableIndexes) -> TableIndexes {
        let mut out = *self;
        for t in Table::ALL {
            out.set(t, self.get(t).max(other.get(t)));
        }
        out
    }

    fn field(&self, table: Table) -> &u64 {
        match table {
            Table::Nodes => &self.nodes,
            Table::Services => &self.services,
            Table::Checks => &self.checks,
            Table::Kvs => &self.kvs,
            Table::Sessions => &self.sessions,
            Table::ConfigEntries => &self.config_entries,
            Table::Coordinates => &self.coordinates,
            Table::Peerings => &self.peerings,
            Table::PeeringSecrets => &self.peering_secrets,
            Table::PeeringTrustBundles => &self.peering_trust_bundles,
            Table::ConnectCa => &self.connect_ca,
        }
    }

    fn field_mut(&mut self, table: Table) -> &mut u64 {
        match table {
            Table::Nodes => &mut self.nodes,
            Table::Services => &mut self.services,
            Table::Checks => &mut self.checks,
            Table::Kvs => &mut self.kvs,
            Table::Sessions => &mut self.sessions,
            Table::ConfigEntries => &mut self.config_entries,
            Table::Coordinates => &mut self.coordinates,
            Table::Peerings => &mut self.peerings,
            Table::PeeringSecrets => &mut self.peering_secrets,
            Table::PeeringTrustBundles => &mut self.peering_trust_bundles,
            Table::ConnectCa => &mut self.connect_ca,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slots_are_distinct_and_dense() {
        let mut slots: Vec<usize> = Table::ALL.iter().map(|t| t.slot()).collect();
        slots.sort();
        assert_eq!(slots, (0..Table::ALL.len()).collect::<Vec<_>>());
    }

    #[test]
    fn max_with_takes_per_table_maximum() {
        let mut a = TableIndexes::default();
        a.set(Table::Kvs, 5);
        a.set(Table::Nodes, 1);
        let mut b = TableIndexes::default();
        b.set(Table::Kvs, 3);
        b.set(Table::Nodes, 9);
        let m = a.max_with(&b);
        assert_eq!(m.get(Table::Kvs), 5);
        assert_eq!(m.get(Table::Nodes), 9);
        assert_eq!(m.max(), 9);
    }
}
