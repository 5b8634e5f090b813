//! Imported catalog writes: the `Import*` commands that mirror a peer's exported services into
//! that peer's [`PeerCatalog`], following Consul's importer (`handleUpdateService`,
//! `handleUpsertExportedServiceList`): state of the world per service, unchanged rows keep
//! their indexes, rows missing from a snapshot are deleted, nodes left without services go.
//! Every change bumps the catalog table indexes, so blocking `?peer=` reads wake.

use std::collections::BTreeSet;

use crate::apply::Writer;
use crate::command::ImportedInstance;
use crate::model::HealthCheck;
use crate::model::health;
use crate::peer_catalog::PeerCatalog;
use crate::table::Table;
use crate::tables::NodeKey;
use crate::tables::fold;

/// Suffix of the synthetic sidecar services an exporter sends next to mesh-enabled services.
const SIDECAR_SUFFIX: &str = "-sidecar-proxy";

/// Which catalog tables a change touched.
#[derive(Default)]
struct Touched {
    nodes: bool,
    services: bool,
    checks: bool,
}

impl Writer {
    /// Replace `peer`'s imported instances of `service` by `instances`.
    pub(crate) fn import_service_snapshot(
        &mut self,
        peer: &str,
        service: &str,
        instances: Vec<ImportedInstance>,
    ) -> Result<(), String> {
        if peer.is_empty() {
            return Err("Must provide peer name".to_string());
        }
        let wanted = fold(service);
        let instances = instances
            .into_iter()
            .map(|i| normalize(i, peer, &wanted))
            .collect::<Result<Vec<_>, _>>()?;
        let mut pc = self.peer_catalog(peer);
        let mut touched = Touched::default();
        let mut kept_instances: BTreeSet<NodeKey> = BTreeSet::new();
        let mut kept_checks: BTreeSet<NodeKey> = BTreeSet::new();
        let mut snapshot_nodes: BTreeSet<String> = BTreeSet::new();
        for inst in instances {
            let node_key = fold(&inst.node.node);
            kept_instances.insert((node_key.clone(), fold(&inst.service.id)));
            snapshot_nodes.insert(node_key.clone());
            touched.nodes |= upsert(&mut pc.nodes, node_key.clone(), inst.node, self.idx);
            let service_key = (node_key.clone(), fold(&inst.service.id));
            touched.services |= upsert(&mut pc.services, service_key, inst.service, self.idx);
            for check in inst.checks {
                let key = (node_key.clone(), fold(&check.check_id));
                kept_checks.insert(key.clone());
                touched.checks |= upsert(&mut pc.checks, key, check, self.idx);
            }
        }

        let stale: Vec<NodeKey> = pc
            .services
            .iter()
            .filter(|(k, s)| fold(&s.service) == wanted && !kept_instances.contains(*k))
            .map(|(k, _)| k.clone())
            .collect();
        for key in stale {
            remove_instance(&mut pc, &key, &mut touched);
        }
        // Checks of kept instances, and node checks of nodes in the snapshot, that it lacks.
        let stale_checks: Vec<NodeKey> = pc
            .checks
            .iter()
            .filter(|(k, c)| {
                let owner = (k.0.clone(), fold(&c.service_id));
                let covered = if c.service_id.is_empty() {
                    snapshot_nodes.contains(&k.0)
                } else {
                    kept_instances.contains(&owner)
                };
                covered && !kept_checks.contains(*k)
            })
            .map(|(k, _)| k.clone())
            .collect();
        for key in stale_checks {
            pc.checks.remove(&key);
            touched.checks = true;
        }
        remove_orphan_nodes(&mut pc, &mut touched);
        self.store_peer_catalog(peer, pc, &touched);
        Ok(())
    }

    /// Delete every service imported from `peer` that is neither in `services` nor the
    /// `-sidecar-proxy` twin of a listed name.
    pub(crate) fn import_service_list(&mut self, peer: &str, services: &[String]) {
        let mut listed: BTreeSet<String> = BTreeSet::new();
        for name in services {
            listed.insert(fold(name));
            listed.insert(fold(&format!("{name}{SIDECAR_SUFFIX}")));
        }
        let mut pc = self.peer_catalog(peer);
        let mut touched = Touched::default();
        let stale: Vec<NodeKey> = pc
            .services
            .iter()
            .filter(|(_, s)| !listed.contains(&fold(&s.service)))
            .map(|(k, _)| k.clone())
            .collect();
        for key in stale {
            remove_instance(&mut pc, &key, &mut touched);
        }
        remove_orphan_nodes(&mut pc, &mut touched);
        self.store_peer_catalog(peer, pc, &touched);
    }

    /// Remove everything imported from `peer`.
    pub(crate) fn import_drop_peer(&mut self, peer: &str) {
        let Some(pc) = self.t.imported.remove(&fold(peer)) else {
            return;
        };
        let touched = Touched {
            nodes: !pc.nodes.is_empty(),
            services: !pc.services.is_empty(),
            checks: !pc.checks.is_empty(),
        };
        self.apply_touched(&touched);
    }

    fn peer_catalog(&self, peer: &str) -> PeerCatalog {
        self.t
            .imported
            .get(&fold(peer))
            .cloned()
            .unwrap_or_default()
    }

    /// Install `pc` as `peer`'s catalog (dropping it when empty) and record the touched tables.
    fn store_peer_catalog(&mut self, peer: &str, pc: PeerCatalog, touched: &Touched) {
        let key = fold(peer);
        if pc.is_empty() {
            self.t.imported.remove(&key);
        } else {
            self.t.imported.insert(key, pc);
        }
        self.apply_touched(touched);
    }

    fn apply_touched(&mut self, touched: &Touched) {
        for (hit, table) in [
            (touched.nodes, Table::Nodes),
            (touched.services, Table::Services),
            (touched.checks, Table::Checks),
        ] {
            if hit {
                self.touch(table);
            }
        }
    }
}

/// Check an instance of `wanted` and stamp it with the peer name: IDs default as in a
/// registration, checks are bound to the instance's node (and service, when they name one).
fn normalize(
    mut inst: ImportedInstance,
    peer: &str,
    wanted: &str,
) -> Result<ImportedInstance, String> {
    if inst.node.node.is_empty() {
        return Err("Must provide node".to_string());
    }
    if inst.service.id.is_empty() {
        inst.service.id = inst.service.service.clone();
    }
    if fold(&inst.service.service) != wanted {
        return Err(format!(
            "imported instance {:?} is of service {:?}, not {wanted:?}",
            inst.service.id, inst.service.service
        ));
    }
    inst.node.peer_name = peer.to_string();
    inst.service.peer_name = peer.to_string();
    let service_key = fold(&inst.service.id);
    for check in &mut inst.checks {
        if check.check_id.is_empty() {
            check.check_id = check.name.clone();
        }
        if check.check_id.is_empty() {
            return Err("Must provide check ID".to_string());
        }
        if !check.service_id.is_empty() && fold(&check.service_id) != service_key {
            return Err(format!(
                "imported check {:?} names service {:?}, not {:?}",
                check.check_id, check.service_id, inst.service.id
            ));
        }
        if check.status.is_empty() {
            check.status = health::CRITICAL.to_string();
        }
        check.node = inst.node.node.clone();
        check.peer_name = peer.to_string();
        if !check.service_id.is_empty() {
            check.service_id = inst.service.id.clone();
            check.service_name = inst.service.service.clone();
            check.service_tags = inst.service.tags.clone();
        }
    }
    Ok(inst)
}

/// A record whose Raft indexes apply sets.
trait Indexed: PartialEq {
    fn create_index(&self) -> u64;
    fn modify_index(&self) -> u64;
    fn set_indexes(&mut self, create: u64, modify: u64);
}

macro_rules! indexed {
    ($t:ty) => {
        impl Indexed for $t {
            fn create_index(&self) -> u64 {
                self.create_index
            }
            fn modify_index(&self) -> u64 {
                self.modify_index
            }
            fn set_indexes(&mut self, create: u64, modify: u64) {
                self.create_index = create;
                self.modify_index = modify;
            }
        }
    };
}

indexed!(crate::model::Node);
indexed!(crate::model::Service);
indexed!(HealthCheck);

/// Insert or replace `record` at `key` unless an identical one (indexes aside) is stored.
/// Returns whether the map changed.
fn upsert<K: Ord + Clone, V: Indexed + Clone>(
    map: &mut imbl::OrdMap<K, V>,
    key: K,
    mut record: V,
    idx: u64,
) -> bool {
    let create = match map.get(&key) {
        Some(old) => {
            record.set_indexes(old.create_index(), old.modify_index());
            if &record == old {
                return false;
            }
            old.create_index()
        }
        None => idx,
    };
    record.set_indexes(create, idx);
    map.insert(key, record);
    true
}

/// Remove one service instance and its checks.
fn remove_instance(pc: &mut PeerCatalog, key: &NodeKey, touched: &mut Touched) {
    if pc.services.remove(key).is_none() {
        return;
    }
    touched.services = true;
    let checks: Vec<NodeKey> = pc
        .checks
        .iter()
        .filter(|(k, c)| k.0 == key.0 && !c.service_id.is_empty() && fold(&c.service_id) == key.1)
        .map(|(k, _)| k.clone())
        .collect();
    for k in checks {
        pc.checks.remove(&k);
        touched.checks = true;
    }
}

/// Remove nodes without services, with their node checks.
fn remove_orphan_nodes(pc: &mut PeerCatalog, touched: &mut Touched) {
    let used: BTreeSet<&String> = pc.services.keys().map(|(n, _)| n).collect();
    let orphans: Vec<String> = pc
        .nodes
        .keys()
        .filter(|n| !used.contains(n))
        .cloned()
        .collect();
    for node in orphans {
        pc.nodes.remove(&node);
        touched.nodes = true;
        let checks: Vec<NodeKey> = pc
            .checks
            .keys()
            .filter(|(n, _)| *n == node)
            .cloned()
            .collect();
        for k in checks {
            pc.checks.remove(&k);
            touched.checks = true;
        }
    }
}

#[cfg(test)]
#[path = "import_tests.rs"]
mod tests;
