//! `/v1/event`: firing user events, listing them (by name, blocking) and filter errors.

use serde_json::Value;
use serde_json::json;

use crate::harness::TestAgent;

/// A fired event answers its own JSON and shows in the list, filterable by name.
#[tokio::test]
async fn fire_and_list() {
    let agent = TestAgent::start().await;
    assert_eq!(agent.get_json("/v1/event/list").await, json!([]));
    let (status, body) = agent.put("/v1/event/fire/deploy", "v1.2").await;
    assert_eq!(status, 200, "{body}");
    let fired: Value = serde_json::from_str(&body).unwrap();
    let keys: Vec<&String> = fired.as_object().unwrap().keys().collect();
    assert_eq!(
        keys,
        [
            "ID",
            "Name",
            "Payload",
            "NodeFilter",
            "ServiceFilter",
            "TagFilter",
            "Version",
            "LTime"
        ]
    );
    assert_eq!(fired["Name"], "deploy");
    assert_eq!(fired["Payload"], "djEuMg==");
    assert_eq!(fired["NodeFilter"], "");
    assert_eq!(fired["Version"], 1);
    assert_eq!(fired["LTime"], 0);

    let (_, body) = agent.put("/v1/event/fire/restart", "").await;
    let restart: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(restart["Payload"], json!(null));

    let all = agent.get_json("/v1/event/list").await;
    assert_eq!(all.as_array().unwrap().len(), 2);
    assert_eq!(all[0]["ID"], fired["ID"]);
    assert_eq!(all[0]["LTime"], 1);
    let deploys = agent.get_json("/v1/event/list?name=deploy").await;
    assert_eq!(deploys.as_array().unwrap().len(), 1);
    assert_eq!(agent.get_json("/v1/event/list?name=other").await, json!([]));
}

/// A blocking list returns once a new event arrives, with a different index.
#[tokio::test]
async fn blocking_list_wakes_on_fire() {
    let agent = TestAgent::start().await;
    let response = agent
        .http()
        .get(agent.url("/v1/event/list"))
        .send()
        .await
        .unwrap();
    let index = response.headers()["X-Consul-Index"]
        .to_str()
        .unwrap()
        .to_string();
    assert_eq!(index, "1");
    let waiter = tokio::spawn(
        agent
            .http()
            .get(agent.url(&format!("/v1/event/list?index={index}&wait=10s")))
            .send(),
    );
    assert_eq!(agent.put("/v1/event/fire/ping", "").await.0, 200);
    let response = waiter.await.unwrap().unwrap();
    assert_ne!(
        response.headers()["X-Consul-Index"].to_str().unwrap(),
        index
    );
    let events: Value = response.json().await.unwrap();
    assert_eq!(events[0]["Name"], "ping");
}

/// Filters: a tag filter needs a service filter; a non-matching node filter is not delivered.
#[tokio::test]
async fn filters() {
    let agent = TestAgent::start().await;
    let (status, body) = agent.put("/v1/event/fire/x?tag=v1", "").await;
    assert_eq!(
        (status, body.as_str()),
        (500, "Cannot provide tag filter without service filter")
    );
    let (status, body) = agent.put("/v1/event/fire/x?node=(", "").await;
    assert_eq!(status, 500);
    assert!(body.starts_with("Invalid node filter: "), "{body}");
    let (status, body) = agent.put("/v1/event/fire/x?node=^other$", "").await;
    assert_eq!(status, 200, "{body}");
    let fired: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(fired["NodeFilter"], "^other$");
    assert_eq!(agent.get_json("/v1/event/list").await, json!([]));
    assert_eq!(agent.put("/v1/event/fire/x?node=^test-", "").await.0, 200);
    assert_eq!(
        agent
            .get_json("/v1/event/list")
            .await
            .as_array()
            .unwrap()
            .len(),
        1
    );
}
