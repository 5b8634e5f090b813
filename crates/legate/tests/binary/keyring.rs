//! Gossip key rotation with `legate keyring` on a real datacenter: one server and two
//! client agents share a key; a new key is installed from a client (forwarded to the
//! server, which queries every member), listed as `[3/3]` everywhere, made primary, and
//! the old key removed — removing the primary is refused with Consul's message. The
//! keyring file in the data directory follows, and a fourth agent that only knows the new
//! key then joins.

use crate::process::AgentProcess;
use crate::process::eventually;
use crate::process::free_port;

const OLD: &str = "pUqJrVyVRj5jsiYEkM/tFQYfWyJIv4s3XkvDwy7Cu5s=";
const NEW: &str = "ZWTL+bgjHyQPhJRKcFe3ccirc2SFHmc/Nw67l8NQfdk=";

struct Agent {
    process: AgentProcess,
    lan_port: u16,
}

/// Starts `name` with gossip key `key`, joining `join` (a LAN port) if given.
fn start(name: &str, dir: &std::path::Path, key: &str, server: bool, join: Option<u16>) -> Agent {
    let lan_port = free_port();
    let (lan, rpc, wan) = (
        lan_port.to_string(),
        free_port().to_string(),
        free_port().to_string(),
    );
    let data = dir.join(name).display().to_string();
    let target = join.map(|p| format!("127.0.0.1:{p}"));
    let mut args = if server {
        vec!["-server", "-bootstrap-expect", "1"]
    } else {
        Vec::new()
    };
    args.extend([
        "-node",
        name,
        "-bind",
        "127.0.0.1",
        "-data-dir",
        &data,
        "-encrypt",
        key,
        "-server-port",
        &rpc,
        "-serf-lan-port",
        &lan,
        "-serf-wan-port",
        &wan,
    ]);
    if let Some(target) = &target {
        args.extend(["-retry-join", target]);
    }
    Agent {
        process: AgentProcess::start_exact(&args),
        lan_port,
    }
}

/// `legate keyring -list` output once every one of `n` members answers.
fn list_when_all_answer(agent: &Agent, n: usize) -> String {
    let mut last = String::new();
    eventually(&format!("keyring list with {n} members"), || {
        let (code, out, _) = agent.process.cli(&["keyring", "-list"]);
        last = out;
        code == 0 && last.contains(&format!("/{n}]"))
    });
    last
}

fn sorted_keys(keys: &[&str]) -> Vec<String> {
    let mut keys: Vec<String> = keys.iter().map(|k| k.to_string()).collect();
    keys.sort();
    keys
}

#[test]
fn rotate_the_gossip_key_with_the_cli() {
    let dir = tempfile::tempdir().unwrap();
    let server = start("s1", dir.path(), OLD, true, None);
    let c1 = start("c1", dir.path(), OLD, false, Some(server.lan_port));
    let c2 = start("c2", dir.path(), OLD, false, Some(server.lan_port));

    let listed = list_when_all_answer(&c1, 3);
    assert_eq!(
        listed,
        format!("==> Gathering installed encryption keys...\n\ndc1 (LAN):\n  {OLD} [3/3]\n")
    );

    let (code, out, err) = c1.process.cli(&["keyring", "-install", NEW]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(out, "==> Installing new gossip encryption key...\n");
    let (code, out, _) = c2.process.cli(&["keyring", "-list"]);
    assert_eq!(code, 0);
    let lines: Vec<String> = sorted_keys(&[OLD, NEW])
        .iter()
        .map(|k| format!("  {k} [3/3]"))
        .collect();
    assert_eq!(
        out,
        format!(
            "==> Gathering installed encryption keys...\n\ndc1 (LAN):\n{}\n",
            lines.join("\n")
        )
    );

    let (code, _, err) = c2.process.cli(&["keyring", "-remove", OLD]);
    assert_eq!(code, 1);
    assert!(
        err.starts_with("error: Unexpected response code: 500 ("),
        "{err}"
    );
    assert!(
        err.contains("dc1 (LAN) error: 3/3 nodes reported failure"),
        "{err}"
    );
    assert!(
        err.contains("s1: Removing the primary key is not allowed"),
        "{err}"
    );

    let (code, out, err) = server.process.cli(&["keyring", "-use", NEW]);
    assert_eq!(
        (code, out.as_str()),
        (0, "==> Changing primary gossip encryption key...\n"),
        "{err}"
    );
    let (code, out, err) = c2.process.cli(&["keyring", "-remove", OLD]);
    assert_eq!(
        (code, out.as_str()),
        (0, "==> Removing gossip encryption key...\n"),
        "{err}"
    );
    let (code, out, _) = c1.process.cli(&["keyring", "-list-primary"]);
    assert_eq!(code, 0);
    assert_eq!(
        out,
        format!(
            "==> Gathering installed primary encryption keys...\n\ndc1 (LAN):\n  {NEW} [3/3]\n"
        )
    );
    let saved = std::fs::read_to_string(dir.path().join("c2/serf/local.keyring")).unwrap();
    let saved: Vec<String> = serde_json::from_str(&saved).unwrap();
    assert_eq!(saved, vec![NEW.to_string()]);

    // An agent that only knows the new key joins the rotated datacenter.
    let c3 = start("c3", dir.path(), NEW, false, Some(server.lan_port));
    let listed = list_when_all_answer(&c3, 4);
    assert_eq!(
        listed,
        format!("==> Gathering installed encryption keys...\n\ndc1 (LAN):\n  {NEW} [4/4]\n")
    );
}
