//! Re-joining the LAN pool from the member snapshot (`<data_dir>/serf/local.snapshot`), as
//! Consul's agents do: an agent that crashed comes back into the pool on restart without any
//! `-join`; one that left gracefully stays alone on restart unless started with `-rejoin`.

use crate::fleet::client;
use crate::fleet::datacenter;
use crate::fleet::wait_for;
use crate::process::AgentProcess;
use crate::process::free_port;

/// Serf status codes in `/v1/agent/members`.
const ALIVE: u64 = 1;
const LEFT: u64 = 3;

/// The third agent: a client with fixed ports and data directory, started by hand so that
/// only its first start carries `-join`.
struct Third {
    base: Vec<String>,
    http_port: u16,
}

impl Third {
    fn new(dir: &std::path::Path) -> Third {
        let base = [
            "-node",
            "c0",
            "-bind",
            "127.0.0.1",
            "-data-dir",
            &dir.join("c0").display().to_string(),
            "-server-port",
            &free_port().to_string(),
            "-serf-lan-port",
            &free_port().to_string(),
            "-serf-wan-port",
            &free_port().to_string(),
            "-hcl",
            "performance { raft_multiplier = 1 }",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        Third {
            base,
            http_port: free_port(),
        }
    }

    fn start(&self, extra: &[&str]) -> AgentProcess {
        let mut args: Vec<&str> = self.base.iter().map(String::as_str).collect();
        args.extend_from_slice(extra);
        AgentProcess::start_on(&args, self.http_port)
    }
}

/// `name → status` of the members `http_port`'s agent sees.
fn statuses(http_port: u16) -> Vec<(String, u64)> {
    let Ok(reply) = client()
        .get(format!("http://127.0.0.1:{http_port}/v1/agent/members"))
        .send()
    else {
        return Vec::new();
    };
    let members: Vec<serde_json::Value> = reply.json().unwrap_or_default();
    let mut out: Vec<(String, u64)> = members
        .iter()
        .map(|m| {
            (
                m["Name"].as_str().unwrap_or_default().to_string(),
                m["Status"].as_u64().unwrap_or(0),
            )
        })
        .collect();
    out.sort();
    out
}

fn status_of(http_port: u16, name: &str) -> Option<u64> {
    statuses(http_port)
        .into_iter()
        .find(|(n, _)| n == name)
        .map(|(_, s)| s)
}

fn all_alive(ports: &[u16]) -> bool {
    ports.iter().all(|p| {
        let s = statuses(*p);
        s.len() == 3 && s.iter().all(|(_, status)| *status == ALIVE)
    })
}

#[test]
fn restart_rejoins_from_the_snapshot_unless_the_agent_left() {
    let dir = tempfile::tempdir().unwrap();
    let mut fleet = datacenter(dir.path(), 2, 0, &[]);
    for m in fleet.iter_mut() {
        m.start();
    }
    let third = Third::new(dir.path());
    let join = format!("127.0.0.1:{}", fleet[0].lan_port);
    let mut c0 = third.start(&["-join", &join]);
    let ports = [fleet[0].http_port, fleet[1].http_port, third.http_port];
    wait_for("three alive members everywhere", || all_alive(&ports));
    let snapshot = dir.path().join("c0/serf/local.snapshot");
    wait_for("c0's member snapshot to list both servers", || {
        std::fs::read_to_string(&snapshot)
            .is_ok_and(|t| t.contains("\"s0\"") && t.contains("\"s1\""))
    });

    // A crash (SIGKILL) and a restart without -join: back in the pool from the snapshot.
    drop(c0);
    c0 = third.start(&[]);
    wait_for("c0 back in members on every agent after a crash", || {
        all_alive(&ports)
    });

    // A graceful leave, then a restart with -rejoin: the leave is ignored.
    let (code, _, err) = c0.cli(&["leave"]);
    assert_eq!(code, 0, "{err}");
    assert!(c0.wait_exit(), "c0 exits after leaving");
    wait_for("c0 shown as left on the servers", || {
        status_of(fleet[0].http_port, "c0") == Some(LEFT)
    });
    c0 = third.start(&["-rejoin"]);
    c0.wait_for_line("ignoring the previous leave");
    wait_for("c0 re-joined with -rejoin", || all_alive(&ports));

    // Leave again, restart without -rejoin: it stays alone.
    let (code, _, err) = c0.cli(&["leave"]);
    assert_eq!(code, 0, "{err}");
    assert!(c0.wait_exit(), "c0 exits after leaving");
    wait_for("c0 shown as left on the servers", || {
        status_of(fleet[0].http_port, "c0") == Some(LEFT)
    });
    c0 = third.start(&[]);
    c0.wait_for_line("not re-joining");
    // The decision is logged before the HTTP server starts; nothing joins after it.
    assert_eq!(statuses(third.http_port), [("c0".to_string(), ALIVE)]);
    assert_eq!(status_of(fleet[0].http_port, "c0"), Some(LEFT));
    drop(c0);
}
