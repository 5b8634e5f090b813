//! Connect CA writes: the roots and the configuration replaced together, as Consul's
//! `CAOpSetRootsAndConfig` does, optionally only if the roots are unchanged since a given
//! index (so two leaders bootstrapping at once cannot both create a root).

use std::sync::Arc;

use crate::apply::Writer;
use crate::connect_ca::CaConfig;
use crate::connect_ca::CaRoot;
use crate::connect_ca::CaState;
use crate::table::Table;

impl Writer {
    /// Replace the CA roots and configuration. With `cas`, only if the CA table's index equals
    /// it (`Some(0)`: only if the CA was never written). Returns whether it was written; an
    /// invalid root set (not exactly one active root, duplicate IDs) is rejected.
    pub(crate) fn ca_set(
        &mut self,
        mut config: CaConfig,
        mut roots: Vec<CaRoot>,
        cas: Option<u64>,
    ) -> Result<bool, String> {
        if let Some(cas) = cas
            && self.t.indexes.get(Table::ConnectCa) != cas
        {
            return Ok(false);
        }
        if roots.iter().filter(|r| r.active).count() != 1 {
            return Err("exactly one root must be active".to_string());
        }
        let mut ids: Vec<&str> = roots.iter().map(|r| r.id.as_str()).collect();
        ids.sort_unstable();
        if ids.windows(2).any(|w| w[0] == w[1]) || ids.iter().any(|id| id.is_empty()) {
            return Err("root IDs must be unique and non-empty".to_string());
        }
        let old = self.t.connect_ca.clone();
        for root in &mut roots {
            root.create_index = old
                .roots
                .iter()
                .find(|r| r.id == root.id)
                .map_or(self.idx, |r| r.create_index);
            root.modify_index = self.idx;
        }
        config.create_index = old.config.as_ref().map_or(self.idx, |c| c.create_index);
        config.modify_index = self.idx;
        self.t.connect_ca = Arc::new(CaState {
            config: Some(config),
            roots,
        });
        self.touch(Table::ConnectCa);
        Ok(true)
    }
}

#[cfg(test)]
mod tests {
    use crate::Store;
    use crate::command::Command;
    use crate::command::CommandResult;
    use crate::connect_ca::CaConfig;
    use crate::connect_ca::CaRoot;
    use crate::snapshot::Snapshot;
    use crate::table::Table;

    fn root(id: &str, active: bool) -> CaRoot {
        CaRoot {
            id: id.to_string(),
            name: "Consul CA Primary Cert".to_string(),
            root_cert: format!("cert {id}\n"),
            private_key: format!("key {id}\n"),
            active,
            ..CaRoot::default()
        }
    }

    fn config() -> CaConfig {
        CaConfig {
            cluster_id: "11111111-2222-3333-4444-555555555555".to_string(),
            provider: "consul".to_string(),
            ..CaConfig::default()
        }
    }

    fn set(roots: Vec<CaRoot>, cas: Option<u64>) -> Command {
        Command::CaSet {
            config: config(),
            roots,
            cas,
        }
    }

    #[test]
    fn bootstrap_only_once_with_cas_zero() {
        let s = Store::new();
        assert!(s.view().ca_state().config.is_none());
        assert_eq!(s.view().table_index(Table::ConnectCa), 0);
        assert_eq!(
            s.apply(3, set(vec![root("a", true)], Some(0))),
            CommandResult::Bool(true)
        );
        // A second leader's bootstrap sees the CA written and does nothing.
        assert_eq!(
            s.apply(4, set(vec![root("b", true)], Some(0))),
            CommandResult::Bool(false)
        );
        let v = s.view();
        let state = v.ca_state();
        assert_eq!(state.roots.len(), 1);
        assert_eq!(state.active_root().unwrap().id, "a");
        let cfg = state.config.as_ref().unwrap();
        assert_eq!((cfg.create_index, cfg.modify_index), (3, 3));
        assert_eq!(
            cfg.trust_domain(),
            "11111111-2222-3333-4444-555555555555.consul"
        );
        assert_eq!(v.table_index(Table::ConnectCa), 3);
    }

    #[test]
    fn rotation_keeps_create_index_of_known_roots() {
        let s = Store::new();
        s.apply(1, set(vec![root("a", true)], None));
        assert_eq!(
            s.apply(2, set(vec![root("a", false), root("b", true)], Some(1))),
            CommandResult::Bool(true)
        );
        let state = s.view().ca_state();
        let idx: Vec<(u64, u64)> = state
            .roots
            .iter()
            .map(|r| (r.create_index, r.modify_index))
            .collect();
        assert_eq!(idx, [(1, 2), (2, 2)]);
        assert_eq!(state.active_root().unwrap().id, "b");
        assert_eq!(state.config.as_ref().unwrap().create_index, 1);
    }

    #[test]
    fn rejects_bad_root_sets_without_change() {
        let s = Store::new();
        for roots in [
            vec![],
            vec![root("a", false)],
            vec![root("a", true), root("b", true)],
            vec![root("a", true), root("a", false)],
            vec![root("", true)],
        ] {
            let result = s.apply(1, set(roots.clone(), None));
            assert!(matches!(result, CommandResult::Rejected(_)), "{roots:?}");
        }
        assert_eq!(s.view().table_index(Table::ConnectCa), 0);
        assert!(s.view().ca_state().roots.is_empty());
    }

    #[test]
    fn snapshot_keeps_roots_keys_and_config() {
        let s = Store::new();
        s.apply(5, set(vec![root("a", true)], None));
        let snap = s.snapshot();
        let decoded = Snapshot::decode(&snap.encode()).unwrap();
        assert_eq!(decoded, snap);
        let restored = Store::new();
        restored.apply(9, Command::Restore(Box::new(decoded)));
        let state = restored.view().ca_state();
        assert_eq!(state, s.view().ca_state());
        assert_eq!(state.roots[0].private_key, "key a\n");
        assert_eq!(restored.view().table_index(Table::ConnectCa), 5);
    }

    #[test]
    fn old_snapshots_without_ca_restore_empty() {
        let snap = Snapshot::default();
        let mut json: serde_json::Value = serde_json::to_value(&snap).unwrap();
        let obj = json.as_object_mut().unwrap();
        obj.remove("connect_ca");
        let back: Snapshot = serde_json::from_value(json).unwrap();
        assert!(back.connect_ca.roots.is_empty());
    }
}
