//! Network coordinates end to end: one server and two client agents on loopback measure RTTs
//! by gossip probes, send their coordinates to the server (clients over forwarding), the
//! server batches them into Raft, and every agent then serves them: `/v1/coordinate/nodes`
//! lists all three off the origin, `?near=_agent` puts the asking agent first, and
//! `legate rtt` prints an estimate. Short probe, sync and batch intervals keep it quick.

use serde_json::Value;

use crate::fleet;
use crate::fleet::Member;
use crate::fleet::wait_for;

/// Probes every 100 ms, syncs every 200–400 ms, batches every 100 ms.
const FAST: &str = r#"
    sync_coordinate_interval_min = "200ms"
    gossip_lan { probe_interval = "100ms" }
    consul {
        coordinate {
            update_period = "100ms"
        }
    }
"#;

const NAMES: [&str; 3] = ["s0", "c0", "c1"];

fn json(c: &reqwest::blocking::Client, m: &Member, path: &str) -> Option<Value> {
    c.get(m.url(path)).send().ok()?.json().ok()
}

/// Whether `nodes` (a `/v1/coordinate/nodes` answer) has every node with a coordinate that
/// has moved off the origin.
fn all_measured(nodes: &Value) -> bool {
    let Some(entries) = nodes.as_array() else {
        return false;
    };
    NAMES.iter().all(|name| {
        entries.iter().any(|e| {
            e["Node"] == *name
                && e["Coord"]["Vec"]
                    .as_array()
                    .is_some_and(|v| v.iter().any(|x| x.as_f64() != Some(0.0)))
        })
    })
}

#[test]
fn coordinates_flow_from_gossip_to_the_catalog() {
    let dir = tempfile::tempdir().unwrap();
    let mut members = fleet::datacenter(dir.path(), 1, 2, &["-hcl", FAST]);
    for m in &mut members {
        m.start();
    }
    let c = fleet::client();
    for m in &members {
        wait_for("measured coordinates for every node", || {
            json(&c, m, "/v1/coordinate/nodes").is_some_and(|n| all_measured(&n))
        });
    }

    for (m, name) in members.iter().zip(NAMES) {
        let me = json(&c, m, "/v1/agent/self").unwrap();
        assert_eq!(me["Coord"]["Vec"].as_array().map(Vec::len), Some(8));
        let nodes = json(&c, m, "/v1/catalog/nodes?near=_agent").unwrap();
        assert_eq!(nodes[0]["Node"], name, "{name} asks for nodes near itself");
        let nodes = nodes.as_array().unwrap();
        assert_eq!(nodes.len(), 3);
    }

    let agent = members[1].process.as_ref().unwrap();
    let (code, out, err) = agent.cli(&["rtt", "s0", "c1"]);
    assert_eq!(code, 0, "{err}");
    let estimate = out
        .strip_prefix("Estimated s0 <-> c1 rtt: ")
        .and_then(|rest| rest.strip_suffix(" ms (using LAN coordinates)\n"))
        .unwrap_or_else(|| panic!("unexpected output {out:?}"));
    let ms: f64 = estimate.parse().unwrap();
    assert!(ms >= 0.0 && estimate.split('.').nth(1).map(str::len) == Some(3));

    let (code, out, _) = agent.cli(&["rtt", "s0"]);
    assert_eq!(code, 0);
    assert!(out.starts_with("Estimated s0 <-> c0 rtt: "), "{out}");

    let (code, _, err) = agent.cli(&["rtt", "s0", "ghost"]);
    assert_eq!(code, 1);
    assert_eq!(err, "Could not find a coordinate for node \"ghost\"\n");
    let (code, _, err) = agent.cli(&["rtt", "-wan", "s0.dc1", "c0.dc1"]);
    assert_eq!(code, 1);
    assert!(
        err.contains("WAN coordinates are not supported yet"),
        "{err}"
    );
}
