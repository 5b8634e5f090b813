//! Two (or more) datacenters on loopback for the peering scenarios: each [`Dc`] is its own
//! gossip pool and Raft group (`-datacenter`), with Connect on (the built-in CA peering needs)
//! and every server on its own fixed `-grpc-tls-port`, so a killed server comes back on the
//! same data dir and ports. The helpers below read peerings and imported data as a user
//! would, over HTTP and through the CLI, and poll with deadlines.

use std::time::Duration;
use std::time::Instant;

use serde_json::Value;

use crate::fleet::Member;
use crate::fleet::client;
use crate::fleet::datacenter;
use crate::fleet::leader_of;
use crate::fleet::member_at;
use crate::fleet::wait_for;
use crate::process::free_port;

/// One datacenter of `servers` servers, started.
pub(crate) struct Dc {
    /// Datacenter name (`-datacenter`).
    pub(crate) name: &'static str,
    /// The servers, `s0`, `s1`, …
    pub(crate) members: Vec<Member>,
    http: reqwest::blocking::Client,
    _dir: tempfile::TempDir,
}

impl Dc {
    /// Start datacenter `name` with `servers` servers and wait until every one of them knows
    /// the same leader.
    pub(crate) fn start(name: &'static str, servers: usize) -> Dc {
        let dir = tempfile::tempdir().expect("tempdir");
        let extra = ["-datacenter", name, "-hcl", "connect { enabled = true }"];
        let mut members = datacenter(dir.path(), servers, 0, &extra);
        for m in &mut members {
            let port = free_port().to_string();
            m.add_flags(&["-grpc-tls-port", &port]);
            m.start();
        }
        let dc = Dc {
            name,
            members,
            http: client(),
            _dir: dir,
        };
        dc.leader();
        dc
    }

    /// Index of the leader every running server agrees on (waits for one).
    pub(crate) fn leader(&self) -> usize {
        let mut at = None;
        wait_for(&format!("one leader in {}", self.name), || {
            let known: Vec<Option<String>> = self
                .members
                .iter()
                .filter(|m| m.process.is_some())
                .map(|m| leader_of(&self.http, m))
                .collect();
            at = match known.first() {
                Some(Some(first)) if known.iter().all(|l| l.as_ref() == Some(first)) => {
                    member_at(&self.members, first).filter(|i| self.members[*i].process.is_some())
                }
                _ => None,
            };
            at.is_some()
        });
        at.expect("a leader")
    }

    /// Index of a running server that is not the leader.
    pub(crate) fn follower(&self) -> usize {
        let leader = self.leader();
        (0..self.members.len())
            .find(|i| *i != leader && self.members[*i].process.is_some())
            .expect("a running follower")
    }

    /// Run `legate <args>` against server `i`; (exit code, stdout, stderr).
    pub(crate) fn cli(&self, i: usize, args: &[&str]) -> (i32, String, String) {
        self.members[i].process.as_ref().expect("running").cli(args)
    }

    /// GET `path` on server `i` as JSON; None on any error or non-200 answer.
    pub(crate) fn get(&self, i: usize, path: &str) -> Option<Value> {
        let r = self
            .http
            .get(self.members[i].url(path))
            .timeout(Duration::from_secs(5))
            .send()
            .ok()?;
        if r.status() != 200 {
            return None;
        }
        r.json().ok()
    }

    /// Send `method path body` to server `i`; (status, body text).
    pub(crate) fn call(&self, i: usize, method: &str, path: &str, body: &str) -> (u16, String) {
        let method = reqwest::Method::from_bytes(method.as_bytes()).expect("method");
        let r = self
            .http
            .request(method, self.members[i].url(path))
            .body(body.to_string())
            .send()
            .expect("request");
        let status = r.status().as_u16();
        (status, r.text().unwrap_or_default())
    }

    /// `legate peering generate-token -name peer` on server `i`, retried until the cluster can
    /// mint one (leader elected, CA bootstrapped).
    pub(crate) fn token(&self, i: usize, peer: &str) -> String {
        let mut token = String::new();
        wait_for(&format!("a token for {peer} from {}", self.name), || {
            let (code, out, _) = self.cli(i, &["peering", "generate-token", "-name", peer]);
            token = out.trim().to_string();
            code == 0 && !token.is_empty()
        });
        token
    }

    /// `legate peering establish -name peer -peering-token token` on server `i`.
    pub(crate) fn establish(&self, i: usize, peer: &str, token: &str) -> (i32, String, String) {
        self.cli(
            i,
            &[
                "peering",
                "establish",
                "-name",
                peer,
                "-peering-token",
                token,
            ],
        )
    }

    /// The `State` of peering `peer` as server `i` reads it (None if absent or unreachable).
    pub(crate) fn state(&self, i: usize, peer: &str) -> Option<String> {
        self.get(i, &format!("/v1/peering/{peer}"))
            .and_then(|p| p["State"].as_str().map(str::to_string))
    }

    /// Wait until server `i` reads peering `peer` in `state`; returns how long that took.
    pub(crate) fn wait_state(&self, i: usize, peer: &str, state: &str) -> Duration {
        let start = Instant::now();
        wait_for(&format!("{peer} {state} at {}", self.name), || {
            self.state(i, peer).as_deref() == Some(state)
        });
        start.elapsed()
    }

    /// `GET /v1/health/service/<service>?peer=<peer>` on server `i`.
    pub(crate) fn imported(&self, i: usize, peer: &str, service: &str) -> Option<Vec<Value>> {
        self.get(i, &format!("/v1/health/service/{service}?peer={peer}"))
            .and_then(|v| v.as_array().cloned())
    }

    /// The worst check status over every imported instance of `service` from `peer` at server
    /// `i` ("passing", "warning", "critical"), None when nothing is imported.
    pub(crate) fn imported_status(&self, i: usize, peer: &str, service: &str) -> Option<String> {
        let entries = self.imported(i, peer, service)?;
        if entries.is_empty() {
            return None;
        }
        Some(worst_status(&entries).to_string())
    }

    /// Wait until `service` imported from `peer` is `status` at server `i` (None: gone);
    /// returns how long that took.
    pub(crate) fn wait_imported(
        &self,
        i: usize,
        peer: &str,
        service: &str,
        status: Option<&str>,
    ) -> Duration {
        let start = Instant::now();
        let what = format!("{service} from {peer} at {} is {status:?}", self.name);
        wait_for(&what, || {
            self.imported_status(i, peer, service).as_deref() == status
        });
        start.elapsed()
    }

    /// Service names this datacenter imports from `peer`, sorted, read at server `i` from
    /// `/v1/catalog/services?peer=` (without the `consul` service).
    pub(crate) fn imported_names(&self, i: usize, peer: &str) -> Option<Vec<String>> {
        let map = self.get(i, &format!("/v1/catalog/services?peer={peer}"))?;
        let mut names: Vec<String> = map.as_object()?.keys().cloned().collect();
        names.retain(|n| n != "consul");
        names.sort();
        Some(names)
    }

    /// `legate services export|unexport -name service -consumer-peers peer` on server `i`.
    pub(crate) fn export(&self, i: usize, verb: &str, service: &str, peer: &str) {
        let (code, _, err) = self.cli(
            i,
            &["services", verb, "-name", service, "-consumer-peers", peer],
        );
        assert_eq!(code, 0, "services {verb} {service}: {err}");
    }

    /// Register `service` on an external catalog node `node` with one passing check.
    pub(crate) fn register_external(&self, i: usize, node: &str, service: &str) {
        let body = serde_json::json!({
            "Node": node,
            "Address": "10.0.0.1",
            "Service": {"Service": service, "Port": 8080},
            "Check": {"CheckID": format!("{service}-check"), "Name": "ok",
                      "ServiceID": service, "Status": "passing"},
        });
        let (status, text) = self.call(i, "PUT", "/v1/catalog/register", &body.to_string());
        assert_eq!(status, 200, "register {service}: {text}");
    }

    /// SIGKILL server `i`.
    pub(crate) fn kill(&mut self, i: usize) {
        self.members[i].kill();
    }

    /// Start server `i` again on its data dir and ports.
    pub(crate) fn restart(&mut self, i: usize) {
        self.members[i].start();
    }
}

/// The worst check status over health entries (critical > warning > passing).
pub(crate) fn worst_status(entries: &[Value]) -> &'static str {
    let statuses = entries
        .iter()
        .flat_map(|e| e["Checks"].as_array().cloned().unwrap_or_default())
        .map(|c| c["Status"].as_str().unwrap_or("").to_string());
    let mut worst = "passing";
    for s in statuses {
        match s.as_str() {
            "critical" => return "critical",
            "warning" => worst = "warning",
            _ => {}
        }
    }
    worst
}

/// Peer two datacenters: `acceptor` (server `a`) mints a token for `dialer_name`, `dialer`
/// (server `d`) establishes it as `acceptor_name`; waits until both read ACTIVE and returns
/// the time from establish to both ACTIVE.
pub(crate) fn peer(
    acceptor: &Dc,
    a: usize,
    dialer_name: &str,
    dialer: &Dc,
    d: usize,
    acceptor_name: &str,
) -> Duration {
    let token = acceptor.token(a, dialer_name);
    let start = Instant::now();
    let (code, out, err) = dialer.establish(d, acceptor_name, &token);
    assert_eq!(code, 0, "establish: {out}{err}");
    dialer.wait_state(d, acceptor_name, "ACTIVE");
    acceptor.wait_state(a, dialer_name, "ACTIVE");
    start.elapsed()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn worst_status_orders_critical_over_warning_over_passing() {
        let entry = |s: &[&str]| serde_json::json!({"Checks": s.iter().map(|s| serde_json::json!({"Status": s})).collect::<Vec<_>>()});
        assert_eq!(worst_status(&[entry(&["passing"])]), "passing");
        assert_eq!(
            worst_status(&[entry(&["passing"]), entry(&["warning"])]),
            "warning"
        );
        assert_eq!(
            worst_status(&[entry(&["warning", "critical"]), entry(&["passing"])]),
            "critical"
        );
    }
}
