//! The agent's local state: the services and checks registered with this agent (through its
//! API or its config files), with the latest check results. It is the source of truth that
//! anti-entropy copies into the catalog. Pure data plus a change notification; no I/O.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::sync::MutexGuard;
use std::time::Duration;
use std::time::Instant;

use legate_state::model::HealthCheck;
use legate_state::model::Service;
use legate_state::model::health;
use tokio::sync::watch;

/// A check held by the agent, with what the reaper needs to know.
#[derive(Clone, Debug)]
pub struct LocalCheck {
    /// The check as it should appear in the catalog.
    pub check: HealthCheck,
    /// Deregister the check's service once it has been critical this long.
    pub deregister_critical_after: Option<Duration>,
    /// When the check last turned critical (None while not critical).
    pub critical_since: Option<Instant>,
}

/// What the agent holds locally.
#[derive(Clone, Debug, Default)]
pub struct LocalSnapshot {
    /// Services by ID.
    pub services: BTreeMap<String, Service>,
    /// Checks by ID.
    pub checks: BTreeMap<String, LocalCheck>,
}

/// The agent's services and checks, shared by the API handlers, the check runners,
/// anti-entropy and alias checks.
pub struct LocalState {
    inner: Mutex<LocalSnapshot>,
    /// A version number that moves with every change, for any number of watchers.
    version: watch::Sender<u64>,
}

impl Default for LocalState {
    fn default() -> Self {
        LocalState {
            inner: Mutex::new(LocalSnapshot::default()),
            version: watch::channel(0).0,
        }
    }
}

impl LocalState {
    /// An empty local state.
    pub fn new() -> Self {
        LocalState::default()
    }

    fn lock(&self) -> MutexGuard<'_, LocalSnapshot> {
        // A panic while holding this lock leaves plain data behind; keep serving it.
        self.inner
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// A copy of everything held now.
    pub fn snapshot(&self) -> LocalSnapshot {
        self.lock().clone()
    }

    /// A receiver that sees every change after it was created (`changed().await`).
    pub fn subscribe(&self) -> watch::Receiver<u64> {
        self.version.subscribe()
    }

    fn notify(&self) {
        self.version.send_modify(|v| *v += 1);
    }

    /// Add or replace a service together with its checks, in one step, so anti-entropy never
    /// sees the service without its checks.
    pub fn add_service(&self, service: Service, checks: Vec<(HealthCheck, Option<Duration>)>) {
        let mut inner = self.lock();
        inner.services.insert(service.id.clone(), service);
        for (check, deregister_critical_after) in checks {
            let critical_since = (check.status == health::CRITICAL).then(Instant::now);
            inner.checks.insert(
                check.check_id.clone(),
                LocalCheck {
                    check,
                    deregister_critical_after,
                    critical_since,
                },
            );
        }
        drop(inner);
        self.notify();
    }

    /// A service by ID.
    pub fn service(&self, id: &str) -> Option<Service> {
        self.lock().services.get(id).cloned()
    }

    /// Remove a service and its checks; returns the removed check IDs, or None if unknown.
    pub fn remove_service(&self, id: &str) -> Option<Vec<String>> {
        let mut inner = self.lock();
        inner.services.remove(id)?;
        let check_ids: Vec<String> = inner
            .checks
            .iter()
            .filter(|(_, c)| c.check.service_id == id)
            .map(|(k, _)| k.clone())
            .collect();
        for check_id in &check_ids {
            inner.checks.remove(check_id);
        }
        drop(inner);
        self.notify();
        Some(check_ids)
    }

    /// Add or replace a check.
    pub fn add_check(&self, check: HealthCheck, deregister_critical_after: Option<Duration>) {
        let critical_since = (check.status == health::CRITICAL).then(Instant::now);
        self.lock().checks.insert(
            check.check_id.clone(),
            LocalCheck {
                check,
                deregister_critical_after,
                critical_since,
            },
        );
        self.notify();
    }

    /// A check by ID.
    pub fn check(&self, id: &str) -> Option<HealthCheck> {
        self.lock().checks.get(id).map(|c| c.check.clone())
    }

    /// Remove a check; false if unknown.
    pub fn remove_check(&self, id: &str) -> bool {
        let removed = self.lock().checks.remove(id).is_some();
        if removed {
            self.notify();
        }
        removed
    }

    /// Record a check result; returns false if the check is unknown. Notifies only on change.
    pub fn update_check(&self, id: &str, status: &str, output: &str) -> bool {
        let mut inner = self.lock();
        let Some(local) = inner.checks.get_mut(id) else {
            return false;
        };
        if local.check.status == status && local.check.output == output {
            return true;
        }
        if status == health::CRITICAL {
            local.critical_since.get_or_insert_with(Instant::now);
        } else {
            local.critical_since = None;
        }
        local.check.status = status.to_string();
        local.check.output = output.to_string();
        drop(inner);
        self.notify();
        true
    }

    /// Services whose checks asked to be deregistered after being critical too long.
    pub fn services_to_reap(&self, now: Instant) -> Vec<String> {
        let inner = self.lock();
        let mut ids: Vec<String> = inner
            .checks
            .values()
            .filter(|c| !c.check.service_id.is_empty())
            .filter(|c| match (c.deregister_critical_after, c.critical_since) {
                (Some(after), Some(since)) => now.duration_since(since) >= after,
                _ => false,
            })
            .map(|c| c.check.service_id.clone())
            .collect();
        ids.sort();
        ids.dedup();
        ids
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(id: &str, service_id: &str, status: &str) -> HealthCheck {
        HealthCheck {
            check_id: id.to_string(),
            service_id: service_id.to_string(),
            status: status.to_string(),
            ..HealthCheck::default()
        }
    }

    #[test]
    fn removing_a_service_removes_its_checks() {
        let local = LocalState::new();
        local.add_service(
            Service {
                id: "web".into(),
                service: "web".into(),
                ..Service::default()
            },
            vec![(check("service:web", "web", health::CRITICAL), None)],
        );
        local.add_check(check("node-check", "", health::PASSING), None);
        assert_eq!(
            local.remove_service("web"),
            Some(vec!["service:web".to_string()])
        );
        assert!(local.check("service:web").is_none());
        assert!(local.check("node-check").is_some());
        assert_eq!(local.remove_service("web"), None);
    }

    #[test]
    fn reaps_only_after_critical_for_the_configured_time() {
        let local = LocalState::new();
        local.add_check(
            check("service:web", "web", health::PASSING),
            Some(Duration::from_secs(30)),
        );
        let start = Instant::now();
        assert!(local.services_to_reap(start).is_empty());
        assert!(local.update_check("service:web", health::CRITICAL, "down"));
        let since = local.snapshot().checks["service:web"]
            .critical_since
            .unwrap();
        assert!(
            local
                .services_to_reap(since + Duration::from_secs(29))
                .is_empty()
        );
        assert_eq!(
            local.services_to_reap(since + Duration::from_secs(30)),
            vec!["web".to_string()]
        );
        assert!(local.update_check("service:web", health::PASSING, "up"));
        assert!(
            local
                .services_to_reap(since + Duration::from_secs(60))
                .is_empty()
        );
    }
}
