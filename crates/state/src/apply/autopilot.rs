//! Autopilot configuration writes, with Consul's check-and-set on ModifyIndex.

use crate::apply::Writer;
use crate::autopilot::AutopilotConfig;

impl Writer {
    /// Store `config`. With `cas`: `Some(0)` writes only if no configuration exists yet,
    /// `Some(n)` only if the stored one has ModifyIndex `n`. Returns whether it was written.
    /// No table index moves: nothing blocks on this record.
    pub(crate) fn autopilot_set(&mut self, mut config: AutopilotConfig, cas: Option<u64>) -> bool {
        let existing = self.t.autopilot.as_ref();
        if let Some(cas) = cas {
            let matches = match existing {
                None => cas == 0,
                Some(e) => cas != 0 && e.modify_index == cas,
            };
            if !matches {
                return false;
            }
        }
        config.create_index = existing.map_or(self.idx, |e| e.create_index);
        config.modify_index = self.idx;
        self.t.autopilot = Some(config);
        true
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use crate::Store;
    use crate::autopilot::AutopilotConfig;
    use crate::command::Command;
    use crate::command::CommandResult;
    use crate::snapshot::Snapshot;

    fn set(store: &Store, index: u64, config: AutopilotConfig, cas: Option<u64>) -> CommandResult {
        store.apply(index, Command::AutopilotSet { config, cas })
    }

    #[test]
    fn first_write_and_cas() {
        let store = Store::new();
        assert_eq!(store.view().autopilot_config(), None);
        // A CAS on a missing record only succeeds with 0.
        assert_eq!(
            set(&store, 1, AutopilotConfig::default(), Some(5)),
            CommandResult::Bool(false)
        );
        assert_eq!(
            set(&store, 2, AutopilotConfig::default(), Some(0)),
            CommandResult::Bool(true)
        );
        let stored = store.view().autopilot_config().unwrap();
        assert_eq!((stored.create_index, stored.modify_index), (2, 2));
        // A second "only if absent" write is refused.
        assert_eq!(
            set(&store, 3, AutopilotConfig::default(), Some(0)),
            CommandResult::Bool(false)
        );

        let changed = AutopilotConfig {
            max_trailing_logs: 500,
            ..AutopilotConfig::default()
        };
        assert_eq!(
            set(&store, 4, changed.clone(), Some(3)),
            CommandResult::Bool(false)
        );
        assert_eq!(
            store.view().autopilot_config().unwrap().max_trailing_logs,
            250
        );
        assert_eq!(
            set(&store, 5, changed.clone(), Some(2)),
            CommandResult::Bool(true)
        );
        let stored = store.view().autopilot_config().unwrap();
        assert_eq!(stored.max_trailing_logs, 500);
        assert_eq!((stored.create_index, stored.modify_index), (2, 5));

        // Unconditional writes always apply and keep CreateIndex.
        let quick = AutopilotConfig {
            server_stabilization_time: Duration::from_secs(1),
            ..AutopilotConfig::default()
        };
        assert_eq!(set(&store, 6, quick, None), CommandResult::Bool(true));
        let stored = store.view().autopilot_config().unwrap();
        assert_eq!(stored.server_stabilization_time, Duration::from_secs(1));
        assert_eq!((stored.create_index, stored.modify_index), (2, 6));
    }

    #[test]
    fn survives_snapshot_and_old_snapshots_have_none() {
        let store = Store::new();
        set(&store, 1, AutopilotConfig::default(), None);
        let snap = store.snapshot();
        let back = Snapshot::decode(&snap.encode()).unwrap();
        let restored = Store::new();
        restored.restore(back);
        assert_eq!(
            restored.view().autopilot_config(),
            store.view().autopilot_config()
        );

        // A snapshot written before the field existed decodes with no configuration.
        let mut json = serde_json::to_value(&snap).unwrap();
        json.as_object_mut().unwrap().remove("autopilot");
        let mut bytes = vec![crate::command::ENCODING_VERSION];
        bytes.extend(serde_json::to_vec(&json).unwrap());
        let old = Snapshot::decode(&bytes).unwrap();
        assert_eq!(old.autopilot, None);
    }
}
