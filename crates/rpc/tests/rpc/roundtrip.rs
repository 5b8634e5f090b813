//! Every RPC round-trips through a real tonic server on loopback with a fake handler; errors
//! map back to [`RpcError`]; an unreachable address is `Unavailable`.

use std::sync::Arc;

use legate_consensus::RaftRpcKind;
use legate_consensus::RaftTransport;
use legate_consensus::TransportError;
use legate_rpc::HttpRequest;
use legate_rpc::RpcClient;
use legate_rpc::RpcError;

use crate::support::FAKE_LEADER;
use crate::support::FakeHandler;
use crate::support::bind;
use crate::support::spawn_server;

#[tokio::test]
async fn every_call_round_trips() {
    let (listener, _) = bind().await;
    let server = spawn_server(listener, Arc::new(FakeHandler));
    let client = RpcClient::new();
    let addr = server.addr.clone();

    for kind in RaftRpcKind::ALL {
        let reply = client.raft(&addr, kind, vec![1, 2, 3]).await.unwrap();
        let mut want = format!("{}:", kind.as_str()).into_bytes();
        want.extend([1, 2, 3]);
        assert_eq!(reply, want);
    }
    let via_transport = RaftTransport::call(&client, &addr, RaftRpcKind::Vote, b"v".to_vec())
        .await
        .unwrap();
    assert_eq!(via_transport, b"vote:v");

    assert_eq!(
        client.apply(&addr, b"abc".to_vec()).await.unwrap(),
        (42, b"cba".to_vec())
    );
    assert_eq!(client.read_index(&addr).await.unwrap(), 7);

    let reply = client
        .http(
            &addr,
            HttpRequest {
                method: "PUT".into(),
                path_and_query: "/v1/kv/a?cas=0".into(),
                headers: vec![("x-consul-token".into(), b"secret".to_vec())],
                body: b"value".to_vec(),
            },
        )
        .await
        .unwrap();
    assert_eq!(reply.status, 201);
    assert_eq!(reply.body, b"value");
    assert_eq!(
        reply.headers,
        vec![
            ("x-consul-token".to_string(), b"secret".to_vec()),
            ("x-method".to_string(), b"PUT".to_vec()),
            ("x-path".to_string(), b"/v1/kv/a?cas=0".to_vec()),
        ]
    );
    server.stop().await;
}

#[tokio::test]
async fn errors_map_back_to_rpc_error() {
    let (listener, _) = bind().await;
    let server = spawn_server(listener, Arc::new(FakeHandler));
    let client = RpcClient::new();
    let addr = server.addr.clone();

    assert_eq!(
        client.apply(&addr, b"not-leader".to_vec()).await,
        Err(RpcError::NotLeader {
            leader_addr: Some(FAKE_LEADER.to_string())
        })
    );
    assert_eq!(
        client.apply(&addr, b"no-leader".to_vec()).await,
        Err(RpcError::NotLeader { leader_addr: None })
    );
    assert_eq!(
        client.apply(&addr, b"boom".to_vec()).await,
        Err(RpcError::Other("boom".to_string()))
    );
    server.stop().await;
}

#[tokio::test]
async fn connection_refused_is_unavailable_and_client_recovers() {
    let (listener, addr) = bind().await;
    drop(listener);
    let client = RpcClient::new();
    assert!(matches!(
        client.read_index(&addr).await,
        Err(RpcError::Unavailable(_))
    ));
    assert!(matches!(
        RaftTransport::call(&client, &addr, RaftRpcKind::AppendEntries, vec![]).await,
        Err(TransportError::Unreachable(_))
    ));

    // A server appears on that address: the same client reaches it.
    let listener = tokio::net::TcpListener::bind(&addr).await.unwrap();
    let server = spawn_server(listener, Arc::new(FakeHandler));
    assert_eq!(client.read_index(&addr).await.unwrap(), 7);
    server.stop().await;

    // ... and it is unavailable again once that server is gone.
    assert!(matches!(
        client.read_index(&addr).await,
        Err(RpcError::Unavailable(_))
    ));
}
