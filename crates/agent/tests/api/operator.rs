//! `/v1/operator`: the Raft configuration of a single dev server and what it answers to peer
//! removal and leadership transfer; autopilot configuration, health and state.

use serde_json::json;

use crate::harness::TestAgent;

/// The dev server lists itself as the voting leader, with its node ID (launch probe 5).
#[tokio::test]
async fn raft_configuration_lists_this_server() {
    let agent = TestAgent::start().await;
    let config = agent.get_json("/v1/operator/raft/configuration").await;
    let servers = config["Servers"].as_array().unwrap();
    assert_eq!(servers.len(), 1);
    let me = &servers[0];
    assert_eq!(me["ID"], agent.agent.node().id.as_str());
    assert_eq!(me["Node"], "test-node");
    assert_eq!(me["Voter"], true);
    assert_eq!(me["Leader"], true);
    assert_eq!(me["ProtocolVersion"], "3");
    assert!(config["Index"].is_u64());
}

/// Removing an unknown peer names it; removing the only server is refused.
#[tokio::test]
async fn raft_peer_removal_errors() {
    let agent = TestAgent::start().await;
    let remove = |query: String| {
        let url = agent.url(&format!("/v1/operator/raft/peer{query}"));
        let client = agent.http().clone();
        async move {
            let r = client.delete(url).send().await.unwrap();
            (r.status().as_u16(), r.text().await.unwrap())
        }
    };
    assert_eq!(remove(String::new()).await.0, 400);
    assert_eq!(
        remove("?address=nope".into()).await,
        (
            500,
            "address \"nope\" was not found in the Raft configuration".into()
        )
    );
    assert_eq!(
        remove("?id=nope".into()).await,
        (
            500,
            "id \"nope\" was not found in the Raft configuration".into()
        )
    );
    let own = agent.agent.node().id.clone();
    assert_eq!(
        remove(format!("?id={own}")).await,
        (500, "need at least one voter in configuration".into())
    );
    let response = agent
        .http()
        .post(agent.url("/v1/operator/raft/transfer-leader"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 500);
    assert_eq!(response.text().await.unwrap(), "cannot find peer");
}

/// Autopilot defaults, a CAS update, and health/state for one healthy server.
#[tokio::test]
async fn autopilot() {
    let agent = TestAgent::start().await;
    let config = agent.get_json("/v1/operator/autopilot/configuration").await;
    assert_eq!(config["CleanupDeadServers"], true);
    assert_eq!(config["LastContactThreshold"], "200ms");
    assert_eq!(config["MaxTrailingLogs"], 250);
    assert_eq!(config["MinQuorum"], 0);
    assert_eq!(config["ServerStabilizationTime"], "10s");
    let index = config["ModifyIndex"].as_u64().unwrap();

    let mut update = config.clone();
    update["MaxTrailingLogs"] = json!(500);
    let path = format!("/v1/operator/autopilot/configuration?cas={}", index + 1000);
    assert_eq!(
        agent.put(&path, update.to_string()).await,
        (200, "false".into())
    );
    let path = format!("/v1/operator/autopilot/configuration?cas={index}");
    assert_eq!(
        agent.put(&path, update.to_string()).await,
        (200, "true".into())
    );
    let config = agent.get_json("/v1/operator/autopilot/configuration").await;
    assert_eq!(config["MaxTrailingLogs"], 500);

    let health = agent.get_json("/v1/operator/autopilot/health").await;
    assert_eq!(health["Healthy"], true);
    assert_eq!(health["FailureTolerance"], 0);
    assert_eq!(health["Servers"][0]["ID"], agent.agent.node().id.as_str());
    assert_eq!(health["Servers"][0]["SerfStatus"], "alive");
    assert_eq!(health["Servers"][0]["Leader"], true);

    let state = agent.get_json("/v1/operator/autopilot/state").await;
    assert_eq!(state["Leader"], agent.agent.node().id.as_str());
    assert_eq!(state["Voters"], json!([agent.agent.node().id]));
}
