//! Peering reads over HTTP: `GET /v1/peering/:name` and `GET /v1/peerings` show rows written
//! through the server's Raft write path in Consul's API shape, 404 an unknown name, and block
//! on the peerings table.

use legate_state::command::Command;
use legate_state::command::CommandResult;
use legate_state::model::Peering;
use legate_state::model::PeeringRemote;
use legate_state::model::SecretsWrite;
use serde_json::json;

use crate::harness::TestAgent;

async fn write(agent: &TestAgent, command: Command) {
    let result = agent.agent.server().write(command).await.expect("write");
    assert_eq!(result, CommandResult::Ok);
}

fn acceptor(id: &str, name: &str) -> Command {
    Command::PeeringWrite {
        peering: Peering {
            id: id.to_string(),
            name: name.to_string(),
            ..Peering::default()
        },
        secrets: Some(SecretsWrite::GenerateToken {
            establishment: format!("secret-{id}"),
        }),
    }
}

fn dialer(id: &str, name: &str) -> Command {
    Command::PeeringWrite {
        peering: Peering {
            id: id.to_string(),
            name: name.to_string(),
            peer_id: "remote-id".to_string(),
            peer_ca_pems: vec!["pem\n".to_string()],
            peer_server_name: "server.dc2.peering.abc.consul".to_string(),
            peer_server_addresses: vec!["10.2.0.1:8503".to_string()],
            manual_server_addresses: vec!["lb.example.com:8503".to_string()],
            remote: PeeringRemote {
                partition: "default".to_string(),
                datacenter: "dc2".to_string(),
                locality: None,
            },
            ..Peering::default()
        },
        secrets: None,
    }
}

/// A stored acceptor row reads back in Consul's shape: empty fields omitted, `StreamStatus`
/// present with `null` lists and times, indexes set; a dialer row shows its peer fields but
/// never the internal manual addresses.
#[tokio::test]
async fn read_shows_rows_in_consuls_shape() {
    let agent = TestAgent::start().await;
    write(
        &agent,
        acceptor("6f4f1c52-0000-4000-8000-000000000001", "to-dc2"),
    )
    .await;
    let got = agent.get_json("/v1/peering/to-dc2").await;
    let index = got["CreateIndex"].as_u64().unwrap();
    assert!(index > 0);
    assert_eq!(
        got,
        json!({
            "ID": "6f4f1c52-0000-4000-8000-000000000001",
            "Name": "to-dc2",
            "State": "PENDING",
            "StreamStatus": {
                "ImportedServices": null,
                "ExportedServices": null,
                "LastHeartbeat": null,
                "LastReceive": null,
                "LastSend": null
            },
            "CreateIndex": index,
            "ModifyIndex": index,
            "Remote": {"Partition": "", "Datacenter": ""}
        })
    );

    write(
        &agent,
        dialer("6f4f1c52-0000-4000-8000-000000000002", "from-dc2"),
    )
    .await;
    let got = agent.get_json("/v1/peering/from-dc2").await;
    assert_eq!(got["PeerID"], "remote-id");
    assert_eq!(got["PeerServerAddresses"], json!(["10.2.0.1:8503"]));
    assert_eq!(got["Remote"]["Datacenter"], "dc2");
    assert!(got.get("ManualServerAddresses").is_none());
}

/// An unknown name answers 404 with Consul's message.
#[tokio::test]
async fn read_of_unknown_peering_is_404() {
    let agent = TestAgent::start().await;
    let response = agent
        .http()
        .get(agent.url("/v1/peering/nope"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 404);
    assert_eq!(
        response.text().await.unwrap(),
        "Peering not found for \"nope\""
    );
}

/// The list is `[]` when empty, sorted by name otherwise, and follows deletes (the row is
/// marked DELETING, then the leader's cleanup removes it; the DELETING shape itself is covered
/// by `legate_peering::api`'s tests, as the cleanup races any read here).
#[tokio::test]
async fn list_is_sorted_and_shows_soft_deletes() {
    let agent = TestAgent::start().await;
    assert_eq!(agent.get_json("/v1/peerings").await, json!([]));
    write(
        &agent,
        acceptor("6f4f1c52-0000-4000-8000-00000000000b", "beta"),
    )
    .await;
    write(
        &agent,
        dialer("6f4f1c52-0000-4000-8000-00000000000a", "alpha"),
    )
    .await;
    let names: Vec<String> = agent
        .get_json("/v1/peerings")
        .await
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["Name"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(names, ["alpha", "beta"]);

    write(
        &agent,
        Command::PeeringDelete {
            name: "beta".to_string(),
        },
    )
    .await;
    agent
        .wait_until(|| async {
            agent
                .agent
                .server()
                .store()
                .view()
                .peering("beta")
                .is_none()
        })
        .await;
    let list = agent.get_json("/v1/peerings").await;
    assert_eq!(list.as_array().unwrap().len(), 1);
    assert_eq!(list[0]["Name"], "alpha");
}

/// A blocking read of the list returns once a peering is written.
#[tokio::test]
async fn list_blocks_until_a_peering_changes() {
    let agent = TestAgent::start().await;
    let response = agent
        .http()
        .get(agent.url("/v1/peerings"))
        .send()
        .await
        .unwrap();
    let index: u64 = response.headers()["X-Consul-Index"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    let url = agent.url(&format!("/v1/peerings?index={}&wait=30s", index.max(1)));
    let client = agent.http().clone();
    let waiter = tokio::spawn(async move { client.get(url).send().await.unwrap() });
    write(
        &agent,
        acceptor("6f4f1c52-0000-4000-8000-00000000000c", "gamma"),
    )
    .await;
    let body: serde_json::Value = waiter.await.unwrap().json().await.unwrap();
    assert_eq!(body[0]["Name"], "gamma");
}
