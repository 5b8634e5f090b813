//! Starting and stopping real `legate agent` processes. The HTTP port is a free one picked just before
//! start, confirmed by the agent's `Started HTTP server` log line; every process is
//! killed when its handle drops.

use std::io::BufRead;
use std::io::BufReader;
use std::process::Child;
use std::process::Command;
use std::process::Stdio;
use std::sync::mpsc;
use std::time::Duration;
use std::time::Instant;

/// Longest a test waits for a process or a condition.
pub(crate) const PATIENCE: Duration = Duration::from_secs(30);

/// Path of the binary under test.
pub(crate) fn binary() -> &'static str {
    env!("CARGO_BIN_EXE_legate")
}

/// A running agent process.
pub(crate) struct AgentProcess {
    pub(crate) child: Child,
    /// Server RPC port given on the command line (None when the test's config sets it).
    pub(crate) rpc_port: Option<u16>,
    pub(crate) http_addr: String,
    pub(crate) lines: mpsc::Receiver<String>,
    /// Output lines read while waiting for start-up.
    pub(crate) early: Vec<String>,
}

impl AgentProcess {
    /// Start `legate agent <args>` on free HTTP, server RPC and serf ports and wait for its
    /// HTTP listener.
    pub(crate) fn start(args: &[&str]) -> AgentProcess {
        // Parallel tests pick free ports independently, so two may race for one; retry with
        // fresh ports as Consul's own SDK test server does.
        for _ in 0..2 {
            if let Ok(agent) = std::panic::catch_unwind(|| AgentProcess::start_once(args)) {
                return agent;
            }
        }
        AgentProcess::start_once(args)
    }

    fn start_once(args: &[&str]) -> AgentProcess {
        let rpc_port = free_port();
        let (rpc, lan, wan) = (
            rpc_port.to_string(),
            free_port().to_string(),
            free_port().to_string(),
        );
        let mut all: Vec<&str> = args.to_vec();
        all.extend([
            "-server-port",
            &rpc,
            "-serf-lan-port",
            &lan,
            "-serf-wan-port",
            &wan,
        ]);
        let mut agent = AgentProcess::start_exact(&all);
        agent.rpc_port = Some(rpc_port);
        agent
    }

    /// Start `legate agent <args>` adding only a free HTTP port (for configs that set every
    /// other port themselves).
    pub(crate) fn start_exact(args: &[&str]) -> AgentProcess {
        AgentProcess::start_on(args, free_port())
    }

    /// Start `legate agent <args>` with its HTTP API on `http_port`.
    pub(crate) fn start_on(args: &[&str], http_port: u16) -> AgentProcess {
        let port = http_port.to_string();
        let mut child = Command::new(binary())
            .arg("agent")
            .args(args)
            .args(["-http-port", &port, "-dns-port", "-1"])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn legate");
        let stdout = child.stdout.take().expect("stdout");
        let stderr = child.stderr.take().expect("stderr");
        let (tx, lines) = mpsc::channel();
        let tx2 = tx.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                let _ = tx.send(line);
            }
        });
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                let _ = tx2.send(line);
            }
        });
        let mut seen = Vec::new();
        let deadline = Instant::now() + PATIENCE;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match lines.recv_timeout(left) {
                Ok(line) => {
                    if let Some(rest) = line.split("Started HTTP server: address=").nth(1) {
                        let addr = rest.split_whitespace().next().unwrap_or("").to_string();
                        return AgentProcess {
                            child,
                            rpc_port: None,
                            http_addr: addr,
                            lines,
                            early: seen,
                        };
                    }
                    seen.push(line);
                }
                Err(_) => {
                    let _ = child.kill();
                    let _ = child.wait();
                    panic!("agent did not start; output:\n{}", seen.join("\n"));
                }
            }
        }
    }

    /// Absolute URL of an API path.
    pub(crate) fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.http_addr, path)
    }

    /// Wait until a log line contains `needle`.
    pub(crate) fn wait_for_line(&self, needle: &str) {
        if self.early.iter().any(|l| l.contains(needle)) {
            return;
        }
        let deadline = Instant::now() + PATIENCE;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) if line.contains(needle) => return,
                Ok(_) => {}
                Err(_) => panic!("no log line containing {needle:?}"),
            }
        }
    }

    /// Wait until the process exits by itself; returns whether it exited successfully.
    pub(crate) fn wait_exit(&mut self) -> bool {
        let deadline = Instant::now() + PATIENCE;
        loop {
            if let Some(status) = self.child.try_wait().expect("try_wait") {
                return status.success();
            }
            assert!(Instant::now() < deadline, "agent did not exit");
            // Process exit has no event to wait on here; poll its status.
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Send a signal to the process.
    pub(crate) fn signal(&self, signal: &str) {
        let status = Command::new("kill")
            .args(["-s", signal, &self.child.id().to_string()])
            .status()
            .expect("kill");
        assert!(status.success());
    }

    /// Run a CLI command against this agent; returns (exit code, stdout, stderr).
    pub(crate) fn cli(&self, args: &[&str]) -> (i32, String, String) {
        cli_with_stdin(&self.http_addr, args, None)
    }
}

/// A loopback port that was free a moment ago (port 0 means "disabled" to Consul).
pub(crate) fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind a free port");
    listener.local_addr().expect("local addr").port()
}

/// Run `legate <args>` with `-http-addr` given by environment, optionally feeding stdin.
pub(crate) fn cli_with_stdin(
    http_addr: &str,
    args: &[&str],
    stdin: Option<&str>,
) -> (i32, String, String) {
    use std::io::Write;
    let mut child = Command::new(binary())
        .args(args)
        .env("CONSUL_HTTP_ADDR", http_addr)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn cli");
    if let Some(input) = stdin {
        child
            .stdin
            .take()
            .expect("stdin")
            .write_all(input.as_bytes())
            .expect("write stdin");
    } else {
        drop(child.stdin.take());
    }
    let output = child.wait_with_output().expect("cli output");
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

impl Drop for AgentProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Poll `condition` until it holds (the agent is another process: there is no event to wait
/// on); panics after [`PATIENCE`].
pub(crate) fn eventually(what: &str, mut condition: impl FnMut() -> bool) {
    let deadline = Instant::now() + PATIENCE;
    while !condition() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Blocking HTTP client for tests.
pub(crate) fn http() -> reqwest::blocking::Client {
    reqwest::blocking::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .expect("client")
}
