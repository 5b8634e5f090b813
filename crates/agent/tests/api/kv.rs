//! `/v1/kv`: reads, writes, deletes, check-and-set, locks, blocking reads and Consul's errors.

use serde_json::json;

use crate::harness::TestAgent;

/// Status, `X-Consul-Index` (0 when absent) and body of a GET.
async fn get(agent: &TestAgent, path: &str) -> (u16, u64, String) {
    let response = agent.http().get(agent.url(path)).send().await.unwrap();
    let status = response.status().as_u16();
    let index = response
        .headers()
        .get("X-Consul-Index")
        .map_or(0, |v| v.to_str().unwrap().parse().unwrap());
    (status, index, response.text().await.unwrap())
}

async fn delete(agent: &TestAgent, path: &str) -> (u16, String) {
    let response = agent.http().delete(agent.url(path)).send().await.unwrap();
    (response.status().as_u16(), response.text().await.unwrap())
}

/// A session on the test node, for lock tests.
async fn session(agent: &TestAgent) -> String {
    let (status, body) = agent.put("/v1/session/create", "").await;
    assert_eq!(status, 200, "{body}");
    let created: serde_json::Value = serde_json::from_str(&body).unwrap();
    created["ID"].as_str().unwrap().to_string()
}

/// A value round-trips in Consul's KVPair shape (field order included), raw, and is deleted.
#[tokio::test]
async fn put_get_raw_delete() {
    let agent = TestAgent::start().await;
    assert_eq!(
        agent.put("/v1/kv/app/name?flags=42", "bar").await,
        (200, "true".into())
    );
    let (status, index, body) = get(&agent, "/v1/kv/app/name").await;
    assert_eq!(status, 200);
    assert!(index > 0);
    assert_eq!(
        body,
        format!(
            r#"[{{"LockIndex":0,"Key":"app/name","Flags":42,"Value":"YmFy","CreateIndex":{index},"ModifyIndex":{index}}}]"#
        )
    );
    let raw = agent
        .http()
        .get(agent.url("/v1/kv/app/name?raw"))
        .send()
        .await
        .unwrap();
    assert_eq!(raw.headers()["Content-Type"], "text/plain");
    assert_eq!(raw.text().await.unwrap(), "bar");

    assert_eq!(
        delete(&agent, "/v1/kv/app/name").await,
        (200, "true".into())
    );
    let (status, index_after, body) = get(&agent, "/v1/kv/app/name").await;
    assert_eq!((status, body.as_str()), (404, ""));
    assert!(index_after > index);
}

/// An empty body stores a null value.
#[tokio::test]
async fn empty_body_is_null_value() {
    let agent = TestAgent::start().await;
    assert_eq!(agent.put("/v1/kv/empty", "").await, (200, "true".into()));
    let entries = agent.get_json("/v1/kv/empty").await;
    assert_eq!(entries[0]["Value"], json!(null));
    assert_eq!(entries[0]["Key"], "empty");
}

/// Missing keys are 404; the bare root is 400 without `recurse`/`keys`; bad methods are 405.
#[tokio::test]
async fn missing_keys_and_root_errors() {
    let agent = TestAgent::start().await;
    assert_eq!(get(&agent, "/v1/kv/nope").await.0, 404);
    let (status, _, body) = get(&agent, "/v1/kv/").await;
    assert_eq!((status, body.as_str()), (400, "Missing key name"));
    assert_eq!(
        agent.put("/v1/kv/", "x").await,
        (400, "Missing key name".into())
    );
    assert_eq!(
        delete(&agent, "/v1/kv/").await,
        (400, "Missing key name".into())
    );
    assert_eq!(get(&agent, "/v1/kv/?recurse").await.0, 404);
    assert_eq!(agent.get_json("/v1/kv/?keys").await, json!([]));
    let r = agent
        .http()
        .post(agent.url("/v1/kv/x"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 405);
    assert_eq!(r.text().await.unwrap(), "method POST not allowed");
    let (status, body) = agent.put("/v1/kv/x?cas=1&acquire=s", "v").await;
    assert_eq!(
        (status, body.as_str()),
        (400, "Conflicting flags: acquire=s&cas=1")
    );
}

/// Prefix listings, key listings rolled up at a separator, and recursive deletes.
#[tokio::test]
async fn recurse_keys_and_separator() {
    let agent = TestAgent::start().await;
    for key in ["a/b/c", "a/b/d", "a/e", "b"] {
        assert_eq!(agent.put(&format!("/v1/kv/{key}"), key).await.0, 200);
    }
    let all = agent.get_json("/v1/kv/a/?recurse").await;
    let keys: Vec<&str> = all
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["Key"].as_str().unwrap())
        .collect();
    assert_eq!(keys, ["a/b/c", "a/b/d", "a/e"]);
    assert_eq!(
        agent.get_json("/v1/kv/a/?keys&separator=/").await,
        json!(["a/b/", "a/e"])
    );
    assert_eq!(
        agent.get_json("/v1/kv/?keys&separator=/").await,
        json!(["a/", "b"])
    );
    assert_eq!(
        agent.get_json("/v1/kv/a/b?keys").await,
        json!(["a/b/c", "a/b/d"])
    );
    assert_eq!(get(&agent, "/v1/kv/zz?keys").await.0, 404);

    assert_eq!(
        delete(&agent, "/v1/kv/a/?recurse").await,
        (200, "true".into())
    );
    assert_eq!(agent.get_json("/v1/kv/?keys").await, json!(["b"]));
}

/// `cas=0` on an existing key and a stale index both fail; the current index succeeds.
#[tokio::test]
async fn check_and_set() {
    let agent = TestAgent::start().await;
    assert_eq!(agent.put("/v1/kv/c?cas=0", "1").await, (200, "true".into()));
    assert_eq!(
        agent.put("/v1/kv/c?cas=0", "2").await,
        (200, "false".into())
    );
    let index = agent.get_json("/v1/kv/c").await[0]["ModifyIndex"]
        .as_u64()
        .unwrap();
    assert_eq!(agent.put("/v1/kv/c", "3").await.0, 200);
    assert_eq!(
        agent.put(&format!("/v1/kv/c?cas={index}"), "4").await,
        (200, "false".into())
    );
    let current = agent.get_json("/v1/kv/c").await[0]["ModifyIndex"]
        .as_u64()
        .unwrap();
    assert_eq!(
        agent.put(&format!("/v1/kv/c?cas={current}"), "5").await,
        (200, "true".into())
    );
    assert_eq!(agent.get_json("/v1/kv/c").await[0]["Value"], "NQ==");
    assert_eq!(
        delete(&agent, &format!("/v1/kv/c?cas={current}")).await,
        (200, "false".into())
    );
    assert_eq!(get(&agent, "/v1/kv/c").await.0, 200);
}

/// A blocking read returns once the key changes, with the new value and a larger index.
#[tokio::test]
async fn blocking_get_returns_after_put() {
    let agent = TestAgent::start().await;
    assert_eq!(agent.put("/v1/kv/watch", "old").await.0, 200);
    let (_, index, _) = get(&agent, "/v1/kv/watch").await;
    let request = agent
        .http()
        .get(agent.url(&format!("/v1/kv/watch?index={index}&wait=10s")))
        .send();
    let waiter = tokio::spawn(request);
    assert_eq!(agent.put("/v1/kv/watch", "new").await.0, 200);
    let response = waiter.await.unwrap().unwrap();
    let new_index: u64 = response.headers()["X-Consul-Index"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body[0]["Value"], "bmV3");
    assert!(new_index > index);
}

/// A value over 512 KiB is refused with 413 and nothing is written.
#[tokio::test]
async fn oversized_value_is_413() {
    let agent = TestAgent::start().await;
    let (status, body) = agent.put("/v1/kv/big", vec![b'x'; 512 * 1024 + 1]).await;
    assert_eq!(status, 413);
    assert!(
        body.starts_with("Request body(524289 bytes) too large, max size: 524288 bytes."),
        "{body}"
    );
    assert_eq!(get(&agent, "/v1/kv/big").await.0, 404);
    assert_eq!(agent.put("/v1/kv/big", vec![b'x'; 512 * 1024]).await.0, 200);
}

/// Locks: acquire sets the session, another session cannot take or release it, release frees it.
#[tokio::test]
async fn acquire_and_release() {
    let agent = TestAgent::start().await;
    let s1 = session(&agent).await;
    let s2 = session(&agent).await;
    assert_eq!(
        agent.put(&format!("/v1/kv/lock?acquire={s1}"), "a").await,
        (200, "true".into())
    );
    let entry = agent.get_json("/v1/kv/lock").await;
    assert_eq!(entry[0]["Session"], s1.as_str());
    assert_eq!(entry[0]["LockIndex"], 1);
    assert_eq!(
        agent.put(&format!("/v1/kv/lock?acquire={s2}"), "b").await,
        (200, "false".into())
    );
    assert_eq!(
        agent.put(&format!("/v1/kv/lock?release={s2}"), "b").await,
        (200, "false".into())
    );
    assert_eq!(
        agent.put(&format!("/v1/kv/lock?release={s1}"), "c").await,
        (200, "true".into())
    );
    let entry = agent.get_json("/v1/kv/lock").await;
    assert!(entry[0].get("Session").is_none());
    assert_eq!(entry[0]["Value"], "Yw==");

    let (status, body) = agent.put("/v1/kv/lock?acquire=no-such-session", "x").await;
    assert_eq!(status, 500);
    assert_eq!(
        body,
        r#"raft apply failed: invalid session "no-such-session""#
    );
}
