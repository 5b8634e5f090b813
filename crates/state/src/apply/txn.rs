//! Transactions (Consul's `txn.go`, KV part): every op runs in order against the scratch copy,
//! each failure is recorded, and if any op failed the caller drops the copy. Results carry the
//! entry each op touched; write verbs return it without its value, as Consul does.

use crate::apply::Writer;
use crate::command::KvOp;
use crate::command::KvVerb;
use crate::command::TxnOp;
use crate::command::TxnOutcome;
use crate::model::KvEntry;
use crate::tables::with_prefix;

impl Writer {
    /// Run `ops`; the outcome's errors are non-empty iff the transaction must not commit.
    pub(crate) fn txn(&mut self, ops: &[TxnOp]) -> TxnOutcome {
        let mut out = TxnOutcome::default();
        for (i, op) in ops.iter().enumerate() {
            let result = match op {
                TxnOp::Kv(kv) => self.txn_kv(kv),
            };
            match result {
                Ok(mut entries) => out.results.append(&mut entries),
                Err(message) => out.errors.push((i, message)),
            }
        }
        if !out.errors.is_empty() {
            out.results.clear();
        }
        out
    }

    fn txn_kv(&mut self, op: &KvOp) -> Result<Vec<KvEntry>, String> {
        self.observe_clock(op.now_ms);
        let key = &op.key;
        let written = match op.verb {
            KvVerb::Set => self.kv_set(op),
            KvVerb::Cas => self
                .kv_cas(op)
                .ok_or_else(|| format!("failed to set key {key:?}, index is stale"))?,
            KvVerb::Lock => self
                .kv_lock(op)?
                .ok_or_else(|| format!("failed to lock key {key:?}, lock is already held"))?,
            KvVerb::Unlock => self.kv_unlock(op)?.ok_or_else(|| {
                format!(
                    "failed to unlock key {key:?}, lock isn't held, or is held by another session"
                )
            })?,
            KvVerb::Get => {
                let entry = self
                    .t
                    .kvs
                    .get(key)
                    .ok_or_else(|| format!("key {key:?} doesn't exist"))?;
                return Ok(vec![entry.clone()]);
            }
            KvVerb::GetTree => {
                return Ok(with_prefix(&self.t.kvs, key)
                    .map(|(_, e)| e.clone())
                    .collect());
            }
            KvVerb::CheckIndex => {
                let entry =
                    self.t.kvs.get(key).ok_or_else(|| {
                        format!("failed to check index, key {key:?} doesn't exist")
                    })?;
                if entry.modify_index != op.index {
                    return Err(format!(
                        "failed index check for key {key:?}, current modify index {} != {}",
                        entry.modify_index, op.index
                    ));
                }
                entry.clone()
            }
            KvVerb::CheckSession => {
                let entry =
                    self.t.kvs.get(key).ok_or_else(|| {
                        format!("failed to check session, key {key:?} doesn't exist")
                    })?;
                let held = entry.session.as_deref().unwrap_or("");
                let wanted = op.session.as_deref().unwrap_or("");
                if held != wanted {
                    return Err(format!(
                        "failed session check for key {key:?}, current session {held:?} != {wanted:?}"
                    ));
                }
                entry.clone()
            }
            KvVerb::CheckNotExists => {
                if self.t.kvs.contains_key(key) {
                    return Err(format!("key {key:?} exists"));
                }
                return Ok(Vec::new());
            }
            KvVerb::Delete => {
                self.kv_delete(key);
                return Ok(Vec::new());
            }
            KvVerb::DeleteCas => {
                if !self.kv_delete_cas(key, op.index) {
                    return Err(format!("failed to delete key {key:?}, index is stale"));
                }
                return Ok(Vec::new());
            }
            KvVerb::DeleteTree => {
                self.kv_delete_tree(key);
                return Ok(Vec::new());
            }
        };
        Ok(vec![KvEntry {
            value: None,
            ..written
        }])
    }
}

#[cfg(test)]
mod tests {
    use crate::command::Command;
    use crate::command::CommandResult;
    use crate::command::KvVerb;
    use crate::command::TxnOp;
    use crate::command::TxnOutcome;
    use crate::testing::op;
    use crate::testing::store_with_sessions;
    use crate::testing::with_session;
    use crate::testing::with_value;

    fn txn(ops: Vec<crate::command::KvOp>) -> Command {
        Command::Txn(ops.into_iter().map(TxnOp::Kv).collect())
    }

    fn outcome(r: CommandResult) -> TxnOutcome {
        match r {
            CommandResult::Txn(o) => o,
            other => panic!("expected txn outcome, got {other:?}"),
        }
    }

    #[test]
    fn successful_txn_commits_and_reports_results() {
        let s = store_with_sessions();
        let o = outcome(s.apply(
            10,
            txn(vec![
                with_value(op(KvVerb::Set, "a"), "1"),
                with_session(op(KvVerb::Lock, "b"), "s1"),
                op(KvVerb::Get, "a"),
                op(KvVerb::CheckNotExists, "zz"),
                op(KvVerb::Delete, "nothing"),
                op(KvVerb::GetTree, ""),
            ]),
        ));
        assert!(o.errors.is_empty(), "{:?}", o.errors);
        // set, lock, get, then one per entry of the tree.
        assert_eq!(o.results.len(), 5);
        assert_eq!(o.results[0].key, "a");
        assert_eq!(o.results[0].value, None, "write verbs omit the value");
        assert_eq!(o.results[0].modify_index, 10);
        assert_eq!(o.results[1].session.as_deref(), Some("s1"));
        assert_eq!(
            o.results[2].value,
            Some(b"1".to_vec()),
            "get keeps the value"
        );
        assert_eq!(o.results[3].key, "a");
        assert_eq!(o.results[4].key, "b");
        let v = s.view();
        assert_eq!(v.kv_get("a").unwrap().value, Some(b"1".to_vec()));
        assert_eq!(v.kv_get("b").unwrap().lock_index, 1);
    }

    #[test]
    fn failed_txn_changes_nothing_and_lists_every_error() {
        let s = store_with_sessions();
        s.apply(9, crate::command::Command::Kv(op(KvVerb::Set, "x")));
        let before = s.snapshot();
        let mut cas = op(KvVerb::Cas, "x");
        cas.index = 1;
        let mut check = op(KvVerb::CheckIndex, "x");
        check.index = 9;
        let o = outcome(s.apply(
            10,
            txn(vec![
                op(KvVerb::Set, "new"),
                cas,
                check,
                op(KvVerb::Get, "missing"),
                with_session(op(KvVerb::Lock, "l"), "ghost"),
                op(KvVerb::CheckNotExists, "x"),
            ]),
        ));
        assert!(o.results.is_empty());
        assert_eq!(
            o.errors,
            vec![
                (1, "failed to set key \"x\", index is stale".to_string()),
                (3, "key \"missing\" doesn't exist".to_string()),
                (4, "invalid session \"ghost\"".to_string()),
                (5, "key \"x\" exists".to_string()),
            ]
        );
        let mut after = s.snapshot();
        assert_eq!(after.last_index, 10);
        after.last_index = before.last_index;
        assert_eq!(before, after);
    }

    #[test]
    fn later_ops_see_earlier_writes() {
        let s = store_with_sessions();
        let mut check = op(KvVerb::CheckIndex, "a");
        check.index = 10;
        let o = outcome(s.apply(
            10,
            txn(vec![
                op(KvVerb::Set, "a"),
                check,
                with_session(op(KvVerb::CheckSession, "a"), ""),
            ]),
        ));
        assert!(o.errors.is_empty(), "{:?}", o.errors);
        let mut wrong = op(KvVerb::CheckSession, "a");
        wrong.session = Some("s1".to_string());
        let o = outcome(s.apply(11, txn(vec![wrong])));
        assert_eq!(
            o.errors,
            vec![(
                0,
                "failed session check for key \"a\", current session \"\" != \"s1\"".to_string()
            )]
        );
    }
}
