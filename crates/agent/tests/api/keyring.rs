//! `/v1/operator/keyring` on one agent: Consul's 500 when gossip encryption is off, the
//! list shape, and a full rotation (install, use, remove) with the forbidden operations
//! and parameter errors answered as Consul answers them.

use reqwest::Method;
use serde_json::json;

use crate::harness::TestAgent;

const OLD: &str = "pUqJrVyVRj5jsiYEkM/tFQYfWyJIv4s3XkvDwy7Cu5s=";
const NEW: &str = "ZWTL+bgjHyQPhJRKcFe3ccirc2SFHmc/Nw67l8NQfdk=";

async fn call(agent: &TestAgent, method: Method, path: &str, key: Option<&str>) -> (u16, String) {
    let mut request = agent.http().request(method, agent.url(path));
    if let Some(key) = key {
        request = request.body(json!({ "Key": key }).to_string());
    }
    let response = request.send().await.expect("request");
    let status = response.status().as_u16();
    (status, response.text().await.expect("body"))
}

/// Without `encrypt`, every operation fails with serf's per-node message.
#[tokio::test]
async fn encryption_off_is_a_500_with_the_node_message() {
    let agent = TestAgent::start().await;
    let (status, body) = call(&agent, Method::GET, "/v1/operator/keyring", None).await;
    assert_eq!(status, 500);
    assert_eq!(
        body,
        "2 errors occurred:\n\t* dc1 (LAN) error: 1/1 nodes reported failure\n\t* test-node: Keyring is empty (encryption not enabled)\n\n"
    );
    let (status, body) = call(&agent, Method::POST, "/v1/operator/keyring", Some(NEW)).await;
    assert_eq!(status, 500);
    assert!(body.contains("test-node: No keyring to modify (encryption not enabled)"));
}

/// With a key: the list shape, then install → use → remove, and the refusals.
#[tokio::test]
async fn list_shape_and_rotation() {
    let agent = TestAgent::start_with(&["-encrypt", OLD]).await;
    let listed = agent.get_json("/v1/operator/keyring").await;
    assert_eq!(
        listed,
        json!([{
            "WAN": false,
            "Datacenter": "dc1",
            "Segment": "",
            "Keys": { OLD: 1 },
            "PrimaryKeys": { OLD: 1 },
            "NumNodes": 1
        }])
    );
    assert_eq!(
        agent.get_json("/v1/operator/keyring?local-only=true").await,
        listed
    );

    let (status, body) = call(&agent, Method::POST, "/v1/operator/keyring", Some(NEW)).await;
    assert_eq!((status, body.as_str()), (200, ""));
    let listed = agent.get_json("/v1/operator/keyring").await;
    assert_eq!(listed[0]["Keys"], json!({ OLD: 1, NEW: 1 }));
    assert_eq!(listed[0]["PrimaryKeys"], json!({ OLD: 1 }));

    let (status, body) = call(&agent, Method::DELETE, "/v1/operator/keyring", Some(OLD)).await;
    assert_eq!(status, 500);
    assert_eq!(
        body,
        "2 errors occurred:\n\t* dc1 (LAN) error: 1/1 nodes reported failure\n\t* test-node: Removing the primary key is not allowed\n\n"
    );
    let other = "WbL6oaTPom+7RG7Q/INbJWKy09OLar/Hf2SuOAdoQE4=";
    let (status, body) = call(&agent, Method::PUT, "/v1/operator/keyring", Some(other)).await;
    assert_eq!(status, 500);
    assert!(body.contains("test-node: Requested key is not in the keyring"));

    let (status, _) = call(&agent, Method::PUT, "/v1/operator/keyring", Some(NEW)).await;
    assert_eq!(status, 200);
    let (status, _) = call(&agent, Method::DELETE, "/v1/operator/keyring", Some(OLD)).await;
    assert_eq!(status, 200);
    let listed = agent.get_json("/v1/operator/keyring").await;
    assert_eq!(listed[0]["Keys"], json!({ NEW: 1 }));
    assert_eq!(listed[0]["PrimaryKeys"], json!({ NEW: 1 }));
}

/// Malformed keys and parameters.
#[tokio::test]
async fn bad_keys_and_parameters() {
    let agent = TestAgent::start_with(&["-encrypt", OLD]).await;
    let (status, body) = call(&agent, Method::POST, "/v1/operator/keyring", Some("AAAA")).await;
    assert_eq!(
        (status, body.as_str()),
        (
            500,
            "1 error occurred:\n\t* dc1 (LAN) error: key size must be 16, 24 or 32 bytes\n\n"
        )
    );
    let (status, body) = agent.put("/v1/operator/keyring", "{").await;
    assert_eq!(status, 400);
    assert!(body.starts_with("Request decode failed"), "{body}");
    let (status, body) = call(
        &agent,
        Method::POST,
        "/v1/operator/keyring?local-only=true",
        Some(NEW),
    )
    .await;
    assert_eq!(
        (status, body.as_str()),
        (
            400,
            "Invalid use of local-only: local-only can only be set for list requests"
        )
    );
    let (status, body) = call(
        &agent,
        Method::GET,
        "/v1/operator/keyring?relay-factor=6",
        None,
    )
    .await;
    assert_eq!(
        (status, body.as_str()),
        (
            400,
            "Invalid relay-factor: Relay factor must be in range: [0, 5]"
        )
    );
    let (status, _) = call(&agent, Method::PATCH, "/v1/operator/keyring", None).await;
    assert_eq!(status, 405);
}
