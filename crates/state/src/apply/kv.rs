//! KV writes with Consul's semantics (`kvs.go`): set, check-and-set, lock/unlock through
//! sessions, deletes that leave tombstones so prefix indexes never slide backwards, and the
//! lock-delay check made on the proposer's clock.

use crate::apply::Writer;
use crate::command::CommandResult;
use crate::command::KvOp;
use crate::command::KvVerb;
use crate::model::KvEntry;
use crate::table::Table;
use crate::tables::with_prefix;

impl Writer {
    /// Apply a stand-alone KV command.
    pub(crate) fn kv_command(&mut self, op: &KvOp) -> Result<CommandResult, String> {
        self.observe_clock(op.now_ms);
        match op.verb {
            KvVerb::Set => {
                self.kv_set(op);
                Ok(CommandResult::Ok)
            }
            KvVerb::Cas => Ok(CommandResult::Bool(self.kv_cas(op).is_some())),
            KvVerb::Lock => {
                match self.t.lock_delays.get(&op.key) {
                    Some(until) if op.now_ms < *until => return Ok(CommandResult::Bool(false)),
                    Some(_) => {
                        self.t.lock_delays.remove(&op.key);
                    }
                    None => {}
                }
                Ok(CommandResult::Bool(self.kv_lock(op)?.is_some()))
            }
            KvVerb::Unlock => Ok(CommandResult::Bool(self.kv_unlock(op)?.is_some())),
            KvVerb::Delete => {
                self.kv_delete(&op.key);
                Ok(CommandResult::Ok)
            }
            KvVerb::DeleteCas => Ok(CommandResult::Bool(self.kv_delete_cas(&op.key, op.index))),
            KvVerb::DeleteTree => {
                self.kv_delete_tree(&op.key);
                Ok(CommandResult::Ok)
            }
            KvVerb::Get
            | KvVerb::GetTree
            | KvVerb::CheckIndex
            | KvVerb::CheckSession
            | KvVerb::CheckNotExists => Err(format!(
                "KV operation {:?} is only valid in a transaction",
                op.verb
            )),
        }
    }

    /// Unconditional set; keeps the lock holder. Returns the entry as stored.
    pub(crate) fn kv_set(&mut self, op: &KvOp) -> KvEntry {
        self.kv_put(entry_of(op, None, 0), false)
    }

    /// Set if the entry's ModifyIndex is `op.index` (0: only if absent). `None` if not.
    pub(crate) fn kv_cas(&mut self, op: &KvOp) -> Option<KvEntry> {
        let existing = self.t.kvs.get(&op.key);
        let proceed = match (op.index, existing) {
            (0, existing) => existing.is_none(),
            (_, None) => false,
            (index, Some(e)) => e.modify_index == index,
        };
        proceed.then(|| self.kv_set(op))
    }

    /// Acquire the lock for `op.session` and set. `None` if another session holds it.
    pub(crate) fn kv_lock(&mut self, op: &KvOp) -> Result<Option<KvEntry>, String> {
        let session = required_session(op)?;
        if !self.t.sessions.contains_key(session) {
            return Err(format!("invalid session {session:?}"));
        }
        let lock_index = match self.t.kvs.get(&op.key) {
            Some(e) => match e.session.as_deref() {
                Some(holder) if holder == session => e.lock_index,
                Some(_) => return Ok(None),
                None => e.lock_index + 1,
            },
            None => 1,
        };
        let entry = entry_of(op, Some(session.to_string()), lock_index);
        Ok(Some(self.kv_put(entry, true)))
    }

    /// Release the lock held by `op.session` and set. `None` if it does not hold it.
    pub(crate) fn kv_unlock(&mut self, op: &KvOp) -> Result<Option<KvEntry>, String> {
        let session = required_session(op)?;
        let Some(e) = self.t.kvs.get(&op.key) else {
            return Ok(None);
        };
        if e.session.as_deref() != Some(session) {
            return Ok(None);
        }
        let entry = entry_of(op, None, e.lock_index);
        Ok(Some(self.kv_put(entry, true)))
    }

    /// Delete one key, leaving a tombstone.
    pub(crate) fn kv_delete(&mut self, key: &str) {
        if self.t.kvs.remove(key).is_some() {
            self.t.tombstones.insert(key.to_string(), self.idx);
            self.touch(Table::Kvs);
        }
    }

    /// Delete if the ModifyIndex is `index`. Like Consul, a missing key counts as success.
    pub(crate) fn kv_delete_cas(&mut self, key: &str, index: u64) -> bool {
        match self.t.kvs.get(key) {
            None => true,
            Some(e) if e.modify_index != index => false,
            Some(_) => {
                self.kv_delete(key);
                true
            }
        }
    }

    /// Delete every key under `prefix`, leaving one tombstone for the prefix (none for the
    /// whole tree, whose readers use the table index).
    pub(crate) fn kv_delete_tree(&mut self, prefix: &str) {
        let keys: Vec<String> = with_prefix(&self.t.kvs, prefix)
            .map(|(k, _)| k.clone())
            .collect();
        if keys.is_empty() {
            return;
        }
        for key in keys {
            self.t.kvs.remove(&key);
        }
        if !prefix.is_empty() {
            self.t.tombstones.insert(prefix.to_string(), self.idx);
        }
        self.touch(Table::Kvs);
    }

    /// Consul's `kvsSetTxn`: keep CreateIndex, keep the lock holder unless `update_session`,
    /// and write only when something changed.
    pub(crate) fn kv_put(&mut self, mut entry: KvEntry, update_session: bool) -> KvEntry {
        let existing = self.t.kvs.get(&entry.key);
        entry.create_index = existing.map_or(self.idx, |e| e.create_index);
        if !update_session {
            entry.session = existing.and_then(|e| e.session.clone());
        }
        if let Some(e) = existing.filter(|e| same_content(e, &entry)) {
            entry.modify_index = e.modify_index;
            return entry;
        }
        entry.modify_index = self.idx;
        self.t.kvs.insert(entry.key.clone(), entry.clone());
        self.touch(Table::Kvs);
        entry
    }
}

fn entry_of(op: &KvOp, session: Option<String>, lock_index: u64) -> KvEntry {
    KvEntry {
        key: op.key.clone(),
        flags: op.flags,
        value: op.value.clone(),
        session,
        lock_index,
        create_index: 0,
        modify_index: 0,
    }
}

fn required_session(op: &KvOp) -> Result<&str, String> {
    match op.session.as_deref() {
        Some(s) if !s.is_empty() => Ok(s),
        _ => Err("missing session".to_string()),
    }
}

/// Consul's `DirEntry.Equal`: everything but the Raft indexes.
fn same_content(a: &KvEntry, b: &KvEntry) -> bool {
    a.key == b.key
        && a.flags == b.flags
        && a.value == b.value
        && a.session == b.session
        && a.lock_index == b.lock_index
}

#[cfg(test)]
mod tests {
    use crate::Store;
    use crate::command::Command;
    use crate::command::CommandResult;
    use crate::command::KvOp;
    use crate::command::KvVerb;
    use crate::table::Table;
    use crate::testing::op;
    use crate::testing::store_with_sessions;
    use crate::testing::with_session;
    use crate::testing::with_value;

    fn with_index(mut o: KvOp, i: u64) -> KvOp {
        o.index = i;
        o
    }

    #[test]
    fn set_keeps_create_index_and_skips_identical_writes() {
        let s = Store::new();
        assert_eq!(
            s.apply(5, Command::Kv(op(KvVerb::Set, "a"))),
            CommandResult::Ok
        );
        s.apply(6, Command::Kv(with_value(op(KvVerb::Set, "a"), "w")));
        let e = s.view().kv_get("a").unwrap();
        assert_eq!((e.create_index, e.modify_index), (5, 6));
        s.apply(7, Command::Kv(with_value(op(KvVerb::Set, "a"), "w")));
        let v = s.view();
        assert_eq!(v.kv_get("a").unwrap().modify_index, 6);
        assert_eq!(v.table_index(Table::Kvs), 6);
        assert_eq!(v.index(), 7);
    }

    #[test]
    fn cas_zero_means_absent_and_index_must_match() {
        let s = Store::new();
        let cas = |i: u64, v: &str| Command::Kv(with_index(with_value(op(KvVerb::Cas, "k"), v), i));
        assert_eq!(s.apply(1, cas(0, "a")), CommandResult::Bool(true));
        assert_eq!(s.apply(2, cas(0, "b")), CommandResult::Bool(false));
        assert_eq!(s.apply(3, cas(9, "b")), CommandResult::Bool(false));
        assert_eq!(s.apply(4, cas(1, "b")), CommandResult::Bool(true));
        assert_eq!(s.view().kv_get("k").unwrap().value, Some(b"b".to_vec()));
        assert_eq!(
            s.apply(5, Command::Kv(with_index(op(KvVerb::Cas, "missing"), 3))),
            CommandResult::Bool(false)
        );
    }

    #[test]
    fn lock_requires_a_live_session() {
        let s = store_with_sessions();
        assert_eq!(
            s.apply(10, Command::Kv(op(KvVerb::Lock, "k"))),
            CommandResult::Rejected("missing session".to_string())
        );
        assert_eq!(
            s.apply(11, Command::Kv(with_session(op(KvVerb::Lock, "k"), "nope"))),
            CommandResult::Rejected("invalid session \"nope\"".to_string())
        );
        assert!(s.view().kv_get("k").is_none());
    }

    #[test]
    fn lock_acquire_reacquire_contend_release() {
        let s = store_with_sessions();
        let lock = |sess: &str, v: &str| {
            Command::Kv(with_session(with_value(op(KvVerb::Lock, "k"), v), sess))
        };
        assert_eq!(s.apply(10, lock("s1", "a")), CommandResult::Bool(true));
        let e = s.view().kv_get("k").unwrap();
        assert_eq!((e.lock_index, e.session.as_deref()), (1, Some("s1")));
        // Same session: value updates, LockIndex unchanged.
        assert_eq!(s.apply(11, lock("s1", "b")), CommandResult::Bool(true));
        let e = s.view().kv_get("k").unwrap();
        assert_eq!((e.lock_index, e.value.clone()), (1, Some(b"b".to_vec())));
        // Other session: refused.
        assert_eq!(s.apply(12, lock("s2", "c")), CommandResult::Bool(false));
        // Unlock by the non-holder: refused; by the holder: released, LockIndex kept.
        let unlock = |sess: &str| Command::Kv(with_session(op(KvVerb::Unlock, "k"), sess));
        assert_eq!(s.apply(13, unlock("s2")), CommandResult::Bool(false));
        assert_eq!(s.apply(14, unlock("s1")), CommandResult::Bool(true));
        let e = s.view().kv_get("k").unwrap();
        assert_eq!((e.lock_index, e.session.clone()), (1, None));
        // A new acquire increments LockIndex.
        assert_eq!(s.apply(15, lock("s2", "d")), CommandResult::Bool(true));
        assert_eq!(s.view().kv_get("k").unwrap().lock_index, 2);
        // Plain set keeps the holder.
        s.apply(16, Command::Kv(with_value(op(KvVerb::Set, "k"), "e")));
        assert_eq!(s.view().kv_get("k").unwrap().session.as_deref(), Some("s2"));
    }

    #[test]
    fn session_destroy_releases_and_starts_lock_delay() {
        let s = store_with_sessions();
        s.apply(10, Command::Kv(with_session(op(KvVerb::Lock, "k"), "s1")));
        s.apply(
            11,
            Command::SessionDestroy {
                id: "s1".to_string(),
                now_ms: 1_000,
            },
        );
        let v = s.view();
        let e = v.kv_get("k").unwrap();
        assert_eq!(
            (e.session.clone(), e.lock_index, e.modify_index),
            (None, 1, 11)
        );
        assert_eq!(v.lock_delay_until("k"), Some(16_000));
        // s2 may not lock during the delay, may afterwards.
        let mut lock = with_session(op(KvVerb::Lock, "k"), "s2");
        lock.now_ms = 15_999;
        assert_eq!(
            s.apply(12, Command::Kv(lock.clone())),
            CommandResult::Bool(false)
        );
        lock.now_ms = 16_000;
        assert_eq!(s.apply(13, Command::Kv(lock)), CommandResult::Bool(true));
        assert_eq!(
            s.view().lock_delay_until("k"),
            None,
            "expired delays are dropped"
        );
    }

    #[test]
    fn session_destroy_with_delete_behavior_deletes_keys() {
        let s = store_with_sessions();
        s.apply(10, Command::Kv(with_session(op(KvVerb::Lock, "a/k"), "s2")));
        s.apply(
            11,
            Command::SessionDestroy {
                id: "s2".to_string(),
                now_ms: 0,
            },
        );
        let v = s.view();
        assert!(v.kv_get("a/k").is_none());
        assert_eq!(v.kv_index("a/"), 11);
        assert_eq!(v.lock_delay_until("a/k"), None, "no lock delay configured");
    }

    #[test]
    fn deletes_leave_tombstones_for_prefix_indexes() {
        let s = Store::new();
        s.apply(1, Command::Kv(op(KvVerb::Set, "a/1")));
        s.apply(2, Command::Kv(op(KvVerb::Set, "a/2")));
        s.apply(3, Command::Kv(op(KvVerb::Set, "b/1")));
        assert_eq!(s.view().kv_index("a/"), 2);
        s.apply(4, Command::Kv(op(KvVerb::Delete, "a/2")));
        let v = s.view();
        assert_eq!(v.kv_index("a/"), 4);
        assert_eq!(v.kv_index("a/2"), 4);
        assert_eq!(v.kv_index("b/"), 3);
        assert_eq!(v.kv_index("zzz"), 4, "no match: table index");
        assert_eq!(v.kv_index(""), 4);
        // Deleting a missing key changes nothing.
        s.apply(5, Command::Kv(op(KvVerb::Delete, "nope")));
        assert_eq!(s.view().table_index(Table::Kvs), 4);
    }

    #[test]
    fn delete_cas_and_delete_tree() {
        let s = Store::new();
        s.apply(1, Command::Kv(op(KvVerb::Set, "t/a")));
        s.apply(2, Command::Kv(op(KvVerb::Set, "t/b")));
        s.apply(3, Command::Kv(op(KvVerb::Set, "u")));
        assert_eq!(
            s.apply(4, Command::Kv(with_index(op(KvVerb::DeleteCas, "t/a"), 7))),
            CommandResult::Bool(false)
        );
        assert_eq!(
            s.apply(5, Command::Kv(with_index(op(KvVerb::DeleteCas, "t/a"), 1))),
            CommandResult::Bool(true)
        );
        assert_eq!(
            s.apply(6, Command::Kv(with_index(op(KvVerb::DeleteCas, "t/a"), 1))),
            CommandResult::Bool(true),
            "Consul reports success for a missing key"
        );
        assert_eq!(
            s.apply(7, Command::Kv(op(KvVerb::DeleteTree, "t/"))),
            CommandResult::Ok
        );
        let v = s.view();
        assert!(v.kv_list("t/").is_empty());
        assert_eq!(v.kv_list("").len(), 1);
        assert_eq!(v.kv_index("t/"), 7);
    }

    #[test]
    fn read_verbs_are_rejected_outside_transactions() {
        let s = Store::new();
        assert!(matches!(
            s.apply(1, Command::Kv(op(KvVerb::Get, "a"))),
            CommandResult::Rejected(_)
        ));
    }
}
