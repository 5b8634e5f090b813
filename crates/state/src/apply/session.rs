//! Session writes (Consul's `session.go`): creation checks the node and the health checks the
//! session depends on; invalidation releases or deletes the session's locks and starts their
//! lock delay.

use crate::apply::Writer;
use crate::model::Session;
use crate::model::SessionBehavior;
use crate::model::health;
use crate::table::Table;
use crate::tables::fold;

/// Consul caps a session's lock delay at 60 seconds.
const MAX_LOCK_DELAY_MS: u64 = 60_000;

impl Writer {
    /// Create (or replace) a session after validating its node and checks.
    pub(crate) fn session_create(&mut self, mut session: Session) -> Result<(), String> {
        if session.id.is_empty() {
            return Err("Missing session ID".to_string());
        }
        let node_key = fold(&session.node);
        if !self.t.nodes.contains_key(&node_key) {
            return Err("Missing node registration".to_string());
        }
        for check_id in session.node_checks.iter().chain(&session.service_checks) {
            let key = (node_key.clone(), fold(check_id));
            let Some(check) = self.t.checks.get(&key) else {
                return Err(format!("Missing check '{check_id}' registration"));
            };
            if check.status == health::CRITICAL {
                return Err(format!("Check '{check_id}' is in {} state", check.status));
            }
        }
        session.create_index = self.idx;
        session.modify_index = self.idx;
        self.t.sessions.insert(session.id.clone(), session);
        self.touch(Table::Sessions);
        Ok(())
    }

    /// Destroy a session: release or delete the keys it locks per its behaviour, and start
    /// their lock delay at `now_ms`. Unknown sessions are a no-op.
    pub(crate) fn session_invalidate(&mut self, id: &str, now_ms: u64) {
        let Some(session) = self.t.sessions.remove(id) else {
            return;
        };
        self.touch(Table::Sessions);
        let delay_ms = (session.lock_delay_ns / 1_000_000).min(MAX_LOCK_DELAY_MS);
        let held: Vec<_> = self
            .t
            .kvs
            .values()
            .filter(|e| e.session.as_deref() == Some(id))
            .cloned()
            .collect();
        for mut entry in held {
            let key = entry.key.clone();
            match session.behavior {
                SessionBehavior::Release => {
                    entry.session = None;
                    self.kv_put(entry, true);
                }
                SessionBehavior::Delete => self.kv_delete(&key),
            }
            if delay_ms > 0 {
                self.t
                    .lock_delays
                    .insert(key, now_ms.saturating_add(delay_ms));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::Store;
    use crate::command::Command;
    use crate::command::CommandResult;
    use crate::command::RegisterRequest;
    use crate::model::HealthCheck;
    use crate::model::Node;
    use crate::model::Session;
    use crate::model::health;
    use crate::table::Table;

    fn store_with_node(status: &str) -> Store {
        let s = Store::new();
        s.apply(
            1,
            Command::Register(RegisterRequest {
                node: Node {
                    node: "n1".to_string(),
                    ..Node::default()
                },
                checks: vec![HealthCheck {
                    check_id: "serfHealth".to_string(),
                    status: status.to_string(),
                    ..HealthCheck::default()
                }],
                ..RegisterRequest::default()
            }),
        );
        s
    }

    fn session(id: &str, node: &str, checks: &[&str]) -> Session {
        Session {
            id: id.to_string(),
            node: node.to_string(),
            node_checks: checks.iter().map(|c| c.to_string()).collect(),
            ..Session::default()
        }
    }

    #[test]
    fn create_sets_indexes() {
        let s = store_with_node(health::PASSING);
        assert_eq!(
            s.apply(
                2,
                Command::SessionCreate(session("a", "n1", &["serfHealth"]))
            ),
            CommandResult::Ok
        );
        let v = s.view();
        let got = v.session("a").unwrap();
        assert_eq!((got.create_index, got.modify_index), (2, 2));
        assert_eq!(v.node_sessions("N1").len(), 1);
        assert_eq!(v.table_index(Table::Sessions), 2);
    }

    #[test]
    fn create_validates_node_and_checks() {
        let s = store_with_node(health::PASSING);
        let rejected = |r: CommandResult| match r {
            CommandResult::Rejected(m) => m,
            other => panic!("expected rejection, got {other:?}"),
        };
        assert_eq!(
            rejected(s.apply(2, Command::SessionCreate(session("a", "ghost", &[])))),
            "Missing node registration"
        );
        assert_eq!(
            rejected(s.apply(3, Command::SessionCreate(session("a", "n1", &["nope"])))),
            "Missing check 'nope' registration"
        );
        assert_eq!(
            rejected(s.apply(4, Command::SessionCreate(session("", "n1", &[])))),
            "Missing session ID"
        );
        let s = store_with_node(health::CRITICAL);
        assert_eq!(
            rejected(s.apply(
                2,
                Command::SessionCreate(session("a", "n1", &["serfHealth"]))
            )),
            "Check 'serfHealth' is in critical state"
        );
        assert!(s.view().sessions().is_empty());
    }

    #[test]
    fn deregistering_a_check_invalidates_sessions() {
        let s = store_with_node(health::PASSING);
        s.apply(
            2,
            Command::SessionCreate(session("a", "n1", &["serfHealth"])),
        );
        s.apply(3, Command::SessionCreate(session("b", "n1", &[])));
        s.apply(
            4,
            Command::Deregister {
                node: "n1".to_string(),
                service_id: None,
                check_id: Some("serfHealth".to_string()),
            },
        );
        let ids: Vec<String> = s.view().sessions().into_iter().map(|s| s.id).collect();
        assert_eq!(ids, ["b"]);
    }

    #[test]
    fn destroying_unknown_session_is_noop() {
        let s = store_with_node(health::PASSING);
        s.apply(
            2,
            Command::SessionDestroy {
                id: "zzz".to_string(),
                now_ms: 5,
            },
        );
        assert_eq!(s.view().table_index(Table::Sessions), 0);
    }
}
