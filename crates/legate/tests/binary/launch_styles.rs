//! The launch styles of shared/reference/launch-contracts.md §2: how test harnesses and
//! launchers start a `consul` binary, and the readiness probes they then run.

use std::process::Command;

use crate::process::AgentProcess;
use crate::process::binary;
use crate::process::eventually;
use crate::process::free_port;
use crate::process::http;

/// The official Go SDK test server: not dev mode, one JSON config file with eight explicit
/// ports and the keys it always writes (`segments: null`, `version`, `addresses: {}`, …);
/// probes 1, 2, 2′, 4, 5 and 6 answer as the SDK expects.
#[test]
fn sdk_test_server_config_and_probes() {
    let dir = tempfile::tempdir().unwrap();
    let node_id = "a0a1a2a3-b4b5-c6c7-d8d9-e0e1e2e3e4e5";
    let ports: Vec<u16> = (0..8).map(|_| free_port()).collect();
    let config = serde_json::json!({
        "node_name": "node-sdk", "node_id": node_id, "performance": {"raft_multiplier": 1},
        "bootstrap": true, "server": true, "data_dir": dir.path().join("data"), "segments": null,
        "disable_update_check": true, "log_level": "debug", "bind_addr": "127.0.0.1", "addresses": {},
        "ports": {"dns": ports[0], "http": ports[1], "https": ports[2], "serf_lan": ports[3],
                  "serf_wan": ports[4], "server": ports[5], "grpc": ports[6], "grpc_tls": ports[7]},
        "acl": {"tokens": {}},
        "connect": {"enabled": true, "ca_config": {"cluster_id": "11111111-2222-3333-4444-555555555555"}},
        "skip_leave_on_interrupt": true, "peering": {"enabled": true}, "version": "1.20.0"
    });
    let file = dir.path().join("config.json");
    std::fs::write(&file, config.to_string()).unwrap();
    // The SDK passes no -http-port; AgentProcess adds one, which overrides the file's.
    let agent = AgentProcess::start_exact(&["-config-file", file.to_str().unwrap()]);
    let client = http();
    let rpc = format!("127.0.0.1:{}", ports[5]);
    eventually("probe 2: leader", || {
        client
            .get(agent.url("/v1/status/leader"))
            .send()
            .and_then(|r| r.json::<String>())
            .is_ok_and(|l| l == rpc)
    });
    let nodes = client
        .get(agent.url("/v1/catalog/nodes?index=0"))
        .send()
        .unwrap();
    assert_eq!(nodes.headers()["X-Consul-KnownLeader"], "true");
    let index: u64 = nodes.headers()["X-Consul-Index"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(index >= 2, "probe 2': index {index}");
    let nodes: serde_json::Value = nodes.json().unwrap();
    assert_eq!(nodes[0]["Node"], "node-sdk");
    eventually("probe 4: serfHealth", || {
        client
            .get(agent.url("/v1/health/node/node-sdk"))
            .send()
            .and_then(|r| r.json::<serde_json::Value>())
            .is_ok_and(|v| {
                v.as_array()
                    .is_some_and(|a| a.iter().any(|c| c["CheckID"] == "serfHealth"))
            })
    });
    let raft: serde_json::Value = client
        .get(agent.url("/v1/operator/raft/configuration"))
        .send()
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(raft["Servers"][0]["ID"], node_id, "probe 5");
    assert_eq!(raft["Servers"][0]["Voter"], true);
    let deleted = client
        .delete(agent.url("/v1/config/service-intentions/web"))
        .send()
        .unwrap();
    assert_eq!(deleted.status(), 200, "probe 6");
}

/// The container-style dev launch: `-dev -client=0.0.0.0 -data-dir … -config-dir …` with a
/// `local.json` disabling https, dns and grpc_tls; then probe 9 (register, see it in health,
/// deregister).
#[test]
fn container_style_dev_launch() {
    let dir = tempfile::tempdir().unwrap();
    let config_dir = dir.path().join("config");
    std::fs::create_dir_all(&config_dir).unwrap();
    std::fs::write(
        config_dir.join("local.json"),
        r#"{"ports":{"https":-1,"dns":-1,"grpc_tls":-1},"performance":{"raft_multiplier":1},"enable_script_checks":true}"#,
    )
    .unwrap();
    let data = dir.path().join("data");
    let agent = AgentProcess::start(&[
        "-dev",
        "-client=127.0.0.1",
        "-log-level",
        "trace",
        &format!("-data-dir={}", data.display()),
        &format!("-config-dir={}", config_dir.display()),
    ]);
    let client = http();
    eventually("leader", || {
        client
            .get(agent.url("/v1/status/leader"))
            .send()
            .and_then(|r| r.json::<String>())
            .is_ok_and(|l| !l.is_empty())
    });
    let r = client
        .put(agent.url("/v1/agent/service/register"))
        .body(r#"{"name":"test-service"}"#)
        .send()
        .unwrap();
    assert_eq!(r.status(), 200);
    eventually("service in health", || {
        client
            .get(agent.url("/v1/health/service/test-service"))
            .send()
            .and_then(|r| r.json::<Vec<serde_json::Value>>())
            .is_ok_and(|v| !v.is_empty())
    });
    let r = client
        .put(agent.url("/v1/agent/service/deregister/test-service"))
        .send()
        .unwrap();
    assert_eq!(r.status(), 200);
}

/// The same binary behind a symlink named `consul` behaves identically.
#[test]
fn consul_symlink_behaves_the_same() {
    let dir = tempfile::tempdir().unwrap();
    let link = dir.path().join("consul");
    std::os::unix::fs::symlink(binary(), &link).unwrap();
    let direct = Command::new(binary())
        .args(["version", "-format=json"])
        .output()
        .unwrap();
    let via_link = Command::new(&link)
        .args(["version", "-format=json"])
        .output()
        .unwrap();
    assert!(via_link.status.success());
    assert_eq!(direct.stdout, via_link.stdout);
}
