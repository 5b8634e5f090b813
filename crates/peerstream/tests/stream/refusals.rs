//! Everything the peering port must refuse: untrusted client certificates, certificates of
//! another peering, streams without a client certificate, bad secrets; and a dialer must
//! refuse a server signed by the wrong CA or carrying the wrong name.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use legate_peerstream::AddressRing;
use legate_peerstream::DialError;
use legate_peerstream::PeerClient;
use legate_peerstream::PeerDialer;
use legate_peerstream::tls::ClientTls;
use legate_peerstream::tls::Stage;
use tonic::Code;

use crate::fixture::*;

async fn exchanged(acceptor: &Cluster, dialer: &Cluster) -> (Server, Arc<Bundles>) {
    let bundles = Arc::new(Bundles::default());
    let (handler, _seen) = TestHandler::new(bundles.clone());
    let server = start(acceptor, handler).await;
    let mut d = PeerDialer::new(
        AddressRing::new(vec![server.addr.clone()]),
        dialer.client_tls(acceptor, false),
    );
    d.exchange_secret(exchange_request(dialer)).await.unwrap();
    (server, bundles)
}

/// A client certificate from a CA no peering trusts is refused during the handshake: the
/// stream never reaches the handler.
#[tokio::test]
async fn untrusted_client_certificate_is_refused() {
    let acceptor = Cluster::new("dc1");
    let dialer = Cluster::new("dc2");
    let stranger = Cluster::new("dc3");
    let (server, _) = exchanged(&acceptor, &dialer).await;
    let mut d = PeerDialer::new(
        AddressRing::new(vec![server.addr.clone()]),
        stranger.client_tls(&acceptor, true),
    );
    let err = d.open_stream(open(STREAM_SECRET)).await.unwrap_err();
    match &err {
        DialError::Unreachable(_) => {}
        DialError::Rejected { status, .. } => {
            assert!(
                matches!(
                    status.code(),
                    Code::Unavailable | Code::Unknown | Code::Internal | Code::Cancelled
                ),
                "{status:?}"
            );
        }
        other => panic!("unexpected {other:?}"),
    }
    assert_eq!(server.handler.opened.load(Ordering::SeqCst), 0);
}

/// A certificate trusted for one peering cannot open another peering's stream: the handshake
/// passes (some bundle trusts it), the handler's per-peering check refuses it at Open.
#[tokio::test]
async fn certificate_of_another_peering_is_refused_at_open() {
    let acceptor = Cluster::new("dc1");
    let dialer = Cluster::new("dc2");
    let other = Cluster::new("dc3");
    let (server, bundles) = exchanged(&acceptor, &dialer).await;
    // Another peering trusts `other`; our peering now trusts only `other` too.
    bundles.store("another-peering", &other.ca_pems()).unwrap();
    bundles.store(PEER_ID, &other.ca_pems()).unwrap();
    bundles
        .store("dialer-elsewhere", &dialer.ca_pems())
        .unwrap();
    let mut d = PeerDialer::new(
        AddressRing::new(vec![server.addr.clone()]),
        dialer.client_tls(&acceptor, true),
    );
    let err = d.open_stream(open(STREAM_SECRET)).await.unwrap_err();
    let status = err.status().unwrap();
    assert_eq!(status.code(), Code::PermissionDenied);
    assert!(
        status.message().contains("certificate not from this peer"),
        "{status:?}"
    );
}

/// The stream needs the dialer's certificate; without one it is Unauthenticated.
#[tokio::test]
async fn stream_without_client_certificate_is_unauthenticated() {
    let acceptor = Cluster::new("dc1");
    let dialer = Cluster::new("dc2");
    let (server, _) = exchanged(&acceptor, &dialer).await;
    let mut client = PeerClient::connect(&server.addr, &dialer.client_tls(&acceptor, false))
        .await
        .unwrap();
    let status = client
        .stream_resources(open(STREAM_SECRET))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::Unauthenticated);
    assert_eq!(server.handler.opened.load(Ordering::SeqCst), 0);
}

/// Wrong establishment or stream secrets are PermissionDenied.
#[tokio::test]
async fn bad_secrets_are_permission_denied() {
    let acceptor = Cluster::new("dc1");
    let dialer = Cluster::new("dc2");
    let (server, _) = exchanged(&acceptor, &dialer).await;
    let mut d = PeerDialer::new(
        AddressRing::new(vec![server.addr.clone()]),
        dialer.client_tls(&acceptor, true),
    );
    let mut req = exchange_request(&dialer);
    req.establishment_secret = "guess".into();
    let err = d.exchange_secret(req).await.unwrap_err();
    assert_eq!(err.status().map(|s| s.code()), Some(Code::PermissionDenied));
    let err = d.open_stream(open("guess")).await.unwrap_err();
    assert_eq!(err.status().map(|s| s.code()), Some(Code::PermissionDenied));
}

/// A dialer holding the wrong CA refuses the server's certificate, and says so.
#[tokio::test]
async fn dialer_with_wrong_ca_fails_clearly() {
    let acceptor = Cluster::new("dc1");
    let dialer = Cluster::new("dc2");
    let (handler, _seen) = TestHandler::new(Arc::new(Bundles::default()));
    let server = start(&acceptor, handler).await;
    let wrong = ClientTls::new(&dialer.ca_pems(), &acceptor.server_name(), None).unwrap();
    let err = PeerClient::connect(&server.addr, &wrong).await.unwrap_err();
    assert_eq!(err.stage, Stage::Handshake);
    assert_eq!(err.addr, server.addr);
    assert!(err.reason.contains("UnknownIssuer"), "{err}");
    assert!(err.to_string().contains("TLS handshake failed"), "{err}");
}

/// A dialer expecting another server name refuses the certificate, and says so.
#[tokio::test]
async fn dialer_with_wrong_server_name_fails_clearly() {
    let acceptor = Cluster::new("dc1");
    let dialer = Cluster::new("dc2");
    let (handler, _seen) = TestHandler::new(Arc::new(Bundles::default()));
    let server = start(&acceptor, handler).await;
    let wrong_name = format!("server.dc9.peering.{}", acceptor.trust_domain);
    let wrong = ClientTls::new(&acceptor.ca_pems(), &wrong_name, None).unwrap();
    let err = PeerClient::connect(&server.addr, &wrong).await.unwrap_err();
    assert_eq!(err.stage, Stage::Handshake);
    assert!(err.reason.contains("not valid for name"), "{err}");
    // Through the dialer it is an Unreachable with that same error.
    let mut d = PeerDialer::new(AddressRing::new(vec![server.addr.clone()]), wrong);
    match d.exchange_secret(exchange_request(&dialer)).await {
        Err(DialError::Unreachable(errs)) => assert!(errs[0].reason.contains("not valid for name")),
        other => panic!("unexpected {other:?}"),
    }
}
