//! A fleet of agents on loopback with fixed ports and data directories, so a member can be
//! killed (SIGKILL), frozen (SIGSTOP) and restarted as the same server.

use std::time::Duration;
use std::time::Instant;

use crate::process::AgentProcess;
use crate::process::PATIENCE;
use crate::process::free_port;

/// One restartable agent.
pub(crate) struct Member {
    args: Vec<String>,
    pub(crate) http_port: u16,
    pub(crate) rpc_port: u16,
    pub(crate) lan_port: u16,
    pub(crate) process: Option<AgentProcess>,
}

impl Member {
    /// Start (or restart) the agent.
    pub(crate) fn start(&mut self) {
        let args: Vec<&str> = self.args.iter().map(String::as_str).collect();
        self.process = Some(AgentProcess::start_on(&args, self.http_port));
    }

    /// Give `flag` a new value for the next start (e.g. a new `-server-port`).
    pub(crate) fn set_flag(&mut self, flag: &str, value: &str) {
        if let Some(i) = self.args.iter().position(|a| a == flag) {
            self.args[i + 1] = value.to_string();
        }
        if flag == "-server-port" {
            self.rpc_port = value.parse().expect("a port");
        }
    }

    /// Append flags for every later start (e.g. a member's own `-grpc-tls-port`).
    pub(crate) fn add_flags(&mut self, flags: &[&str]) {
        self.args.extend(flags.iter().map(|f| f.to_string()));
    }

    /// SIGKILL the agent.
    pub(crate) fn kill(&mut self) {
        drop(self.process.take());
    }

    /// Send a signal (`STOP`, `CONT`, …).
    pub(crate) fn signal(&self, signal: &str) {
        if let Some(p) = &self.process {
            p.signal(signal);
        }
    }

    /// URL of an API path on this agent.
    pub(crate) fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.http_port)
    }
}

/// `servers` servers (`-bootstrap-expect servers`) then `clients` client agents, all joining
/// each other's LAN ports, with `extra` flags; not started yet.
pub(crate) fn datacenter(
    dir: &std::path::Path,
    servers: usize,
    clients: usize,
    extra: &[&str],
) -> Vec<Member> {
    let total = servers + clients;
    let lan: Vec<u16> = (0..total).map(|_| free_port()).collect();
    (0..total)
        .map(|i| {
            let server = i < servers;
            let name = if server {
                format!("s{i}")
            } else {
                format!("c{}", i - servers)
            };
            let rpc = free_port();
            let mut args: Vec<String> = Vec::new();
            if server {
                args.extend([
                    "-server".into(),
                    "-bootstrap-expect".into(),
                    servers.to_string(),
                ]);
            }
            args.extend([
                "-node".into(),
                name.clone(),
                "-bind".into(),
                "127.0.0.1".into(),
                "-data-dir".into(),
                dir.join(&name).display().to_string(),
                "-server-port".into(),
                rpc.to_string(),
                "-serf-lan-port".into(),
                lan[i].to_string(),
                "-serf-wan-port".into(),
                free_port().to_string(),
                "-hcl".into(),
                "performance { raft_multiplier = 1 }".into(),
            ]);
            args.extend(extra.iter().map(|s| s.to_string()));
            for (j, port) in lan.iter().enumerate().take(servers) {
                if j != i {
                    args.extend(["-retry-join".into(), format!("127.0.0.1:{port}")]);
                }
            }
            Member {
                args,
                http_port: free_port(),
                rpc_port: rpc,
                lan_port: lan[i],
                process: None,
            }
        })
        .collect()
}

/// A client for requests that may hang while the cluster elects a leader.
pub(crate) fn client() -> reqwest::blocking::Client {
    reqwest::blocking::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .expect("client")
}

/// The leader `m` reports, if it is running and knows one.
pub(crate) fn leader_of(c: &reqwest::blocking::Client, m: &Member) -> Option<String> {
    m.process.as_ref()?;
    c.get(m.url("/v1/status/leader"))
        .timeout(Duration::from_secs(2))
        .send()
        .ok()?
        .json::<String>()
        .ok()
        .filter(|l| !l.is_empty())
}

/// Index of the member whose server RPC address is `leader`.
pub(crate) fn member_at(fleet: &[Member], leader: &str) -> Option<usize> {
    fleet
        .iter()
        .position(|m| leader.ends_with(&format!(":{}", m.rpc_port)))
}

/// Poll `condition` (other processes: nothing to wait on) until it holds.
pub(crate) fn wait_for(what: &str, mut condition: impl FnMut() -> bool) {
    let deadline = Instant::now() + PATIENCE * 2;
    while !condition() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}
