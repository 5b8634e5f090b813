//! `/v1/config`: writing, reading, listing and deleting config entries, check-and-set, and the
//! 400s for bad kinds, unknown fields and invalid entries.

use serde_json::Value;
use serde_json::json;

use crate::harness::TestAgent;

async fn delete(agent: &TestAgent, path: &str) -> (u16, String) {
    let response = agent.http().delete(agent.url(path)).send().await.unwrap();
    let status = response.status().as_u16();
    (status, response.text().await.unwrap())
}

async fn get(agent: &TestAgent, path: &str) -> (u16, String) {
    let response = agent.http().get(agent.url(path)).send().await.unwrap();
    let status = response.status().as_u16();
    (status, response.text().await.unwrap())
}

/// A service-defaults entry written in snake_case comes back canonical, with indexes, in the
/// kind's list; deleting it makes it 404.
#[tokio::test]
async fn write_read_list_delete() {
    let agent = TestAgent::start().await;
    let body = json!({"kind": "service-defaults", "name": "web", "protocol": "HTTP",
        "max_inbound_connections": 10});
    assert_eq!(
        agent.put("/v1/config", body.to_string()).await,
        (200, "true".into())
    );

    let entry = agent.get_json("/v1/config/service-defaults/web").await;
    let keys: Vec<&str> = entry
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        keys,
        [
            "Kind",
            "Name",
            "Protocol",
            "TransparentProxy",
            "MeshGateway",
            "Expose",
            "MaxInboundConnections",
            "CreateIndex",
            "ModifyIndex"
        ]
    );
    assert_eq!(entry["Protocol"], "http");
    assert_eq!(entry["MaxInboundConnections"], 10);
    assert!(entry["ModifyIndex"].as_u64().unwrap() > 0);

    let list = agent.get_json("/v1/config/service-defaults").await;
    assert_eq!(list.as_array().unwrap().len(), 1);
    assert_eq!(list[0]["Name"], "web");
    assert_eq!(agent.get_json("/v1/config/proxy-defaults").await, json!([]));

    assert_eq!(
        delete(&agent, "/v1/config/service-defaults/web").await,
        (200, "{}".into())
    );
    assert_eq!(
        get(&agent, "/v1/config/service-defaults/web").await,
        (
            404,
            "Config entry not found for \"service-defaults\" / \"web\"".into()
        )
    );
}

/// `?cas=0` creates only when absent; `?cas=<ModifyIndex>` replaces only the version seen, for
/// writes and deletes alike.
#[tokio::test]
async fn check_and_set() {
    let agent = TestAgent::start().await;
    let entry = |protocol: &str| {
        json!({"Kind": "service-defaults", "Name": "api", "Protocol": protocol}).to_string()
    };
    assert_eq!(
        agent.put("/v1/config?cas=0", entry("tcp")).await,
        (200, "true".into())
    );
    assert_eq!(
        agent.put("/v1/config?cas=0", entry("http")).await,
        (200, "false".into())
    );
    let index = agent.get_json("/v1/config/service-defaults/api").await["ModifyIndex"]
        .as_u64()
        .unwrap();
    assert_eq!(
        agent
            .put(&format!("/v1/config?cas={}", index + 100), entry("http"))
            .await,
        (200, "false".into())
    );
    assert_eq!(
        agent
            .put(&format!("/v1/config?cas={index}"), entry("http"))
            .await,
        (200, "true".into())
    );
    let current: Value = agent.get_json("/v1/config/service-defaults/api").await;
    assert_eq!(current["Protocol"], "http");
    let modify = current["ModifyIndex"].as_u64().unwrap();
    assert_eq!(
        delete(
            &agent,
            &format!("/v1/config/service-defaults/api?cas={index}")
        )
        .await,
        (200, "false".into())
    );
    assert_eq!(
        delete(
            &agent,
            &format!("/v1/config/service-defaults/api?cas={modify}")
        )
        .await,
        (200, "true".into())
    );
}

/// Bad kinds, unknown fields and invalid splits are refused with 400 and nothing is written.
#[tokio::test]
async fn invalid_entries_are_refused() {
    let agent = TestAgent::start().await;
    let (status, text) = agent
        .put(
            "/v1/config",
            json!({"Kind": "bogus", "Name": "x"}).to_string(),
        )
        .await;
    assert_eq!(
        (status, text.as_str()),
        (
            400,
            "Request decoding failed: invalid config entry kind: bogus"
        )
    );

    let (status, text) = agent
        .put(
            "/v1/config",
            json!({"Kind": "service-defaults", "Name": "web", "Colour": "red"}).to_string(),
        )
        .await;
    assert_eq!(status, 400);
    assert!(text.contains("invalid config key \"Colour\""), "{text}");

    let splitter = json!({"Kind": "service-splitter", "Name": "web",
        "Splits": [{"Weight": 60, "ServiceSubset": "v1"}, {"Weight": 30, "ServiceSubset": "v2"}]});
    let (status, text) = agent.put("/v1/config", splitter.to_string()).await;
    assert_eq!(
        (status, text.as_str()),
        (
            400,
            "the sum of all split weights must be 100, not 90.000000"
        )
    );
    assert_eq!(
        agent.get_json("/v1/config/service-splitter").await,
        json!([])
    );

    let (status, _) = delete(&agent, "/v1/config/bogus/x").await;
    assert_eq!(status, 400);
}

/// Deleting an entry that does not exist is a 200, as SDK clean-up relies on (launch probe 6).
#[tokio::test]
async fn deleting_an_absent_entry_succeeds() {
    let agent = TestAgent::start().await;
    assert_eq!(
        delete(&agent, "/v1/config/service-intentions/nothing-here").await,
        (200, "{}".into())
    );
}

/// Intentions are normalised (source type, precedence) and exclusive Action/Permissions checked.
#[tokio::test]
async fn intentions_round_trip() {
    let agent = TestAgent::start().await;
    let body = json!({"Kind": "service-intentions", "Name": "db",
        "Sources": [{"Name": "web", "Action": "allow"}]});
    assert_eq!(
        agent.put("/v1/config", body.to_string()).await,
        (200, "true".into())
    );
    let entry = agent.get_json("/v1/config/service-intentions/db").await;
    assert_eq!(
        entry["Sources"][0],
        json!({"Name": "web", "Action": "allow", "Precedence": 9,
        "Type": "consul"})
    );

    let bad = json!({"Kind": "service-intentions", "Name": "db",
        "Sources": [{"Name": "web", "Action": "allow",
            "Permissions": [{"Action": "deny", "HTTP": {"PathPrefix": "/"}}]}]});
    let (status, text) = agent.put("/v1/config", bad.to_string()).await;
    assert_eq!(
        (status, text.as_str()),
        (
            400,
            "Sources[0].Action must be omitted if Permissions are specified"
        )
    );
}

/// A blocking list returns once an entry of the kind is written.
#[tokio::test]
async fn list_blocks_until_a_write() {
    let agent = TestAgent::start().await;
    let response = agent
        .http()
        .get(agent.url("/v1/config/mesh"))
        .send()
        .await
        .unwrap();
    let index: u64 = response.headers()["X-Consul-Index"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    let url = agent.url(&format!("/v1/config/mesh?index={index}&wait=30s"));
    let client = agent.http().clone();
    let waiter =
        tokio::spawn(async move { client.get(url).send().await.unwrap().json::<Value>().await });
    let body = json!({"Kind": "mesh", "TransparentProxy": {"MeshDestinationsOnly": true}});
    assert_eq!(
        agent.put("/v1/config", body.to_string()).await,
        (200, "true".into())
    );
    let list = waiter.await.unwrap().unwrap();
    assert_eq!(list[0]["Kind"], "mesh");
    assert!(list[0].get("Name").is_none());
}
