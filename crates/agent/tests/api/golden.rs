//! Golden response shapes: one fresh agent per case, fixed inputs, and the body compared as
//! pretty JSON — keys in the order the server sent them — with `tests/api/golden/<name>.json`
//! after volatile values (Raft indexes, UUIDs, timestamps) are replaced by placeholders.
//! `LEGATE_UPDATE_GOLDEN=1` rewrites the files instead of comparing; a missing file fails.
//! Every golden file was checked against Consul's documented example and its Go structs (field
//! order, `null` vs `[]`/`{}`, map keys sorted as Go sorts them). Where ours still differs, the
//! file holds Consul's shape, is never rewritten, and its test is `#[ignore]`d with the reason.

use std::path::Path;
use std::path::PathBuf;

use serde_json::Value;
use serde_json::json;

use crate::harness::TestAgent;

/// Compare `body` (after [`redact`]) with the golden file `name`, or rewrite it when
/// `LEGATE_UPDATE_GOLDEN=1`.
pub(crate) fn assert_golden(name: &str, body: &Value) {
    let actual = render(body);
    let path = golden_path(name);
    if std::env::var("LEGATE_UPDATE_GOLDEN").as_deref() == Ok("1") {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, &actual).unwrap();
        return;
    }
    compare(&path, &actual, "LEGATE_UPDATE_GOLDEN=1 rewrites it");
}

/// Compare `body` with a hand-written golden file holding Consul's shape where ours still
/// differs; never rewritten, so updating the other goldens cannot bake the deviation in.
fn assert_consul_shape(name: &str, body: &Value) {
    compare(
        &golden_path(name),
        &render(body),
        "the file is Consul's shape: fix the server, not the file",
    );
}

fn render(body: &Value) -> String {
    let mut body = body.clone();
    redact(&mut body, None);
    format!("{}\n", serde_json::to_string_pretty(&body).unwrap())
}

fn compare(path: &Path, actual: &str, hint: &str) {
    let Ok(expected) = std::fs::read_to_string(path) else {
        panic!(
            "golden file {} is missing; run with LEGATE_UPDATE_GOLDEN=1 to create it, then \
             check it against Consul's documented response\n--- actual\n{actual}",
            path.display()
        );
    };
    assert!(
        expected == actual,
        "response differs from golden file {} ({hint})\n\
         --- expected\n{expected}\n--- actual\n{actual}",
        path.display()
    );
}

fn golden_path(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/api/golden")
        .join(format!("{name}.json"))
}

/// Replace volatile values in place: non-zero Raft indexes (`CreateIndex`, `ModifyIndex`,
/// `Index`, `LastIndex`) become `"<index>"`, `ContentHash` `"<hash>"`, UUID strings `"<uuid>"`
/// and RFC 3339 timestamps `"<timestamp>"`. Zero indexes, `LockIndex`, `LTime` and every other
/// value are kept.
fn redact(value: &mut Value, key: Option<&str>) {
    const INDEXES: [&str; 4] = ["CreateIndex", "ModifyIndex", "Index", "LastIndex"];
    match value {
        Value::Number(n) if key.is_some_and(|k| INDEXES.contains(&k)) && n.as_u64() != Some(0) => {
            *value = json!("<index>");
        }
        Value::String(_) if key == Some("ContentHash") => *value = json!("<hash>"),
        Value::String(s) if is_uuid(s) => *value = json!("<uuid>"),
        Value::String(s) if is_timestamp(s) => *value = json!("<timestamp>"),
        Value::Array(items) => items.iter_mut().for_each(|item| redact(item, None)),
        Value::Object(map) => map.iter_mut().for_each(|(k, v)| redact(v, Some(k))),
        _ => {}
    }
}

fn is_uuid(s: &str) -> bool {
    s.len() == 36
        && s.char_indices().all(|(i, c)| match i {
            8 | 13 | 18 | 23 => c == '-',
            _ => c.is_ascii_hexdigit(),
        })
}

fn is_timestamp(s: &str) -> bool {
    time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339).is_ok()
}

/// A JSON body from a GET, asserting 200, with the agent's (random) cluster ports shown as
/// Consul's defaults (8300, 8301, 8302).
async fn get(agent: &TestAgent, path: &str) -> Value {
    let mut body = agent.get_json(path).await;
    for &(port, default) in &agent.ports {
        default_port(&mut body, port, default);
    }
    body
}

/// Rewrite `port` to `default` wherever it appears (addresses, tags, service ports), so golden
/// files do not depend on the ports a test got.
fn default_port(value: &mut Value, port: u16, default: u16) {
    let addr = format!("127.0.0.1:{port}");
    match value {
        Value::String(s) if *s == addr => *s = format!("127.0.0.1:{default}"),
        Value::String(s) if *s == port.to_string() => *s = default.to_string(),
        Value::Number(n) if n.as_u64() == Some(u64::from(port)) => *value = json!(default),
        Value::Array(items) => items
            .iter_mut()
            .for_each(|v| default_port(v, port, default)),
        Value::Object(map) => map
            .values_mut()
            .for_each(|v| default_port(v, port, default)),
        _ => {}
    }
}

/// PUT `body`, asserting 200, and decode the JSON reply.
async fn put_json(agent: &TestAgent, path: &str, body: &str) -> Value {
    let (status, text) = agent.put(path, body.to_string()).await;
    assert_eq!(status, 200, "PUT {path}: {text}");
    serde_json::from_str(&text).unwrap()
}

/// The `web` service used by the catalog, health and agent cases: tags, meta, a port and a
/// tagged address. No service address: Consul would add default `lan_ipv4`/`wan_ipv4` tagged
/// addresses for an IPv4 one, which we do not yet (see `agent_services_default_tagged_addresses`).
const WEB: &str = r#"{
    "Name": "web",
    "Tags": ["v1", "primary"],
    "Meta": {"version": "1.0"},
    "Port": 8080,
    "TaggedAddresses": {"wan": {"Address": "198.18.0.5", "Port": 80}}
}"#;

/// `web` with a TTL check.
const WEB_WITH_CHECK: &str = r#"{
    "Name": "web",
    "Tags": ["v1", "primary"],
    "Port": 8080,
    "Check": {"CheckID": "web-ttl", "Name": "web alive", "TTL": "30s"}
}"#;

/// An agent with `definition` registered locally and synced into the catalog with `checks`
/// service checks.
async fn agent_with(definition: &str, checks: usize) -> TestAgent {
    let agent = TestAgent::start().await;
    let (status, body) = agent
        .put("/v1/agent/service/register", definition.to_string())
        .await;
    assert_eq!(status, 200, "{body}");
    agent
        .wait_until(|| async {
            let view = agent.agent.server().store().view();
            !view.service_instances("web").is_empty() && view.service_checks("web").len() == checks
        })
        .await;
    agent
}

async fn agent_with_web() -> TestAgent {
    agent_with(WEB, 0).await
}

#[tokio::test]
async fn catalog_nodes() {
    let agent = TestAgent::start().await;
    assert_golden("catalog_nodes", &get(&agent, "/v1/catalog/nodes").await);
}

#[tokio::test]
async fn catalog_services() {
    let agent = agent_with_web().await;
    assert_golden(
        "catalog_services",
        &get(&agent, "/v1/catalog/services").await,
    );
}

#[tokio::test]
async fn catalog_service() {
    let agent = agent_with_web().await;
    assert_golden(
        "catalog_service_web",
        &get(&agent, "/v1/catalog/service/web").await,
    );
}

#[tokio::test]
async fn catalog_node() {
    let agent = agent_with_web().await;
    assert_golden(
        "catalog_node",
        &get(&agent, "/v1/catalog/node/test-node").await,
    );
}

#[tokio::test]
async fn health_service() {
    let agent = agent_with_web().await;
    assert_golden(
        "health_service_web",
        &get(&agent, "/v1/health/service/web").await,
    );
}

#[tokio::test]
async fn health_node() {
    let agent = agent_with_web().await;
    assert_golden(
        "health_node",
        &get(&agent, "/v1/health/node/test-node").await,
    );
}

#[tokio::test]
async fn health_checks() {
    let agent = agent_with(WEB_WITH_CHECK, 1).await;
    assert_consul_shape(
        "health_checks_web",
        &get(&agent, "/v1/health/checks/web").await,
    );
}

#[tokio::test]
async fn agent_services() {
    let agent = agent_with_web().await;
    assert_golden("agent_services", &get(&agent, "/v1/agent/services").await);
}

#[tokio::test]
async fn agent_service() {
    let agent = agent_with_web().await;
    assert_consul_shape(
        "agent_service_web",
        &get(&agent, "/v1/agent/service/web").await,
    );
}

#[tokio::test]
async fn agent_checks() {
    let agent = agent_with(WEB_WITH_CHECK, 1).await;
    assert_consul_shape("agent_checks", &get(&agent, "/v1/agent/checks").await);
}

/// Consul fills in `lan_ipv4`/`wan_ipv4` tagged addresses from an IPv4 service address.
#[tokio::test]
async fn agent_services_default_tagged_addresses() {
    let definition = r#"{"Name": "web", "Address": "10.0.0.5", "Port": 8080,
        "TaggedAddresses": {"wan": {"Address": "198.18.0.5", "Port": 80}}}"#;
    let agent = agent_with(definition, 0).await;
    assert_consul_shape(
        "agent_services_default_tagged_addresses",
        &get(&agent, "/v1/agent/services").await,
    );
}

#[tokio::test]
async fn agent_members() {
    let agent = TestAgent::start().await;
    assert_consul_shape("agent_members", &get(&agent, "/v1/agent/members").await);
}

#[tokio::test]
async fn agent_version() {
    let agent = TestAgent::start().await;
    assert_golden("agent_version", &get(&agent, "/v1/agent/version").await);
}

/// A recursive read over a key with no value (`null`) and one with a value and flags.
#[tokio::test]
async fn kv_recurse() {
    let agent = TestAgent::start().await;
    assert_eq!(agent.put("/v1/kv/a/empty", "").await.0, 200);
    assert_eq!(agent.put("/v1/kv/a/name?flags=42", "bar").await.0, 200);
    assert_golden("kv_recurse", &get(&agent, "/v1/kv/a?recurse").await);
}

/// A key listing with a separator folds deeper keys into their first "folder".
#[tokio::test]
async fn kv_keys_with_separator() {
    let agent = TestAgent::start().await;
    for key in ["a/x", "a/sub/y", "a/sub/z", "b/other"] {
        assert_eq!(agent.put(&format!("/v1/kv/{key}"), "v").await.0, 200);
    }
    assert_golden(
        "kv_keys_separator",
        &get(&agent, "/v1/kv/a/?keys&separator=/").await,
    );
}

#[tokio::test]
async fn session_info() {
    let agent = TestAgent::start().await;
    let created = put_json(
        &agent,
        "/v1/session/create",
        r#"{"Name": "lock-holder", "TTL": "30s", "Behavior": "delete", "LockDelay": "5s"}"#,
    )
    .await;
    let id = created["ID"].as_str().unwrap();
    assert_golden(
        "session_info",
        &get(&agent, &format!("/v1/session/info/{id}")).await,
    );
}

/// A successful transaction: two sets and a get.
#[tokio::test]
async fn txn_results() {
    let agent = TestAgent::start().await;
    let ops = json!([
        {"KV": {"Verb": "set", "Key": "t/a", "Value": "YQ==", "Flags": 7}},
        {"KV": {"Verb": "set", "Key": "t/b", "Value": "Yg=="}},
        {"KV": {"Verb": "get", "Key": "t/a"}}
    ]);
    let body = put_json(&agent, "/v1/txn", &ops.to_string()).await;
    assert_golden("txn_results", &body);
}

#[tokio::test]
async fn event_list() {
    let agent = TestAgent::start().await;
    put_json(&agent, "/v1/event/fire/deploy", "v1.2").await;
    agent
        .wait_until(|| async {
            get(&agent, "/v1/event/list")
                .await
                .as_array()
                .is_some_and(|events| !events.is_empty())
        })
        .await;
    assert_golden("event_list", &get(&agent, "/v1/event/list").await);
}

#[tokio::test]
async fn config_service_defaults() {
    let agent = TestAgent::start().await;
    let entry = json!({"Kind": "service-defaults", "Name": "web", "Protocol": "http"});
    assert_eq!(
        agent.put("/v1/config", entry.to_string()).await,
        (200, "true".into())
    );
    assert_golden(
        "config_service_defaults_web",
        &get(&agent, "/v1/config/service-defaults/web").await,
    );
}

#[tokio::test]
async fn operator_raft_configuration() {
    let agent = TestAgent::start().await;
    assert_golden(
        "operator_raft_configuration",
        &get(&agent, "/v1/operator/raft/configuration").await,
    );
}

#[tokio::test]
async fn operator_autopilot_configuration() {
    let agent = TestAgent::start().await;
    assert_golden(
        "operator_autopilot_configuration",
        &get(&agent, "/v1/operator/autopilot/configuration").await,
    );
}

#[tokio::test]
async fn coordinate_datacenters() {
    let agent = TestAgent::start().await;
    assert_golden(
        "coordinate_datacenters",
        &get(&agent, "/v1/coordinate/datacenters").await,
    );
}

#[tokio::test]
async fn status_leader() {
    let agent = TestAgent::start().await;
    assert_golden("status_leader", &get(&agent, "/v1/status/leader").await);
}

mod tests {
    use serde_json::json;

    use super::redact;

    #[test]
    fn redacts_indexes_uuids_and_timestamps_only() {
        let mut v = json!([{
            "ID": "0f9a8b7c-1d2e-3f40-5a6b-7c8d9e0f1a2b",
            "CreateIndex": 12, "ModifyIndex": 13, "LockIndex": 2, "LTime": 4,
            "At": "2024-05-01T10:00:00.123456Z", "Name": "web",
            "Nested": {"Index": 9, "LastIndex": 0, "Other": "not-a-uuid"},
            "ContentHash": "53e251b1ec2d4710"
        }]);
        redact(&mut v, None);
        assert_eq!(
            v,
            json!([{
                "ID": "<uuid>", "CreateIndex": "<index>", "ModifyIndex": "<index>",
                "LockIndex": 2, "LTime": 4, "At": "<timestamp>", "Name": "web",
                "Nested": {"Index": "<index>", "LastIndex": 0, "Other": "not-a-uuid"},
                "ContentHash": "<hash>"
            }])
        );
    }
}
