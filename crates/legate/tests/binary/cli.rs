//! The Consul-compatible CLI against a real agent.

use crate::process::AgentProcess;
use crate::process::cli_with_stdin;
use crate::process::eventually;

/// `version` in both formats, with a Consul version ≥ 1.20.
#[test]
fn version_formats() {
    let (code, out, _) = cli_with_stdin("127.0.0.1:1", &["version", "-format=json"], None);
    assert_eq!(code, 0);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let version = v["Version"].as_str().unwrap();
    let minor: u32 = version.split('.').nth(1).unwrap().parse().unwrap();
    assert!(version.starts_with("1.") && minor >= 20, "{version}");
    let (code, out, _) = cli_with_stdin("127.0.0.1:1", &["version"], None);
    assert_eq!(code, 0);
    assert!(out.starts_with(&format!("Consul v{version}")), "{out}");
}

/// kv put/get/delete, members, catalog services, config write from stdin.
#[test]
fn kv_members_catalog_and_config() {
    let agent = AgentProcess::start(&["-dev", "-node", "cli-node"]);
    eventually("leader", || agent.cli(&["kv", "put", "probe", "1"]).0 == 0);
    let (code, out, err) = agent.cli(&["kv", "put", "greeting", "hello"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(out.trim(), "Success! Data written to: greeting");
    let (code, out, _) = agent.cli(&["kv", "get", "greeting"]);
    assert_eq!((code, out.as_str()), (0, "hello\n"));
    let (code, _, err) = agent.cli(&["kv", "get", "missing"]);
    assert_eq!(code, 1);
    assert!(err.contains("No key exists at: missing"), "{err}");
    let (code, _, _) = agent.cli(&["kv", "delete", "greeting"]);
    assert_eq!(code, 0);
    assert_eq!(agent.cli(&["kv", "get", "greeting"]).0, 1);

    let (code, out, _) = agent.cli(&["members"]);
    assert_eq!(code, 0);
    assert!(out.lines().next().unwrap().starts_with("Node"), "{out}");
    assert!(
        out.contains("cli-node") && out.contains("alive") && out.contains("server"),
        "{out}"
    );

    let (code, out, _) = agent.cli(&["catalog", "services"]);
    assert_eq!((code, out.trim()), (0, "consul"));

    let (code, out, err) = cli_with_stdin(
        &agent.http_addr,
        &["config", "write", "-"],
        Some("Kind = \"service-defaults\"\nName = \"web\"\nProtocol = \"http\"\n"),
    );
    assert_eq!(code, 0, "{out}{err}");
    let (code, out, _) = agent.cli(&[
        "config",
        "read",
        "-kind",
        "service-defaults",
        "-name",
        "web",
    ]);
    assert_eq!(code, 0);
    let entry: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(entry["Protocol"], "http");
}
