//! Dialing a follower or a dead address: the dialer cycles its address ring and follows the
//! follower's `x-legate-leader` redirect to the leader at once.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use legate_peerstream::AddressRing;
use legate_peerstream::DialError;
use legate_peerstream::FailureKind;
use legate_peerstream::PeerDialer;
use tonic::Code;

use crate::fixture::*;

/// The ring starts with a dead address, then a follower; the follower redirects to the leader,
/// which answers; the leader becomes the ring's current address.
#[tokio::test]
async fn cycles_past_dead_address_and_follows_leader_redirect() {
    let acceptor = Cluster::new("dc1");
    let dialer = Cluster::new("dc2");
    let bundles = Arc::new(Bundles::default());
    let (handler, _seen) = TestHandler::new(bundles.clone());
    let leader = start(&acceptor, handler).await;
    let (mut handler, _seen2) = TestHandler::new(bundles.clone());
    handler.follower_of = Some(leader.addr.clone());
    let follower = start(&acceptor, handler).await;

    let dead = dead_addr().await;
    let mut d = PeerDialer::new(
        AddressRing::new(vec![dead.clone(), follower.addr.clone()]),
        dialer.client_tls(&acceptor, false),
    );
    let reply = d.exchange_secret(exchange_request(&dialer)).await.unwrap();
    assert_eq!(reply.stream_secret, STREAM_SECRET);
    assert_eq!(leader.handler.exchanged.load(Ordering::SeqCst), 1);
    assert_eq!(follower.handler.exchanged.load(Ordering::SeqCst), 0);
    assert_eq!(d.ring().current(), Some(leader.addr.as_str()));

    // The stream follows the same redirect.
    let mut d = PeerDialer::new(
        AddressRing::new(vec![follower.addr.clone()]),
        dialer.client_tls(&acceptor, true),
    );
    let stream = d.open_stream(open(STREAM_SECRET)).await.unwrap();
    assert_eq!(stream.addr, leader.addr);
    assert_eq!(leader.handler.opened.load(Ordering::SeqCst), 1);
}

/// A follower that knows no leader answers FailedPrecondition without a redirect: the error
/// asks for the fast not-leader backoff.
#[tokio::test]
async fn follower_without_leader_maps_to_not_leader_backoff() {
    let acceptor = Cluster::new("dc1");
    let dialer = Cluster::new("dc2");
    let (mut handler, _seen) = TestHandler::new(Arc::new(Bundles::default()));
    handler.follower_of = Some(String::new());
    let follower = start(&acceptor, handler).await;
    let mut d = PeerDialer::new(
        AddressRing::new(vec![follower.addr.clone()]),
        dialer.client_tls(&acceptor, false),
    );
    let err = d
        .exchange_secret(exchange_request(&dialer))
        .await
        .unwrap_err();
    assert_eq!(
        err.status().map(|s| s.code()),
        Some(Code::FailedPrecondition)
    );
    assert_eq!(err.failure_kind(), FailureKind::NotLeader);
}

/// Every address dead: one error per address, in ring order.
#[tokio::test]
async fn all_addresses_unreachable() {
    let acceptor = Cluster::new("dc1");
    let dialer = Cluster::new("dc2");
    let (a, b) = (dead_addr().await, dead_addr().await);
    let mut d = PeerDialer::new(
        AddressRing::new(vec![a.clone(), b.clone()]),
        dialer.client_tls(&acceptor, false),
    );
    match d.exchange_secret(exchange_request(&dialer)).await {
        Err(DialError::Unreachable(errs)) => {
            let addrs: Vec<_> = errs.iter().map(|e| e.addr.clone()).collect();
            assert_eq!(addrs, vec![a, b]);
        }
        other => panic!("expected Unreachable, got {other:?}"),
    }
    let mut empty = PeerDialer::new(
        AddressRing::new(vec![]),
        dialer.client_tls(&acceptor, false),
    );
    assert!(matches!(
        empty.exchange_secret(exchange_request(&dialer)).await,
        Err(DialError::NoAddresses)
    ));
}
