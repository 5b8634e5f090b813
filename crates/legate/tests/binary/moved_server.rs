//! A server restarted with the same node id and data directory but a new server RPC port is
//! moved in the Raft configuration by the leader: `list-peers` shows its new address and it
//! receives the leader's writes again.

use serde_json::Value;

use crate::fleet::Member;
use crate::fleet::client;
use crate::fleet::datacenter;
use crate::fleet::leader_of;
use crate::fleet::member_at;
use crate::fleet::wait_for;
use crate::process::cli_with_stdin;
use crate::process::free_port;

fn start_all(fleet: &mut [Member]) {
    for m in fleet.iter_mut() {
        m.start();
    }
    let c = client();
    wait_for("one leader known to every agent", || {
        let leaders: Vec<Option<String>> = fleet.iter().map(|m| leader_of(&c, m)).collect();
        leaders.iter().all(Option::is_some) && leaders.windows(2).all(|w| w[0] == w[1])
    });
}

/// The Raft address `m` reports for node `name`.
fn raft_address(c: &reqwest::blocking::Client, m: &Member, name: &str) -> Option<String> {
    let v: Value = c
        .get(m.url("/v1/operator/raft/configuration"))
        .send()
        .ok()?
        .json()
        .ok()?;
    v["Servers"]
        .as_array()?
        .iter()
        .find(|s| s["Node"] == name)
        .and_then(|s| s["Address"].as_str())
        .map(str::to_string)
}

#[test]
fn server_restarted_on_a_new_port_is_moved_in_raft() {
    let dir = tempfile::tempdir().unwrap();
    let mut fleet = datacenter(dir.path(), 3, 0, &[]);
    start_all(&mut fleet);
    let c = client();
    let leader = member_at(&fleet, &leader_of(&c, &fleet[0]).unwrap()).unwrap();
    let moved = (leader + 1) % 3;
    let name = format!("s{moved}");
    let old = format!("127.0.0.1:{}", fleet[moved].rpc_port);
    assert_eq!(raft_address(&c, &fleet[leader], &name), Some(old.clone()));

    fleet[moved].kill();
    let port = free_port();
    fleet[moved].set_flag("-server-port", &port.to_string());
    fleet[moved].start();
    let new = format!("127.0.0.1:{port}");
    wait_for("the leader moves the server to its new address", || {
        leader_of(&c, &fleet[0])
            .and_then(|l| member_at(&fleet, &l))
            .and_then(|l| raft_address(&c, &fleet[l], &name))
            .is_some_and(|a| a == new)
    });
    wait_for("three voters again", || {
        leader_of(&c, &fleet[0])
            .and_then(|l| member_at(&fleet, &l))
            .and_then(|l| {
                c.get(fleet[l].url("/v1/operator/raft/configuration"))
                    .send()
                    .ok()?
                    .json::<Value>()
                    .ok()
            })
            .is_some_and(|v| {
                v["Servers"]
                    .as_array()
                    .is_some_and(|s| s.len() == 3 && s.iter().all(|s| s["Voter"] == true))
            })
    });
    let http_addr = format!("127.0.0.1:{}", fleet[moved].http_port);
    let (code, out, err) = cli_with_stdin(&http_addr, &["operator", "raft", "list-peers"], None);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains(&new) && !out.contains(&old), "{out}");

    let leader = member_at(&fleet, &leader_of(&c, &fleet[0]).unwrap()).unwrap();
    let r = c
        .put(fleet[leader].url("/v1/kv/after-move"))
        .body("v")
        .send()
        .unwrap();
    assert_eq!(r.text().unwrap(), "true");
    wait_for("the write replicated to the moved server", || {
        c.get(fleet[moved].url("/v1/kv/after-move?stale"))
            .send()
            .is_ok_and(|r| r.status() == 200)
    });
}
