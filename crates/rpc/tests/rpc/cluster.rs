//! End to end: three `Consensus` nodes, each with a real RPC server on loopback and an
//! `RpcClient` as raft transport. Form the group, write through the leader (and see a follower
//! redirect), kill the leader (server and raft), and keep writing on the new leader without
//! losing acknowledged writes.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::Mutex;

use legate_consensus::BoxFuture;
use legate_consensus::Consensus;
use legate_consensus::Peer;
use legate_consensus::RaftConfig;
use legate_consensus::RaftRpcKind;
use legate_consensus::StateMachine;
use legate_rpc::HttpReply;
use legate_rpc::HttpRequest;
use legate_rpc::RpcClient;
use legate_rpc::RpcError;
use legate_rpc::RpcHandler;

use crate::support::PATIENCE;
use crate::support::Running;
use crate::support::bind;
use crate::support::eventually;
use crate::support::spawn_server;

/// Key/value state machine; commands are JSON `[key, value]`.
#[derive(Default)]
struct KvFsm(Mutex<BTreeMap<String, String>>);

impl KvFsm {
    fn map(&self) -> BTreeMap<String, String> {
        self.0.lock().unwrap().clone()
    }
}

impl StateMachine for KvFsm {
    fn apply(&self, _index: u64, command: &[u8]) -> Vec<u8> {
        let (k, v): (String, String) = serde_json::from_slice(command).unwrap();
        self.0.lock().unwrap().insert(k, v);
        Vec::new()
    }

    fn snapshot(&self) -> Vec<u8> {
        serde_json::to_vec(&*self.0.lock().unwrap()).unwrap()
    }

    fn restore(&self, snapshot: &[u8]) -> Result<(), String> {
        *self.0.lock().unwrap() = serde_json::from_slice(snapshot).map_err(|e| e.to_string())?;
        Ok(())
    }
}

/// The RPC handler a server would install: raft, apply and read-index go to `Consensus`.
struct ConsensusHandler(Consensus);

impl RpcHandler for ConsensusHandler {
    fn raft(
        &self,
        kind: RaftRpcKind,
        payload: Vec<u8>,
    ) -> BoxFuture<'static, Result<Vec<u8>, RpcError>> {
        let c = self.0.clone();
        Box::pin(async move { Ok(c.handle_raft_rpc(kind, &payload).await?) })
    }

    fn apply(&self, command: Vec<u8>) -> BoxFuture<'static, Result<(u64, Vec<u8>), RpcError>> {
        let c = self.0.clone();
        Box::pin(async move { Ok(c.write(command).await?) })
    }

    fn read_index(&self) -> BoxFuture<'static, Result<u64, RpcError>> {
        let c = self.0.clone();
        Box::pin(async move { Ok(c.read_index().await?) })
    }

    fn http(&self, _request: HttpRequest) -> BoxFuture<'static, Result<HttpReply, RpcError>> {
        Box::pin(async { Err(RpcError::Other("no HTTP router in this test".into())) })
    }
}

struct Node {
    raft: Consensus,
    fsm: Arc<KvFsm>,
    server: Option<Running>,
    addr: String,
}

fn set_cmd(k: &str, v: &str) -> Vec<u8> {
    serde_json::to_vec(&(k, v)).unwrap()
}

async fn start_nodes(n: usize) -> Vec<Node> {
    let mut nodes = Vec::new();
    for i in 0..n {
        let (listener, addr) = bind().await;
        let fsm = Arc::new(KvFsm::default());
        let raft = Consensus::start(
            RaftConfig {
                node_id: format!("node-{i}"),
                node_name: format!("server-{i}"),
                rpc_addr: addr.clone(),
                data_dir: None,
                bootstrap: false,
                raft_multiplier: 1,
                snapshot_threshold: 0,
                trailing_logs: legate_consensus::DEFAULT_TRAILING_LOGS,
                transport: Some(Arc::new(RpcClient::new())),
            },
            fsm.clone(),
        )
        .await
        .unwrap();
        let server = spawn_server(listener, Arc::new(ConsensusHandler(raft.clone())));
        nodes.push(Node {
            raft,
            fsm,
            server: Some(server),
            addr,
        });
    }
    let peers: Vec<Peer> = nodes
        .iter()
        .enumerate()
        .map(|(i, n)| Peer {
            id: format!("node-{i}"),
            name: format!("server-{i}"),
            rpc_addr: n.addr.clone(),
        })
        .collect();
    for n in &nodes {
        n.raft.initialize(peers.clone()).await.unwrap();
    }
    nodes
}

async fn wait_leader(nodes: &[Node], among: &[usize]) -> usize {
    let mut found = None;
    eventually("a leader to be established", || {
        found = among
            .iter()
            .copied()
            .find(|&i| *nodes[i].raft.leadership().borrow());
        found.is_some()
    })
    .await;
    found.unwrap()
}

#[tokio::test]
async fn three_servers_over_tonic_survive_leader_kill() {
    let mut nodes = start_nodes(3).await;
    let client = RpcClient::new();
    let leader = wait_leader(&nodes, &[0, 1, 2]).await;
    let follower = (leader + 1) % 3;

    // A follower redirects writes to the leader, which accepts them.
    let redirect = client
        .apply(&nodes[follower].addr, set_cmd("x", "y"))
        .await
        .unwrap_err();
    assert_eq!(
        redirect,
        RpcError::NotLeader {
            leader_addr: Some(nodes[leader].addr.clone())
        }
    );
    let mut acked = Vec::new();
    for i in 0..10 {
        let key = format!("a{i}");
        client
            .apply(&nodes[leader].addr, set_cmd(&key, "1"))
            .await
            .unwrap();
        acked.push(key);
    }

    // Follower read over RPC: read index from the leader, then wait locally.
    let index = client.read_index(&nodes[leader].addr).await.unwrap();
    nodes[follower]
        .raft
        .wait_applied(index, PATIENCE)
        .await
        .unwrap();
    assert!(
        acked
            .iter()
            .all(|k| nodes[follower].fsm.map().contains_key(k))
    );

    // Kill the leader: stop its RPC server and its raft node.
    nodes[leader].server.take().unwrap().stop().await;
    nodes[leader].raft.shutdown().await;
    let rest: Vec<usize> = (0..3).filter(|&i| i != leader).collect();
    let new_leader = wait_leader(&nodes, &rest).await;
    assert!(matches!(
        client.apply(&nodes[leader].addr, set_cmd("z", "z")).await,
        Err(RpcError::Unavailable(_))
    ));
    for i in 0..10 {
        let key = format!("b{i}");
        client
            .apply(&nodes[new_leader].addr, set_cmd(&key, "2"))
            .await
            .unwrap();
        acked.push(key);
    }
    let map = nodes[new_leader].fsm.map();
    assert!(
        acked.iter().all(|k| map.contains_key(k)),
        "no acknowledged write lost"
    );
    let other = rest.iter().copied().find(|&i| i != new_leader).unwrap();
    eventually("the surviving follower converges", || {
        nodes[other].fsm.map() == map
    })
    .await;

    for n in &mut nodes {
        if let Some(server) = n.server.take() {
            server.stop().await;
        }
        n.raft.shutdown().await;
    }
}
