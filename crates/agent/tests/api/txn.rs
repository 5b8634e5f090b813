//! `/v1/txn`: all-or-nothing KV transactions, their result and error shapes, and limits.

use serde_json::Value;
use serde_json::json;

use crate::harness::TestAgent;

async fn txn(agent: &TestAgent, ops: &Value) -> (u16, Value) {
    let (status, body) = agent.put("/v1/txn", ops.to_string()).await;
    let value = serde_json::from_str(&body).unwrap_or(Value::String(body));
    (status, value)
}

/// Sets and a get in one transaction: every op's result, values only for the get.
#[tokio::test]
async fn successful_transaction_returns_results() {
    let agent = TestAgent::start().await;
    let ops = json!([
        {"KV": {"Verb": "set", "Key": "t/a", "Value": "YQ==", "Flags": 7}},
        {"KV": {"Verb": "set", "Key": "t/b", "Value": "Yg=="}},
        {"KV": {"Verb": "get", "Key": "t/a"}}
    ]);
    let (status, body) = txn(&agent, &ops).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["Errors"], json!(null));
    let results = body["Results"].as_array().unwrap();
    assert_eq!(results.len(), 3);
    let set = &results[0]["KV"];
    assert_eq!(set["Key"], "t/a");
    assert_eq!(set["Flags"], 7);
    assert_eq!(set["Value"], json!(null));
    assert_eq!(set["LockIndex"], 0);
    assert!(set["CreateIndex"].as_u64().unwrap() > 0);
    assert_eq!(set["CreateIndex"], set["ModifyIndex"]);
    assert_eq!(results[2]["KV"]["Value"], "YQ==");
    assert_eq!(agent.get_json("/v1/kv/t/b").await[0]["Value"], "Yg==");
}

/// A failing op aborts the whole transaction: 409, its error, and no change to the store.
#[tokio::test]
async fn failed_transaction_changes_nothing() {
    let agent = TestAgent::start().await;
    assert_eq!(agent.put("/v1/kv/t/existing", "v").await.0, 200);
    let ops = json!([
        {"KV": {"Verb": "set", "Key": "t/new", "Value": "eA=="}},
        {"KV": {"Verb": "cas", "Key": "t/existing", "Value": "eA==", "Index": 1}},
        {"KV": {"Verb": "bogus", "Key": "t/x"}}
    ]);
    let (status, body) = txn(&agent, &ops).await;
    assert_eq!(status, 409, "{body}");
    assert_eq!(body["Results"], json!(null));
    let errors = body["Errors"].as_array().unwrap();
    assert_eq!(
        errors[0],
        json!({"OpIndex": 2, "What": "unknown KV verb \"bogus\""})
    );
    let r = agent
        .http()
        .get(agent.url("/v1/kv/t/new"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);

    let ops = json!([
        {"KV": {"Verb": "set", "Key": "t/new", "Value": "eA=="}},
        {"KV": {"Verb": "cas", "Key": "t/existing", "Value": "eA==", "Index": 1}}
    ]);
    let (status, body) = txn(&agent, &ops).await;
    assert_eq!(status, 409, "{body}");
    assert_eq!(body["Errors"][0]["OpIndex"], 1);
    assert_eq!(
        body["Errors"][0]["What"],
        "failed to set key \"t/existing\", index is stale"
    );
    let r = agent
        .http()
        .get(agent.url("/v1/kv/t/new"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
}

/// A read-only transaction also reports the leader as Consul's `Txn.Read` does.
#[tokio::test]
async fn read_only_transaction() {
    let agent = TestAgent::start().await;
    assert_eq!(agent.put("/v1/kv/r", "v").await.0, 200);
    let ops = json!([{"KV": {"Verb": "get-tree", "Key": "r"}}]);
    let (status, body) = txn(&agent, &ops).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["KnownLeader"], true);
    assert_eq!(body["Results"][0]["KV"]["Value"], "dg==");
}

/// Too many operations and malformed bodies are refused before anything runs.
#[tokio::test]
async fn limits_and_decode_errors() {
    let agent = TestAgent::start().await;
    let ops: Vec<Value> = (0..65)
        .map(|i| json!({"KV": {"Verb": "set", "Key": format!("k{i}")}}))
        .collect();
    let (status, body) = txn(&agent, &Value::Array(ops)).await;
    assert_eq!(status, 413);
    assert_eq!(body, "Transaction contains too many operations (65 > 64)");
    let (status, body) = agent.put("/v1/txn", "{").await;
    assert_eq!(status, 400);
    assert!(body.starts_with("Failed to parse body: "), "{body}");
    let r = agent.http().get(agent.url("/v1/txn")).send().await.unwrap();
    assert_eq!(r.status(), 405);
    assert_eq!(agent.get_json("/v1/kv/?keys").await, json!([]));
}
