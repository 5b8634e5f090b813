//! Catalog writes: register (node, service, checks) and deregister, following Consul's state
//! store (`ensureRegistrationTxn`, `ensureNodeTxn`, `ensureCheckTxn`, `deleteNodeTxn`).

use crate::apply::Writer;
use crate::command::RegisterRequest;
use crate::model::HealthCheck;
use crate::model::Node;
use crate::model::Service;
use crate::model::health;
use crate::table::Table;
use crate::tables::fold;
use crate::tables::with_first;

/// Consul's serf health check ID, consulted when a node name is reused.
const SERF_CHECK_ID: &str = "serfHealth";

impl Writer {
    /// Upsert the node (unless skipped), the service and the checks of `req`.
    pub(crate) fn register(&mut self, req: RegisterRequest) -> Result<(), String> {
        let RegisterRequest {
            node,
            skip_node_update,
            service,
            mut checks,
        } = req;
        if node.node.is_empty() {
            return Err("Must provide node".to_string());
        }
        let node_key = fold(&node.node);
        let service = service.map(normalize_service);
        for check in &mut checks {
            self.vet_check(check, &node.node, service.as_ref())?;
        }

        let existing = self.t.nodes.get(&node_key).cloned();
        let changes_node = match &existing {
            None => true,
            Some(_) if skip_node_update => false,
            Some(old) => node_differs(&node, old),
        };
        if changes_node {
            self.ensure_node(node)
                .map_err(|e| format!("failed inserting node: {e}"))?;
        }
        if let Some(service) = service {
            self.ensure_service(&node_key, service);
        }
        for check in checks {
            self.ensure_check(&node_key, check)?;
        }
        Ok(())
    }

    /// Remove one service (with its checks), else one check, else the whole node. Unknown ones
    /// are no-ops.
    pub(crate) fn deregister(
        &mut self,
        node: &str,
        service_id: Option<&str>,
        check_id: Option<&str>,
    ) {
        let node_key = fold(node);
        // As in Consul's FSM, a service ID wins over a check ID.
        match (service_id, check_id) {
            (Some(sid), _) => self.delete_service(&node_key, &fold(sid)),
            (None, Some(cid)) => self.delete_check(&node_key, &fold(cid)),
            (None, None) => self.delete_node(&node_key),
        }
    }

    /// Fill a check's defaults and make sure it can be registered with this request.
    fn vet_check(
        &self,
        check: &mut HealthCheck,
        node: &str,
        service: Option<&Service>,
    ) -> Result<(), String> {
        if check.node.is_empty() {
            check.node = node.to_string();
        } else if fold(&check.node) != fold(node) {
            return Err(format!(
                "check node {:?} does not match node {:?}",
                check.node, node
            ));
        }
        if check.check_id.is_empty() {
            check.check_id = check.name.clone();
        }
        if check.check_id.is_empty() {
            return Err("Must provide check ID".to_string());
        }
        if check.status.is_empty() {
            check.status = health::CRITICAL.to_string();
        }
        if check.service_id.is_empty() {
            return Ok(());
        }
        let in_request = service.is_some_and(|s| s.id == check.service_id);
        let known = self
            .t
            .services
            .contains_key(&(fold(node), fold(&check.service_id)));
        if in_request || known {
            Ok(())
        } else {
            Err(format!(
                "Unknown service ID '{}' for check ID '{}'",
                check.service_id, check.check_id
            ))
        }
    }

    /// Consul's `ensureNodeTxn`: node IDs are unique and may rename a node; a name held by a
    /// healthy node with another ID cannot be taken.
    fn ensure_node(&mut self, mut node: Node) -> Result<(), String> {
        let key = fold(&node.node);
        let mut existing = None;
        if !node.id.is_empty() {
            match self.node_by_id(&node.id) {
                Some(old) => {
                    if fold(&old.node) != key {
                        self.no_similar_name(&node, false).map_err(|e| {
                            format!(
                                "Error while renaming Node ID: {:?} ({}): {e}",
                                node.id, node.address
                            )
                        })?;
                        self.delete_node(&fold(&old.node));
                    }
                    existing = Some(old);
                }
                None => self
                    .no_similar_name(&node, true)
                    .map_err(|e| format!("Error while renaming Node ID: {:?}: {e}", node.id))?,
            }
        }
        if existing.is_none() {
            existing = self.t.nodes.get(&key).cloned();
        }
        match existing {
            Some(old) => {
                node.create_index = old.create_index;
                node.modify_index = old.modify_index;
                if node == old {
                    return Ok(());
                }
                node.modify_index = self.idx;
            }
            None => {
                node.create_index = self.idx;
                node.modify_index = self.idx;
            }
        }
        self.t.nodes.insert(key, node);
        self.touch(Table::Nodes);
        Ok(())
    }

    fn node_by_id(&self, id: &str) -> Option<Node> {
        self.t
            .nodes
            .values()
            .find(|n| n.id.eq_ignore_ascii_case(id))
            .cloned()
    }

    /// Consul's `ensureNoNodeWithSimilarNameTxn`.
    fn no_similar_name(&self, node: &Node, allow_clash_without_id: bool) -> Result<(), String> {
        let key = fold(&node.node);
        for other in self.t.nodes.values() {
            if fold(&other.node) != key || other.id.eq_ignore_ascii_case(&node.id) {
                continue;
            }
            let healthy = self
                .t
                .checks
                .get(&(key.clone(), fold(SERF_CHECK_ID)))
                .is_some_and(|c| c.status != health::CRITICAL);
            if !(other.id.is_empty() && allow_clash_without_id) && healthy {
                return Err(format!(
                    "Node name {} is reserved by node {} with name {} ({})",
                    node.node, other.id, other.node, other.address
                ));
            }
        }
        Ok(())
    }

    fn ensure_service(&mut self, node_key: &str, mut service: Service) {
        let key = (node_key.to_string(), fold(&service.id));
        match self.t.services.get(&key) {
            Some(old) => {
                service.create_index = old.create_index;
                service.modify_index = old.modify_index;
                if &service == old {
                    return;
                }
            }
            None => service.create_index = self.idx,
        }
        service.modify_index = self.idx;
        self.t.services.insert(key, service);
        self.touch(Table::Services);
    }

    /// Consul's `ensureCheckTxn`. The check was vetted (node, ID, status, service reference).
    fn ensure_check(&mut self, node_key: &str, mut check: HealthCheck) -> Result<(), String> {
        if let Some(node) = self.t.nodes.get(node_key) {
            check.node = node.node.clone();
        }
        if !check.service_id.is_empty() {
            let service_key = (node_key.to_string(), fold(&check.service_id));
            let Some(service) = self.t.services.get(&service_key) else {
                return Err(format!(
                    "failed inserting check on node {:?}: Missing service registration",
                    check.node
                ));
            };
            check.service_name = service.service.clone();
            check.service_tags = service.tags.clone();
        }
        let key = (node_key.to_string(), fold(&check.check_id));
        let modified = match self.t.checks.get(&key) {
            Some(old) => {
                check.create_index = old.create_index;
                check.modify_index = old.modify_index;
                &check != old
            }
            None => {
                check.create_index = self.idx;
                true
            }
        };
        if check.status == health::CRITICAL {
            let clock = self.t.clock_ms;
            self.invalidate_check_sessions(node_key, &key.1, clock);
        }
        if modified {
            check.modify_index = self.idx;
            self.t.checks.insert(key, check);
            self.touch(Table::Checks);
        }
        Ok(())
    }

    /// Delete a node with its services, checks and coordinates; invalidate its sessions.
    pub(crate) fn delete_node(&mut self, node_key: &str) {
        if !self.t.nodes.contains_key(node_key) {
            return;
        }
        let services: Vec<String> = with_first(&self.t.services, node_key)
            .map(|(k, _)| k.1.clone())
            .collect();
        for sid in services {
            self.delete_service(node_key, &sid);
        }
        let checks: Vec<String> = with_first(&self.t.checks, node_key)
            .map(|(k, _)| k.1.clone())
            .collect();
        for cid in checks {
            self.delete_check(node_key, &cid);
        }
        let coords: Vec<_> = with_first(&self.t.coordinates, node_key)
            .map(|(k, _)| k.clone())
            .collect();
        for key in coords {
            self.t.coordinates.remove(&key);
            self.touch(Table::Coordinates);
        }
        self.t.nodes.remove(node_key);
        self.touch(Table::Nodes);
        let sessions: Vec<String> = self
            .t
            .sessions
            .values()
            .filter(|s| fold(&s.node) == node_key)
            .map(|s| s.id.clone())
            .collect();
        let clock = self.t.clock_ms;
        for id in sessions {
            self.session_invalidate(&id, clock);
        }
    }

    /// Delete a service and its checks.
    fn delete_service(&mut self, node_key: &str, service_key: &str) {
        let key = (node_key.to_string(), service_key.to_string());
        if self.t.services.remove(&key).is_none() {
            return;
        }
        self.touch(Table::Services);
        let checks: Vec<String> = with_first(&self.t.checks, node_key)
            .filter(|(_, c)| fold(&c.service_id) == service_key)
            .map(|(k, _)| k.1.clone())
            .collect();
        for cid in checks {
            self.delete_check(node_key, &cid);
        }
    }

    /// Delete a check and invalidate the sessions that depend on it.
    fn delete_check(&mut self, node_key: &str, check_key: &str) {
        let key = (node_key.to_string(), check_key.to_string());
        if self.t.checks.remove(&key).is_none() {
            return;
        }
        self.touch(Table::Checks);
        let clock = self.t.clock_ms;
        self.invalidate_check_sessions(node_key, check_key, clock);
    }

    /// Invalidate every session on `node_key` that names the check.
    fn invalidate_check_sessions(&mut self, node_key: &str, check_key: &str, now_ms: u64) {
        let sessions: Vec<String> = self
            .t
            .sessions
            .values()
            .filter(|s| {
                fold(&s.node) == node_key
                    && s.node_checks
                        .iter()
                        .chain(&s.service_checks)
                        .any(|c| fold(c) == check_key)
            })
            .map(|s| s.id.clone())
            .collect();
        for id in sessions {
            self.session_invalidate(&id, now_ms);
        }
    }
}

/// Consul's `RegisterRequest.ChangesNode` for an existing node.
fn node_differs(new: &Node, old: &Node) -> bool {
    new.id != old.id
        || fold(&new.node) != fold(&old.node)
        || new.address != old.address
        || new.datacenter != old.datacenter
        || new.tagged_addresses != old.tagged_addresses
        || new.meta != old.meta
}

/// A service without an ID takes its name as ID, as Consul's catalog endpoint does.
fn normalize_service(mut service: Service) -> Service {
    if service.id.is_empty() {
        service.id = service.service.clone();
    }
    service
}

#[cfg(test)]
#[path = "catalog_tests.rs"]
mod tests;
