//! Snapshots on a three-server datacenter: `legate snapshot save` through a follower (which
//! forwards to the leader, as Consul does) and `snapshot restore` through another follower
//! bring the state back on every server; and Raft snapshots catch up a server whose missing
//! log the leader has already purged: a brand-new server, and a follower that was down.

use std::path::Path;

use crate::fleet::Member;
use crate::fleet::client;
use crate::fleet::datacenter;
use crate::fleet::leader_of;
use crate::fleet::member_at;
use crate::fleet::wait_for;
use crate::process::AgentProcess;
use crate::process::cli_with_stdin;
use crate::process::free_port;

/// Low snapshot settings, so a few hundred writes snapshot and purge the log.
const LOW_SNAPSHOTS: [&str; 4] = [
    "-hcl",
    "raft_snapshot_threshold = 64",
    "-hcl",
    "raft_trailing_logs = 8",
];

fn start_all(fleet: &mut [Member]) -> usize {
    for m in fleet.iter_mut() {
        m.start();
    }
    leader_index(fleet)
}

/// Wait for a leader every running member agrees on; returns its index.
fn leader_index(fleet: &[Member]) -> usize {
    let c = client();
    let mut found = None;
    wait_for("an agreed leader", || {
        let leaders: Vec<Option<String>> = fleet
            .iter()
            .filter(|m| m.process.is_some())
            .map(|m| leader_of(&c, m))
            .collect();
        found = leaders
            .first()
            .cloned()
            .flatten()
            .filter(|l| leaders.iter().all(|x| x.as_deref() == Some(l.as_str())))
            .and_then(|l| member_at(fleet, &l));
        found.is_some()
    });
    found.expect("leader")
}

fn put_keys(m: &Member, prefix: &str, range: std::ops::Range<usize>) {
    let c = client();
    for i in range {
        let reply = c
            .put(m.url(&format!("/v1/kv/{prefix}{i:04}")))
            .body(format!("value-{i}"))
            .send()
            .expect("put");
        assert!(reply.status().is_success(), "put {i}: {}", reply.status());
    }
}

/// Keys under `prefix` on `http_port`'s agent, read locally (`?stale`).
fn stale_count(http_port: u16, prefix: &str) -> usize {
    let url = format!("http://127.0.0.1:{http_port}/v1/kv/{prefix}?recurse&stale&keys");
    match client().get(url).send() {
        Ok(r) if r.status().is_success() => r.json::<Vec<String>>().map_or(0, |k| k.len()),
        _ => 0,
    }
}

/// The leader's `last_purged_index` from `/v1/agent/self`.
fn purged_index(m: &Member) -> u64 {
    let Ok(reply) = client().get(m.url("/v1/agent/self")).send() else {
        return 0;
    };
    let body: serde_json::Value = reply.json().unwrap_or_default();
    body["Stats"]["raft"]["last_purged_index"]
        .as_str()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0)
}

fn snapshot_files(data_dir: &Path) -> usize {
    std::fs::read_dir(data_dir.join("raft/snapshots"))
        .map(|d| d.filter_map(Result::ok).count())
        .unwrap_or(0)
}

#[test]
fn save_through_a_follower_and_restore_through_another() {
    let dir = tempfile::tempdir().unwrap();
    let mut fleet = datacenter(dir.path(), 3, 0, &[]);
    let leader = start_all(&mut fleet);
    let followers: Vec<usize> = (0..3).filter(|i| *i != leader).collect();
    put_keys(&fleet[leader], "snap/", 0..200);

    let file = dir.path().join("backup.snap");
    let file_arg = file.display().to_string();
    let saver = format!("127.0.0.1:{}", fleet[followers[0]].http_port);
    let (code, out, err) = cli_with_stdin(&saver, &["snapshot", "save", &file_arg], None);
    assert_eq!(code, 0, "save through a follower: {out}{err}");
    assert!(out.contains("Saved and verified snapshot"), "{out}");

    let c = client();
    let reply = c
        .delete(fleet[leader].url("/v1/kv/snap/?recurse"))
        .send()
        .unwrap();
    assert!(reply.status().is_success());
    for m in &fleet {
        wait_for("the keys deleted everywhere", || {
            stale_count(m.http_port, "snap/") == 0
        });
    }

    let restorer = format!("127.0.0.1:{}", fleet[followers[1]].http_port);
    let (code, out, err) = cli_with_stdin(&restorer, &["snapshot", "restore", &file_arg], None);
    assert_eq!(code, 0, "restore through a follower: {out}{err}");
    for m in &fleet {
        wait_for("all 200 keys back on every server", || {
            stale_count(m.http_port, "snap/") == 200
        });
    }

    // The datacenter still has a leader and takes writes.
    let leader = leader_index(&fleet);
    put_keys(&fleet[leader], "after/", 0..1);
    let any = &fleet[followers[0]];
    let value = c
        .get(any.url("/v1/kv/after/0000?raw"))
        .send()
        .unwrap()
        .text()
        .unwrap();
    assert_eq!(value, "value-0");
}

/// Arguments of an extra server that joins `join_lan_port` (no `-bootstrap-expect`).
fn extra_server(dir: &Path, name: &str, join_lan_port: u16) -> Vec<String> {
    let mut args: Vec<String> = [
        "-server",
        "-node",
        name,
        "-bind",
        "127.0.0.1",
        "-data-dir",
        &dir.join(name).display().to_string(),
        "-server-port",
        &free_port().to_string(),
        "-serf-lan-port",
        &free_port().to_string(),
        "-serf-wan-port",
        &free_port().to_string(),
        "-hcl",
        "performance { raft_multiplier = 1 }",
        "-retry-join",
        &format!("127.0.0.1:{join_lan_port}"),
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    args.extend(LOW_SNAPSHOTS.iter().map(|s| s.to_string()));
    args
}

#[test]
fn new_and_returning_servers_catch_up_from_a_snapshot() {
    let dir = tempfile::tempdir().unwrap();
    let mut fleet = datacenter(dir.path(), 3, 0, &LOW_SNAPSHOTS);
    let leader = start_all(&mut fleet);
    put_keys(&fleet[leader], "bulk/", 0..300);
    let leader_dir = dir.path().join(format!("s{leader}"));
    wait_for("the leader to take a snapshot and purge its log", || {
        snapshot_files(&leader_dir) > 0 && purged_index(&fleet[leader]) > 0
    });

    // A brand-new server: the entries it lacks are gone from the leader's log.
    let args = extra_server(dir.path(), "s3", fleet[leader].lan_port);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let s3_http = free_port();
    let s3 = AgentProcess::start_on(&args, s3_http);
    wait_for("the new server to hold every key", || {
        stale_count(s3_http, "bulk/") == 300
    });
    s3.wait_for_line("installed raft snapshot");
    assert!(snapshot_files(&dir.path().join("s3")) > 0);

    // A follower that is down while the log moves on and is purged.
    let leader = leader_index(&fleet);
    let down = (0..3).find(|i| *i != leader).expect("a follower");
    fleet[down].kill();
    put_keys(&fleet[leader], "more/", 0..300);
    fleet[down].start();
    let returning = fleet[down].process.as_ref().expect("started");
    returning.wait_for_line("installed raft snapshot");
    wait_for("the returning follower to hold every key", || {
        stale_count(fleet[down].http_port, "more/") == 300
            && stale_count(fleet[down].http_port, "bulk/") == 300
    });
    assert_eq!(stale_count(s3_http, "more/"), 300);
    drop(s3);
}
