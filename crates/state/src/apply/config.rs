//! Config entry and coordinate writes. Config entries support check-and-set on ModifyIndex
//! (Consul's `EnsureConfigEntryCAS` / `DeleteConfigEntryCAS`); coordinates are upserted for
//! known nodes only (updates for unknown nodes are dropped, as in Consul).

use crate::apply::Writer;
use crate::model::ConfigEntry;
use crate::model::Coordinate;
use crate::table::Table;
use crate::tables::fold;

impl Writer {
    /// Create or replace a config entry; with `cas`, only if its ModifyIndex matches (0: only
    /// if absent). Returns whether it was written.
    pub(crate) fn config_set(&mut self, mut entry: ConfigEntry, cas: Option<u64>) -> bool {
        let key = (fold(&entry.kind), fold(&entry.name));
        let existing = self.t.config_entries.get(&key);
        if let Some(cas) = cas {
            let matches = match existing {
                None => cas == 0,
                Some(e) => cas != 0 && e.modify_index == cas,
            };
            if !matches {
                return false;
            }
        }
        entry.create_index = existing.map_or(self.idx, |e| e.create_index);
        entry.modify_index = self.idx;
        self.t.config_entries.insert(key, entry);
        self.touch(Table::ConfigEntries);
        true
    }

    /// Delete a config entry; with `cas`, only if its ModifyIndex matches. Like Consul, a
    /// missing entry counts as deleted.
    pub(crate) fn config_delete(&mut self, kind: &str, name: &str, cas: Option<u64>) -> bool {
        let key = (fold(kind), fold(name));
        let Some(existing) = self.t.config_entries.get(&key) else {
            return true;
        };
        if cas.is_some_and(|c| c != existing.modify_index) {
            return false;
        }
        self.t.config_entries.remove(&key);
        self.touch(Table::ConfigEntries);
        true
    }

    /// Upsert coordinates of known nodes.
    pub(crate) fn coordinate_batch(&mut self, coords: Vec<Coordinate>) {
        for mut coord in coords {
            let node_key = fold(&coord.node);
            let Some(node) = self.t.nodes.get(&node_key) else {
                continue;
            };
            coord.node = node.node.clone();
            coord.modify_index = self.idx;
            self.t
                .coordinates
                .insert((node_key, coord.segment.clone()), coord);
            self.touch(Table::Coordinates);
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use crate::Store;
    use crate::command::Command;
    use crate::command::CommandResult;
    use crate::command::RegisterRequest;
    use crate::model::ConfigEntry;
    use crate::model::Coordinate;
    use crate::model::Node;
    use crate::table::Table;

    fn entry(kind: &str, name: &str, body: serde_json::Value) -> ConfigEntry {
        ConfigEntry {
            kind: kind.to_string(),
            name: name.to_string(),
            body,
            ..ConfigEntry::default()
        }
    }

    fn set(e: ConfigEntry, cas: Option<u64>) -> Command {
        Command::ConfigSet { entry: e, cas }
    }

    #[test]
    fn set_keeps_create_index_and_honours_cas() {
        let s = Store::new();
        let e = |v: i64| entry("service-defaults", "web", json!({ "v": v }));
        assert_eq!(s.apply(1, set(e(1), None)), CommandResult::Bool(true));
        assert_eq!(s.apply(2, set(e(2), Some(0))), CommandResult::Bool(false));
        assert_eq!(s.apply(3, set(e(3), Some(7))), CommandResult::Bool(false));
        assert_eq!(s.apply(4, set(e(4), Some(1))), CommandResult::Bool(true));
        assert_eq!(s.apply(5, set(e(5), None)), CommandResult::Bool(true));
        let v = s.view();
        let got = v.config_entry("service-defaults", "WEB").unwrap();
        assert_eq!((got.create_index, got.modify_index), (1, 5));
        assert_eq!(got.body, json!({ "v": 5 }));
        assert_eq!(v.table_index(Table::ConfigEntries), 5);
        assert_eq!(
            s.apply(
                6,
                set(entry("proxy-defaults", "global", json!({})), Some(0))
            ),
            CommandResult::Bool(true)
        );
        let kinds: Vec<String> = s
            .view()
            .config_entries(None)
            .into_iter()
            .map(|e| e.kind)
            .collect();
        assert_eq!(kinds, ["proxy-defaults", "service-defaults"]);
        assert_eq!(s.view().config_entries(Some("proxy-defaults")).len(), 1);
    }

    #[test]
    fn delete_with_and_without_cas() {
        let s = Store::new();
        s.apply(1, set(entry("k", "a", json!({})), None));
        let del = |cas| Command::ConfigDelete {
            kind: "k".to_string(),
            name: "a".to_string(),
            cas,
        };
        assert_eq!(s.apply(2, del(Some(9))), CommandResult::Bool(false));
        assert_eq!(s.apply(3, del(Some(1))), CommandResult::Bool(true));
        assert!(s.view().config_entry("k", "a").is_none());
        assert_eq!(s.view().table_index(Table::ConfigEntries), 3);
        assert_eq!(s.apply(4, del(None)), CommandResult::Bool(true));
        assert_eq!(s.view().table_index(Table::ConfigEntries), 3);
    }

    #[test]
    fn coordinates_only_for_known_nodes() {
        let s = Store::new();
        s.apply(
            1,
            Command::Register(RegisterRequest {
                node: Node {
                    node: "n1".to_string(),
                    ..Node::default()
                },
                ..RegisterRequest::default()
            }),
        );
        let c = |node: &str| Coordinate {
            node: node.to_string(),
            coord: json!({ "Vec": [0.1] }),
            ..Coordinate::default()
        };
        s.apply(2, Command::CoordinateBatch(vec![c("n1"), c("ghost")]));
        let v = s.view();
        let coords = v.coordinates();
        assert_eq!(coords.len(), 1);
        assert_eq!((coords[0].node.as_str(), coords[0].modify_index), ("n1", 2));
        assert_eq!(v.table_index(Table::Coordinates), 2);
    }
}
