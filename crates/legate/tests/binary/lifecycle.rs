//! Start-up and shutdown of `legate agent -dev`.

use std::time::Instant;

use crate::process::AgentProcess;
use crate::process::eventually;
use crate::process::http;

/// `agent -dev` elects itself, logs `cluster leadership acquired`, registers its node with a
/// passing serfHealth, and exits cleanly on SIGTERM.
#[test]
fn dev_agent_starts_leads_and_stops_on_sigterm() {
    let started = Instant::now();
    let mut agent = AgentProcess::start(&["-dev", "-node", "dev1"]);
    agent.wait_for_line("cluster leadership acquired");
    let client = http();
    let rpc = format!("127.0.0.1:{}", agent.rpc_port.unwrap());
    eventually("leader", || {
        client
            .get(agent.url("/v1/status/leader"))
            .send()
            .and_then(|r| r.json::<String>())
            .is_ok_and(|l| l == rpc)
    });
    eprintln!("leader known {:?} after spawn", started.elapsed());
    eventually("serfHealth passing", || {
        client
            .get(agent.url("/v1/health/node/dev1"))
            .send()
            .and_then(|r| r.json::<serde_json::Value>())
            .is_ok_and(|v| v[0]["CheckID"] == "serfHealth" && v[0]["Status"] == "passing")
    });
    agent.signal("TERM");
    assert!(agent.wait_exit(), "clean exit on SIGTERM");
}

/// `PUT /v1/agent/leave` answers 200 and the process exits.
#[test]
fn leave_endpoint_stops_the_agent() {
    let mut agent = AgentProcess::start(&["-dev"]);
    let response = http()
        .put(agent.url("/v1/agent/leave"))
        .send()
        .expect("leave");
    assert_eq!(response.status(), 200);
    assert!(agent.wait_exit());
}

/// SIGINT also stops it, and a pid file is written and removed.
#[test]
fn sigint_and_pid_file() {
    let dir = tempfile::tempdir().unwrap();
    let pid_file = dir.path().join("nested/pid");
    let mut agent = AgentProcess::start(&["-dev", "-pid-file", pid_file.to_str().unwrap()]);
    let pid = std::fs::read_to_string(&pid_file).expect("pid file written");
    assert_eq!(pid.trim(), agent.child.id().to_string());
    agent.signal("INT");
    assert!(agent.wait_exit());
    assert!(!pid_file.exists());
}
