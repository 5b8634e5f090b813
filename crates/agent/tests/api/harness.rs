//! The test agent: a real `-dev` agent on 127.0.0.1 with an OS-chosen HTTP port, ready (leader
//! elected, this node registered with `serfHealth`) when `start` returns.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use legate_agent::agent::Agent;
use legate_state::Table;

/// Longest a test waits for a condition before failing.
pub(crate) const PATIENCE: Duration = Duration::from_secs(10);

pub(crate) struct TestAgent {
    pub(crate) agent: Arc<Agent>,
    /// The server RPC port (what `status/leader` reports after `127.0.0.1:`).
    pub(crate) rpc_port: u16,
    /// Each cluster port this agent got, with Consul's default for it (server, serf LAN/WAN).
    pub(crate) ports: Vec<(u16, u16)>,
    base: String,
    client: reqwest::Client,
}

impl TestAgent {
    /// A dev agent with no extra flags.
    pub(crate) async fn start() -> TestAgent {
        TestAgent::start_with(&[]).await
    }

    /// A dev agent with extra `agent` flags.
    pub(crate) async fn start_with(extra: &[&str]) -> TestAgent {
        let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
        let port = free_port().to_string();
        let rpc_port = free_port();
        let server_port = rpc_port.to_string();
        let (lan_port, wan_port) = (free_port(), free_port());
        let mut args: Vec<String> = [
            "-dev",
            "-http-port",
            &port,
            "-node",
            "test-node",
            "-dns-port",
            "-1",
            "-server-port",
            &server_port,
            "-serf-lan-port",
            &lan_port.to_string(),
            "-serf-wan-port",
            &wan_port.to_string(),
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        args.extend(extra.iter().map(|s| s.to_string()));
        let config = legate_config::load(&args).expect("test config loads");
        let agent = Agent::start(config).await.expect("agent starts");
        let addr = agent.http_addrs()[0];
        let test = TestAgent {
            rpc_port,
            ports: vec![(rpc_port, 8300), (lan_port, 8301), (wan_port, 8302)],
            base: format!("http://{addr}"),
            client: reqwest::Client::new(),
            agent,
        };
        test.wait_until(|| async {
            let view = test.agent.server().store().view();
            view.node_checks("test-node")
                .iter()
                .any(|c| c.check_id == "serfHealth")
        })
        .await;
        test
    }

    /// Absolute URL of an API path.
    pub(crate) fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    /// The HTTP client.
    pub(crate) fn http(&self) -> &reqwest::Client {
        &self.client
    }

    /// GET a path and decode JSON, asserting 200.
    pub(crate) async fn get_json(&self, path: &str) -> serde_json::Value {
        let response = self
            .client
            .get(self.url(path))
            .send()
            .await
            .expect("request");
        assert_eq!(response.status(), 200, "GET {path}");
        response.json().await.expect("json body")
    }

    /// PUT a JSON body, returning status and body text.
    pub(crate) async fn put(&self, path: &str, body: impl Into<reqwest::Body>) -> (u16, String) {
        let response = self
            .client
            .put(self.url(path))
            .body(body)
            .send()
            .await
            .expect("request");
        let status = response.status().as_u16();
        (status, response.text().await.expect("body"))
    }

    /// POST a body, returning status and body text.
    pub(crate) async fn post(&self, path: &str, body: impl Into<reqwest::Body>) -> (u16, String) {
        let response = self
            .client
            .post(self.url(path))
            .body(body)
            .send()
            .await
            .expect("request");
        let status = response.status().as_u16();
        (status, response.text().await.expect("body"))
    }

    /// Wait until the leader has bootstrapped the Connect CA.
    pub(crate) async fn wait_for_ca(&self) {
        self.wait_until(|| async {
            self.agent
                .server()
                .store()
                .view()
                .table_index(Table::ConnectCa)
                != 0
        })
        .await;
    }

    /// Wait until `condition` holds, re-checking whenever the catalog or KV changes (and at
    /// least every 50 ms for conditions outside the store); panics after [`PATIENCE`].
    pub(crate) async fn wait_until<F, Fut>(&self, mut condition: F)
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = bool>,
    {
        let store = self.agent.server().store();
        let tables = [
            Table::Nodes,
            Table::Services,
            Table::Checks,
            Table::Kvs,
            Table::Sessions,
        ];
        let deadline = tokio::time::Instant::now() + PATIENCE;
        loop {
            if condition().await {
                return;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "condition not met within {PATIENCE:?}"
            );
            let seen = store.view().max_index(&tables);
            let tick = tokio::time::sleep(Duration::from_millis(50));
            store.wait_change(&tables, seen, tick).await;
        }
    }
}

/// A loopback port that was free a moment ago (Consul treats port 0 as "disabled", so the
/// agent cannot be asked to pick one itself).
pub(crate) fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind a free port");
    listener.local_addr().expect("local addr").port()
}

impl Drop for TestAgent {
    fn drop(&mut self) {
        self.agent.shutdown();
    }
}
