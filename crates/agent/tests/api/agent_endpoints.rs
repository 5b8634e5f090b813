//! `/v1/status` and `/v1/agent`: identity, service and check registration, TTL updates,
//! maintenance, and an HTTP check following its target up and down.

use serde_json::json;

use crate::harness::TestAgent;

/// A fresh dev agent reports itself as leader at its server RPC address, and agent/self agrees.
#[tokio::test]
async fn leader_and_self_agree() {
    let agent = TestAgent::start().await;
    let leader = agent.get_json("/v1/status/leader").await;
    let rpc = format!("127.0.0.1:{}", agent.rpc_port);
    assert_eq!(leader, json!(rpc));
    assert_eq!(agent.get_json("/v1/status/peers").await, json!([rpc]));
    let me = agent.get_json("/v1/agent/self").await;
    assert_eq!(me["Config"]["Datacenter"], "dc1");
    assert_eq!(me["Config"]["NodeName"], "test-node");
    assert_eq!(me["Config"]["Server"], true);
    assert_eq!(me["Member"]["Addr"], "127.0.0.1");
    assert_eq!(me["Stats"]["consul"]["leader_addr"], leader);
    let members = agent.get_json("/v1/agent/members").await;
    assert_eq!(members[0]["Name"], "test-node");
    assert_eq!(members[0]["Status"], 1);
    assert_eq!(members[0]["Tags"]["role"], "consul");
}

/// An unknown datacenter answers Consul's text; a bad wait is a 400.
#[tokio::test]
async fn bad_query_options_are_rejected() {
    let agent = TestAgent::start().await;
    let r = agent
        .http()
        .get(agent.url("/v1/catalog/nodes?dc=nowhere"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 500);
    assert_eq!(r.text().await.unwrap(), "No path to datacenter");
    let r = agent
        .http()
        .get(agent.url("/v1/catalog/nodes?index=1&wait=forever"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    assert_eq!(r.text().await.unwrap(), "Invalid wait time");
    let r = agent
        .http()
        .get(agent.url("/v1/catalog/nodes?stale&consistent"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
}

/// Registering a service with a TTL check: it starts critical, `pass` makes it passing, and
/// the catalog and health endpoints follow; deregistering removes both.
#[tokio::test]
async fn service_with_ttl_check_round_trip() {
    let agent = TestAgent::start().await;
    let (status, body) = agent
        .put(
            "/v1/agent/service/register",
            r#"{"Name":"web","Tags":["v1"],"Port":8080,"Check":{"TTL":"30s"}}"#,
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let services = agent.get_json("/v1/agent/services").await;
    assert_eq!(services["web"]["Service"], "web");
    assert_eq!(services["web"]["Port"], 8080);
    let checks = agent.get_json("/v1/agent/checks").await;
    assert_eq!(checks["service:web"]["Status"], "critical");

    agent
        .wait_until(|| async {
            agent
                .agent
                .server()
                .store()
                .view()
                .service_checks("web")
                .len()
                == 1
        })
        .await;
    assert_eq!(
        agent.get_json("/v1/catalog/services").await,
        json!({"consul": [], "web": ["v1"]})
    );

    let (status, _) = agent
        .put("/v1/agent/check/pass/service:web?note=fine", "")
        .await;
    assert_eq!(status, 200);
    agent
        .wait_until(|| async {
            agent.agent.server().store().view().service_checks("web")[0].status == "passing"
        })
        .await;
    let health = agent.get_json("/v1/health/service/web?passing").await;
    assert_eq!(health.as_array().unwrap().len(), 1);
    let check_ids: Vec<&str> = health[0]["Checks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["CheckID"].as_str().unwrap())
        .collect();
    assert_eq!(check_ids, ["serfHealth", "service:web"]);
    assert_eq!(health[0]["Checks"][1]["Output"], "fine");

    let (status, _) = agent.put("/v1/agent/service/deregister/web", "").await;
    assert_eq!(status, 200);
    agent
        .wait_until(|| async {
            agent
                .agent
                .server()
                .store()
                .view()
                .service_instances("web")
                .is_empty()
        })
        .await;
    assert_eq!(
        agent.get_json("/v1/catalog/services").await,
        json!({"consul": []})
    );
}

/// Bad registrations are 400s that say what is wrong, and register nothing.
#[tokio::test]
async fn bad_registrations_change_nothing() {
    let agent = TestAgent::start().await;
    let (status, body) = agent.put("/v1/agent/service/register", "{not json").await;
    assert_eq!(status, 400);
    assert!(body.starts_with("Request decode failed"), "{body}");
    let (status, body) = agent
        .put(
            "/v1/agent/check/register",
            r#"{"Name":"x","Docker":"abc","Interval":"10s"}"#,
        )
        .await;
    assert_eq!(status, 400, "{body}");
    let (status, _) = agent.put("/v1/agent/check/pass/nope", "").await;
    assert_eq!(status, 500);
    assert_eq!(agent.get_json("/v1/agent/services").await, json!({}));
    assert_eq!(agent.get_json("/v1/agent/checks").await, json!({}));
}

/// Node and service maintenance add the well-known critical checks and remove them again.
#[tokio::test]
async fn maintenance_modes() {
    let agent = TestAgent::start().await;
    agent
        .put("/v1/agent/service/register", r#"{"Name":"db","Port":5432}"#)
        .await;
    let (status, _) = agent
        .put("/v1/agent/maintenance?enable=true&reason=upgrade", "")
        .await;
    assert_eq!(status, 200);
    let (status, _) = agent
        .put("/v1/agent/service/maintenance/db?enable=true", "")
        .await;
    assert_eq!(status, 200);
    let checks = agent.get_json("/v1/agent/checks").await;
    assert_eq!(checks["_node_maintenance"]["Status"], "critical");
    assert_eq!(checks["_node_maintenance"]["Notes"], "upgrade");
    assert_eq!(checks["_service_maintenance:db"]["ServiceID"], "db");
    let (status, body) = agent.put("/v1/agent/maintenance", "").await;
    assert_eq!((status, body.as_str()), (400, "Missing value for enable"));
    agent.put("/v1/agent/maintenance?enable=false", "").await;
    agent
        .put("/v1/agent/service/maintenance/db?enable=false", "")
        .await;
    assert_eq!(agent.get_json("/v1/agent/checks").await, json!({}));
}

/// An HTTP check is passing while its target answers 200 and critical once the target stops.
#[tokio::test]
async fn http_check_follows_its_target() {
    let agent = TestAgent::start().await;
    let target = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = target.local_addr().unwrap().port();
    let server = tokio::spawn(async move {
        let app = axum::Router::new().route("/health", axum::routing::get(|| async { "ok" }));
        axum::serve(target, app).await.unwrap();
    });
    let registration = json!({
        "Name": "api",
        "Port": port,
        "Check": {"HTTP": format!("http://127.0.0.1:{port}/health"), "Interval": "1s", "Timeout": "1s"}
    });
    let (status, body) = agent
        .put("/v1/agent/service/register", registration.to_string())
        .await;
    assert_eq!(status, 200, "{body}");
    let status_of = || async {
        let health = agent.get_json("/v1/health/service/api").await;
        health[0]["Checks"][1]["Status"]
            .as_str()
            .unwrap_or("")
            .to_string()
    };
    agent
        .wait_until(|| async { status_of().await == "passing" })
        .await;
    server.abort();
    let _ = server.await;
    agent
        .wait_until(|| async { status_of().await == "critical" })
        .await;
}

/// An alias check mirrors the health of the service it aliases on this agent.
#[tokio::test]
async fn alias_check_follows_the_aliased_service() {
    let agent = TestAgent::start().await;
    agent
        .put(
            "/v1/agent/service/register",
            r#"{"Name":"web","Check":{"TTL":"30s"}}"#,
        )
        .await;
    let (status, body) = agent
        .put(
            "/v1/agent/check/register",
            r#"{"Name":"web-alias","AliasService":"web"}"#,
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let alias_status = || async {
        let checks = agent.get_json("/v1/agent/checks").await;
        checks["web-alias"]["Status"]
            .as_str()
            .unwrap_or("")
            .to_string()
    };
    agent
        .wait_until(|| async { alias_status().await == "critical" })
        .await;
    agent.put("/v1/agent/check/pass/service:web", "").await;
    agent
        .wait_until(|| async { alias_status().await == "passing" })
        .await;
    agent.put("/v1/agent/service/deregister/web", "").await;
    agent
        .wait_until(|| async { alias_status().await == "critical" })
        .await;
    let checks = agent.get_json("/v1/agent/checks").await;
    assert_eq!(
        checks["web-alias"]["Output"],
        "Service web could not be found on node test-node"
    );
}
