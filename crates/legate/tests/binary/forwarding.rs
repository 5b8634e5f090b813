//! A client agent's forwarded blocking query outlives the server it was sent to: when that
//! server dies mid-wait the client asks another server, and the caller only sees the answer.

use std::time::Duration;

use serde_json::Value;

use crate::fleet::Member;
use crate::fleet::client;
use crate::fleet::datacenter;
use crate::fleet::leader_of;
use crate::fleet::wait_for;

fn wait_for_leader(fleet: &[Member]) {
    let c = client();
    wait_for("one leader known to every agent", || {
        let leaders: Vec<Option<String>> = fleet.iter().map(|m| leader_of(&c, m)).collect();
        leaders.iter().all(Option::is_some) && leaders.windows(2).all(|w| w[0] == w[1])
    });
}

/// A blocking (`?stale`, so it needs no leader) KV watch through the client agent; every
/// server is SIGKILLed and restarted in turn, so whichever server held the watch dies under
/// it. Every answer the watcher gets is a 200, and the watch sees the new value.
#[test]
fn blocking_query_survives_its_server_dying() {
    let dir = tempfile::tempdir().unwrap();
    let mut fleet = datacenter(dir.path(), 3, 1, &[]);
    for m in fleet.iter_mut() {
        m.start();
    }
    wait_for_leader(&fleet);
    let c = client();
    let r = c
        .put(fleet[0].url("/v1/kv/watched"))
        .body("v0")
        .send()
        .unwrap();
    assert_eq!(r.text().unwrap(), "true");
    wait_for("the client agent reads the key", || {
        c.get(fleet[3].url("/v1/kv/watched?stale"))
            .send()
            .is_ok_and(|r| r.status() == 200)
    });

    let url = fleet[3].url("/v1/kv/watched?stale&wait=60s&index=");
    let watcher = std::thread::spawn(move || {
        let c = reqwest::blocking::Client::builder()
            .timeout(Duration::from_secs(120))
            .build()
            .unwrap();
        let mut index = String::from("1");
        let mut answers = 0;
        loop {
            let r = c.get(format!("{url}{index}")).send().unwrap();
            let status = r.status();
            index = r.headers()["x-consul-index"].to_str().unwrap().to_string();
            let body = r.text().unwrap();
            assert_eq!(status, 200, "a watch answer failed: {body}");
            answers += 1;
            let v: Value = serde_json::from_str(&body).unwrap();
            if v[0]["Value"] == "djE=" {
                return answers;
            }
        }
    });

    for i in 0..3 {
        fleet[i].kill();
        fleet[i].start();
        wait_for_leader(&fleet);
    }
    wait_for("the write after the restarts", || {
        c.put(fleet[0].url("/v1/kv/watched"))
            .body("v1")
            .send()
            .is_ok_and(|r| r.status() == 200)
    });
    let answers = watcher
        .join()
        .expect("the watcher saw only successful answers");
    assert!(answers >= 1);
}
