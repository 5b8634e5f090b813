//! The Connect CA in a 3-server datacenter: the first leader bootstraps one root through Raft,
//! every server serves the same roots, and a new leader after a SIGKILL of the old one keeps
//! that root instead of creating another.

use std::time::Duration;

use serde_json::Value;

use crate::fleet;
use crate::fleet::Member;
use crate::fleet::wait_for;

/// The roots `m` serves (read locally, `?stale`), if it answers 200.
fn roots_of(c: &reqwest::blocking::Client, m: &Member) -> Option<Value> {
    m.process.as_ref()?;
    let response = c
        .get(m.url("/v1/connect/ca/roots?stale"))
        .timeout(Duration::from_secs(2))
        .send()
        .ok()?;
    if !response.status().is_success() {
        return None;
    }
    response.json().ok()
}

/// The active root ID every running member serves, once they all agree on one.
fn agreed_root(c: &reqwest::blocking::Client, fleet: &[Member]) -> Option<String> {
    let ids: Vec<String> = fleet
        .iter()
        .filter(|m| m.process.is_some())
        .map(|m| {
            roots_of(c, m)
                .and_then(|r| r["ActiveRootID"].as_str().map(str::to_string))
                .unwrap_or_default()
        })
        .collect();
    let first = ids.first()?.clone();
    (!first.is_empty() && ids.iter().all(|id| *id == first)).then_some(first)
}

#[test]
fn servers_share_one_root_across_a_leader_kill() {
    let dir = tempfile::tempdir().unwrap();
    let mut servers = fleet::datacenter(dir.path(), 3, 0, &[]);
    for s in &mut servers {
        s.start();
    }
    let c = fleet::client();
    wait_for("a leader", || fleet::leader_of(&c, &servers[0]).is_some());
    let mut root_id = String::new();
    wait_for("every server serves the same root", || {
        agreed_root(&c, &servers).is_some_and(|id| {
            root_id = id;
            true
        })
    });
    let roots = roots_of(&c, &servers[0]).unwrap();
    assert_eq!(roots["Roots"].as_array().unwrap().len(), 1);
    let trust_domain = roots["TrustDomain"].as_str().unwrap().to_string();

    let leader = fleet::leader_of(&c, &servers[0]).unwrap();
    let killed = fleet::member_at(&servers, &leader).unwrap();
    servers[killed].kill();
    wait_for("a new leader", || {
        servers
            .iter()
            .any(|m| fleet::leader_of(&c, m).is_some_and(|l| l != leader))
    });
    // The new leader has run its CA duty; the CA it serves is the one created before.
    let new_leader = servers
        .iter()
        .find_map(|m| fleet::leader_of(&c, m).filter(|l| *l != leader))
        .unwrap();
    let at = fleet::member_at(&servers, &new_leader).unwrap();
    let consistent = c
        .get(servers[at].url("/v1/connect/ca/roots?consistent"))
        .send()
        .unwrap()
        .json::<Value>()
        .unwrap();
    assert_eq!(consistent["ActiveRootID"], root_id.as_str());
    assert_eq!(consistent["TrustDomain"], trust_domain.as_str());
    assert_eq!(consistent["Roots"].as_array().unwrap().len(), 1);
    wait_for("survivors agree on the same root", || {
        agreed_root(&c, &servers).is_some_and(|id| id == root_id)
    });
}
