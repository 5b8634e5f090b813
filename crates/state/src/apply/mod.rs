//! Applying commands: turns one [`Command`] and the current tables into the next tables and a
//! [`CommandResult`]. Pure and deterministic: no clocks (time comes in commands), no I/O.
//! A command that fails leaves the tables untouched (the scratch copy is dropped).

mod autopilot;
mod catalog;
mod config;
mod connect_ca;
mod import;
mod kv;
mod peering;
mod session;
mod txn;

use crate::command::Command;
use crate::command::CommandResult;
use crate::snapshot::Snapshot;
use crate::table::Table;
use crate::tables::Tables;

/// A scratch copy of the tables being changed at one Raft index.
pub(crate) struct Writer {
    pub(crate) t: Tables,
    pub(crate) idx: u64,
    changed: [bool; Table::ALL.len()],
}

/// What applying one command produced.
pub(crate) struct Applied {
    pub(crate) tables: Tables,
    pub(crate) result: CommandResult,
    /// Tables whose index moved.
    pub(crate) changed: Vec<Table>,
}

impl Writer {
    pub(crate) fn new(t: Tables, idx: u64) -> Writer {
        Writer {
            t,
            idx,
            changed: [false; Table::ALL.len()],
        }
    }

    /// Record that `table` changed at this index.
    pub(crate) fn touch(&mut self, table: Table) {
        self.changed[table.slot()] = true;
    }

    /// Advance the proposer clock seen so far.
    pub(crate) fn observe_clock(&mut self, now_ms: u64) {
        self.t.clock_ms = self.t.clock_ms.max(now_ms);
    }

    fn finish(mut self, result: CommandResult) -> Applied {
        let mut changed = Vec::new();
        for t in Table::ALL {
            if self.changed[t.slot()] {
                self.t.indexes.set(t, self.idx);
                changed.push(t);
            }
        }
        self.t.last_index = self.t.last_index.max(self.idx);
        Applied {
            tables: self.t,
            result,
            changed,
        }
    }
}

/// Apply `command`, proposed at `now_ms` (0: unknown), at `index` to `current`.
pub(crate) fn apply_at(current: &Tables, index: u64, now_ms: u64, command: Command) -> Applied {
    let mut w = Writer::new(current.clone(), index);
    w.observe_clock(now_ms);
    let result = match command {
        Command::Register(req) => w.register(req).map(|()| CommandResult::Ok),
        Command::Deregister {
            node,
            service_id,
            check_id,
        } => {
            w.deregister(&node, service_id.as_deref(), check_id.as_deref());
            Ok(CommandResult::Ok)
        }
        Command::Kv(op) => w.kv_command(&op),
        Command::Txn(ops) => {
            let outcome = w.txn(&ops);
            if !outcome.errors.is_empty() {
                return unchanged(current, index, CommandResult::Txn(outcome));
            }
            Ok(CommandResult::Txn(outcome))
        }
        Command::SessionCreate(session) => w.session_create(session).map(|()| CommandResult::Ok),
        Command::SessionDestroy { id, now_ms } => {
            w.observe_clock(now_ms);
            w.session_invalidate(&id, now_ms);
            Ok(CommandResult::Ok)
        }
        Command::ConfigSet { entry, cas } => Ok(CommandResult::Bool(w.config_set(entry, cas))),
        Command::ConfigDelete { kind, name, cas } => {
            Ok(CommandResult::Bool(w.config_delete(&kind, &name, cas)))
        }
        Command::CoordinateBatch(coords) => {
            w.coordinate_batch(coords);
            Ok(CommandResult::Ok)
        }
        Command::PeeringWrite { peering, secrets } => w
            .peering_write(peering, secrets)
            .map(|()| CommandResult::Ok),
        Command::PeeringDelete { name } => {
            w.peering_delete(&name);
            Ok(CommandResult::Ok)
        }
        Command::PeeringRemove { id } => w.peering_remove(&id).map(|()| CommandResult::Ok),
        Command::PeeringSecretsWrite {
            peering_id,
            request,
        } => w
            .peering_secrets_write(&peering_id, request)
            .map(|()| CommandResult::Ok),
        Command::PeeringTrustBundleWrite(bundle) => {
            w.trust_bundle_write(bundle).map(|()| CommandResult::Ok)
        }
        Command::PeeringTrustBundleDelete { name } => {
            w.trust_bundle_delete(&name);
            Ok(CommandResult::Ok)
        }
        Command::Restore(snap) => return restore(current, Some(index), *snap),
        Command::CaSet { config, roots, cas } => {
            w.ca_set(config, roots, cas).map(CommandResult::Bool)
        }
        Command::AutopilotSet { config, cas } => {
            Ok(CommandResult::Bool(w.autopilot_set(config, cas)))
        }
        Command::ImportServiceSnapshot {
            peer,
            service,
            instances,
        } => w
            .import_service_snapshot(&peer, &service, instances)
            .map(|()| CommandResult::Ok),
        Command::ImportServiceList { peer, services } => {
            w.import_service_list(&peer, &services);
            Ok(CommandResult::Ok)
        }
        Command::ImportDropPeer { peer } => {
            w.import_drop_peer(&peer);
            Ok(CommandResult::Ok)
        }
    };
    match result {
        Ok(result) => w.finish(result),
        Err(message) => unchanged(current, index, CommandResult::Rejected(message)),
    }
}

/// Replace `current` by `snap`. Table indexes never go backwards; the epoch moves so every
/// blocking query wakes.
pub(crate) fn restore(current: &Tables, index: Option<u64>, snap: Snapshot) -> Applied {
    let mut tables = snap.into_tables();
    tables.indexes = tables.indexes.max_with(&current.indexes);
    tables.last_index = tables
        .last_index
        .max(current.last_index)
        .max(index.unwrap_or(0));
    tables.epoch = current.epoch + 1;
    Applied {
        tables,
        result: CommandResult::Ok,
        changed: Table::ALL.to_vec(),
    }
}

/// The tables as they were, with only the applied position moved forward.
fn unchanged(current: &Tables, index: u64, result: CommandResult) -> Applied {
    let mut tables = current.clone();
    tables.last_index = tables.last_index.max(index);
    Applied {
        tables,
        result,
        changed: Vec::new(),
    }
}
