//! Cluster peering end to end, in process: two single-server clusters (dc1 accepts, dc2
//! dials) with Connect and the peering port on free ports. A token from dc1 established at
//! dc2 brings both ends ACTIVE over the mutually authenticated stream; exporting `web` from
//! dc1 makes it visible (with its health) at dc2 under `?peer=dc1`; a failing TTL check
//! replicates as critical; unexporting removes it; deleting the peering at dc2 terminates it
//! at dc1 and drops what dc2 imported.

use serde_json::Value;
use serde_json::json;

use crate::harness::TestAgent;
use crate::harness::free_port;

/// A dev server of datacenter `dc` with the peering port on a free port and its CA ready.
async fn cluster(dc: &str) -> TestAgent {
    let port = free_port().to_string();
    let agent = TestAgent::start_with(&["-datacenter", dc, "-grpc-tls-port", &port]).await;
    agent.wait_for_ca().await;
    agent
}

async fn post(agent: &TestAgent, path: &str, body: Value) -> (u16, String) {
    agent.post(path, body.to_string()).await
}

async fn put_ok(agent: &TestAgent, path: &str, body: Value) {
    let (status, text) = agent.put(path, body.to_string()).await;
    assert_eq!(status, 200, "PUT {path}: {text}");
}

/// The peering `name` as the API shows it (`Null` when absent).
async fn peering(agent: &TestAgent, name: &str) -> Value {
    let response = agent
        .http()
        .get(agent.url(&format!("/v1/peering/{name}")))
        .send()
        .await
        .expect("request");
    if response.status() == 404 {
        return Value::Null;
    }
    response.json().await.expect("json")
}

/// Wait until `agent`'s peering `name` is in `state`.
async fn wait_state(agent: &TestAgent, name: &str, state: &str) {
    agent
        .wait_until(|| async { peering(agent, name).await["State"] == state })
        .await;
}

/// The `?peer=` health of `web` at `agent`, as (service ID, check statuses).
async fn peer_health(agent: &TestAgent, peer: &str) -> Vec<(String, Vec<String>)> {
    let entries = agent
        .get_json(&format!("/v1/health/service/web?peer={peer}"))
        .await;
    entries
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            let checks = e["Checks"]
                .as_array()
                .unwrap()
                .iter()
                .map(|c| c["Status"].as_str().unwrap().to_string())
                .collect();
            (e["Service"]["ID"].as_str().unwrap().to_string(), checks)
        })
        .collect()
}

fn export_web(peer: &str) -> Value {
    json!({
        "Kind": "exported-services",
        "Name": "default",
        "Services": [{"Name": "web", "Consumers": [{"Peer": peer}]}]
    })
}

#[tokio::test]
async fn two_clusters_peer_replicate_and_terminate() {
    let dc1 = cluster("dc1").await;
    let dc2 = cluster("dc2").await;

    // Establish: dc1 mints a token for "dc2"; dc2 establishes it as "dc1".
    let (status, body) = post(&dc1, "/v1/peering/token", json!({"PeerName": "dc2"})).await;
    assert_eq!(status, 200, "{body}");
    let token = serde_json::from_str::<Value>(&body).unwrap()["PeeringToken"]
        .as_str()
        .unwrap()
        .to_string();
    let (status, body) = post(
        &dc2,
        "/v1/peering/establish",
        json!({"PeerName": "dc1", "PeeringToken": token}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    wait_state(&dc2, "dc1", "ACTIVE").await;
    wait_state(&dc1, "dc2", "ACTIVE").await;

    // Each side learnt the other's CA: dc1 from the exchange, dc2 from the stream.
    let at_dc1 = peering(&dc1, "dc2").await;
    assert_eq!(at_dc1["Remote"]["Datacenter"], "dc2");
    assert!(at_dc1["Link"]["Connected"] == true, "{at_dc1}");
    dc2.wait_until(|| async {
        let view = dc2.agent.server().store().view();
        view.trust_bundle("dc1").is_some()
    })
    .await;
    assert!(
        dc1.agent
            .server()
            .store()
            .view()
            .trust_bundle("dc2")
            .is_some()
    );

    // Export web (TTL check passing) from dc1: dc2 sees it under ?peer=dc1, passing.
    put_ok(
        &dc1,
        "/v1/agent/service/register",
        json!({"Name": "web", "Port": 8080, "Check": {"CheckID": "web-ttl", "TTL": "10m"}}),
    )
    .await;
    put_ok(&dc1, "/v1/agent/check/pass/web-ttl", json!({})).await;
    put_ok(&dc1, "/v1/config", export_web("dc2")).await;
    dc2.wait_until(|| async {
        let health = peer_health(&dc2, "dc1").await;
        health.len() == 1 && health[0].1 == ["passing"]
    })
    .await;
    dc1.wait_until(|| async {
        peering(&dc1, "dc2").await["StreamStatus"]["ExportedServices"] == json!(["web"])
    })
    .await;
    dc2.wait_until(|| async {
        peering(&dc2, "dc1").await["StreamStatus"]["ImportedServices"] == json!(["web"])
    })
    .await;

    // The link is visible to Prometheus on both leaders.
    for (agent, peer) in [(&dc1, "dc2"), (&dc2, "dc1")] {
        let text = agent
            .http()
            .get(agent.url("/v1/agent/metrics?format=prometheus"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        let healthy = text
            .lines()
            .find(|l| {
                l.starts_with("consul_peering_healthy{")
                    && l.contains(&format!("peer_name=\"{peer}\""))
            })
            .unwrap_or_else(|| panic!("no consul_peering_healthy for {peer} in:\n{text}"));
        assert!(healthy.ends_with(" 1"), "{healthy}");
        assert!(text.contains("legate_peering_bytes_received{"), "{text}");
    }
    let exported = dc1
        .http()
        .get(dc1.url("/v1/agent/metrics?format=prometheus"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        exported
            .lines()
            .any(|l| l.starts_with("consul_peering_exported_services{") && l.ends_with(" 1")),
        "{exported}"
    );

    // The TTL check fails at dc1: critical at dc2.
    put_ok(&dc1, "/v1/agent/check/fail/web-ttl", json!({})).await;
    dc2.wait_until(|| async {
        let health = peer_health(&dc2, "dc1").await;
        health.len() == 1 && health[0].1 == ["critical"]
    })
    .await;

    // Unexport: gone at dc2.
    put_ok(
        &dc1,
        "/v1/config",
        json!({"Kind": "exported-services", "Name": "default", "Services": []}),
    )
    .await;
    dc2.wait_until(|| async { peer_health(&dc2, "dc1").await.is_empty() })
        .await;

    // Export again, then delete the peering at dc2: dc1 sees TERMINATED, dc2's imports go.
    put_ok(&dc1, "/v1/config", export_web("dc2")).await;
    dc2.wait_until(|| async { peer_health(&dc2, "dc1").await.len() == 1 })
        .await;
    let response = dc2
        .http()
        .delete(dc2.url("/v1/peering/dc1"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    wait_state(&dc1, "dc2", "TERMINATED").await;
    dc2.wait_until(|| async { peering(&dc2, "dc1").await.is_null() })
        .await;
    assert!(peer_health(&dc2, "dc1").await.is_empty());
}

/// A token is good for one exchange: establishing it again (under another name) is refused
/// with 403 by the acceptor, and nothing is written at the dialer. When the acceptor goes
/// away, the dialer's peering turns FAILING with the dial error in `Link`.
#[tokio::test]
async fn reused_token_is_forbidden_and_a_lost_acceptor_is_failing() {
    let dc1 = cluster("dc1").await;
    let dc2 = cluster("dc2").await;
    let (_, body) = post(&dc1, "/v1/peering/token", json!({"PeerName": "dc2"})).await;
    let token = serde_json::from_str::<Value>(&body).unwrap()["PeeringToken"]
        .as_str()
        .unwrap()
        .to_string();
    let establish = |name: &str| json!({"PeerName": name, "PeeringToken": token.clone()});
    let (status, body) = post(&dc2, "/v1/peering/establish", establish("dc1")).await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = post(&dc2, "/v1/peering/establish", establish("again")).await;
    assert_eq!(status, 403, "{body}");
    assert!(
        body.contains("a new peering token must be generated"),
        "{body}"
    );
    assert!(peering(&dc2, "again").await.is_null());
    wait_state(&dc1, "dc2", "ACTIVE").await;
    wait_state(&dc2, "dc1", "ACTIVE").await;

    dc1.agent.shutdown();
    wait_state(&dc2, "dc1", "FAILING").await;
    let link = &peering(&dc2, "dc1").await["Link"];
    assert_eq!(link["Connected"], false);
    assert!(link["LastError"].is_string(), "{link}");
}

/// Generate at `acceptor` for `as_name`, establish at `dialer` as `peer_name`.
async fn peer(acceptor: &TestAgent, as_name: &str, dialer: &TestAgent, peer_name: &str) {
    let (status, body) = post(acceptor, "/v1/peering/token", json!({"PeerName": as_name})).await;
    assert_eq!(status, 200, "{body}");
    let token = serde_json::from_str::<Value>(&body).unwrap()["PeeringToken"].clone();
    let (status, body) = post(
        dialer,
        "/v1/peering/establish",
        json!({"PeerName": peer_name, "PeeringToken": token}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    wait_state(dialer, peer_name, "ACTIVE").await;
    wait_state(acceptor, as_name, "ACTIVE").await;
}

/// With tiny parts and fast heartbeats, a 20-instance service still arrives whole, and
/// heartbeats show up in both ends' StreamStatus.
#[tokio::test]
async fn big_services_arrive_in_parts_and_heartbeats_flow() {
    let dc1 = cluster("dc1").await;
    let dc2 = cluster("dc2").await;
    for agent in [&dc1, &dc2] {
        agent
            .agent
            .peering()
            .set_session_config(legate_peerstream::SessionConfig {
                heartbeat_interval: std::time::Duration::from_millis(20),
                max_part_bytes: 512,
                ..legate_peerstream::SessionConfig::default()
            });
    }
    peer(&dc1, "dc2", &dc2, "dc1").await;
    for i in 0..20 {
        let body = json!({
            "Node": format!("node-{i}"),
            "Address": format!("10.1.0.{i}"),
            "Service": {"ID": format!("web-{i}"), "Service": "web", "Port": 8080},
            "Check": {"CheckID": format!("web-{i}"), "ServiceID": format!("web-{i}"), "Status": "passing"}
        });
        put_ok(&dc1, "/v1/catalog/register", body).await;
    }
    put_ok(&dc1, "/v1/config", export_web("dc2")).await;
    dc2.wait_until(|| async { peer_health(&dc2, "dc1").await.len() == 20 })
        .await;
    for (agent, name) in [(&dc1, "dc2"), (&dc2, "dc1")] {
        agent
            .wait_until(|| async {
                let p = peering(agent, name).await;
                p["StreamStatus"]["LastHeartbeat"].is_string()
            })
            .await;
    }
    let link = &peering(&dc1, "dc2").await["Link"];
    assert!(link["LastAck"].is_string(), "{link}");
    assert_eq!(link["LastNack"], Value::Null);
}

/// The handshake trusts any peer's CA, but a stream is accepted only with a certificate of
/// the peering it opens: dc3 (a peer of dc1 too) cannot open dc2's stream even with dc2's
/// peer ID and stream secret.
#[tokio::test]
async fn a_stream_needs_the_certificate_of_its_own_peering() {
    use legate_peerstream::AddressRing;
    use legate_peerstream::PeerDialer;
    use legate_peerstream::pb::replication_message::Open;
    use legate_peerstream::tls::ClientIdentity;
    use legate_peerstream::tls::ClientTls;

    let dc1 = cluster("dc1").await;
    let dc2 = cluster("dc2").await;
    let dc3 = cluster("dc3").await;
    peer(&dc1, "dc2", &dc2, "dc1").await;
    peer(&dc1, "dc3", &dc3, "dc1").await;

    let row2 = dc2.agent.server().store().view().peering("dc1").unwrap();
    let secret = dc2
        .agent
        .server()
        .store()
        .view()
        .peering_secrets(&row2.id)
        .unwrap()
        .active
        .unwrap();
    let cert3 = dc3.agent.peering().cert().get().unwrap();
    let identity = ClientIdentity::from_pem(&cert3.cert_pem, &cert3.key_pem).unwrap();
    let tls = ClientTls::new(&row2.peer_ca_pems, &row2.peer_server_name, Some(identity)).unwrap();
    let mut dialer = PeerDialer::new(AddressRing::new(row2.peer_server_addresses.clone()), tls);
    let open = Open {
        peer_id: row2.peer_id.clone(),
        stream_secret_id: secret,
        remote: None,
    };
    let err = dialer.open_stream(open).await.unwrap_err();
    let status = err.status().expect("a gRPC refusal");
    assert_eq!(status.code(), tonic::Code::PermissionDenied, "{err}");
    assert!(status.message().contains("peer certificate"), "{err}");
    // dc2's own stream is untouched.
    assert_eq!(peering(&dc1, "dc2").await["State"], "ACTIVE");
}
