//! Peering management over HTTP: `POST /v1/peering/token` mints a token whose CA, server name,
//! addresses and peer ID match this agent, a newer token replaces the unused secret of an
//! older one, every bad establish is refused with a 400 (or 403/500 from the exchange) and
//! writes nothing, a successful exchange stores an ESTABLISHING dialer row, and a DELETE marks
//! the peering for deletion that the leader then finishes.

use std::sync::Arc;
use std::sync::Mutex;

use base64::Engine;
use futures::future::BoxFuture;
use legate_agent::peering_exchange::ExchangeError;
use legate_agent::peering_exchange::ExchangeRequest;
use legate_agent::peering_exchange::SecretExchanger;
use legate_state::Table;
use serde_json::Value;
use serde_json::json;

use crate::harness::TestAgent;

/// A dev agent whose Connect CA has been bootstrapped.
async fn agent_with_ca() -> TestAgent {
    let agent = TestAgent::start().await;
    agent.wait_for_ca().await;
    agent
}

async fn post(agent: &TestAgent, path: &str, body: Value) -> (u16, String) {
    agent.post(path, body.to_string()).await
}

/// Generate a token for `name`, asserting success; returns the token text.
async fn generate(agent: &TestAgent, name: &str) -> String {
    let (status, body) = post(agent, "/v1/peering/token", json!({"PeerName": name})).await;
    assert_eq!(status, 200, "{body}");
    let body: Value = serde_json::from_str(&body).unwrap();
    body["PeeringToken"].as_str().unwrap().to_string()
}

fn decode(token: &str) -> Value {
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(token)
        .unwrap();
    serde_json::from_slice(&bytes).unwrap()
}

fn encode(token: &Value) -> String {
    base64::engine::general_purpose::STANDARD.encode(token.to_string())
}

/// A token as another cluster (`dc2`, another trust domain) would mint it, reusing this
/// agent's CA certificate (any valid CA PEM will do for validation).
fn foreign_token(own: &str) -> String {
    let mut token = decode(own);
    token["ServerName"] = json!("server.dc2.peering.11111111-2222-3333-4444-555555555555.consul");
    token["ServerAddresses"] = json!(["192.0.2.10:8503"]);
    token["Remote"] = json!({"Partition": "", "Datacenter": "dc2"});
    encode(&token)
}

/// An exchanger answering a fixed result and remembering what it was asked.
struct FakeExchanger {
    answer: Result<String, ExchangeError>,
    seen: Mutex<Vec<ExchangeRequest>>,
}

impl SecretExchanger for FakeExchanger {
    fn exchange<'a>(
        &'a self,
        request: &'a ExchangeRequest,
    ) -> BoxFuture<'a, Result<String, ExchangeError>> {
        self.seen.lock().unwrap().push(request.clone());
        let answer = self.answer.clone();
        Box::pin(async move { answer })
    }
}

fn fake(answer: Result<String, ExchangeError>) -> Arc<FakeExchanger> {
    Arc::new(FakeExchanger {
        answer,
        seen: Mutex::new(Vec::new()),
    })
}

/// The token decodes to Consul's shape and names this cluster: CA = the CA roots, server name
/// `server.dc1.peering.<trust domain>`, the row's ID as PeerID, the gRPC TLS port on every
/// address, the secret the store holds, and the operator's external addresses.
#[tokio::test]
async fn token_describes_this_cluster() {
    let agent = agent_with_ca().await;
    let (status, body) = post(
        &agent,
        "/v1/peering/token",
        json!({"PeerName": "dc2", "Meta": {"env": "test"}, "ServerExternalAddresses": ["lb.example.com:443"]}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let body: Value = serde_json::from_str(&body).unwrap();
    let token = decode(body["PeeringToken"].as_str().unwrap());
    let keys: Vec<&str> = token
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(keys.len(), 7, "{token}");

    let roots = agent.get_json("/v1/connect/ca/roots").await;
    let active = roots["Roots"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["Active"] == true)
        .unwrap();
    assert_eq!(token["CA"], json!([active["RootCert"]]));
    assert_eq!(
        token["ServerName"],
        format!(
            "server.dc1.peering.{}",
            roots["TrustDomain"].as_str().unwrap()
        )
    );
    let port = agent.agent.config().ports.grpc_tls.unwrap();
    let addresses = token["ServerAddresses"].as_array().unwrap();
    assert!(!addresses.is_empty());
    for a in addresses {
        assert!(a.as_str().unwrap().ends_with(&format!(":{port}")), "{a}");
    }
    assert_eq!(
        token["ManualServerAddresses"],
        json!(["lb.example.com:443"])
    );
    assert_eq!(
        token["Remote"],
        json!({"Partition": "", "Datacenter": "dc1"})
    );

    let row = agent.get_json("/v1/peering/dc2").await;
    assert_eq!(token["PeerID"], row["ID"]);
    assert_eq!(row["State"], "PENDING");
    assert_eq!(row["Meta"], json!({"env": "test"}));
    let view = agent.agent.server().store().view();
    let secrets = view.peering_secrets(row["ID"].as_str().unwrap()).unwrap();
    assert_eq!(
        secrets.establishment.as_deref(),
        token["EstablishmentSecret"].as_str()
    );
}

/// A second token for the same name keeps the row and replaces the first token's secret.
#[tokio::test]
async fn second_token_invalidates_the_first() {
    let agent = agent_with_ca().await;
    let first = decode(&generate(&agent, "peer-a").await);
    let second = decode(&generate(&agent, "peer-a").await);
    assert_eq!(first["PeerID"], second["PeerID"]);
    assert_ne!(first["EstablishmentSecret"], second["EstablishmentSecret"]);
    let view = agent.agent.server().store().view();
    let secrets = view
        .peering_secrets(second["PeerID"].as_str().unwrap())
        .unwrap();
    assert_eq!(
        secrets.establishment.as_deref(),
        second["EstablishmentSecret"].as_str()
    );
    assert_eq!(
        agent
            .get_json("/v1/peerings")
            .await
            .as_array()
            .unwrap()
            .len(),
        1
    );
}

/// Bad generate-token requests are 400s with Consul's texts and write nothing.
#[tokio::test]
async fn bad_token_requests_are_refused() {
    let agent = agent_with_ca().await;
    let cases = [
        (
            json!({}),
            "PeerName is required in the payload when generating a new peering token.",
        ),
        (
            json!({"PeerName": "Upper"}),
            "Upper is not a valid peer name: a valid peering name must consist of lower case \
             alphanumeric characters or '-', and must start and end with an alphanumeric character",
        ),
        (
            json!({"PeerName": "p", "ServerExternalAddresses": ["no-port"]}),
            "no-port is not a valid peering server address",
        ),
        (
            json!({"PeerName": "p", "Meta": {"": "v"}}),
            "meta tags failed validation: Couldn't load metadata pair ('', 'v'): Key cannot be blank",
        ),
        (
            json!({"PeerName": "p", "Partition": "team"}),
            "Partitions are a Consul Enterprise feature",
        ),
    ];
    for (body, message) in cases {
        assert_eq!(
            post(&agent, "/v1/peering/token", body.clone()).await,
            (400, message.to_string()),
            "{body}"
        );
    }
    let (status, text) = agent.put("/v1/peering/token", "").await;
    assert_eq!((status, text.as_str()), (405, "method PUT not allowed"));
    assert_eq!(agent.get_json("/v1/peerings").await, json!([]));
}

/// Every invalid establish is a 400 with the reason, and the peerings table is unchanged.
#[tokio::test]
async fn bad_establish_requests_write_nothing() {
    let agent = agent_with_ca().await;
    let own = generate(&agent, "acceptor-name").await;
    let foreign = foreign_token(&own);
    let before = agent.get_json("/v1/peerings").await;
    let index = agent
        .agent
        .server()
        .store()
        .view()
        .table_index(Table::Peerings);

    let truncated = {
        let text = own.clone();
        let mut json = decode(&text).to_string();
        json.truncate(json.len() / 2);
        base64::engine::general_purpose::STANDARD.encode(json)
    };
    let mut no_peer_id = decode(&foreign);
    no_peer_id["PeerID"] = json!("");
    let mut bad_ca = decode(&foreign);
    bad_ca["CA"] = json!(["not a pem"]);
    let cases: Vec<(Value, &str)> = vec![
        (
            json!({"PeeringToken": foreign}),
            "PeerName is required in the payload when establishing a peering.",
        ),
        (
            json!({"PeerName": "x"}),
            "PeeringToken is required in the payload when establishing a peering.",
        ),
        (
            json!({"PeerName": "Upper", "PeeringToken": foreign}),
            "Upper is not a valid peer name",
        ),
        (
            json!({"PeerName": "x", "PeeringToken": "!!garbage!!"}),
            "failed to decode token: illegal base64 data at input byte 0",
        ),
        (
            json!({"PeerName": "x", "PeeringToken": truncated}),
            "failed to decode token: unexpected end of JSON input",
        ),
        (
            json!({"PeerName": "x", "PeeringToken": encode(&no_peer_id)}),
            "peering token peer ID value is empty",
        ),
        (
            json!({"PeerName": "x", "PeeringToken": encode(&bad_ca)}),
            "peering token invalid CA: CA PEM 0 is invalid",
        ),
        (
            json!({"PeerName": "x", "PeeringToken": own}),
            "cannot create a peering within the same cluster \"server.dc1.peering.",
        ),
        (
            json!({"PeerName": "acceptor-name", "PeeringToken": foreign}),
            "cannot create peering with name: \"acceptor-name\"; there is an existing peering expecting to be dialed",
        ),
    ];
    for (body, message) in cases {
        let (status, text) = post(&agent, "/v1/peering/establish", body.clone()).await;
        assert_eq!(status, 400, "{body}: {text}");
        assert!(text.starts_with(message), "{body}: {text}");
    }
    assert_eq!(agent.get_json("/v1/peerings").await, before);
    assert_eq!(
        agent
            .agent
            .server()
            .store()
            .view()
            .table_index(Table::Peerings),
        index
    );
}

/// The exchange decides: without a transport a 500 naming it, a refused secret a 403 asking
/// for a new token — nothing written either way; a stream secret stores the dialer row
/// (ESTABLISHING, the token's peer fields) with that secret as its active one.
#[tokio::test]
async fn establish_goes_through_the_exchanger() {
    let agent = agent_with_ca().await;
    let own = generate(&agent, "ignored").await;
    let foreign = foreign_token(&own);
    let body = json!({"PeerName": "to-dc2", "PeeringToken": foreign, "Meta": {"team": "a"}});

    // The token's addresses are unreachable; the transport's refusal is what matters here.
    agent.agent.set_peering_exchanger(std::sync::Arc::new(
        legate_agent::peering_exchange::NoTransport,
    ));
    let (status, text) = post(&agent, "/v1/peering/establish", body.clone()).await;
    assert_eq!(
        (status, text.as_str()),
        (500, "the peering transport is not running on this agent")
    );

    agent
        .agent
        .set_peering_exchanger(fake(Err(ExchangeError::PermissionDenied(
            "invalid establishment secret".into(),
        ))));
    let (status, text) = post(&agent, "/v1/peering/establish", body.clone()).await;
    assert_eq!(
        (status, text.as_str()),
        (
            403,
            "a new peering token must be generated: invalid establishment secret"
        )
    );
    let (status, _) = agent
        .http()
        .get(agent.url("/v1/peering/to-dc2"))
        .send()
        .await
        .map(|r| (r.status().as_u16(), ()))
        .unwrap();
    assert_eq!(status, 404);

    let exchanger = fake(Ok("stream-secret-1".into()));
    agent.agent.set_peering_exchanger(exchanger.clone());
    let (status, text) = post(&agent, "/v1/peering/establish", body).await;
    assert_eq!((status, text.as_str()), (200, "{}"));
    let row = agent.get_json("/v1/peering/to-dc2").await;
    assert_eq!(row["State"], "ESTABLISHING");
    assert_eq!(row["PeerID"], decode(&own)["PeerID"]);
    assert_eq!(row["PeerServerAddresses"], json!(["192.0.2.10:8503"]));
    assert_eq!(row["Remote"]["Datacenter"], "dc2");
    assert_eq!(row["Meta"], json!({"team": "a"}));
    let secrets = agent
        .agent
        .server()
        .store()
        .view()
        .peering_secrets(row["ID"].as_str().unwrap())
        .unwrap();
    assert_eq!(secrets.active.as_deref(), Some("stream-secret-1"));
    let seen = exchanger.seen.lock().unwrap();
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].local_datacenter, "dc1");
    assert_eq!(
        seen[0].local_ca_pems,
        decode(&own)["CA"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap().to_string())
            .collect::<Vec<_>>()
    );
    assert!(seen[0].token.server_name.starts_with("server.dc2.peering."));
}

/// DELETE marks the peering DELETING at once (empty 200, idempotent, unknown names too); the
/// leader's cleanup then removes the row.
#[tokio::test]
async fn delete_is_soft_then_the_leader_removes_the_row() {
    let agent = agent_with_ca().await;
    generate(&agent, "doomed").await;
    generate(&agent, "kept").await;
    for name in ["doomed", "doomed", "never-existed"] {
        let response = agent
            .http()
            .delete(agent.url(&format!("/v1/peering/{name}")))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status().as_u16(), 200);
        assert_eq!(response.text().await.unwrap(), "");
    }
    agent
        .wait_until(|| async {
            agent
                .agent
                .server()
                .store()
                .view()
                .peering("doomed")
                .is_none()
        })
        .await;
    let names: Vec<Value> = agent
        .get_json("/v1/peerings")
        .await
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["Name"].clone())
        .collect();
    assert_eq!(names, [json!("kept")]);
}
