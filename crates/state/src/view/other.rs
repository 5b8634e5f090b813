//! Session, config entry, coordinate and lock-delay reads.

use crate::model::ConfigEntry;
use crate::model::Coordinate;
use crate::model::Session;
use crate::tables::fold;
use crate::tables::with_first;
use crate::view::StateView;

impl StateView {
    /// All sessions, sorted by ID.
    pub fn sessions(&self) -> Vec<Session> {
        self.tables.sessions.values().cloned().collect()
    }

    /// One session.
    pub fn session(&self, id: &str) -> Option<Session> {
        self.tables.sessions.get(id).cloned()
    }

    /// Sessions of a node, sorted by ID.
    pub fn node_sessions(&self, node: &str) -> Vec<Session> {
        let key = fold(node);
        self.tables
            .sessions
            .values()
            .filter(|s| fold(&s.node) == key)
            .cloned()
            .collect()
    }

    /// One config entry (kind and name match case-insensitively).
    pub fn config_entry(&self, kind: &str, name: &str) -> Option<ConfigEntry> {
        self.tables
            .config_entries
            .get(&(fold(kind), fold(name)))
            .cloned()
    }

    /// Config entries of one kind, or all; sorted by kind, then name.
    pub fn config_entries(&self, kind: Option<&str>) -> Vec<ConfigEntry> {
        match kind {
            Some(kind) => with_first(&self.tables.config_entries, &fold(kind))
                .map(|(_, e)| e.clone())
                .collect(),
            None => self.tables.config_entries.values().cloned().collect(),
        }
    }

    /// All coordinates, sorted by node then segment.
    pub fn coordinates(&self) -> Vec<Coordinate> {
        self.tables.coordinates.values().cloned().collect()
    }

    /// Unix ms until which `key` may not be locked, if a lock delay was recorded for it.
    pub fn lock_delay_until(&self, key: &str) -> Option<u64> {
        self.tables.lock_delays.get(key).copied()
    }
}
