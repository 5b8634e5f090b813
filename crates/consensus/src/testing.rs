//! Test support (feature `testing`): runs openraft's storage conformance suite against this
//! crate's redb log store and state-machine adapter, without exposing openraft types.

use std::path::Path;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::AtomicU64;
use std::sync::atomic::Ordering;

use openraft::StorageError;
use openraft::testing::log::StoreBuilder;
use openraft::testing::log::Suite;
use openraft::type_config::TypeConfigExt as _;

use crate::fsm::StateMachine;
use crate::log_store::RedbLogStore;
use crate::log_store::open_db;
use crate::snapshot_store::SnapshotStore;
use crate::state_machine::SmAdapter;
use crate::types::TypeConfig;

/// Run openraft's log-storage conformance suite (`openraft::testing::log::Suite::test_all`).
///
/// With `base_dir`, every store the suite asks for is a fresh redb file (plus snapshot dir) in
/// its own subdirectory of `base_dir`; without it, redb's in-memory backend is used.
pub async fn run_storage_conformance_suite(base_dir: Option<&Path>) -> Result<(), String> {
    let builder = Builder {
        base: base_dir.map(Path::to_path_buf),
        next: AtomicU64::new(0),
    };
    Suite::test_all(builder).await.map_err(|e| e.to_string())
}

struct Builder {
    base: Option<PathBuf>,
    next: AtomicU64,
}

impl StoreBuilder<TypeConfig, RedbLogStore, SmAdapter> for Builder {
    async fn build(&self) -> Result<((), RedbLogStore, SmAdapter), StorageError<TypeConfig>> {
        let fail = |e: String| StorageError::read(TypeConfig::err_from_string(e));
        let dir = self.base.as_ref().map(|b| {
            b.join(format!(
                "store-{}",
                self.next.fetch_add(1, Ordering::Relaxed)
            ))
        });
        let db = open_db(dir.as_deref()).map_err(|e| fail(e.to_string()))?;
        let snapshots = SnapshotStore::open(dir.map(|d| d.join("snapshots")))
            .map_err(|e| fail(e.to_string()))?;
        let sm = SmAdapter::recover(
            Arc::new(BytesFsm::default()),
            Arc::new(snapshots),
            Arc::default(),
        )
        .map_err(|e| fail(e.to_string()))?;
        Ok(((), RedbLogStore::new(db), sm))
    }
}

/// A state machine that is just a byte string (the suite never applies normal entries).
#[derive(Default)]
struct BytesFsm(Mutex<Vec<u8>>);

impl StateMachine for BytesFsm {
    fn apply(&self, _index: u64, command: &[u8]) -> Vec<u8> {
        let mut s = self.0.lock().unwrap_or_else(|e| e.into_inner());
        s.extend_from_slice(command);
        Vec::new()
    }

    fn snapshot(&self) -> Vec<u8> {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    fn restore(&self, snapshot: &[u8]) -> Result<(), String> {
        *self.0.lock().unwrap_or_else(|e| e.into_inner()) = snapshot.to_vec();
        Ok(())
    }
}
