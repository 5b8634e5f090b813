//! Config files: services registered at start, reload, and start-up errors that name the
//! file, key and reason.

use std::process::Command;

use crate::process::AgentProcess;
use crate::process::binary;
use crate::process::eventually;
use crate::process::http;

/// An unknown key stops start-up with a message naming the file and the key.
#[test]
fn unknown_key_stops_startup() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("bad.json");
    std::fs::write(&file, r#"{"datacenter":"dc1","no_such_key":true}"#).unwrap();
    let output = Command::new(binary())
        .args(["agent", "-dev", "-config-file", file.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("bad.json"), "{stderr}");
    assert!(stderr.contains("no_such_key"), "{stderr}");
}

/// A bad duration and a bad port are start-up errors that say what is wrong.
#[test]
fn bad_values_stop_startup() {
    let dir = tempfile::tempdir().unwrap();
    for (name, body, needle) in [
        (
            "dur.json",
            r#"{"autopilot":{"server_stabilization_time":"ten seconds"}}"#,
            "server_stabilization_time",
        ),
        ("port.json", r#"{"ports":{"http":"eighty"}}"#, "http"),
    ] {
        let file = dir.path().join(name);
        std::fs::write(&file, body).unwrap();
        let output = Command::new(binary())
            .args(["agent", "-dev", "-config-file", file.to_str().unwrap()])
            .output()
            .unwrap();
        assert!(!output.status.success(), "{name} accepted");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.contains(needle), "{name}: {stderr}");
    }
}

/// The HCL launch style: three `services` blocks register three instances at start.
#[test]
fn hcl_services_are_registered_at_start() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("config.hcl");
    let mut hcl = String::from(
        "acl {\n  enabled = false\n  default_policy = \"allow\"\n  tokens {\n    initial_management = \"6bd2c9b4-1fa5-4b1c-9d2a-111111111111\"\n  }\n}\n",
    );
    for i in 1..=3 {
        hcl.push_str(&format!(
            "services {{\n  id = \"test-service-{i}\"\n  name = \"test-service\"\n  address = \"127.0.0.{i}\"\n  port = 808{i}\n  checks = []\n  tags = [\"t{i}\"]\n}}\n"
        ));
    }
    std::fs::write(&file, hcl).unwrap();
    let agent = AgentProcess::start(&[
        "-dev",
        "-config-file",
        file.to_str().unwrap(),
        "-datacenter",
        "dc1",
    ]);
    let client = http();
    eventually("three config services", || {
        client
            .get(agent.url("/v1/catalog/service/test-service"))
            .send()
            .and_then(|r| r.json::<Vec<serde_json::Value>>())
            .is_ok_and(|v| v.len() == 3)
    });
}

/// A config file that was empty at start gains a service; `agent/reload` registers it.
#[test]
fn reload_picks_up_a_new_service() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("svc.json");
    std::fs::write(&file, "").unwrap();
    let agent = AgentProcess::start(&["-dev", "-config-file", file.to_str().unwrap()]);
    std::fs::write(&file, r#"{"service":{"name":"late","port":9000}}"#).unwrap();
    let client = http();
    let r = client.put(agent.url("/v1/agent/reload")).send().unwrap();
    assert_eq!(r.status(), 200);
    eventually("reloaded service in catalog", || {
        client
            .get(agent.url("/v1/catalog/service/late"))
            .send()
            .and_then(|r| r.json::<Vec<serde_json::Value>>())
            .is_ok_and(|v| v.len() == 1)
    });
}
