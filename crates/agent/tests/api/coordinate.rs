//! `/v1/coordinate`: WAN datacenter list, node coordinates written by an update, and 404s.

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
