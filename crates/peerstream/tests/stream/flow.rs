//! The happy path: secret exchange without a client certificate, then a mutually
//! authenticated stream where subscriptions, resources (one of 10 MB, in parts), ACKs and
//! heartbeats flow both ways.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::SystemTime;

use futures::StreamExt;
use legate_peerstream::AddressRing;
use legate_peerstream::Inbound;
use legate_peerstream::PeerDialer;
use legate_peerstream::ResourceUrl;
use legate_peerstream::Role;
use legate_peerstream::Session;
use legate_peerstream::SessionConfig;
use legate_peerstream::Tracker;
use legate_peerstream::single_part;

use crate::fixture::*;

/// A dialer exchanges its secret over TLS without a client certificate; the acceptor stores
/// the dialer's CA as the peer's bundle, so the very next handshake (the stream, presenting
/// the dialer's server certificate) is trusted; then both ends replicate.
#[tokio::test]
async fn exchange_then_stream_both_ways_with_a_10mb_resource() {
    let acceptor = Cluster::new("dc1");
    let dialer = Cluster::new("dc2");
    let bundles = Arc::new(Bundles::default());
    let (mut handler, mut seen) = TestHandler::new(bundles.clone());
    // ~10 MB of instances: more than one part at the default part size.
    handler.big_items = (0..10_000)
        .map(|i| format!("{i:05}-{}", "x".repeat(1_000)))
        .collect();
    let expected_items = handler.big_items.clone();
    let server = start(&acceptor, handler).await;

    // 1. ExchangeSecret, no client certificate.
    let mut plain = PeerDialer::new(
        AddressRing::new(vec![server.addr.clone()]),
        dialer.client_tls(&acceptor, false),
    );
    let reply = plain
        .exchange_secret(exchange_request(&dialer))
        .await
        .unwrap();
    assert_eq!(reply.stream_secret, STREAM_SECRET);
    assert_eq!(server.handler.exchanged.load(Ordering::SeqCst), 1);

    // 2. StreamResources with the dialer's server certificate.
    let mut mtls = PeerDialer::new(
        AddressRing::new(vec![server.addr.clone()]),
        dialer.client_tls(&acceptor, true),
    );
    let mut stream = mtls.open_stream(open(&reply.stream_secret)).await.unwrap();
    assert_eq!(stream.addr, server.addr);
    assert_eq!(server.handler.opened.load(Ordering::SeqCst), 1);

    let now = SystemTime::now;
    let mut session = Session::new(
        Role::Dialer,
        SessionConfig::default(),
        Tracker::new(),
        now(),
    );
    let mut out = session.subscriptions();
    out.push(Session::heartbeat_message());
    for m in out {
        session.on_sent(&m, now());
        stream.outbound.send(m).await.unwrap();
    }

    // The acceptor subscribes to three resources, heartbeats, and (once we subscribed to
    // exported-service) pushes the big one; we ACK it and publish a list once asked.
    let mut subscribed = Vec::new();
    let mut got_heartbeat = false;
    let mut big = None;
    let mut list_nonce = None;
    let mut partials = 0;
    while big.is_none() || subscribed.len() < 3 || !got_heartbeat {
        let msg = stream.inbound.next().await.unwrap().unwrap();
        match session.on_received(msg, now()).unwrap() {
            Inbound::Subscribed(url) => {
                subscribed.push(url);
                if url == ResourceUrl::ExportedServiceList {
                    let names = single_part(&vec!["api"]).unwrap();
                    let msgs = session
                        .resource_messages(url, "exported-service-list", names, 7, 0)
                        .unwrap();
                    for m in msgs {
                        session.on_sent(&m, now());
                        stream.outbound.send(m).await.unwrap();
                    }
                    list_nonce = Some("00000001".to_string());
                }
            }
            Inbound::Heartbeat => got_heartbeat = true,
            Inbound::Partial => partials += 1,
            Inbound::Resource(res) => {
                assert_eq!(res.resource_id, "web");
                assert_eq!(res.exporter_index, 42);
                assert!(res.len_bytes() > 10_000_000);
                session.on_applied(&res, now());
                let ack = session.ack(&res);
                session.on_sent(&ack, now());
                stream.outbound.send(ack).await.unwrap();
                big = Some(res.decode_items::<String>().unwrap());
            }
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(
        subscribed,
        vec![
            ResourceUrl::ExportedServiceList,
            ResourceUrl::ExportedService,
            ResourceUrl::TrustBundle
        ]
    );
    assert!(
        partials >= 2,
        "10 MB should come in at least 3 parts, saw {partials} partials"
    );
    assert_eq!(big.unwrap(), expected_items);

    // The acceptor's view: our four subscriptions, heartbeat, the list resource, the ACK.
    let mut acceptor_saw = Vec::new();
    while acceptor_saw.len() < 7 {
        match seen.recv().await.unwrap() {
            Seen::Inbound(i) => acceptor_saw.push(i),
            Seen::Closed(e) => panic!("acceptor stream closed early: {e:?}"),
        }
    }
    let subs: Vec<_> = acceptor_saw
        .iter()
        .filter_map(|i| match i {
            Inbound::Subscribed(u) => Some(*u),
            _ => None,
        })
        .collect();
    assert_eq!(subs, ResourceUrl::ALL.to_vec());
    assert!(acceptor_saw.contains(&Inbound::Heartbeat));
    assert!(acceptor_saw.iter().any(|i| matches!(i, Inbound::Acked { nonce, resource_id, .. } if nonce == "00000001" && resource_id == "web")));
    let list = acceptor_saw
        .iter()
        .find_map(|i| match i {
            Inbound::Resource(r) => Some(r.clone()),
            _ => None,
        })
        .unwrap();
    assert_eq!(list.decode_single::<Vec<String>>().unwrap(), vec!["api"]);
    // Our list was ACKed back to us.
    let msg = stream.inbound.next().await.unwrap().unwrap();
    assert_eq!(
        session.on_received(msg, now()).unwrap(),
        Inbound::Acked {
            nonce: list_nonce.unwrap(),
            resource_url: ResourceUrl::ExportedServiceList,
            resource_id: "exported-service-list".into()
        }
    );

    let snap = session.tracker().snapshot();
    assert!(snap.connected);
    assert_eq!(snap.pending_acks, 0);
    assert!(snap.bytes_received > 10_000_000);
    assert!(snap.messages_sent >= 7);
    assert!(snap.last_heartbeat_received.is_some());
    assert!(snap.last_ack.is_some());
    assert!(snap.replication_lag.is_some());

    // Hanging up ends the acceptor's session cleanly.
    drop(stream);
    match seen.recv().await.unwrap() {
        Seen::Closed(_) => {}
        Seen::Inbound(i) => panic!("unexpected after hang-up: {i:?}"),
    }
}
