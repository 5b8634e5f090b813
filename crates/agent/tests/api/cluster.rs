//! Three servers in one process, joined into one Raft group by adding voters directly (what
//! autopilot does once gossip has found them): writes sent to followers are forwarded to the
//! leader, default reads on followers see every acknowledged write, and losing the leader
//! elects another one that keeps every acknowledged write.

use std::sync::Arc;
use std::time::Duration;

use legate_agent::agent::Agent;

use crate::harness::PATIENCE;
use crate::harness::free_port;

struct Server {
    agent: Arc<Agent>,
    http: String,
    rpc_addr: String,
}

async fn start_server(name: &str, bootstrap: bool) -> Server {
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    let (http, rpc) = (free_port(), free_port());
    let mut args: Vec<String> = vec![
        "-dev".into(),
        format!("-bootstrap={bootstrap}"),
        "-node".into(),
        name.into(),
        "-http-port".into(),
        http.to_string(),
        "-server-port".into(),
        rpc.to_string(),
        "-dns-port".into(),
        "-1".into(),
    ];
    args.push(format!("-serf-lan-port={}", free_port()));
    args.push(format!("-serf-wan-port={}", free_port()));
    let config = legate_config::load(&args).expect("config");
    let agent = Agent::start(config).await.expect("agent starts");
    Server {
        agent,
        http: format!("http://127.0.0.1:{http}"),
        rpc_addr: format!("127.0.0.1:{rpc}"),
    }
}

async fn eventually<F, Fut>(what: &str, mut condition: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = tokio::time::Instant::now() + PATIENCE;
    while !condition().await {
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out waiting for {what}"
        );
        // Another server's progress has no local event to wait on: poll.
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_servers_forward_writes_and_survive_leader_loss() {
    let s1 = start_server("s1", true).await;
    let s2 = start_server("s2", false).await;
    let s3 = start_server("s3", false).await;
    eventually("s1 leads", || async {
        s1.agent.server().consensus().is_leader()
    })
    .await;
    for s in [&s2, &s3] {
        let node = s.agent.node();
        s1.agent
            .server()
            .consensus()
            .add_voter(&node.id, &node.name, &s.rpc_addr)
            .await
            .expect("add voter");
    }
    let client = reqwest::Client::new();
    // A write sent to a follower is forwarded to the leader.
    let put = client
        .put(format!("{}/v1/kv/forwarded", s2.http))
        .body("yes")
        .send()
        .await
        .unwrap();
    assert_eq!(put.text().await.unwrap(), "true");
    // A default read on the other follower sees it at once.
    let read = client
        .get(format!("{}/v1/kv/forwarded?raw", s3.http))
        .send()
        .await
        .unwrap();
    assert_eq!(read.text().await.unwrap(), "yes");
    let peers: Vec<String> = client
        .get(format!("{}/v1/status/peers", s3.http))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(peers.len(), 3);

    // Lose the leader: one of the others takes over and has every acknowledged write.
    for i in 0..20 {
        let r = client
            .put(format!("{}/v1/kv/k{i}", s3.http))
            .body(i.to_string())
            .send()
            .await
            .unwrap();
        assert_eq!(r.text().await.unwrap(), "true");
    }
    s1.agent.shutdown();
    s1.agent.wait().await;
    eventually("a new leader", || async {
        [&s2, &s3]
            .iter()
            .any(|s| s.agent.server().consensus().is_leader())
    })
    .await;
    let r = client
        .put(format!("{}/v1/kv/after", s2.http))
        .body("x")
        .send()
        .await
        .unwrap();
    assert_eq!(r.text().await.unwrap(), "true");
    let keys: Vec<String> = client
        .get(format!("{}/v1/kv/k?keys", s3.http))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(keys.len(), 20);
    s2.agent.shutdown();
    s3.agent.shutdown();
}
