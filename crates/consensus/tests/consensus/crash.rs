//! Crash safety: a child process writes until it is SIGKILLed; every write it saw acknowledged
//! must be present after restarting from the same data dir.

use std::io::BufRead as _;
use std::io::BufReader;
use std::process::Command;
use std::process::Stdio;
use std::sync::Arc;

use crate::support::KvFsm;
use crate::support::config;
use crate::support::set_cmd;
use crate::support::start_leader;

const CHILD_ENV: &str = "LEGATE_CONSENSUS_CRASH_CHILD_DIR";
/// Acknowledged writes to wait for before killing the child.
const ACKS_BEFORE_KILL: usize = 60;
/// Small enough that the child takes snapshots (and purges) before it is killed.
const SNAPSHOT_THRESHOLD: u64 = 16;

/// Child mode (only when spawned by `acknowledged_writes_survive_sigkill`): write forever,
/// printing `ack <key>` after each acknowledged write.
#[tokio::test]
#[ignore = "helper process for acknowledged_writes_survive_sigkill"]
async fn crash_child_writer() {
    let Ok(dir) = std::env::var(CHILD_ENV) else {
        return;
    };
    let node = start_leader(
        config(Some(dir.as_ref()), true, SNAPSHOT_THRESHOLD),
        Arc::default(),
    )
    .await;
    for i in 0u64.. {
        let key = format!("k{i}");
        node.write(set_cmd(&key, "v")).await.unwrap();
        println!("ack {key}");
    }
}

#[tokio::test]
async fn acknowledged_writes_survive_sigkill() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "crash::crash_child_writer",
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD_ENV, dir.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();

    let mut acked = Vec::new();
    let stdout = child.stdout.take().unwrap();
    for line in BufReader::new(stdout).lines() {
        let line = line.unwrap();
        if let Some(key) = line.strip_prefix("ack ") {
            acked.push(key.to_string());
            if acked.len() == ACKS_BEFORE_KILL {
                child.kill().unwrap(); // SIGKILL
                break;
            }
        }
    }
    child.wait().unwrap();
    assert_eq!(acked.len(), ACKS_BEFORE_KILL, "child exited early");

    let fsm = Arc::new(KvFsm::default());
    let node = start_leader(
        config(Some(dir.path()), true, SNAPSHOT_THRESHOLD),
        fsm.clone(),
    )
    .await;
    let map = fsm.map();
    for key in &acked {
        assert!(map.contains_key(key), "acknowledged write {key} lost");
    }
    assert!(fsm.state().restores >= 1, "a snapshot was restored");
    node.shutdown().await;
}
