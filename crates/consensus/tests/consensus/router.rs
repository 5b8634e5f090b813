//! An in-process [`RaftTransport`]: routes raft messages by RPC address straight to the target
//! node's [`Consensus::handle_raft_rpc`], and can cut a node off (both directions). Plus a
//! multi-node cluster fixture built on it.

use std::collections::HashMap;
use std::collections::HashSet;
use std::sync::Arc;
use std::sync::Mutex;

use legate_consensus::BoxFuture;
use legate_consensus::Consensus;
use legate_consensus::Peer;
use legate_consensus::RaftConfig;
use legate_consensus::RaftRpcKind;
use legate_consensus::RaftTransport;
use legate_consensus::TransportError;

use crate::support::KvFsm;
use crate::support::PATIENCE;
use crate::support::eventually;

/// Address → node table shared by every node's transport.
#[derive(Default)]
pub(crate) struct Router {
    nodes: Mutex<HashMap<String, Consensus>>,
    cut: Mutex<HashSet<String>>,
}

impl Router {
    pub(crate) fn register(&self, addr: &str, node: Consensus) {
        self.nodes.lock().unwrap().insert(addr.to_string(), node);
    }

    pub(crate) fn unregister(&self, addr: &str) {
        self.nodes.lock().unwrap().remove(addr);
    }

    /// Drop every message to or from `addr` until [`Router::heal`].
    pub(crate) fn cut(&self, addr: &str) {
        self.cut.lock().unwrap().insert(addr.to_string());
    }

    pub(crate) fn heal(&self, addr: &str) {
        self.cut.lock().unwrap().remove(addr);
    }
}

/// One node's view of the router: knows its own address so cuts apply both ways.
struct NodeTransport {
    router: Arc<Router>,
    from: String,
}

impl RaftTransport for NodeTransport {
    fn call(
        &self,
        target_addr: &str,
        kind: RaftRpcKind,
        payload: Vec<u8>,
    ) -> BoxFuture<'static, Result<Vec<u8>, TransportError>> {
        let target = {
            let cut = self.router.cut.lock().unwrap();
            if cut.contains(&self.from) || cut.contains(target_addr) {
                None
            } else {
                self.router.nodes.lock().unwrap().get(target_addr).cloned()
            }
        };
        let addr = target_addr.to_string();
        Box::pin(async move {
            let node = target.ok_or(TransportError::Unreachable(addr))?;
            node.handle_raft_rpc(kind, &payload)
                .await
                .map_err(|e| TransportError::Remote(e.to_string()))
        })
    }
}

/// One member of a test cluster.
pub(crate) struct Node {
    pub(crate) peer: Peer,
    pub(crate) raft: Consensus,
    pub(crate) fsm: Arc<KvFsm>,
}

/// In-process raft nodes wired through one [`Router`].
pub(crate) struct Cluster {
    pub(crate) router: Arc<Router>,
    pub(crate) nodes: Vec<Node>,
}

pub(crate) fn peer(i: usize) -> Peer {
    Peer {
        id: format!("00000000-0000-0000-0000-00000000000{i}"),
        name: format!("server-{i}"),
        rpc_addr: format!("10.0.0.{i}:8300"),
    }
}

impl Cluster {
    /// Start `n` uninitialised nodes (no group formed yet).
    pub(crate) async fn start(n: usize, snapshot_threshold: u64) -> Cluster {
        let mut cluster = Cluster {
            router: Arc::default(),
            nodes: Vec::new(),
        };
        for i in 0..n {
            cluster.add_node(i, snapshot_threshold).await;
        }
        cluster
    }

    /// Start node `i` (uninitialised) and register it with the router.
    pub(crate) async fn add_node(&mut self, i: usize, snapshot_threshold: u64) {
        let peer = peer(i);
        let fsm = Arc::new(KvFsm::default());
        let cfg = RaftConfig {
            node_id: peer.id.clone(),
            node_name: peer.name.clone(),
            rpc_addr: peer.rpc_addr.clone(),
            data_dir: None,
            bootstrap: false,
            raft_multiplier: 1,
            snapshot_threshold,
            trailing_logs: legate_consensus::DEFAULT_TRAILING_LOGS,
            transport: Some(Arc::new(NodeTransport {
                router: self.router.clone(),
                from: peer.rpc_addr.clone(),
            })),
        };
        let raft = Consensus::start(cfg, fsm.clone()).await.unwrap();
        self.router.register(&peer.rpc_addr, raft.clone());
        self.nodes.push(Node { peer, raft, fsm });
    }

    /// Form a group of the first `voters` nodes, calling `initialize` on each of them.
    pub(crate) async fn initialize(&self, voters: usize) {
        let peers: Vec<Peer> = self.nodes[..voters]
            .iter()
            .map(|n| n.peer.clone())
            .collect();
        for n in &self.nodes[..voters] {
            n.raft.initialize(peers.clone()).await.unwrap();
        }
    }

    /// Wait until one of the nodes in `among` has established leadership; returns its index.
    pub(crate) async fn wait_leader(&self, among: &[usize]) -> usize {
        let mut found = None;
        eventually("a leader to be established", || {
            found = among
                .iter()
                .copied()
                .find(|&i| *self.nodes[i].raft.leadership().borrow());
            found.is_some()
        })
        .await;
        found.unwrap()
    }

    /// Wait until every node in `among` has the same key/value map as node `like`.
    pub(crate) async fn wait_converged(&self, like: usize, among: &[usize]) {
        let want = self.nodes[like].fsm.map();
        eventually("followers to converge on the leader's state", || {
            among.iter().all(|&i| self.nodes[i].fsm.map() == want)
        })
        .await;
    }

    pub(crate) async fn shutdown(&self) {
        for n in &self.nodes {
            n.raft.shutdown().await;
        }
    }
}

/// Bound a future by [`PATIENCE`].
pub(crate) async fn patiently<T>(what: &str, fut: impl std::future::Future<Output = T>) -> T {
    tokio::time::timeout(PATIENCE, fut)
        .await
        .unwrap_or_else(|_| panic!("timed out: {what}"))
}
