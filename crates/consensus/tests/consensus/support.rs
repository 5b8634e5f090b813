//! Shared fixtures: a JSON key/value test state machine, configs, and waiting helpers.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use std::sync::Mutex;
use std::time::Duration;

use legate_consensus::Consensus;
use legate_consensus::RaftConfig;
use legate_consensus::StateMachine;

/// Upper bound for any wait; only reached when a test is failing.
pub(crate) const PATIENCE: Duration = Duration::from_secs(20);

/// What the test state machine observed.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub(crate) struct KvState {
    pub(crate) map: BTreeMap<String, String>,
    /// Log indexes of the commands applied by this instance, in order.
    pub(crate) applied: Vec<u64>,
    /// How many times `restore` was called with a snapshot.
    pub(crate) restores: usize,
}

/// A key/value state machine; commands are JSON `[key, value]`, responses the previous value.
#[derive(Default)]
pub(crate) struct KvFsm(pub(crate) Mutex<KvState>);

impl KvFsm {
    pub(crate) fn map(&self) -> BTreeMap<String, String> {
        self.0.lock().unwrap().map.clone()
    }

    pub(crate) fn state(&self) -> KvState {
        self.0.lock().unwrap().clone()
    }
}

impl StateMachine for KvFsm {
    fn apply(&self, index: u64, command: &[u8]) -> Vec<u8> {
        let (k, v): (String, String) = serde_json::from_slice(command).unwrap();
        let mut s = self.0.lock().unwrap();
        s.applied.push(index);
        let prev = s.map.insert(k, v);
        serde_json::to_vec(&prev).unwrap()
    }

    fn snapshot(&self) -> Vec<u8> {
        serde_json::to_vec(&self.0.lock().unwrap().map).unwrap()
    }

    fn restore(&self, snapshot: &[u8]) -> Result<(), String> {
        let map = serde_json::from_slice(snapshot).map_err(|e| e.to_string())?;
        let mut s = self.0.lock().unwrap();
        s.map = map;
        s.restores += 1;
        Ok(())
    }
}

pub(crate) fn set_cmd(k: &str, v: &str) -> Vec<u8> {
    serde_json::to_vec(&(k, v)).unwrap()
}

pub(crate) fn config(
    data_dir: Option<&Path>,
    bootstrap: bool,
    snapshot_threshold: u64,
) -> RaftConfig {
    RaftConfig {
        node_id: "5f2a6a43-0a3e-4b7e-9d51-3c1b7f0e8a11".into(),
        node_name: "server-1".into(),
        rpc_addr: "127.0.0.1:8300".into(),
        data_dir: data_dir.map(Path::to_path_buf),
        bootstrap,
        raft_multiplier: 1,
        snapshot_threshold,
        trailing_logs: legate_consensus::DEFAULT_TRAILING_LOGS,
        transport: None,
    }
}

/// Start a node and wait until it has established leadership.
pub(crate) async fn start_leader(cfg: RaftConfig, fsm: Arc<KvFsm>) -> Consensus {
    let node = Consensus::start(cfg, fsm).await.unwrap();
    wait_leader(&node).await;
    node
}

pub(crate) async fn wait_leader(node: &Consensus) {
    let mut rx = node.leadership();
    tokio::time::timeout(PATIENCE, rx.wait_for(|leads| *leads))
        .await
        .expect("timed out waiting for leadership")
        .expect("leadership channel closed");
}

/// Wait until `cond` holds, re-checking on a short interval (bounded by [`PATIENCE`]).
pub(crate) async fn eventually(what: &str, mut cond: impl FnMut() -> bool) {
    let deadline = tokio::time::Instant::now() + PATIENCE;
    while !cond() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// Collects formatted tracing output so tests can look for exact log messages.
#[derive(Default, Clone)]
pub(crate) struct LogCapture(Arc<Mutex<Vec<u8>>>);

struct LogWriter(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for LogWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl LogCapture {
    /// A subscriber writing INFO and above into this capture.
    pub(crate) fn subscriber(&self) -> impl tracing::Subscriber + Send + Sync + use<> {
        let buf = self.0.clone();
        tracing_subscriber::fmt()
            .with_ansi(false)
            .with_max_level(tracing::Level::INFO)
            .with_writer(move || LogWriter(buf.clone()))
            .finish()
    }

    pub(crate) fn contains(&self, needle: &str) -> bool {
        String::from_utf8_lossy(&self.0.lock().unwrap()).contains(needle)
    }
}
