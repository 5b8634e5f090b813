//! The Connect CA endpoints on a dev agent: the leader bootstraps a root at startup, and
//! `/v1/connect/ca/roots`, `/v1/agent/connect/ca/roots` and `/v1/connect/ca/configuration`
//! show it in Consul's shape — and never its private key.

use legate_connect::ParsedCert;
use legate_state::Table;
use serde_json::Value;
use serde_json::json;

use crate::golden::assert_golden;
use crate::harness::TestAgent;

/// A dev agent whose CA has been bootstrapped.
async fn agent_with_ca(extra: &[&str]) -> TestAgent {
    let agent = TestAgent::start_with(extra).await;
    agent.wait_for_ca().await;
    agent
}

async fn get_text(agent: &TestAgent, path: &str) -> (u16, http::HeaderMap, String) {
    let response = agent.http().get(agent.url(path)).send().await.unwrap();
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    (status, headers, response.text().await.unwrap())
}

/// Scenario: a fresh dev agent serves one active root whose certificate is a CA for the
/// cluster's trust domain, with Consul's root ID and signing key ID formats.
#[tokio::test]
async fn roots_appear_after_startup_in_consul_shape() {
    let agent = agent_with_ca(&[]).await;
    let (status, headers, text) = get_text(&agent, "/v1/connect/ca/roots").await;
    assert_eq!(status, 200, "{text}");
    let index: u64 = headers["X-Consul-Index"].to_str().unwrap().parse().unwrap();
    assert_eq!(
        index,
        agent
            .agent
            .server()
            .store()
            .view()
            .table_index(Table::ConnectCa)
    );
    assert!(!text.contains("PRIVATE KEY"), "private key leaked: {text}");

    let body: Value = serde_json::from_str(&text).unwrap();
    let trust_domain = body["TrustDomain"].as_str().unwrap();
    assert!(trust_domain.ends_with(".consul"));
    let roots = body["Roots"].as_array().unwrap();
    assert_eq!(roots.len(), 1);
    let root = &roots[0];
    assert_eq!(root["ID"], body["ActiveRootID"]);
    assert_eq!(root["Active"], true);
    assert_eq!(root["Name"], "Consul CA Primary Cert");
    assert_eq!(root["IntermediateCerts"], Value::Null);

    let pem = root["RootCert"].as_str().unwrap();
    let cert = ParsedCert::from_pem(pem).unwrap();
    assert!(cert.is_ca);
    assert_eq!(root["ID"], cert.fingerprint);
    assert_eq!(root["SigningKeyID"], cert.subject_key_id);
    assert_eq!(cert.uri_sans, [format!("spiffe://{trust_domain}")]);

    // The agent endpoint answers the same roots.
    let via_agent = agent.get_json("/v1/agent/connect/ca/roots").await;
    assert_eq!(via_agent, body);
}

/// Scenario: `?pem=true` answers the root certificate as a PEM chain; a non-boolean is a 400.
#[tokio::test]
async fn pem_param() {
    let agent = agent_with_ca(&[]).await;
    let body = agent.get_json("/v1/connect/ca/roots").await;
    let (status, headers, text) = get_text(&agent, "/v1/connect/ca/roots?pem=true").await;
    assert_eq!(status, 200);
    assert_eq!(
        headers["Content-Type"].to_str().unwrap(),
        "application/pem-certificate-chain"
    );
    assert_eq!(text, body["Roots"][0]["RootCert"].as_str().unwrap());
    let (status, _, text) = get_text(&agent, "/v1/connect/ca/roots?pem=yes").await;
    assert_eq!(
        (status, text.as_str()),
        (400, "The 'pem' query parameter must be a boolean value")
    );
}

/// Scenario: a blocking read at the current index waits out its `wait` and answers the same
/// index (nothing changed the CA).
#[tokio::test]
async fn roots_block_on_the_ca_index() {
    let agent = agent_with_ca(&[]).await;
    let (_, headers, _) = get_text(&agent, "/v1/connect/ca/roots").await;
    let index = headers["X-Consul-Index"].to_str().unwrap().to_string();
    let (status, headers, _) = get_text(
        &agent,
        &format!("/v1/connect/ca/roots?index={index}&wait=50ms"),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(headers["X-Consul-Index"].to_str().unwrap(), index);
}

/// Scenario: a configured `cluster_id` becomes the trust domain.
#[tokio::test]
async fn configured_cluster_id_sets_trust_domain() {
    let id = "7f42f496-fbc7-8692-05ed-334aa5340c1e";
    let hcl = format!("connect {{\n  ca_config {{\n    cluster_id = \"{id}\"\n  }}\n}}\n");
    let agent = agent_with_ca(&["-hcl", &hcl]).await;
    let body = agent.get_json("/v1/connect/ca/roots").await;
    assert_eq!(body["TrustDomain"], format!("{id}.consul"));
}

/// Scenario: with Connect disabled there is no CA, and the endpoints answer Consul's 500.
#[tokio::test]
async fn connect_disabled() {
    let agent = TestAgent::start_with(&["-hcl", "connect { enabled = false }"]).await;
    for path in [
        "/v1/connect/ca/roots",
        "/v1/agent/connect/ca/roots",
        "/v1/connect/ca/configuration",
    ] {
        let (status, _, text) = get_text(&agent, path).await;
        assert_eq!(
            (status, text.as_str()),
            (500, "Connect must be enabled in order to use this endpoint"),
            "{path}"
        );
    }
    assert_eq!(
        agent
            .agent
            .server()
            .store()
            .view()
            .table_index(Table::ConnectCa),
        0
    );
}

/// Replace the values that differ per CA (IDs, key IDs, serials, certificates, trust domain)
/// with placeholders, keeping their JSON types.
fn normalize_roots(mut body: Value) -> Value {
    body["ActiveRootID"] = json!("<root-id>");
    body["TrustDomain"] = json!("<cluster-id>.consul");
    for root in body["Roots"].as_array_mut().unwrap() {
        root["ID"] = json!("<root-id>");
        root["SigningKeyID"] = json!("<signing-key-id>");
        root["SerialNumber"] = json!(1);
        root["RootCert"] = json!("<pem>");
    }
    body
}

#[tokio::test]
async fn golden_roots() {
    let agent = agent_with_ca(&[]).await;
    let body = agent.get_json("/v1/connect/ca/roots").await;
    assert_golden("connect_ca_roots", &normalize_roots(body));
}

#[tokio::test]
async fn golden_configuration() {
    let agent = agent_with_ca(&[]).await;
    let body = agent.get_json("/v1/connect/ca/configuration").await;
    assert_golden("connect_ca_configuration", &body);
}
