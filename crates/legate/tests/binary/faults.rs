//! Faults a datacenter must ride out: a leader cut off from the others (frozen with SIGSTOP)
//! steps aside while the majority keeps serving and catches up when it returns; a client
//! agent's services are in the catalog again after every server restarts; an agent with the
//! wrong gossip key cannot join and is told why.

use crate::fleet::client;
use crate::fleet::datacenter;
use crate::fleet::leader_of;
use crate::fleet::member_at;
use crate::fleet::wait_for;

fn start_all(fleet: &mut [crate::fleet::Member]) {
    for m in fleet.iter_mut() {
        m.start();
    }
    let c = client();
    wait_for("one leader known to every agent", || {
        let leaders: Vec<Option<String>> = fleet.iter().map(|m| leader_of(&c, m)).collect();
        leaders.iter().all(Option::is_some) && leaders.windows(2).all(|w| w[0] == w[1])
    });
}

/// A frozen leader is cut off: the other two elect a new leader and keep serving; when the
/// old leader wakes it follows the new one and has every write made meanwhile.
#[test]
fn cut_off_leader_steps_aside_and_catches_up() {
    let dir = tempfile::tempdir().unwrap();
    let mut fleet = datacenter(dir.path(), 3, 0, &[]);
    start_all(&mut fleet);
    let c = client();
    let old = leader_of(&c, &fleet[0]).unwrap();
    let frozen = member_at(&fleet, &old).unwrap();
    fleet[frozen].signal("STOP");
    let others: Vec<usize> = (0..3).filter(|&i| i != frozen).collect();
    wait_for("the majority elects a new leader", || {
        others
            .iter()
            .all(|&i| leader_of(&c, &fleet[i]).is_some_and(|l| l != old))
    });
    for i in 0..10 {
        let r = c
            .put(fleet[others[0]].url(&format!("/v1/kv/while-cut/{i}")))
            .body("v")
            .send()
            .unwrap();
        assert_eq!(r.text().unwrap(), "true");
    }
    fleet[frozen].signal("CONT");
    wait_for("the old leader follows the new one", || {
        leader_of(&c, &fleet[frozen]).is_some_and(|l| l != old)
    });
    let keys: Vec<String> = c
        .get(fleet[frozen].url("/v1/kv/while-cut/?keys"))
        .send()
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(
        keys.len(),
        10,
        "the returning server serves every write made while it was cut off"
    );
}

/// Every server restarts (SIGKILL, same data directories): the client agent's service is in
/// the catalog again and the client keeps forwarding.
#[test]
fn client_services_return_after_all_servers_restart() {
    let dir = tempfile::tempdir().unwrap();
    let mut fleet = datacenter(dir.path(), 3, 1, &[]);
    start_all(&mut fleet);
    let c = client();
    let r = c
        .put(fleet[3].url("/v1/agent/service/register"))
        .body(r#"{"Name":"api","Port":9000}"#)
        .send()
        .unwrap();
    assert_eq!(r.status(), 200);
    let api_on_c0 = |m: &crate::fleet::Member| {
        c.get(m.url("/v1/catalog/service/api"))
            .send()
            .ok()
            .and_then(|r| r.json::<serde_json::Value>().ok())
            .is_some_and(|v| v[0]["Node"] == "c0")
    };
    wait_for("the service in the catalog", || api_on_c0(&fleet[0]));
    for m in fleet[..3].iter_mut() {
        m.kill();
    }
    for m in fleet[..3].iter_mut() {
        m.start();
    }
    wait_for("a leader after the restart", || {
        leader_of(&c, &fleet[0]).is_some()
    });
    wait_for(
        "the service seen from a restarted server and through the client",
        || api_on_c0(&fleet[1]) && api_on_c0(&fleet[3]),
    );
}

/// An agent whose gossip key differs cannot join, and the error says why.
#[test]
fn wrong_gossip_key_cannot_join() {
    let dir = tempfile::tempdir().unwrap();
    let key_a = "pUqJrVyVRj5jsiYEkM/tFQYfWyJIv4s3XkvDwy7Cu5s=";
    let key_b = "0dyQp3Z7TKyNbNjNDmUiVYS3kKRLRTTPxnqN6c8w4ME=";
    let mut good = datacenter(dir.path(), 1, 0, &["-encrypt", key_a]);
    start_all(&mut good);
    let mut bad = datacenter(&dir.path().join("bad"), 0, 1, &["-encrypt", key_b]);
    bad[0].start();
    let c = client();
    let r = c
        .put(bad[0].url(&format!("/v1/agent/join/127.0.0.1:{}", good[0].lan_port)))
        .send()
        .unwrap();
    assert_eq!(r.status(), 500);
    let body = r.text().unwrap();
    assert!(
        body.contains("No installed keys could decrypt the message"),
        "{body}"
    );
    let members: serde_json::Value = c
        .get(good[0].url("/v1/agent/members"))
        .send()
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(
        members.as_array().unwrap().len(),
        1,
        "the bad agent did not get in"
    );
}
