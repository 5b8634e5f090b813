//! Acknowledged writes survive `kill -9` of a `-data-dir` server.

use crate::process::AgentProcess;
use crate::process::eventually;
use crate::process::http;

/// Write 200 keys, SIGKILL the server, restart it on the same data directory: every
/// acknowledged write is there.
#[test]
fn acknowledged_writes_survive_sigkill() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let args = [
        "-server",
        "-bootstrap",
        "-bind",
        "127.0.0.1",
        "-node",
        "durable",
        "-data-dir",
        data.to_str().unwrap(),
    ];
    let client = http();
    let node_id;
    {
        let agent = AgentProcess::start(&args);
        eventually("leader", || {
            client
                .put(agent.url("/v1/kv/probe"))
                .body("x")
                .send()
                .is_ok_and(|r| r.status() == 200)
        });
        for i in 0..200 {
            let r = client
                .put(agent.url(&format!("/v1/kv/k/{i}")))
                .body(format!("v{i}"))
                .send()
                .unwrap();
            assert_eq!(r.text().unwrap(), "true");
        }
        node_id = client
            .get(agent.url("/v1/agent/self"))
            .send()
            .unwrap()
            .json::<serde_json::Value>()
            .unwrap()["Config"]["NodeID"]
            .clone();
        // Dropping the handle SIGKILLs the process.
    }
    let agent = AgentProcess::start(&args);
    eventually("leader after restart", || {
        client
            .get(agent.url("/v1/kv/k/199?raw"))
            .send()
            .is_ok_and(|r| r.status() == 200)
    });
    let keys: Vec<String> = client
        .get(agent.url("/v1/kv/k/?keys"))
        .send()
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(keys.len(), 200);
    for i in [0, 57, 199] {
        let v = client
            .get(agent.url(&format!("/v1/kv/k/{i}?raw")))
            .send()
            .unwrap()
            .text()
            .unwrap();
        assert_eq!(v, format!("v{i}"));
    }
    let self_after: serde_json::Value = client
        .get(agent.url("/v1/agent/self"))
        .send()
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(
        self_after["Config"]["NodeID"], node_id,
        "node ID persists in the data dir"
    );
}
