//! openraft's storage conformance suite against the redb log store and the snapshot-backed
//! state-machine adapter, with both redb backends.

use legate_consensus::testing::run_storage_conformance_suite;

#[tokio::test]
async fn log_store_suite_in_memory_backend() {
    run_storage_conformance_suite(None).await.unwrap();
}

#[tokio::test]
async fn log_store_suite_file_backend() {
    let dir = tempfile::tempdir().unwrap();
    run_storage_conformance_suite(Some(dir.path()))
        .await
        .unwrap();
}
