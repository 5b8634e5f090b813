//! The [`Store`]: the current tables behind a lock, swapped whole on every apply, plus one
//! watch channel per table that blocking queries wait on.

use std::future::Future;
use std::pin::pin;
use std::sync::Arc;
use std::sync::Mutex;
use std::sync::RwLock;
use std::task::Poll;

use tokio::sync::watch;

use crate::apply;
use crate::command::Command;
use crate::command::CommandResult;
use crate::snapshot::Snapshot;
use crate::table::Table;
use crate::tables::Tables;
use crate::view::StateView;

/// What a table's watch channel carries: its index, and the restore epoch.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Mark {
    index: u64,
    epoch: u64,
}

/// The state store. Cheap point-in-time reads ([`Store::view`]); writes only through
/// [`Store::apply`] (in Raft log order) and [`Store::restore`].
pub struct Store {
    current: RwLock<Arc<Tables>>,
    /// Serializes writers so each builds on the previous version.
    writer: Mutex<()>,
    marks: [watch::Sender<Mark>; Table::ALL.len()],
}

impl Default for Store {
    fn default() -> Self {
        Store::new()
    }
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("last_index", &self.last_index())
            .finish_non_exhaustive()
    }
}

impl Store {
    /// An empty store.
    pub fn new() -> Store {
        Store {
            current: RwLock::new(Arc::new(Tables::default())),
            writer: Mutex::new(()),
            marks: std::array::from_fn(|_| watch::Sender::new(Mark::default())),
        }
    }

    /// Apply a committed command at Raft `index` (strictly increasing). Records and tables
    /// changed by it get `index` as their index. A rejected command changes nothing but the
    /// last applied index.
    pub fn apply(&self, index: u64, command: Command) -> CommandResult {
        self.apply_at(index, 0, command)
    }

    /// Apply a committed command proposed at `now_ms` (the proposer's Unix milliseconds). The
    /// store's clock (used for lock delays of sessions the command invalidates) only moves
    /// forward, so a proposer with a slow clock cannot shorten a lock delay.
    pub fn apply_at(&self, index: u64, now_ms: u64, command: Command) -> CommandResult {
        let _writer = self.writer.lock().unwrap_or_else(|e| e.into_inner());
        let base = self.load();
        let applied = apply::apply_at(&base, index, now_ms, command);
        self.publish(applied.tables, &applied.changed);
        applied.result
    }

    /// Point-in-time read view.
    pub fn view(&self) -> StateView {
        StateView::new(self.load())
    }

    /// Wait until the index of any of `tables` exceeds `min_index`, the state is restored, or
    /// `timeout` completes; returns the view at wake-up. Returns at once if an index already
    /// exceeds `min_index`.
    pub async fn wait_change(
        &self,
        tables: &[Table],
        min_index: u64,
        timeout: impl Future<Output = ()>,
    ) -> StateView {
        let mut receivers: Vec<(watch::Receiver<Mark>, u64)> = tables
            .iter()
            .map(|t| {
                let mut rx = self.marks[t.slot()].subscribe();
                let epoch = rx.borrow_and_update().epoch;
                (rx, epoch)
            })
            .collect();
        let view = self.view();
        if view.max_index(tables) > min_index {
            return view;
        }
        let mut waits: Vec<_> = receivers
            .iter_mut()
            .map(|(rx, epoch)| Box::pin(wait_mark(rx, min_index, *epoch)))
            .collect();
        let mut timeout = pin!(timeout);
        std::future::poll_fn(|cx| {
            if waits.iter_mut().any(|w| w.as_mut().poll(cx).is_ready()) {
                return Poll::Ready(());
            }
            timeout.as_mut().poll(cx)
        })
        .await;
        self.view()
    }

    /// The whole state.
    pub fn snapshot(&self) -> Snapshot {
        Snapshot::from_tables(&self.load())
    }

    /// Replace the whole state with `snap` and wake every watcher. Table indexes and the last
    /// index never go backwards.
    pub fn restore(&self, snap: Snapshot) {
        let _writer = self.writer.lock().unwrap_or_else(|e| e.into_inner());
        let base = self.load();
        let applied = apply::restore(&base, None, snap);
        self.publish(applied.tables, &applied.changed);
    }

    /// The last applied Raft index.
    pub fn last_index(&self) -> u64 {
        self.load().last_index
    }

    fn load(&self) -> Arc<Tables> {
        self.current
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Install `tables` and notify the watchers of `changed`. Called with the writer lock held.
    fn publish(&self, tables: Tables, changed: &[Table]) {
        let marks: Vec<(Table, Mark)> = changed
            .iter()
            .map(|t| {
                let mark = Mark {
                    index: tables.indexes.get(*t),
                    epoch: tables.epoch,
                };
                (*t, mark)
            })
            .collect();
        *self.current.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(tables);
        for (t, mark) in marks {
            self.marks[t.slot()].send_replace(mark);
        }
    }
}

/// Completes once the table's index passes `min_index` or a restore moved the epoch.
async fn wait_mark(rx: &mut watch::Receiver<Mark>, min_index: u64, epoch: u64) {
    // The sender lives as long as the store borrowed by the caller, so this cannot fail.
    let _ = rx
        .wait_for(|m| m.index > min_index || m.epoch != epoch)
        .await
        .map(|_| ());
}

#[cfg(test)]
mod tests {
    use std::future::pending;

    use tokio::sync::oneshot;

    use super::*;
    use crate::command::KvVerb;
    use crate::testing::op;

    fn assert_send_sync<T: Send + Sync>() {}

    #[test]
    fn store_and_view_are_send_and_sync() {
        assert_send_sync::<Store>();
        assert_send_sync::<StateView>();
    }

    #[test]
    fn wait_change_future_is_send() {
        fn is_send<F: Future + Send>(_: F) {}
        let s = Store::new();
        is_send(s.wait_change(&[Table::Kvs], 0, pending::<()>()));
    }

    #[tokio::test]
    async fn returns_at_once_when_index_already_passed() {
        let s = Store::new();
        s.apply(3, Command::Kv(op(KvVerb::Set, "a")));
        let v = s.wait_change(&[Table::Kvs], 2, pending()).await;
        assert_eq!(v.table_index(Table::Kvs), 3);
    }

    #[tokio::test]
    async fn wakes_on_write_to_watched_table() {
        let s = Arc::new(Store::new());
        s.apply(1, Command::Kv(op(KvVerb::Set, "a")));
        let waiter = {
            let s = Arc::clone(&s);
            tokio::spawn(async move { s.wait_change(&[Table::Kvs], 1, pending()).await })
        };
        tokio::task::yield_now().await;
        s.apply(2, Command::Kv(op(KvVerb::Set, "b")));
        let v = waiter.await.unwrap();
        assert_eq!(v.table_index(Table::Kvs), 2);
        assert!(v.kv_get("b").is_some());
    }

    #[tokio::test]
    async fn ignores_writes_to_other_tables_until_timeout() {
        let s = Arc::new(Store::new());
        s.apply(1, Command::Kv(op(KvVerb::Set, "a")));
        let (fire, fired) = oneshot::channel::<()>();
        let waiter = {
            let s = Arc::clone(&s);
            tokio::spawn(async move {
                s.wait_change(&[Table::Nodes], 0, async {
                    let _ = fired.await;
                })
                .await
            })
        };
        tokio::task::yield_now().await;
        s.apply(2, Command::Kv(op(KvVerb::Set, "b")));
        tokio::task::yield_now().await;
        assert!(
            !waiter.is_finished(),
            "a KV write must not wake a nodes watcher"
        );
        fire.send(()).unwrap();
        let v = waiter.await.unwrap();
        assert_eq!(v.table_index(Table::Nodes), 0);
        assert_eq!(v.index(), 2);
    }

    #[tokio::test]
    async fn restore_wakes_watchers_even_without_index_change() {
        let s = Arc::new(Store::new());
        s.apply(5, Command::Kv(op(KvVerb::Set, "a")));
        let snap = s.snapshot();
        let waiter = {
            let s = Arc::clone(&s);
            tokio::spawn(async move { s.wait_change(&[Table::Kvs], 5, pending()).await })
        };
        tokio::task::yield_now().await;
        s.restore(snap);
        let v = waiter.await.unwrap();
        assert_eq!(v.table_index(Table::Kvs), 5);
    }

    #[test]
    fn restore_replaces_state_and_keeps_indexes_monotonic() {
        let a = Store::new();
        a.apply(3, Command::Kv(op(KvVerb::Set, "from-a")));
        let b = Store::new();
        b.apply(10, Command::Kv(op(KvVerb::Set, "from-b")));
        b.restore(a.snapshot());
        let v = b.view();
        assert!(v.kv_get("from-b").is_none());
        assert!(v.kv_get("from-a").is_some());
        assert_eq!(v.table_index(Table::Kvs), 10);
        assert_eq!(b.last_index(), 10);
    }

    #[test]
    fn restore_command_applies_at_index() {
        let a = Store::new();
        a.apply(3, Command::Kv(op(KvVerb::Set, "x")));
        let b = Store::new();
        let r = b.apply(20, Command::Restore(Box::new(a.snapshot())));
        assert_eq!(r, CommandResult::Ok);
        assert_eq!(b.last_index(), 20);
        assert!(b.view().kv_get("x").is_some());
    }
}

#[cfg(test)]
mod clock_tests {
    use crate::command::Command;
    use crate::command::KvVerb;
    use crate::testing::op;
    use crate::testing::store_with_sessions;
    use crate::testing::with_session;

    /// A node deregistration proposed at time T invalidates the node's sessions and starts the
    /// lock delay of their keys at T, even though the command itself carries no clock.
    #[test]
    fn catalog_invalidation_starts_lock_delay_at_the_proposal_time() {
        let store = store_with_sessions();
        let mut lock = with_session(op(KvVerb::Lock, "leader"), "s1");
        lock.now_ms = 1_000;
        store.apply(4, Command::Kv(lock));
        let deregister = Command::Deregister {
            node: "n1".to_string(),
            service_id: None,
            check_id: None,
        };
        store.apply_at(5, 50_000, deregister);
        assert_eq!(
            store.view().lock_delay_until("leader"),
            Some(50_000 + 15_000)
        );
    }
}
