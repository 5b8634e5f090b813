//! `/v1/catalog`: the agent's own node, direct registration, and blocking reads.

use serde_json::json;

use crate::harness::TestAgent;

/// The dev agent's node is in the catalog with a passing serfHealth check.
#[tokio::test]
async fn own_node_is_registered_with_serf_health() {
    let agent = TestAgent::start().await;
    let nodes = agent.get_json("/v1/catalog/nodes").await;
    assert_eq!(nodes[0]["Node"], "test-node");
    assert_eq!(nodes[0]["Address"], "127.0.0.1");
    let checks = agent.get_json("/v1/health/node/test-node").await;
    assert_eq!(checks[0]["CheckID"], "serfHealth");
    assert_eq!(checks[0]["Status"], "passing");
    assert_eq!(
        agent.get_json("/v1/catalog/datacenters").await,
        json!(["dc1"])
    );
    let response = agent
        .http()
        .get(agent.url("/v1/catalog/nodes"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.headers()["X-Consul-KnownLeader"], "true");
    let index: u64 = response.headers()["X-Consul-Index"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(index >= 2);
}

/// External registration, tag and filter queries, node reads and deregistration.
#[tokio::test]
async fn register_query_and_deregister_external_node() {
    let agent = TestAgent::start().await;
    let body = json!({
        "Node": "ext", "Address": "10.0.0.9", "NodeMeta": {"rack": "r1"},
        "Service": {"Service": "redis", "Tags": ["primary"], "Port": 6379},
        "Check": {"CheckID": "redis-alive", "Name": "Redis", "Status": "passing", "ServiceID": "redis"}
    });
    let (status, text) = agent.put("/v1/catalog/register", body.to_string()).await;
    assert_eq!((status, text.as_str()), (200, "true"));

    let tagged = agent
        .get_json("/v1/catalog/service/redis?tag=primary")
        .await;
    assert_eq!(tagged[0]["ServiceID"], "redis");
    assert_eq!(tagged[0]["NodeMeta"]["rack"], "r1");
    assert_eq!(
        agent
            .get_json("/v1/catalog/service/redis?tag=replica")
            .await,
        json!([])
    );
    let filtered = agent
        .get_json("/v1/catalog/nodes?filter=Meta.rack%20%3D%3D%20%22r1%22")
        .await;
    assert_eq!(filtered.as_array().unwrap().len(), 1);
    let by_meta = agent.get_json("/v1/catalog/nodes?node-meta=rack:r1").await;
    assert_eq!(by_meta[0]["Node"], "ext");
    let node = agent.get_json("/v1/catalog/node/ext").await;
    assert_eq!(node["Services"]["redis"]["Port"], 6379);
    assert_eq!(
        agent.get_json("/v1/catalog/node/missing").await,
        json!(null)
    );

    let r = agent
        .http()
        .get(agent.url("/v1/catalog/nodes?filter=Meta%20%3D%3D"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);

    let (status, _) = agent
        .put("/v1/catalog/deregister", r#"{"Node":"ext"}"#)
        .await;
    assert_eq!(status, 200);
    assert_eq!(agent.get_json("/v1/catalog/service/redis").await, json!([]));
}

/// A malformed catalog registration is rejected with a message and writes nothing.
#[tokio::test]
async fn malformed_registration_writes_nothing() {
    let agent = TestAgent::start().await;
    // Background duties (CA bootstrap, coordinates, autopilot) may write meanwhile, so compare
    // the catalog itself rather than the global index.
    let catalog = || {
        let view = agent.agent.server().store().view();
        (view.nodes(), view.checks_in_state("any"))
    };
    let before = catalog();
    for body in [
        "",
        "[]",
        r#"{"Node":""}"#,
        r#"{"Node":"x"}"#,
        r#"{"Node":"x","Address":"1.2.3.4","Check":{"Name":"c","Status":"sideways"}}"#,
    ] {
        let (status, text) = agent.put("/v1/catalog/register", body).await;
        assert_eq!(status, 400, "{body} -> {text}");
        assert!(!text.is_empty());
    }
    assert_eq!(catalog(), before);
}

/// A blocking catalog read returns as soon as a service is registered.
#[tokio::test]
async fn blocking_service_read_wakes_on_registration() {
    let agent = TestAgent::start().await;
    let first = agent
        .http()
        .get(agent.url("/v1/catalog/service/late"))
        .send()
        .await
        .unwrap();
    let index: u64 = first.headers()["X-Consul-Index"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    let url = agent.url(&format!("/v1/catalog/service/late?index={index}&wait=30s"));
    let client = agent.http().clone();
    let waiter = tokio::spawn(async move {
        client
            .get(url)
            .send()
            .await
            .unwrap()
            .json::<serde_json::Value>()
            .await
            .unwrap()
    });
    let body =
        json!({"Node": "n2", "Address": "10.0.0.2", "Service": {"Service": "late", "Port": 1}});
    agent.put("/v1/catalog/register", body.to_string()).await;
    let woke = tokio::time::timeout(crate::harness::PATIENCE, waiter)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(woke[0]["ServiceName"], "late");
}

/// Header names go out in Go's canonical form, byte for byte, as scripts grepping Consul's
/// responses expect (`X-Consul-Index`, `X-Consul-Knownleader`).
#[tokio::test]
async fn header_names_are_in_go_canonical_form() {
    use tokio::io::AsyncReadExt;
    use tokio::io::AsyncWriteExt;
    let agent = TestAgent::start().await;
    let addr = agent.agent.http_addrs()[0];
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    stream
        .write_all(b"GET /v1/catalog/nodes HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .await
        .unwrap();
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).await.unwrap();
    let head = String::from_utf8_lossy(&raw);
    for name in [
        "X-Consul-Index: ",
        "X-Consul-Knownleader: ",
        "X-Consul-Lastcontact: ",
        "Content-Type: ",
    ] {
        assert!(
            head.contains(&format!("\r\n{name}")),
            "{name} missing in:\n{head}"
        );
    }
}
