//! The exporter core: what this cluster sends a peer, computed from a state view. Pure
//! functions, no I/O: [`resolved_exports`] expands the `exported-services` config entry
//! (wildcards, sameness groups) as `/v1/exported-services` shows it, [`exported_service_names`]
//! is the list one peer receives, and [`service_snapshot`] is the state-of-the-world payload
//! for one exported service (typical instances only, mesh blocks stripped, indexes cleared,
//! health flattened into one synthetic check per instance, as Consul's exporter does).
//! Not here: the synthetic `<name>-sidecar-proxy` services pointing at mesh gateways (they need
//! gateways and the trust domain; they come with the mesh).

use std::collections::BTreeMap;
use std::collections::BTreeSet;

use legate_state::HealthRow;
use legate_state::StateView;
use legate_state::command::ImportedInstance;
use legate_state::model::ConfigEntry;
use legate_state::model::HealthCheck;
use legate_state::model::health;
use serde_json::Value;

/// Kind of the config entry that lists exports.
pub const EXPORTED_SERVICES_KIND: &str = "exported-services";
/// The only `exported-services` entry name in Consul CE.
pub const EXPORTED_SERVICES_NAME: &str = "default";
/// The Consul servers' own service, which is never exported.
const CONSUL_SERVICE: &str = "consul";
/// Suffix of synthetic sidecar services; real services with it are never exported.
const SIDECAR_SUFFIX: &str = "-sidecar-proxy";
/// Consul's node maintenance check ID.
const NODE_MAINT: &str = "_node_maintenance";
/// Prefix of Consul's service maintenance check IDs.
const SERVICE_MAINT_PREFIX: &str = "_service_maintenance:";
/// The tagged address holding a service's cluster-local virtual IP.
const VIRTUAL_IP_TAG: &str = "consul-virtual";

/// One exported service with every consumer it resolves to (Consul's
/// `ResolvedExportedService`, CE fields).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ResolvedExport {
    /// The service name.
    pub service: String,
    /// Peers it is exported to, sorted, deduplicated.
    pub peers: Vec<String>,
    /// Partitions it is exported to (Enterprise), sorted, deduplicated.
    pub partitions: Vec<String>,
}

/// Expand `entry` against the local catalog of `view`: `*` becomes every typical service name
/// registered, sameness-group consumers become their member peers and partitions, `consul` is
/// dropped. Sorted by service name.
pub fn resolved_exports(view: &StateView, entry: &ConfigEntry) -> Vec<ResolvedExport> {
    let mut by_name: BTreeMap<String, (BTreeSet<String>, BTreeSet<String>)> = BTreeMap::new();
    for svc in list(&entry.body, "Services") {
        let name = text(svc, "Name");
        let consumers = consumers_of(view, svc);
        let names = if name == "*" {
            typical_service_names(view)
        } else {
            vec![name.to_string()]
        };
        for name in names.into_iter().filter(|n| n != CONSUL_SERVICE) {
            let slot = by_name.entry(name).or_default();
            slot.0.extend(consumers.0.iter().cloned());
            slot.1.extend(consumers.1.iter().cloned());
        }
    }
    by_name
        .into_iter()
        .filter(|(_, (peers, partitions))| !peers.is_empty() || !partitions.is_empty())
        .map(|(service, (peers, partitions))| ResolvedExport {
            service,
            peers: peers.into_iter().collect(),
            partitions: partitions.into_iter().collect(),
        })
        .collect()
}

/// Names of the services `entry` exports to `peer` (case-insensitive), sorted; never `consul`
/// nor a `*-sidecar-proxy` name.
pub fn exported_service_names(view: &StateView, entry: &ConfigEntry, peer: &str) -> Vec<String> {
    resolved_exports(view, entry)
        .into_iter()
        .filter(|e| e.peers.iter().any(|p| p.eq_ignore_ascii_case(peer)))
        .map(|e| e.service)
        .filter(|name| !name.ends_with(SIDECAR_SUFFIX))
        .collect()
}

/// The instances of `service` a peer receives: typical kinds only (never `*-sidecar-proxy`
/// names), Connect/Proxy blocks and the virtual-IP tagged address stripped, indexes and peer
/// names cleared, and all checks (node checks included) flattened by [`flatten_checks`].
/// Sorted by node, then service ID. Empty means "no instances" (the service is deleted on the
/// importing side).
pub fn service_snapshot(view: &StateView, service: &str) -> Vec<ImportedInstance> {
    snapshot_from_rows(view.service_health(service))
}

/// [`service_snapshot`] from health rows already read (see
/// [`StateView::service_health_of`], which reads many services in one pass).
pub fn snapshot_from_rows(rows: Vec<HealthRow>) -> Vec<ImportedInstance> {
    rows.into_iter()
        .filter(|(_, s, _)| s.kind.is_empty() && !s.service.ends_with(SIDECAR_SUFFIX))
        .map(|(mut node, mut svc, checks)| {
            if svc.connect.is_some() || svc.proxy.is_some() {
                svc.connect = None;
                svc.proxy = None;
                svc.tagged_addresses.remove(VIRTUAL_IP_TAG);
            }
            node.create_index = 0;
            node.modify_index = 0;
            node.peer_name.clear();
            svc.create_index = 0;
            svc.modify_index = 0;
            svc.peer_name.clear();
            let checks = flatten_checks(&node.node, &svc.id, &svc.service, &checks);
            ImportedInstance {
                node,
                service: svc,
                checks,
            }
        })
        .collect()
}

/// Consul's health flattening: one synthetic check `<serviceID>:overall-check` (named
/// `overall-check`) whose status is the most important of `checks` — maintenance (a node or
/// service maintenance check present) > critical > warning > passing. No checks, no check.
pub fn flatten_checks(
    node: &str,
    service_id: &str,
    service_name: &str,
    checks: &[HealthCheck],
) -> Vec<HealthCheck> {
    if checks.is_empty() {
        return Vec::new();
    }
    let mut status = health::PASSING;
    for check in checks {
        if check.check_id == NODE_MAINT || check.check_id.starts_with(SERVICE_MAINT_PREFIX) {
            status = health::MAINTENANCE;
            break;
        }
        if score(&check.status) < score(status) {
            status = &check.status;
        }
    }
    let service_id = if service_id.is_empty() {
        service_name
    } else {
        service_id
    };
    vec![HealthCheck {
        node: node.to_string(),
        check_id: format!("{service_id}:overall-check"),
        name: "overall-check".to_string(),
        status: status.to_string(),
        service_id: service_id.to_string(),
        service_name: service_name.to_string(),
        ..HealthCheck::default()
    }]
}

/// Importance of a status: lower wins. Unknown statuses score 0, as in Consul.
fn score(status: &str) -> u8 {
    match status {
        health::MAINTENANCE => 1,
        health::CRITICAL => 2,
        health::WARNING => 3,
        health::PASSING => 4,
        _ => 0,
    }
}

/// Names of registered services with at least one typical (kind `""`) instance.
fn typical_service_names(view: &StateView) -> Vec<String> {
    view.typical_service_names().into_iter().collect()
}

/// The (peers, partitions) one `Services[]` item of the entry names, sameness groups expanded
/// through their `sameness-group` entries.
fn consumers_of(view: &StateView, svc: &Value) -> (Vec<String>, Vec<String>) {
    let mut peers = Vec::new();
    let mut partitions = Vec::new();
    for consumer in list(svc, "Consumers") {
        let peer = text(consumer, "Peer");
        let partition = text(consumer, "Partition");
        let group = text(consumer, "SamenessGroup");
        if !peer.is_empty() {
            peers.push(peer.to_string());
        } else if !partition.is_empty() {
            partitions.push(partition.to_string());
        } else if !group.is_empty()
            && let Some(entry) = view.config_entry("sameness-group", group)
        {
            for member in list(&entry.body, "Members") {
                let peer = text(member, "Peer");
                let partition = text(member, "Partition");
                if !peer.is_empty() {
                    peers.push(peer.to_string());
                } else if !partition.is_empty() {
                    partitions.push(partition.to_string());
                }
            }
        }
    }
    (peers, partitions)
}

fn list<'a>(v: &'a Value, key: &str) -> &'a [Value] {
    v.get(key)
        .and_then(Value::as_array)
        .map_or(&[], Vec::as_slice)
}

fn text<'a>(v: &'a Value, key: &str) -> &'a str {
    v.get(key).and_then(Value::as_str).unwrap_or_default()
}

#[cfg(test)]
#[path = "exporter_tests.rs"]
mod tests;
