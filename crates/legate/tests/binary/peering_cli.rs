//! The peering and service-export CLI against a real dev agent: `peering generate-token`,
//! `list`, `read`, `establish` (refusing the agent's own token), `delete`, and
//! `services export|exported-services|unexport` on the `exported-services` config entry.

use base64::Engine;

use crate::process::AgentProcess;
use crate::process::eventually;

/// Start a dev agent and wait until it can mint tokens (leader elected, CA bootstrapped).
fn agent_ready() -> (AgentProcess, String) {
    let agent = AgentProcess::start(&["-dev", "-node", "peering-node"]);
    let mut token = String::new();
    eventually("a peering token", || {
        let (code, out, _) = agent.cli(&["peering", "generate-token", "-name", "dc2"]);
        token = out.trim().to_string();
        code == 0
    });
    (agent, token)
}

/// generate-token prints a token naming this cluster; list and read show the PENDING
/// acceptor row; the agent's own token is refused by establish; delete submits the row and
/// the leader removes it.
#[test]
fn generate_list_read_establish_delete() {
    let (agent, token) = agent_ready();
    let json = base64::engine::general_purpose::STANDARD
        .decode(&token)
        .expect("token is base64");
    let decoded: serde_json::Value = serde_json::from_slice(&json).expect("token is JSON");
    assert!(
        decoded["ServerName"]
            .as_str()
            .unwrap()
            .starts_with("server.dc1.peering."),
        "{decoded}"
    );

    let (code, out, err) = agent.cli(&[
        "peering",
        "generate-token",
        "-name",
        "dc3",
        "-format",
        "json",
    ]);
    assert_eq!(code, 0, "{err}");
    let response: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert!(response["PeeringToken"].is_string());

    let (code, out, _) = agent.cli(&["peering", "list"]);
    assert_eq!(code, 0);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(
        lines[0].split_whitespace().collect::<Vec<_>>().join(" "),
        "Name State Imported Svcs Exported Svcs Meta"
    );
    assert!(
        lines[1].starts_with("dc2") && lines[1].contains("PENDING"),
        "{out}"
    );
    assert!(lines[2].starts_with("dc3"), "{out}");

    let (code, out, _) = agent.cli(&["peering", "read", "-name", "dc2"]);
    assert_eq!(code, 0);
    assert!(
        out.starts_with("Name:         dc2\nID:           "),
        "{out}"
    );
    assert!(out.contains("State:        PENDING\n"), "{out}");
    assert!(out.contains("Last Heartbeat:    <nil>\n"), "{out}");
    let (code, _, err) = agent.cli(&["peering", "read", "-name", "nope"]);
    assert_eq!((code, err.trim()), (1, "No peering with name nope found."));
    let (code, _, err) = agent.cli(&["peering", "read"]);
    assert_eq!((code, err.trim()), (1, "Missing the required -name flag"));

    let (code, _, err) = agent.cli(&[
        "peering",
        "establish",
        "-name",
        "self",
        "-peering-token",
        &token,
    ]);
    assert_eq!(code, 1);
    assert!(
        err.starts_with("Error establishing peering for self: Unexpected response code: 400 (cannot create a peering within the same cluster"),
        "{err}"
    );

    for name in ["dc2", "dc3"] {
        let (code, out, _) = agent.cli(&["peering", "delete", "-name", name]);
        assert_eq!(code, 0);
        assert_eq!(
            out.trim(),
            format!("Successfully submitted peering connection, {name}, for deletion")
        );
    }
    eventually("deleted peerings removed", || {
        agent.cli(&["peering", "list"]).1.trim() == "There are no peering connections."
    });
}

/// export adds the peer as a consumer (idempotently), exported-services lists it, unexport
/// removes it again.
#[test]
fn services_export_and_unexport() {
    let (agent, _) = agent_ready();
    for _ in 0..2 {
        let (code, out, err) = agent.cli(&[
            "services",
            "export",
            "-name",
            "web",
            "-consumer-peers",
            "dc2",
        ]);
        assert_eq!(code, 0, "{err}");
        assert_eq!(
            out.trim(),
            "Successfully exported service \"web\" to cluster peers \"dc2\""
        );
    }
    let read = || {
        let (code, out, _) = agent.cli(&[
            "config",
            "read",
            "-kind",
            "exported-services",
            "-name",
            "default",
        ]);
        (
            code,
            serde_json::from_str::<serde_json::Value>(&out).unwrap_or_default(),
        )
    };
    let (code, entry) = read();
    assert_eq!(code, 0);
    assert_eq!(
        entry["Services"],
        serde_json::json!([{"Name": "web", "Consumers": [{"Peer": "dc2"}]}])
    );

    let (code, out, err) = agent.cli(&["services", "exported-services"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        out.lines()
            .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" "))
            .collect::<Vec<_>>(),
        ["Service Consumer", "web Peer: dc2"]
    );

    let (code, out, err) = agent.cli(&[
        "services",
        "unexport",
        "-name",
        "web",
        "-consumer-peers",
        "dc2",
    ]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        out.trim(),
        "Successfully unexported service \"web\" from cluster peers \"dc2\""
    );
    let (_, entry) = read();
    assert_eq!(
        entry["Services"].as_array().map_or(0, Vec::len),
        0,
        "{entry}"
    );
    let (code, _, err) = agent.cli(&["services", "export", "-name", "web"]);
    assert_eq!(
        (code, err.trim()),
        (
            1,
            "Missing the required -consumer-peers or -consumer-partitions flag"
        )
    );
}

/// Peering calls made on a follower or a client agent are answered by the leader: the token
/// lists every server's address, and the row, list and delete are the leader's wherever asked.
#[test]
fn followers_and_clients_forward_peering_calls_to_the_leader() {
    use crate::fleet::client;
    use crate::fleet::datacenter;
    use crate::fleet::leader_of;
    use crate::fleet::wait_for;

    let dir = tempfile::tempdir().unwrap();
    let mut fleet = datacenter(dir.path(), 3, 1, &[]);
    for m in fleet.iter_mut() {
        m.start();
    }
    let c = client();
    let mut leader = String::new();
    wait_for("one leader known to every agent", || {
        let leaders: Vec<Option<String>> = fleet.iter().map(|m| leader_of(&c, m)).collect();
        leader = leaders[0].clone().unwrap_or_default();
        leaders.iter().all(Option::is_some) && leaders.windows(2).all(|w| w[0] == w[1])
    });
    let follower = fleet[..3]
        .iter()
        .find(|m| !leader.ends_with(&format!(":{}", m.rpc_port)))
        .unwrap();
    let through_client = &fleet[3];

    let mut token = serde_json::Value::Null;
    wait_for("a token from a follower", || {
        let r = c
            .post(follower.url("/v1/peering/token"))
            .body(r#"{"PeerName": "dc2"}"#)
            .send();
        match r {
            Ok(r) if r.status() == 200 => {
                token = r.json().unwrap();
                true
            }
            _ => false,
        }
    });
    let json = base64::engine::general_purpose::STANDARD
        .decode(token["PeeringToken"].as_str().unwrap())
        .unwrap();
    let decoded: serde_json::Value = serde_json::from_slice(&json).unwrap();
    wait_for("every server in later tokens", || {
        let r = c
            .post(through_client.url("/v1/peering/token"))
            .body(r#"{"PeerName": "dc2"}"#)
            .send()
            .unwrap();
        assert_eq!(r.status(), 200);
        let token: serde_json::Value = r.json().unwrap();
        let json = base64::engine::general_purpose::STANDARD
            .decode(token["PeeringToken"].as_str().unwrap())
            .unwrap();
        let later: serde_json::Value = serde_json::from_slice(&json).unwrap();
        assert_eq!(later["PeerID"], decoded["PeerID"], "the same row");
        later["ServerAddresses"].as_array().unwrap().len() == 3
    });

    for m in [follower, through_client] {
        let list: serde_json::Value = c
            .get(m.url("/v1/peerings?stale"))
            .send()
            .unwrap()
            .json()
            .unwrap();
        assert_eq!(list[0]["ID"], decoded["PeerID"], "{list}");
    }
    let r = c.delete(follower.url("/v1/peering/dc2")).send().unwrap();
    assert_eq!(r.status(), 200);
    wait_for("the row removed", || {
        c.get(through_client.url("/v1/peerings"))
            .send()
            .and_then(|r| r.json::<serde_json::Value>())
            .is_ok_and(|l| l == serde_json::json!([]))
    });
}
