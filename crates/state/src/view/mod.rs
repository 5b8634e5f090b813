//! [`StateView`]: a cheap, immutable, point-in-time read of the whole store. Reads return owned
//! records, sorted as Consul returns them; the per-area queries live in the submodules.

mod autopilot;
mod catalog;
mod connect_ca;
mod kv;
mod other;
mod peer;
mod peering;
pub(crate) mod service_health;

use std::sync::Arc;

use crate::table::Table;
use crate::tables::Tables;

/// A point-in-time read view. Cloning is cheap; it never changes after creation.
#[derive(Clone, Debug)]
pub struct StateView {
    pub(crate) tables: Arc<Tables>,
}

impl StateView {
    pub(crate) fn new(tables: Arc<Tables>) -> StateView {
        StateView { tables }
    }

    /// The last applied Raft index.
    pub fn index(&self) -> u64 {
        self.tables.last_index
    }

    /// The index of the last change (deletes included) to table `t`; 0 if never written.
    pub fn table_index(&self, t: Table) -> u64 {
        self.tables.indexes.get(t)
    }

    /// The largest index among `ts` (0 for none).
    pub fn max_index(&self, ts: &[Table]) -> u64 {
        ts.iter().map(|t| self.table_index(*t)).max().unwrap_or(0)
    }
}
