//! A real server cluster on loopback: three `legate agent -server -bootstrap-expect 3`
//! processes find each other by gossip (`-retry-join`), form one Raft group, register each
//! other in the catalog, forward writes to the leader, and survive a SIGKILL of the leader.

use crate::process::AgentProcess;
use crate::process::eventually;
use crate::process::free_port;
use crate::process::http;

struct Node {
    process: Option<AgentProcess>,
    lan_port: u16,
    rpc_port: u16,
}

fn start_server(name: &str, data: &std::path::Path, join: Option<u16>) -> Node {
    let (lan, rpc) = (free_port(), free_port());
    let (lan_s, rpc_s, wan_s) = (lan.to_string(), rpc.to_string(), free_port().to_string());
    let data_dir = data.join(name);
    let join_target = join.map(|p| format!("127.0.0.1:{p}"));
    let mut args = vec![
        "-server",
        "-bootstrap-expect",
        "3",
        "-node",
        name,
        "-bind",
        "127.0.0.1",
        "-data-dir",
        data_dir.to_str().unwrap(),
        "-server-port",
        &rpc_s,
        "-serf-lan-port",
        &lan_s,
        "-serf-wan-port",
        &wan_s,
    ];
    if let Some(target) = &join_target {
        args.extend(["-retry-join", target]);
    }
    let process = AgentProcess::start_exact(&args);
    Node {
        process: Some(process),
        lan_port: lan,
        rpc_port: rpc,
    }
}

fn get_json(url: &str) -> Option<serde_json::Value> {
    http().get(url).send().ok()?.json().ok()
}

#[test]
fn three_servers_form_a_cluster_and_survive_a_leader_kill() {
    let dir = tempfile::tempdir().unwrap();
    let s1 = start_server("s1", dir.path(), None);
    let s2 = start_server("s2", dir.path(), Some(s1.lan_port));
    let s3 = start_server("s3", dir.path(), Some(s1.lan_port));
    let mut nodes = [s1, s2, s3];
    let url = |n: &Node, path: &str| n.process.as_ref().unwrap().url(path);

    eventually("all see three alive members", || {
        nodes.iter().all(|n| {
            get_json(&url(n, "/v1/agent/members")).is_some_and(|m| {
                m.as_array().is_some_and(|a| {
                    a.len() == 3
                        && a.iter()
                            .all(|x| x["Status"] == 1 && x["Tags"]["role"] == "consul")
                })
            })
        })
    });
    eventually("one leader known by all", || {
        let leaders: Vec<String> = nodes
            .iter()
            .filter_map(|n| {
                http()
                    .get(url(n, "/v1/status/leader"))
                    .send()
                    .ok()?
                    .json::<String>()
                    .ok()
            })
            .collect();
        leaders.len() == 3 && !leaders[0].is_empty() && leaders.iter().all(|l| l == &leaders[0])
    });
    eventually("three voters", || {
        get_json(&url(&nodes[0], "/v1/operator/raft/configuration")).is_some_and(|c| {
            c["Servers"]
                .as_array()
                .is_some_and(|s| s.len() == 3 && s.iter().all(|x| x["Voter"] == true))
        })
    });
    eventually("every server in the catalog with serfHealth", || {
        get_json(&url(&nodes[2], "/v1/health/service/consul"))
            .is_some_and(|v| v.as_array().is_some_and(|a| a.len() == 3))
    });

    // Writes through every server; reads through every other one.
    let client = http();
    for (i, n) in nodes.iter().enumerate() {
        let r = client
            .put(url(n, &format!("/v1/kv/from/{i}")))
            .body(format!("{i}"))
            .send()
            .unwrap();
        assert_eq!(r.text().unwrap(), "true");
    }
    for n in &nodes {
        let keys: Vec<String> = client
            .get(url(n, "/v1/kv/from/?keys"))
            .send()
            .unwrap()
            .json()
            .unwrap();
        assert_eq!(keys.len(), 3);
    }

    // SIGKILL the leader: the others elect a new one and keep every acknowledged write.
    let leader_addr: String = client
        .get(url(&nodes[0], "/v1/status/leader"))
        .send()
        .unwrap()
        .json()
        .unwrap();
    let leader = nodes
        .iter()
        .position(|n| leader_addr.ends_with(&format!(":{}", n.rpc_port)))
        .unwrap();
    drop(nodes[leader].process.take());
    let survivors: Vec<&Node> = nodes.iter().filter(|n| n.process.is_some()).collect();
    eventually("a new leader", || {
        survivors.iter().all(|n| {
            http()
                .get(url(n, "/v1/status/leader"))
                .send()
                .ok()
                .and_then(|r| r.json::<String>().ok())
                .is_some_and(|l| !l.is_empty() && l != leader_addr)
        })
    });
    let r = client
        .put(url(survivors[0], "/v1/kv/after"))
        .body("x")
        .send()
        .unwrap();
    assert_eq!(r.text().unwrap(), "true");
    let keys: Vec<String> = client
        .get(url(survivors[1], "/v1/kv/from/?keys"))
        .send()
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(keys.len(), 3);
    let killed = format!("s{}", leader + 1);
    eventually("the killed server's serfHealth goes critical", || {
        get_json(&url(survivors[0], &format!("/v1/health/node/{killed}")))
            .is_some_and(|v| v[0]["CheckID"] == "serfHealth" && v[0]["Status"] == "critical")
    });
}
