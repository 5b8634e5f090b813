//! Sessions bound to node health, end to end: a session on a client agent's node is
//! invalidated once the leader marks the node's `serfHealth` critical (its locks released or
//! deleted per the session's behaviour), and a lock delay outlives a leader change.

use std::time::Duration;
use std::time::Instant;

use serde_json::Value;

use crate::fleet::Member;
use crate::fleet::client;
use crate::fleet::datacenter;
use crate::fleet::leader_of;
use crate::fleet::member_at;
use crate::fleet::wait_for;

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

/// Create a session through `m` with the JSON `body`; its ID.
fn create_session(c: &reqwest::blocking::Client, m: &Member, body: &str) -> String {
    let r = c
        .put(m.url("/v1/session/create"))
        .body(body.to_string())
        .send()
        .unwrap();
    let status = r.status();
    let text = r.text().unwrap();
    assert_eq!(status, 200, "{text}");
    let v: Value = serde_json::from_str(&text).unwrap();
    v["ID"].as_str().unwrap().to_string()
}

/// `PUT /v1/kv/<key>?acquire=<session>` through `m`: whether the lock was taken.
fn acquire(c: &reqwest::blocking::Client, m: &Member, key: &str, session: &str) -> bool {
    let r = c
        .put(m.url(&format!("/v1/kv/{key}?acquire={session}")))
        .body("held")
        .send()
        .unwrap();
    let status = r.status();
    let text = r.text().unwrap();
    assert_eq!(status, 200, "{text}");
    text.trim() == "true"
}

/// The KV entry at `key` read from `m`, if it exists.
fn entry(c: &reqwest::blocking::Client, m: &Member, key: &str) -> Option<Value> {
    let r = c.get(m.url(&format!("/v1/kv/{key}"))).send().ok()?;
    if r.status() == 404 {
        return None;
    }
    let v: Value = r.json().ok()?;
    Some(v[0].clone())
}

/// A client agent is SIGKILLed: once the leader marks its `serfHealth` critical, the sessions
/// on its node are invalidated: the "release" session's key stays without a holder, the
/// "delete" session's key is gone.
#[test]
fn failed_client_node_invalidates_its_sessions() {
    let dir = tempfile::tempdir().unwrap();
    let mut fleet = datacenter(dir.path(), 3, 1, &[]);
    start_all(&mut fleet);
    let c = client();
    wait_for("c0 in the catalog with a passing serfHealth", || {
        c.get(fleet[0].url("/v1/health/node/c0"))
            .send()
            .ok()
            .and_then(|r| r.json::<Value>().ok())
            .is_some_and(|v| {
                v.as_array().is_some_and(|checks| {
                    checks
                        .iter()
                        .any(|ch| ch["CheckID"] == "serfHealth" && ch["Status"] == "passing")
                })
            })
    });
    let release = create_session(
        &c,
        &fleet[3],
        r#"{"Name":"r","Behavior":"release","LockDelay":"0s"}"#,
    );
    let delete = create_session(
        &c,
        &fleet[3],
        r#"{"Name":"d","Behavior":"delete","LockDelay":"0s"}"#,
    );
    let info: Value = c
        .get(fleet[0].url(&format!("/v1/session/info/{release}")))
        .send()
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(info[0]["Node"], "c0", "a client's session is on its node");
    assert_eq!(info[0]["NodeChecks"], serde_json::json!(["serfHealth"]));
    assert!(acquire(&c, &fleet[3], "lock/release", &release));
    assert!(acquire(&c, &fleet[3], "lock/delete", &delete));

    fleet[3].kill();
    wait_for("the sessions of c0 invalidated", || {
        let released = entry(&c, &fleet[1], "lock/release")
            .is_some_and(|e| e.get("Session").is_none_or(Value::is_null));
        let deleted = entry(&c, &fleet[1], "lock/delete").is_none();
        released && deleted
    });
    let critical: Value = c
        .get(fleet[0].url("/v1/health/node/c0"))
        .send()
        .unwrap()
        .json()
        .unwrap();
    assert!(
        critical
            .as_array()
            .unwrap()
            .iter()
            .any(|ch| ch["CheckID"] == "serfHealth" && ch["Status"] == "critical"),
        "{critical}"
    );
    let left: Value = c
        .get(fleet[2].url("/v1/session/node/c0"))
        .send()
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(left, serde_json::json!([]), "no session left on c0");
    let kept = entry(&c, &fleet[2], "lock/release").unwrap();
    assert_eq!(kept["Key"], "lock/release");
}

/// A destroyed session's lock delay holds on the new leader after the old one is SIGKILLed:
/// an acquire by another session is refused until the delay ends, then succeeds.
#[test]
fn lock_delay_survives_a_leader_change() {
    const DELAY: Duration = Duration::from_secs(10);
    let dir = tempfile::tempdir().unwrap();
    let mut fleet = datacenter(dir.path(), 3, 0, &[]);
    start_all(&mut fleet);
    let c = client();
    let old = leader_of(&c, &fleet[0]).unwrap();
    let leader = member_at(&fleet, &old).unwrap();
    let survivors: Vec<usize> = (0..3).filter(|&i| i != leader).collect();
    let (a, b) = (survivors[0], survivors[1]);
    for &i in &survivors {
        let node = format!("s{i}");
        wait_for("the server registered with its serfHealth check", || {
            c.get(fleet[0].url(&format!("/v1/health/node/{node}")))
                .send()
                .ok()
                .and_then(|r| r.json::<Value>().ok())
                .is_some_and(|v| v.as_array().is_some_and(|a| !a.is_empty()))
        });
    }

    let first = create_session(
        &c,
        &fleet[a],
        r#"{"Name":"first","Behavior":"release","LockDelay":"10s"}"#,
    );
    assert!(acquire(&c, &fleet[a], "k", &first));
    let r = c
        .put(fleet[a].url(&format!("/v1/session/destroy/{first}")))
        .send()
        .unwrap();
    assert_eq!(r.text().unwrap().trim(), "true");
    let destroyed = Instant::now();

    fleet[leader].kill();
    wait_for("a new leader", || {
        survivors
            .iter()
            .all(|&i| leader_of(&c, &fleet[i]).is_some_and(|l| l != old))
    });
    let second = create_session(
        &c,
        &fleet[b],
        r#"{"Name":"second","Behavior":"release","LockDelay":"0s"}"#,
    );
    let refused = !acquire(&c, &fleet[b], "k", &second);
    let elapsed = destroyed.elapsed();
    assert!(
        elapsed < DELAY,
        "the election took {elapsed:?}, longer than the lock delay: nothing was tested"
    );
    assert!(
        refused,
        "an acquire {elapsed:?} after destroy is within the lock delay"
    );
    wait_for("the acquire once the lock delay ends", || {
        acquire(&c, &fleet[b], "k", &second)
    });
    assert!(destroyed.elapsed() >= DELAY - Duration::from_millis(500));
    let held = entry(&c, &fleet[a], "k").unwrap();
    assert_eq!(held["Session"], second.as_str());
}
