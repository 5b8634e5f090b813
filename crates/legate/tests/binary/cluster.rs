//! A real datacenter on loopback: three `legate agent -server -bootstrap-expect 3` processes
//! and two client agents find each other by gossip (`-retry-join`), the servers form one Raft
//! group, every member is registered in the catalog, clients forward API requests and sync
//! their own services through the servers, and the cluster survives a SIGKILL of the leader.

use crate::process::AgentProcess;
use crate::process::eventually;
use crate::process::free_port;
use crate::process::http;

pub(crate) struct Node {
    pub(crate) process: Option<AgentProcess>,
    pub(crate) lan_port: u16,
    pub(crate) rpc_port: u16,
}

pub(crate) fn start_server(name: &str, data: &std::path::Path, join: Option<u16>) -> Node {
    start_agent(name, data, join, true)
}

pub(crate) fn start_agent(
    name: &str,
    data: &std::path::Path,
    join: Option<u16>,
    server: bool,
) -> Node {
    let (lan, rpc) = (free_port(), free_port());
    let (lan_s, rpc_s, wan_s) = (lan.to_string(), rpc.to_string(), free_port().to_string());
    let data_dir = data.join(name);
    let join_target = join.map(|p| format!("127.0.0.1:{p}"));
    let mut args = if server {
        vec!["-server", "-bootstrap-expect", "3"]
    } else {
        Vec::new()
    };
    args.extend([
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
    ]);
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

pub(crate) fn get_json(url: &str) -> Option<serde_json::Value> {
    http().get(url).send().ok()?.json().ok()
}

#[test]
fn three_servers_form_a_cluster_and_survive_a_leader_kill() {
    let dir = tempfile::tempdir().unwrap();
    let s1 = start_server("s1", dir.path(), None);
    let s2 = start_server("s2", dir.path(), Some(s1.lan_port));
    let s3 = start_server("s3", dir.path(), Some(s1.lan_port));
    let c1 = start_agent("c1", dir.path(), Some(s1.lan_port), false);
    let c2 = start_agent("c2", dir.path(), Some(s1.lan_port), false);
    let url = |n: &Node, path: &str| n.process.as_ref().unwrap().url(path);

    let everyone = [&s1, &s2, &s3, &c1, &c2];
    let last_seen = std::cell::RefCell::new(Vec::new());
    let converged = || {
        let views: Vec<Vec<(String, i64, String)>> = everyone
            .iter()
            .map(|n| {
                get_json(&url(n, "/v1/agent/members"))
                    .and_then(|m| m.as_array().cloned())
                    .unwrap_or_default()
                    .iter()
                    .map(|x| {
                        let role = x["Tags"]["role"].as_str().unwrap_or("").to_string();
                        (
                            x["Name"].as_str().unwrap_or("").to_string(),
                            x["Status"].as_i64().unwrap_or(0),
                            role,
                        )
                    })
                    .collect()
            })
            .collect();
        let ok = views.iter().all(|v| {
            v.len() == 5
                && v.iter().filter(|m| m.2 == "consul").count() == 3
                && v.iter().all(|m| m.1 == 1)
        });
        *last_seen.borrow_mut() = views;
        ok
    };
    let deadline = std::time::Instant::now() + crate::process::PATIENCE * 2;
    while !converged() {
        assert!(
            std::time::Instant::now() < deadline,
            "members never converged: {:?}",
            last_seen.borrow()
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }

    // Clients forward reads and writes, and sync their own services through the servers.
    let client = http();
    eventually("a client knows the leader", || {
        client
            .get(url(&c1, "/v1/status/leader"))
            .send()
            .ok()
            .and_then(|r| r.json::<String>().ok())
            .is_some_and(|l| !l.is_empty())
    });
    let r = client
        .put(url(&c1, "/v1/kv/via-client"))
        .body("c1")
        .send()
        .unwrap();
    assert_eq!(r.text().unwrap(), "true");
    let v = client
        .get(url(&c2, "/v1/kv/via-client?raw"))
        .send()
        .unwrap()
        .text()
        .unwrap();
    assert_eq!(v, "c1");
    let r = client
        .put(url(&c2, "/v1/agent/service/register"))
        .body(r#"{"Name":"web","Port":8080}"#)
        .send()
        .unwrap();
    assert_eq!(r.status(), 200);
    eventually(
        "the client's service in the catalog, seen from a server",
        || get_json(&url(&s2, "/v1/catalog/service/web")).is_some_and(|v| v[0]["Node"] == "c2"),
    );
    eventually("every member in the catalog", || {
        get_json(&url(&s3, "/v1/catalog/nodes"))
            .is_some_and(|v| v.as_array().is_some_and(|a| a.len() == 5))
    });

    let mut nodes = [s1, s2, s3];
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
    let last_config = std::cell::RefCell::new(serde_json::Value::Null);
    let deadline = std::time::Instant::now() + crate::process::PATIENCE;
    loop {
        let config =
            get_json(&url(&nodes[0], "/v1/operator/raft/configuration")).unwrap_or_default();
        let ok = config["Servers"]
            .as_array()
            .is_some_and(|s| s.len() == 3 && s.iter().all(|x| x["Voter"] == true));
        *last_config.borrow_mut() = config;
        if ok {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "never three voters: {}",
            last_config.borrow()
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    eventually("every server in the catalog with serfHealth", || {
        get_json(&url(&nodes[2], "/v1/health/service/consul"))
            .is_some_and(|v| v.as_array().is_some_and(|a| a.len() == 3))
    });

    // Writes through every server; reads through every other one.
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
