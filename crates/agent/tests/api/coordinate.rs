//! `/v1/coordinate`: WAN datacenter list, node coordinates written by an update, and 404s;
//! `?near=` ordering and the agent's own coordinate in `/v1/agent/self`.

use serde_json::json;

use crate::harness::TestAgent;

/// Shapes of the datacenter and node lists; an update for a known node is listed.
#[tokio::test]
async fn coordinate_shapes() {
    let agent = TestAgent::start().await;
    let dcs = agent.get_json("/v1/coordinate/datacenters").await;
    assert_eq!(dcs[0]["Datacenter"], "dc1");
    assert_eq!(dcs[0]["AreaID"], "wan");
    assert_eq!(dcs[0]["Coordinates"][0]["Node"], "test-node.dc1");
    assert_eq!(
        dcs[0]["Coordinates"][0]["Coord"]["Vec"]
            .as_array()
            .unwrap()
            .len(),
        8
    );

    assert_eq!(agent.get_json("/v1/coordinate/nodes").await, json!([]));
    let missing = agent
        .http()
        .get(agent.url("/v1/coordinate/node/test-node"))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), 404);

    let coord = json!({"Vec": [0.1, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0], "Error": 0.5,
        "Adjustment": 0.0, "Height": 0.0001});
    let body = json!({"Node": "test-node", "Segment": "", "Coord": coord});
    let (status, _) = agent.put("/v1/coordinate/update", body.to_string()).await;
    assert_eq!(status, 200);
    // Updates are batched into Raft every update period (100 ms in dev mode).
    agent
        .wait_until(|| async { agent.get_json("/v1/coordinate/nodes").await != json!([]) })
        .await;
    let nodes = agent.get_json("/v1/coordinate/nodes").await;
    assert_eq!(
        nodes,
        json!([{"Node": "test-node", "Segment": "", "Coord": coord}])
    );
    let node = agent.get_json("/v1/coordinate/node/test-node").await;
    assert_eq!(node[0]["Coord"], coord);

    let bad = json!({"Node": "test-node", "Coord": {"Vec": [1.0]}});
    let (status, text) = agent.put("/v1/coordinate/update", bad.to_string()).await;
    assert_eq!((status, text.as_str()), (400, "invalid coordinate"));
}

/// `?near=` sorts catalog and health results by the stored coordinates, `_agent` naming this
/// agent; unknown sources leave the order alone.
#[tokio::test]
async fn near_sorts_by_estimated_rtt() {
    let agent = TestAgent::start().await;
    let at = |x: f64| {
        json!({"Vec": [x, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0], "Error": 0.5,
        "Adjustment": 0.0, "Height": 0.0001})
    };
    for (node, x) in [("far", 0.5), ("mid", 0.2), ("bare", 0.0)] {
        let reg = json!({"Node": node, "Address": "10.0.0.1",
            "Service": {"Service": "web", "Port": 80},
            "Check": {"CheckID": "c", "Name": "c", "Status": "passing", "ServiceID": "web"}});
        let (status, _) = agent.put("/v1/catalog/register", reg.to_string()).await;
        assert_eq!(status, 200);
        if node != "bare" {
            let update = json!({"Node": node, "Coord": at(x)});
            agent.put("/v1/coordinate/update", update.to_string()).await;
        }
    }
    let update = json!({"Node": "test-node", "Coord": at(0.0)});
    agent.put("/v1/coordinate/update", update.to_string()).await;
    agent
        .wait_until(|| async {
            let nodes = agent.get_json("/v1/coordinate/nodes").await;
            nodes.as_array().is_some_and(|n| n.len() == 3)
        })
        .await;
    let names = |v: serde_json::Value, pick: fn(&serde_json::Value) -> &serde_json::Value| {
        v.as_array()
            .unwrap()
            .iter()
            .map(|e| pick(e).as_str().unwrap().to_string())
            .collect::<Vec<_>>()
    };
    fn node(e: &serde_json::Value) -> &serde_json::Value {
        &e["Node"]
    }
    fn nested(e: &serde_json::Value) -> &serde_json::Value {
        &e["Node"]["Node"]
    }
    let nodes = agent.get_json("/v1/catalog/nodes?near=_agent").await;
    assert_eq!(names(nodes, node), ["test-node", "mid", "far", "bare"]);
    let nodes = agent.get_json("/v1/catalog/nodes?near=far").await;
    assert_eq!(names(nodes, node), ["far", "mid", "test-node", "bare"]);
    let nodes = agent.get_json("/v1/catalog/nodes?near=bare").await;
    assert_eq!(names(nodes, node), ["bare", "far", "mid", "test-node"]);
    let web = agent.get_json("/v1/catalog/service/web?near=far").await;
    assert_eq!(names(web, node), ["far", "mid", "bare"]);
    let web = agent.get_json("/v1/health/service/web?near=mid").await;
    assert_eq!(names(web, nested), ["mid", "far", "bare"]);
    let checks = agent.get_json("/v1/health/checks/web?near=far").await;
    assert_eq!(names(checks, node), ["far", "mid", "bare"]);
    let checks = agent.get_json("/v1/health/state/passing?near=far").await;
    assert_eq!(names(checks, node)[..2], ["far", "mid"]);
}

/// `/v1/agent/self` reports the agent's own coordinate (at the origin with no peers), or
/// null when coordinates are disabled.
#[tokio::test]
async fn agent_self_reports_its_coordinate() {
    let agent = TestAgent::start().await;
    let me = agent.get_json("/v1/agent/self").await;
    assert_eq!(me["Coord"]["Vec"].as_array().unwrap().len(), 8);
    assert_eq!(me["Coord"]["Error"], 1.5);
    let off = TestAgent::start_with(&["-hcl", "disable_coordinates = true"]).await;
    let me = off.get_json("/v1/agent/self").await;
    assert_eq!(me["Coord"], serde_json::Value::Null);
}
