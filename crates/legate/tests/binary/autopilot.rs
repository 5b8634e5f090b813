//! Autopilot and the operator's Raft tools on a real datacenter: leadership moves to the server
//! `operator raft transfer-leader -id` names; a SIGKILLed server is removed from the peers
//! once gossip marks it failed (CleanupDeadServers); a server that joins later enters Raft as
//! a non-voter and is promoted once it has been healthy for ServerStabilizationTime; with
//! cleanup turned off by `operator autopilot set-config`, `operator raft remove-peer` removes a
//! stopped server.

use std::time::SystemTime;

use serde_json::Value;

use crate::fleet::Member;
use crate::fleet::client;
use crate::fleet::datacenter;
use crate::fleet::leader_of;
use crate::fleet::member_at;
use crate::fleet::wait_for;
use crate::process::AgentProcess;
use crate::process::cli_with_stdin;
use crate::process::free_port;

const STABILIZATION: &str = "autopilot {\n  server_stabilization_time = \"3s\"\n}";
const STABILIZATION_SECS: u64 = 3;

/// The Raft servers `m` reports (forwarded to the leader), if it answers.
fn peers(c: &reqwest::blocking::Client, url: &str) -> Option<Vec<Value>> {
    let body: Value = c.get(url).send().ok()?.json().ok()?;
    body.get("Servers")?.as_array().cloned()
}

fn peer<'a>(servers: &'a [Value], node: &str) -> Option<&'a Value> {
    servers.iter().find(|s| s["Node"] == node)
}

/// Seconds since the Unix epoch of a UTC RFC 3339 time (`2026-01-02T03:04:05.678Z`).
fn unix_seconds(text: &str) -> Option<f64> {
    let (date, time) = text.strip_suffix('Z')?.split_once('T')?;
    let mut d = date.split('-').map(|p| p.parse::<i64>().ok());
    let (y, m, day) = (d.next()??, d.next()??, d.next()??);
    let mut t = time.split(':');
    let (h, min) = (
        t.next()?.parse::<f64>().ok()?,
        t.next()?.parse::<f64>().ok()?,
    );
    let sec = t.next()?.parse::<f64>().ok()?;
    // Days from 1970-01-01 in the proleptic Gregorian calendar.
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    Some(days as f64 * 86_400.0 + h * 3600.0 + min * 60.0 + sec)
}

fn cli(m: &Member, args: &[&str]) -> (i32, String, String) {
    cli_with_stdin(&format!("127.0.0.1:{}", m.http_port), args, None)
}

#[test]
fn autopilot_promotes_cleans_up_and_operator_moves_and_removes_peers() {
    let dir = tempfile::tempdir().unwrap();
    let mut fleet = datacenter(dir.path(), 3, 0, &["-hcl", STABILIZATION]);
    for m in fleet.iter_mut() {
        m.start();
    }
    let c = client();
    let config_url = |m: &Member| m.url("/v1/operator/raft/configuration");
    wait_for("three voters and one leader", || {
        peers(&c, &config_url(&fleet[0])).is_some_and(|s| {
            s.len() == 3
                && s.iter().all(|p| p["Voter"] == true)
                && leader_of(&c, &fleet[0]).is_some()
        })
    });

    // The config file's autopilot block seeded the replicated configuration.
    let (code, out, err) = cli(&fleet[1], &["operator", "autopilot", "get-config"]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("ServerStabilizationTime = 3s"), "{out}");
    assert!(out.contains("CleanupDeadServers = true"), "{out}");

    // Transfer leadership to a named follower.
    let old_leader = member_at(&fleet, &leader_of(&c, &fleet[0]).unwrap()).unwrap();
    let target = (old_leader + 1) % 3;
    let servers = peers(&c, &config_url(&fleet[0])).unwrap();
    let target_id = peer(&servers, &format!("s{target}")).unwrap()["ID"]
        .as_str()
        .unwrap()
        .to_string();
    let (code, out, err) = cli(
        &fleet[old_leader],
        &["operator", "raft", "transfer-leader", "-id", &target_id],
    );
    assert_eq!((code, out.trim()), (0, "Success"), "{err}");
    wait_for("every server follows the new leader", || {
        fleet
            .iter()
            .all(|m| leader_of(&c, m).is_some_and(|l| member_at(&fleet, &l) == Some(target)))
    });

    // SIGKILL the third server: once gossip marks it failed, autopilot removes it.
    let victim = 3 - old_leader - target;
    fleet[victim].kill();
    let survivor = old_leader;
    let victim_name = format!("s{victim}");
    wait_for("the killed server is removed from the peers", || {
        peers(&c, &config_url(&fleet[survivor]))
            .is_some_and(|s| s.len() == 2 && peer(&s, &victim_name).is_none())
    });

    // Make sure the stabilization grace of a young autopilot run is over, so the newcomer
    // has to wait out the full stabilization time.
    let state_url = fleet[survivor].url("/v1/operator/autopilot/state");
    wait_for(
        "autopilot has run longer than the stabilization time",
        || {
            let Ok(state) = c.get(&state_url).send().and_then(|r| r.json::<Value>()) else {
                return false;
            };
            let leader = state["Leader"].as_str().unwrap_or_default().to_string();
            let Some(since) = state["Servers"][&leader]["StableSince"].as_str() else {
                return false;
            };
            let Some(since) = unix_seconds(since) else {
                return false;
            };
            let now = SystemTime::now()
                .duration_since(SystemTime::UNIX_EPOCH)
                .unwrap()
                .as_secs_f64();
            now - since > STABILIZATION_SECS as f64 * 1.1 + 0.5
        },
    );

    // A fourth server joins: first a non-voter, then promoted.
    let (http, rpc, lan, wan) = (free_port(), free_port(), free_port(), free_port());
    let data = dir.path().join("s3").display().to_string();
    let (rpc_s, lan_s, wan_s) = (rpc.to_string(), lan.to_string(), wan.to_string());
    let joins: Vec<String> = fleet
        .iter()
        .map(|m| format!("127.0.0.1:{}", m.lan_port))
        .collect();
    let mut args = vec![
        "-server",
        "-node",
        "s3",
        "-bind",
        "127.0.0.1",
        "-data-dir",
        &data,
        "-server-port",
        &rpc_s,
        "-serf-lan-port",
        &lan_s,
        "-serf-wan-port",
        &wan_s,
        "-hcl",
        "performance { raft_multiplier = 1 }",
        "-hcl",
        STABILIZATION,
    ];
    for j in &joins {
        args.extend(["-retry-join", j.as_str()]);
    }
    let mut newcomer = Some(AgentProcess::start_on(&args, http));
    let mut first_seen: Option<bool> = None;
    wait_for("the new server appears in the peers", || {
        let s = peers(&c, &config_url(&fleet[survivor])).unwrap_or_default();
        first_seen = peer(&s, "s3").map(|p| p["Voter"] == true);
        first_seen.is_some()
    });
    assert_eq!(first_seen, Some(false), "joins as a non-voter");
    let health_url = fleet[survivor].url("/v1/operator/autopilot/health");
    wait_for("the new server is promoted to voter", || {
        peers(&c, &config_url(&fleet[survivor]))
            .is_some_and(|s| peer(&s, "s3").is_some_and(|p| p["Voter"] == true))
    });
    wait_for("autopilot reports three healthy voters", || {
        c.get(&health_url)
            .send()
            .and_then(|r| r.json::<Value>())
            .is_ok_and(|h| {
                h["Healthy"] == true
                    && h["FailureTolerance"] == 1
                    && h["Servers"].as_array().is_some_and(|s| s.len() == 3)
            })
    });
    let (code, out, err) = cli(&fleet[survivor], &["operator", "autopilot", "state"]);
    assert_eq!(code, 0, "{err}");
    assert!(
        out.starts_with("Healthy:                      true"),
        "{out}"
    );
    assert!(out.contains("Name:            s3"), "{out}");

    // Cleanup off; stop the newcomer; remove it by address.
    let (code, out, err) = cli(
        &fleet[survivor],
        &[
            "operator",
            "autopilot",
            "set-config",
            "-cleanup-dead-servers=false",
        ],
    );
    assert_eq!((code, out.trim()), (0, "Configuration updated!"), "{err}");
    let (_, out, _) = cli(&fleet[survivor], &["operator", "autopilot", "get-config"]);
    assert!(out.contains("CleanupDeadServers = false"), "{out}");
    drop(newcomer.take());
    let address = format!("127.0.0.1:{rpc}");
    let (code, out, err) = cli(
        &fleet[survivor],
        &["operator", "raft", "remove-peer", "-address", &address],
    );
    assert_eq!(code, 0, "{err}");
    assert_eq!(out.trim(), format!("Removed peer with address {address:?}"));
    wait_for("the stopped server is gone from the peers", || {
        peers(&c, &config_url(&fleet[survivor]))
            .is_some_and(|s| s.len() == 2 && peer(&s, "s3").is_none())
    });
    let (code, _, err) = cli(
        &fleet[survivor],
        &["operator", "raft", "remove-peer", "-address", &address],
    );
    assert_eq!(code, 1);
    assert!(
        err.contains("was not found in the Raft configuration"),
        "{err}"
    );
}

#[test]
fn rfc3339_to_unix_seconds() {
    assert_eq!(unix_seconds("1970-01-01T00:00:00Z"), Some(0.0));
    assert_eq!(unix_seconds("2000-03-01T00:00:00Z"), Some(951_868_800.0));
    assert_eq!(
        unix_seconds("2026-11-22T05:10:00.5Z"),
        Some(1_795_324_200.5)
    );
    assert_eq!(unix_seconds("yesterday"), None);
}
