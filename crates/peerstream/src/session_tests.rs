//! Tests of the session state machine: two sessions talking to each other, no sockets.

use super::*;
use crate::parts::split_parts;

fn at(secs: u64) -> SystemTime {
    SystemTime::UNIX_EPOCH + Duration::from_secs(secs)
}

fn pair() -> (Session, Session) {
    let dialer = Session::new(
        Role::Dialer,
        SessionConfig::default(),
        Tracker::new(),
        at(0),
    );
    let acceptor = Session::new(
        Role::Acceptor,
        SessionConfig::default(),
        Tracker::new(),
        at(0),
    );
    (dialer, acceptor)
}

/// Deliver `msgs` from `from` to `to`, returning what `to` made of them.
fn deliver(from: &mut Session, to: &mut Session, msgs: Vec<ReplicationMessage>) -> Vec<Inbound> {
    msgs.into_iter()
        .map(|m| {
            from.on_sent(&m, at(1));
            to.on_received(m, at(1)).unwrap()
        })
        .collect()
}

/// Both ends subscribe to everything their role imports.
fn subscribed_pair() -> (Session, Session) {
    let (mut d, mut a) = pair();
    let subs = d.subscriptions();
    deliver(&mut d, &mut a, subs);
    let subs = a.subscriptions();
    deliver(&mut a, &mut d, subs);
    (d, a)
}

fn request(url: &str, nonce: &str, error: Option<pb::Error>) -> ReplicationMessage {
    wrap(Payload::Request(Request {
        resource_url: url.into(),
        response_nonce: nonce.into(),
        error,
    }))
}

#[test]
fn subscriptions_follow_roles() {
    let (mut d, mut a) = pair();
    let subs = d.subscriptions();
    assert_eq!(subs.len(), 4);
    let got = deliver(&mut d, &mut a, subs);
    assert_eq!(got, ResourceUrl::ALL.map(Inbound::Subscribed).to_vec());
    let subs = a.subscriptions();
    assert_eq!(subs.len(), 3);
    let got = deliver(&mut a, &mut d, subs);
    assert!(!got.contains(&Inbound::Subscribed(ResourceUrl::ServerAddresses)));
    assert!(d.peer_subscribed(ResourceUrl::TrustBundle));
    assert!(!d.peer_subscribed(ResourceUrl::ServerAddresses));
    assert!(a.peer_subscribed(ResourceUrl::ServerAddresses));
}

#[test]
fn duplicate_subscription_is_a_no_op() {
    let (mut d, mut a) = pair();
    let m = request("trust-bundle", "", None);
    assert_eq!(
        a.on_received(m.clone(), at(1)),
        Ok(Inbound::Subscribed(ResourceUrl::TrustBundle))
    );
    assert_eq!(
        a.on_received(m, at(1)),
        Ok(Inbound::AlreadySubscribed(ResourceUrl::TrustBundle))
    );
    let _ = d.subscriptions();
}

#[test]
fn bad_subscriptions_end_the_stream() {
    let (mut d, mut a) = pair();
    assert_eq!(
        a.on_received(request("nope", "", None), at(1)),
        Err(SessionError::UnknownResourceUrl("nope".into()))
    );
    assert_eq!(
        d.on_received(request("server-addresses", "", None), at(1)),
        Err(SessionError::NotSubscribable {
            url: ResourceUrl::ServerAddresses,
            role: Role::Acceptor
        })
    );
    assert!(d.tracker().snapshot().last_receive_error.is_some());
}

#[test]
fn empty_and_open_messages_are_violations() {
    let (_, mut a) = pair();
    assert_eq!(
        a.on_received(ReplicationMessage { payload: None }, at(1)),
        Err(SessionError::EmptyMessage)
    );
    assert_eq!(
        a.on_received(Session::open_message("p", "s", None), at(1)),
        Err(SessionError::UnexpectedOpen)
    );
}

#[test]
fn sending_requires_a_subscription_and_parts() {
    let (mut d, _) = pair();
    assert_eq!(
        d.resource_messages(
            ResourceUrl::TrustBundle,
            "roots",
            vec![b"{}".to_vec()],
            1,
            0
        ),
        Err(SessionError::NotSubscribed(ResourceUrl::TrustBundle))
    );
    let (mut d, _) = subscribed_pair();
    assert_eq!(
        d.resource_messages(ResourceUrl::TrustBundle, "roots", vec![], 1, 0),
        Err(SessionError::NoParts)
    );
    assert_eq!(d.pending_acks(), 0);
}

#[test]
fn resource_then_ack() {
    let (mut d, mut a) = subscribed_pair();
    let msgs = a
        .resource_messages(
            ResourceUrl::TrustBundle,
            "roots",
            vec![b"{}".to_vec()],
            9,
            500,
        )
        .unwrap();
    assert_eq!(a.pending_acks(), 1);
    assert_eq!(a.tracker().snapshot().pending_acks, 1);
    let got = deliver(&mut a, &mut d, msgs);
    let [Inbound::Resource(res)] = got.as_slice() else {
        panic!("{got:?}")
    };
    assert_eq!(res.nonce, "00000001");
    assert_eq!(res.resource_id, "roots");
    assert_eq!(res.exporter_index, 9);
    d.on_applied(res, SystemTime::UNIX_EPOCH + Duration::from_millis(800));
    let ack = d.ack(res);
    let got = deliver(&mut d, &mut a, vec![ack]);
    assert_eq!(
        got,
        vec![Inbound::Acked {
            nonce: "00000001".into(),
            resource_url: ResourceUrl::TrustBundle,
            resource_id: "roots".into()
        }]
    );
    assert_eq!(a.pending_acks(), 0);
    let snap = a.tracker().snapshot();
    assert_eq!(snap.last_ack, Some(at(1)));
    assert_eq!(snap.pending_acks, 0);
    let snap = d.tracker().snapshot();
    assert_eq!(snap.replication_lag, Some(Duration::from_millis(300)));
    assert_eq!(snap.last_receive_resource, Some(at(1)));
}

#[test]
fn nack_is_tracked_with_its_message() {
    let (mut d, mut a) = subscribed_pair();
    let msgs = d
        .resource_messages(
            ResourceUrl::ExportedService,
            "web",
            vec![b"[]".to_vec()],
            1,
            0,
        )
        .unwrap();
    let got = deliver(&mut d, &mut a, msgs);
    let [Inbound::Resource(res)] = got.as_slice() else {
        panic!("{got:?}")
    };
    let nack = a.nack(res, tonic::Code::Internal, "raft apply failed");
    let got = deliver(&mut a, &mut d, vec![nack]);
    let [
        Inbound::Nacked {
            error, resource_id, ..
        },
    ] = got.as_slice()
    else {
        panic!("{got:?}")
    };
    assert_eq!(resource_id, "web");
    assert_eq!(error.code, tonic::Code::Internal as i32);
    let snap = d.tracker().snapshot();
    assert_eq!(snap.last_nack_message.as_deref(), Some("raft apply failed"));
    assert_eq!(snap.pending_acks, 0);
}

#[test]
fn answer_for_unknown_nonce_is_ignored() {
    let (mut d, _) = subscribed_pair();
    let got = d.on_received(request("trust-bundle", "0000abcd", None), at(1));
    assert!(matches!(got, Ok(Inbound::Ignored(_))));
}

#[test]
fn nonces_increase_per_resource_not_per_part() {
    let (mut d, mut a) = subscribed_pair();
    let items: Vec<String> = (0..100).map(|i| format!("instance-{i}")).collect();
    let parts = split_parts(&items, 200).unwrap();
    let n = parts.len();
    assert!(n > 3);
    let msgs = a
        .resource_messages(ResourceUrl::ExportedService, "web", parts, 3, 0)
        .unwrap();
    assert_eq!(msgs.len(), n);
    let got = deliver(&mut a, &mut d, msgs);
    assert!(got[..n - 1].iter().all(|i| *i == Inbound::Partial));
    let Inbound::Resource(res) = &got[n - 1] else {
        panic!("{got:?}")
    };
    assert_eq!(res.nonce, "00000001");
    assert_eq!(res.decode_items::<String>().unwrap(), items);
    let next = a
        .resource_messages(
            ResourceUrl::ExportedServiceList,
            "exported-service-list",
            vec![b"[]".to_vec()],
            3,
            0,
        )
        .unwrap();
    let Some(Payload::Response(r)) = &next[0].payload else {
        panic!()
    };
    assert_eq!(r.nonce, "00000002");
    assert_eq!(a.pending_acks(), 2);
}

#[test]
fn unsubscribed_or_unknown_or_broken_resources_are_nacked() {
    let (mut d, mut a) = pair();
    // The acceptor never subscribed to anything yet.
    let resp = |url: &str, part: u32, parts: u32| {
        wrap(Payload::Response(Response {
            nonce: "00000007".into(),
            resource_url: url.into(),
            resource_id: "x".into(),
            resource: b"[]".to_vec(),
            part,
            parts,
            exporter_index: 1,
            exporter_commit_unix_ms: 0,
        }))
    };
    let Ok(Inbound::Refused { reply, error }) = a.on_received(resp("trust-bundle", 0, 1), at(1))
    else {
        panic!()
    };
    assert!(error.contains("not subscribed"), "{error}");
    let Some(Payload::Request(nack)) = reply.payload else {
        panic!()
    };
    assert_eq!(nack.response_nonce, "00000007");
    assert_eq!(nack.resource_url, "trust-bundle");
    assert_eq!(
        nack.error.unwrap().code,
        tonic::Code::InvalidArgument as i32
    );
    let _ = a.subscriptions();
    assert!(matches!(
        a.on_received(resp("bogus", 0, 1), at(1)),
        Ok(Inbound::Refused { .. })
    ));
    let Ok(Inbound::Refused { error, .. }) = a.on_received(resp("trust-bundle", 5, 2), at(2))
    else {
        panic!()
    };
    assert!(error.contains("out of range"), "{error}");
    assert_eq!(
        a.tracker().snapshot().last_receive_error.map(|e| e.0),
        Some(at(2))
    );
    let _ = d.subscriptions();
}

#[test]
fn heartbeats_flow_and_are_counted() {
    let (mut d, mut a) = pair();
    assert!(matches!(
        d.poll_heartbeat(at(1)),
        HeartbeatAction::Wait { .. }
    ));
    assert_eq!(d.poll_heartbeat(at(15)), HeartbeatAction::Send);
    let hb = Session::heartbeat_message();
    d.on_sent(&hb, at(15));
    assert_eq!(a.on_received(hb, at(15)), Ok(Inbound::Heartbeat));
    let snap = a.tracker().snapshot();
    assert_eq!(snap.last_heartbeat_received, Some(at(15)));
    assert_eq!(snap.messages_received, 1);
    assert!(snap.bytes_received > 0);
    assert_eq!(d.tracker().snapshot().last_heartbeat_sent, Some(at(15)));
    // The acceptor heard from the dialer at 15: dead at 135, not before.
    assert_eq!(a.poll_heartbeat(at(134)), HeartbeatAction::Send);
    assert_eq!(a.poll_heartbeat(at(135)), HeartbeatAction::Dead);
    // The dialer never heard one: dead at 120.
    assert_eq!(d.poll_heartbeat(at(120)), HeartbeatAction::Dead);
}

#[test]
fn bytes_counted_each_way_match_encoded_length() {
    let (mut d, mut a) = subscribed_pair();
    let before_sent = a.tracker().snapshot().bytes_sent;
    let before_recv = d.tracker().snapshot().bytes_received;
    let msgs = a
        .resource_messages(
            ResourceUrl::TrustBundle,
            "roots",
            vec![vec![b'x'; 1000]],
            1,
            0,
        )
        .unwrap();
    let len = msgs[0].encoded_len() as u64;
    deliver(&mut a, &mut d, msgs);
    assert_eq!(a.tracker().snapshot().bytes_sent - before_sent, len);
    assert_eq!(d.tracker().snapshot().bytes_received - before_recv, len);
}

#[test]
fn terminated_and_close() {
    let (mut d, mut a) = pair();
    let t = Session::terminated_message();
    a.on_sent(&t, at(3));
    assert_eq!(d.on_received(t, at(3)), Ok(Inbound::Terminated));
    d.on_send_failed("broken pipe".into(), at(4));
    let tracker = d.close(Some("terminated by peer".into()), at(5));
    let snap = tracker.snapshot();
    assert!(!snap.connected);
    assert_eq!(snap.disconnect_error.as_deref(), Some("terminated by peer"));
    assert_eq!(
        snap.last_send_error.map(|e| e.1),
        Some("broken pipe".to_string())
    );
    // A new session on the same tracker reconnects it and keeps the counters.
    let s = Session::new(Role::Dialer, SessionConfig::default(), tracker, at(6));
    let snap = s.tracker().snapshot();
    assert!(snap.connected);
    assert_eq!(snap.messages_received, 1);
    assert_eq!(s.role(), Role::Dialer);
    assert_eq!(s.config().heartbeat_interval, Duration::from_secs(15));
}
