//! Imported (peer) catalog data over HTTP: `?peer=` reads on the catalog and health endpoints,
//! blocking on imports, `/v1/imported-services` and `/v1/exported-services`. Imports are
//! written through the server's Raft write path, as the peering stream's importer will.

use legate_peering::exporter;
use legate_state::command::Command;
use legate_state::command::CommandResult;
use legate_state::command::ImportedInstance;
use legate_state::model::HealthCheck;
use legate_state::model::Node;
use legate_state::model::Service;
use legate_state::model::health;
use serde_json::Value;
use serde_json::json;

use crate::harness::TestAgent;

fn instance(node: &str, id: &str, name: &str, status: &str) -> ImportedInstance {
    ImportedInstance {
        node: Node {
            node: node.to_string(),
            address: "10.9.0.1".to_string(),
            datacenter: "dc2".to_string(),
            ..Node::default()
        },
        service: Service {
            id: id.to_string(),
            service: name.to_string(),
            port: 9090,
            tags: vec!["remote".to_string()],
            ..Service::default()
        },
        checks: exporter::flatten_checks(
            node,
            id,
            name,
            &[HealthCheck {
                check_id: "c".to_string(),
                status: status.to_string(),
                ..HealthCheck::default()
            }],
        ),
    }
}

async fn import(agent: &TestAgent, peer: &str, service: &str, instances: Vec<ImportedInstance>) {
    let command = Command::ImportServiceSnapshot {
        peer: peer.to_string(),
        service: service.to_string(),
        instances,
    };
    let result = agent.agent.server().write(command).await.expect("write");
    assert_eq!(result, CommandResult::Ok);
}

async fn index_of(agent: &TestAgent, path: &str) -> u64 {
    let response = agent.http().get(agent.url(path)).send().await.unwrap();
    response.headers()["X-Consul-Index"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap()
}

/// Imported rows answer every `?peer=` catalog and health read with `PeerName` set, and never
/// show up in local reads.
#[tokio::test]
async fn peer_reads_see_imported_rows_and_local_reads_do_not() {
    let agent = TestAgent::start().await;
    import(
        &agent,
        "alpha",
        "web",
        vec![instance("remote-1", "web-1", "web", health::CRITICAL)],
    )
    .await;

    assert_eq!(agent.get_json("/v1/catalog/service/web").await, json!([]));
    let entries = agent.get_json("/v1/catalog/service/web?peer=alpha").await;
    assert_eq!(entries[0]["Node"], "remote-1");
    assert_eq!(entries[0]["ServiceID"], "web-1");
    assert_eq!(entries[0]["PeerName"], "alpha");
    let tagged = agent
        .get_json("/v1/catalog/service/web?peer=alpha&tag=remote")
        .await;
    assert_eq!(tagged.as_array().unwrap().len(), 1);

    let services = agent.get_json("/v1/catalog/services?peer=alpha").await;
    assert_eq!(services, json!({"web": ["remote"]}));
    assert!(
        agent
            .get_json("/v1/catalog/services")
            .await
            .get("web")
            .is_none()
    );

    let nodes = agent.get_json("/v1/catalog/nodes?peer=alpha").await;
    assert_eq!(nodes[0]["Node"], "remote-1");
    assert_eq!(nodes[0]["PeerName"], "alpha");
    let local = agent.get_json("/v1/catalog/nodes").await;
    assert_eq!(local.as_array().unwrap().len(), 1);
    assert!(local[0].get("PeerName").is_none());

    let node = agent.get_json("/v1/catalog/node/remote-1?peer=alpha").await;
    assert_eq!(node["Node"]["PeerName"], "alpha");
    assert_eq!(node["Services"]["web-1"]["PeerName"], "alpha");
    assert_eq!(
        agent.get_json("/v1/catalog/node/remote-1").await,
        Value::Null
    );
    let listed = agent
        .get_json("/v1/catalog/node-services/remote-1?peer=alpha")
        .await;
    assert_eq!(listed["Services"][0]["ID"], "web-1");

    let health = agent.get_json("/v1/health/service/web?peer=alpha").await;
    let check = &health[0]["Checks"][0];
    assert_eq!(check["CheckID"], "web-1:overall-check");
    assert_eq!(check["Name"], "overall-check");
    assert_eq!(check["Status"], "critical");
    assert_eq!(check["PeerName"], "alpha");
    assert_eq!(
        agent
            .get_json("/v1/health/service/web?peer=alpha&passing")
            .await,
        json!([])
    );
    assert_eq!(agent.get_json("/v1/health/service/web").await, json!([]));
    let checks = agent.get_json("/v1/health/checks/web?peer=alpha").await;
    assert_eq!(checks[0]["ServiceName"], "web");
    assert_eq!(agent.get_json("/v1/health/checks/web").await, json!([]));
    assert_eq!(
        agent.get_json("/v1/catalog/service/web?peer=beta").await,
        json!([])
    );
}

/// A blocking `?peer=` read returns once an import changes the catalog, and a dropped peer's
/// data is gone.
#[tokio::test]
async fn blocking_peer_read_wakes_on_import_and_drop_clears_it() {
    let agent = TestAgent::start().await;
    let path = "/v1/health/service/web?peer=alpha";
    let index = index_of(&agent, path).await;
    let blocked = agent
        .http()
        .get(agent.url(&format!("{path}&index={index}&wait=30s")))
        .send();
    let (response, ()) = tokio::join!(blocked, async {
        import(
            &agent,
            "alpha",
            "web",
            vec![instance("remote-1", "web-1", "web", health::PASSING)],
        )
        .await;
    });
    let response = response.unwrap();
    let body: Value = response.json().await.unwrap();
    assert_eq!(body[0]["Service"]["ID"], "web-1");

    let command = Command::ImportDropPeer {
        peer: "alpha".to_string(),
    };
    agent.agent.server().write(command).await.expect("write");
    assert_eq!(agent.get_json(path).await, json!([]));
}

/// `/v1/imported-services` lists each imported service with its source peer.
#[tokio::test]
async fn imported_services_lists_services_by_peer() {
    let agent = TestAgent::start().await;
    assert_eq!(agent.get_json("/v1/imported-services").await, json!([]));
    import(&agent, "beta", "db", vec![instance("r2", "db-1", "db", "")]).await;
    import(
        &agent,
        "alpha",
        "web",
        vec![instance("r1", "web-1", "web", "")],
    )
    .await;
    assert_eq!(
        agent.get_json("/v1/imported-services").await,
        json!([
            {"Service": "web", "SourcePeer": "alpha"},
            {"Service": "db", "SourcePeer": "beta"},
        ])
    );
    let filtered = agent
        .get_json("/v1/imported-services?filter=SourcePeer%20%3D%3D%20%22beta%22")
        .await;
    assert_eq!(filtered, json!([{"Service": "db", "SourcePeer": "beta"}]));
}

/// `/v1/exported-services` expands the config entry: `*` to the typical services registered
/// (never `consul`), with consumers per service, and honours `?filter`.
#[tokio::test]
async fn exported_services_expands_the_config_entry() {
    let agent = TestAgent::start().await;
    assert_eq!(agent.get_json("/v1/exported-services").await, json!([]));
    let register = json!({"Node": "ext", "Address": "10.0.0.9", "Service": {"Service": "web"}});
    let (status, _) = agent
        .put("/v1/catalog/register", register.to_string())
        .await;
    assert_eq!(status, 200);
    let entry = json!({"Kind": "exported-services", "Name": "default", "Services": [
        {"Name": "*", "Consumers": [{"Peer": "alpha"}]},
        {"Name": "api", "Consumers": [{"Peer": "beta"}, {"Peer": "alpha"}]},
    ]});
    let (status, text) = agent.put("/v1/config", entry.to_string()).await;
    assert_eq!((status, text.as_str()), (200, "true"));
    assert_eq!(
        agent.get_json("/v1/exported-services").await,
        json!([
            {"Service": "api", "Consumers": {"Peers": ["alpha", "beta"]}},
            {"Service": "web", "Consumers": {"Peers": ["alpha"]}},
        ])
    );
    let filtered = agent
        .get_json("/v1/exported-services?filter=Consumers.Peers%20contains%20%22beta%22")
        .await;
    assert_eq!(
        filtered,
        json!([{"Service": "api", "Consumers": {"Peers": ["alpha", "beta"]}}])
    );
}
