//! `/v1/session`: create with Consul's defaults, read, list, renew, destroy, and lock release
//! on destroy. TTL expiry itself is covered by the pure timer tests in `sessions.rs`.

use serde_json::Value;
use serde_json::json;

use crate::harness::TestAgent;

async fn create(agent: &TestAgent, body: &str) -> String {
    let (status, text) = agent.put("/v1/session/create", body.to_string()).await;
    assert_eq!(status, 200, "{text}");
    let created: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(created.as_object().unwrap().len(), 1);
    created["ID"].as_str().unwrap().to_string()
}

/// A session with no body takes Consul's defaults and shows in info, list and node reads.
#[tokio::test]
async fn create_info_list_destroy() {
    let agent = TestAgent::start().await;
    let id = create(&agent, "").await;
    let info = agent.get_json(&format!("/v1/session/info/{id}")).await;
    let session = &info[0];
    let keys: Vec<&String> = session.as_object().unwrap().keys().collect();
    assert_eq!(
        keys,
        [
            "ID",
            "Name",
            "Node",
            "LockDelay",
            "Behavior",
            "TTL",
            "NodeChecks",
            "ServiceChecks",
            "CreateIndex",
            "ModifyIndex"
        ]
    );
    assert_eq!(session["ID"], id.as_str());
    assert_eq!(session["Node"], "test-node");
    assert_eq!(session["NodeChecks"], json!(["serfHealth"]));
    assert_eq!(session["ServiceChecks"], json!(null));
    assert_eq!(session["LockDelay"], 15_000_000_000u64);
    assert_eq!(session["Behavior"], "release");
    assert_eq!(session["TTL"], "");

    assert_eq!(
        agent
            .get_json("/v1/session/list")
            .await
            .as_array()
            .unwrap()
            .len(),
        1
    );
    assert_eq!(
        agent.get_json("/v1/session/node/test-node").await[0]["ID"],
        id.as_str()
    );
    assert_eq!(agent.get_json("/v1/session/node/unknown").await, json!([]));

    assert_eq!(
        agent.put(&format!("/v1/session/destroy/{id}"), "").await,
        (200, "true".into())
    );
    assert_eq!(
        agent.get_json(&format!("/v1/session/info/{id}")).await,
        json!([])
    );
    assert_eq!(agent.get_json("/v1/session/list").await, json!([]));
    assert_eq!(
        agent.put("/v1/session/destroy/unknown", "").await,
        (200, "true".into())
    );
}

/// A TTL session gets a timer; renew answers the session and keeps it; destroy drops the timer.
#[tokio::test]
async fn ttl_session_renew_and_destroy() {
    let agent = TestAgent::start().await;
    let id = create(
        &agent,
        r#"{"Name":"web-lock","TTL":"10s","Behavior":"delete","LockDelay":"1s"}"#,
    )
    .await;
    assert_eq!(agent.agent.session_timers().len(), 1);
    let (status, body) = agent.put(&format!("/v1/session/renew/{id}"), "").await;
    assert_eq!(status, 200, "{body}");
    let renewed: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(renewed[0]["ID"], id.as_str());
    assert_eq!(renewed[0]["TTL"], "10s");
    assert_eq!(renewed[0]["Name"], "web-lock");
    assert_eq!(renewed[0]["Behavior"], "delete");
    assert_eq!(renewed[0]["LockDelay"], 1_000_000_000u64);
    assert_eq!(agent.agent.session_timers().len(), 1);

    assert_eq!(
        agent.put(&format!("/v1/session/destroy/{id}"), "").await.0,
        200
    );
    assert!(agent.agent.session_timers().is_empty());
    let (status, body) = agent.put(&format!("/v1/session/renew/{id}"), "").await;
    assert_eq!(
        (status, body.as_str()),
        (404, format!("Session id '{id}' not found").as_str())
    );
}

/// Destroying a `delete` session deletes the keys it locks; a `release` one only unlocks them.
#[tokio::test]
async fn destroy_releases_or_deletes_locks() {
    let agent = TestAgent::start().await;
    let release = create(&agent, r#"{"LockDelay":0}"#).await;
    let delete = create(&agent, r#"{"Behavior":"delete","LockDelay":0}"#).await;
    assert_eq!(
        agent
            .put(&format!("/v1/kv/r?acquire={release}"), "x")
            .await
            .1,
        "true"
    );
    assert_eq!(
        agent
            .put(&format!("/v1/kv/d?acquire={delete}"), "x")
            .await
            .1,
        "true"
    );
    assert_eq!(
        agent
            .put(&format!("/v1/session/destroy/{release}"), "")
            .await
            .0,
        200
    );
    assert_eq!(
        agent
            .put(&format!("/v1/session/destroy/{delete}"), "")
            .await
            .0,
        200
    );
    let kept = agent.get_json("/v1/kv/r").await;
    assert!(kept[0].get("Session").is_none());
    let r = agent
        .http()
        .get(agent.url("/v1/kv/d"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
}

/// Invalid TTLs, behaviours, nodes and bodies get Consul's errors; wrong methods 405.
#[tokio::test]
async fn create_errors() {
    let agent = TestAgent::start().await;
    let (status, body) = agent.put("/v1/session/create", r#"{"TTL":"5s"}"#).await;
    assert_eq!(status, 500);
    assert_eq!(
        body,
        "Invalid Session TTL '5000000000', must be between [10s=24h0m0s]"
    );
    let (status, body) = agent
        .put("/v1/session/create", r#"{"Behavior":"keep"}"#)
        .await;
    assert_eq!(
        (status, body.as_str()),
        (500, "Invalid Behavior setting 'keep'")
    );
    let (status, body) = agent.put("/v1/session/create", r#"{"Node":"ghost"}"#).await;
    assert_eq!(
        (status, body.as_str()),
        (500, "apply failed: Missing node registration")
    );
    let (status, body) = agent.put("/v1/session/create", "{").await;
    assert_eq!(status, 400);
    assert!(body.starts_with("Request decode failed: "), "{body}");
    let r = agent
        .http()
        .get(agent.url("/v1/session/create"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 405);
    assert_eq!(r.text().await.unwrap(), "method GET not allowed");
    assert_eq!(agent.get_json("/v1/session/list").await, json!([]));
}
