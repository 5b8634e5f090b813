//! Shared fixtures: a fake [`RpcHandler`], a server on an ephemeral loopback port, and a
//! waiting helper.

use std::sync::Arc;
use std::time::Duration;

use legate_consensus::BoxFuture;
use legate_consensus::RaftRpcKind;
use legate_rpc::HttpReply;
use legate_rpc::HttpRequest;
use legate_rpc::RpcError;
use legate_rpc::RpcHandler;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// Upper bound for any wait; only reached when a test is failing.
pub(crate) const PATIENCE: Duration = Duration::from_secs(20);

/// Leader address the fake handler reports for a `not-leader` command.
pub(crate) const FAKE_LEADER: &str = "10.9.9.9:8300";

/// Answers every call deterministically from its input.
pub(crate) struct FakeHandler;

impl RpcHandler for FakeHandler {
    fn raft(
        &self,
        kind: RaftRpcKind,
        payload: Vec<u8>,
    ) -> BoxFuture<'static, Result<Vec<u8>, RpcError>> {
        Box::pin(async move {
            let mut out = kind.as_str().as_bytes().to_vec();
            out.push(b':');
            out.extend(payload);
            Ok(out)
        })
    }

    fn apply(&self, command: Vec<u8>) -> BoxFuture<'static, Result<(u64, Vec<u8>), RpcError>> {
        Box::pin(async move {
            match command.as_slice() {
                b"not-leader" => Err(RpcError::NotLeader {
                    leader_addr: Some(FAKE_LEADER.to_string()),
                }),
                b"no-leader" => Err(RpcError::NotLeader { leader_addr: None }),
                b"boom" => Err(RpcError::Other("boom".to_string())),
                _ => Ok((42, command.into_iter().rev().collect())),
            }
        })
    }

    fn read_index(&self) -> BoxFuture<'static, Result<u64, RpcError>> {
        Box::pin(async { Ok(7) })
    }

    fn http(&self, request: HttpRequest) -> BoxFuture<'static, Result<HttpReply, RpcError>> {
        Box::pin(async move {
            let mut headers = request.headers;
            headers.push(("x-method".to_string(), request.method.into_bytes()));
            headers.push(("x-path".to_string(), request.path_and_query.into_bytes()));
            Ok(HttpReply {
                status: 201,
                headers,
                body: request.body,
            })
        })
    }
}

/// A running server; dropping the stop sender (or calling [`Running::stop`]) shuts it down.
pub(crate) struct Running {
    pub(crate) addr: String,
    stop: Option<oneshot::Sender<()>>,
    task: JoinHandle<Result<(), RpcError>>,
}

impl Running {
    pub(crate) async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        self.task.await.unwrap().unwrap();
    }
}

/// Bind `127.0.0.1:0` and return the listener with its address.
pub(crate) async fn bind() -> (TcpListener, String) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    (listener, addr)
}

/// Serve `handler` on an already bound listener.
pub(crate) fn spawn_server(listener: TcpListener, handler: Arc<dyn RpcHandler>) -> Running {
    let addr = listener.local_addr().unwrap().to_string();
    let (tx, rx) = oneshot::channel::<()>();
    let task = tokio::spawn(legate_rpc::serve(listener, handler, async move {
        let _ = rx.await;
    }));
    Running {
        addr,
        stop: Some(tx),
        task,
    }
}

/// Wait until `cond` holds, re-checking on a short interval (bounded by [`PATIENCE`]).
pub(crate) async fn eventually(what: &str, mut cond: impl FnMut() -> bool) {
    let deadline = tokio::time::Instant::now() + PATIENCE;
    while !cond() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}
