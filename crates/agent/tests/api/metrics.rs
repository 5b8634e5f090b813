//! `/v1/agent/metrics`: go-metrics JSON and the Prometheus text format.

use crate::harness::TestAgent;

/// JSON summary with the Raft and state gauges.
#[tokio::test]
async fn json_metrics() {
    let agent = TestAgent::start().await;
    let metrics = agent.get_json("/v1/agent/metrics").await;
    let keys: Vec<&str> = metrics
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        keys,
        ["Timestamp", "Gauges", "Points", "Counters", "Samples"]
    );
    let ts = metrics["Timestamp"].as_str().unwrap();
    assert!(ts.ends_with(" +0000 UTC"), "{ts}");
    let gauge = |name: &str| {
        metrics["Gauges"]
            .as_array()
            .unwrap()
            .iter()
            .find(|g| g["Name"] == name)
            .unwrap_or_else(|| panic!("gauge {name}"))
            .clone()
    };
    assert!(
        gauge("consul.raft.applied_index")["Value"]
            .as_u64()
            .unwrap()
            > 0
    );
    assert!(gauge("consul.raft.last_index")["Value"].as_u64().unwrap() > 0);
    assert_eq!(gauge("consul.state.nodes")["Value"], 1);
    assert_eq!(gauge("consul.state.nodes")["Labels"], serde_json::json!({}));
}

/// Prometheus exposition with its content type.
#[tokio::test]
async fn prometheus_metrics() {
    let agent = TestAgent::start().await;
    let response = agent
        .http()
        .get(agent.url("/v1/agent/metrics?format=prometheus"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.headers()["Content-Type"],
        "text/plain; version=0.0.4; charset=utf-8"
    );
    let text = response.text().await.unwrap();
    assert!(
        text.contains("# TYPE consul_raft_applied_index gauge\n"),
        "{text}"
    );
    assert!(
        text.lines().any(|l| l.starts_with("consul_state_nodes 1")),
        "{text}"
    );
}
