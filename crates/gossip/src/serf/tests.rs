use std::time::{Duration, Instant};

use super::*;

const RECONNECT: Duration = Duration::from_secs(60);
const TOMBSTONE: Duration = Duration::from_secs(30);

fn addr(port: u16) -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], port))
}

fn id(name: &str, port: u16) -> NodeId {
    NodeId {
        name: name.into(),
        addr: addr(port),
        generation: 1,
    }
}

fn tags(role: &str) -> Tags {
    [("role".to_string(), role.to_string())].into()
}

fn state(t0: Instant) -> SerfState {
    SerfState::new(
        "local".into(),
        addr(1),
        tags("node"),
        SerfConfig {
            reconnect_timeout: RECONNECT,
            tombstone_timeout: TOMBSTONE,
            event_buffer_size: 16,
        },
        t0,
    )
}

fn alive(name: &str, port: u16, role: &str, ltime: u64) -> SerfMessage {
    SerfMessage::Alive {
        name: name.into(),
        addr: addr(port),
        tags: tags(role),
        ltime,
    }
}

fn leave(name: &str, ltime: u64, prune: bool) -> SerfMessage {
    SerfMessage::Leave {
        name: name.into(),
        ltime,
        prune,
    }
}

fn kinds(events: &[GossipEvent]) -> Vec<(&'static str, String, MemberStatus)> {
    events
        .iter()
        .map(|e| match e {
            GossipEvent::MemberJoin(m) => ("join", m.name.clone(), m.status),
            GossipEvent::MemberUpdate(m) => ("update", m.name.clone(), m.status),
            GossipEvent::MemberLeave(m) => ("leave", m.name.clone(), m.status),
            GossipEvent::MemberFailed(m) => ("failed", m.name.clone(), m.status),
            GossipEvent::MemberReap(m) => ("reap", m.name.clone(), m.status),
            GossipEvent::UserEvent(u) => ("user", u.name.clone(), MemberStatus::None),
        })
        .collect()
}

fn join_b(s: &mut SerfState) {
    assert!(s.receive(&alive("b", 2, "consul", 5)));
    s.swim_up(&id("b", 2));
    s.take_events();
}

#[test]
fn join_needs_intent_and_swim_in_either_order() {
    let t0 = Instant::now();
    let mut s = state(t0);
    assert!(s.receive(&alive("b", 2, "consul", 5)));
    assert!(s.take_events().is_empty(), "intent alone is not a join");
    assert!(s.members().iter().all(|m| m.name != "b"));
    s.swim_up(&id("b", 2));
    assert_eq!(
        kinds(&s.take_events()),
        vec![("join", "b".into(), MemberStatus::Alive)]
    );

    s.swim_up(&id("c", 3));
    assert!(s.take_events().is_empty(), "swim alone is not a join");
    assert!(s.receive(&alive("c", 3, "node", 2)));
    let events = s.take_events();
    assert_eq!(
        kinds(&events),
        vec![("join", "c".into(), MemberStatus::Alive)]
    );
    let GossipEvent::MemberJoin(c) = &events[0] else {
        unreachable!()
    };
    assert_eq!(c.tags, tags("node"));
    assert_eq!(s.members().len(), 3);
}

#[test]
fn lamport_rules_for_intents() {
    let mut s = state(Instant::now());
    join_b(&mut s);
    assert_eq!(s.member_ltime(), 6, "witnessing 5 moves the clock to 6");
    assert!(
        !s.receive(&alive("b", 2, "other", 5)),
        "equal ltime is stale"
    );
    assert!(
        !s.receive(&alive("b", 2, "other", 4)),
        "older ltime is stale"
    );
    assert!(s.take_events().is_empty());
    assert!(s.receive(&alive("b", 2, "server", 9)));
    assert_eq!(
        kinds(&s.take_events()),
        vec![("update", "b".into(), MemberStatus::Alive)]
    );
    assert_eq!(s.member("b").unwrap().tags, tags("server"));
    assert_eq!(s.member_ltime(), 10);
    // Same tags, newer time: accepted (to disseminate) but no event.
    assert!(s.receive(&alive("b", 2, "server", 11)));
    assert!(s.take_events().is_empty());
    let intent = s.local_alive_intent(None);
    assert!(matches!(intent, SerfMessage::Alive { ltime: 13, .. }));
}

#[test]
fn failure_then_reap_after_reconnect_timeout() {
    let t0 = Instant::now();
    let mut s = state(t0);
    join_b(&mut s);
    s.set_now(t0 + Duration::from_secs(1));
    s.swim_down(&id("b", 2));
    assert_eq!(
        kinds(&s.take_events()),
        vec![("failed", "b".into(), MemberStatus::Failed)]
    );
    s.set_now(t0 + RECONNECT);
    s.reap();
    assert!(s.take_events().is_empty(), "not yet");
    s.set_now(t0 + RECONNECT + Duration::from_secs(1));
    s.reap();
    assert_eq!(
        kinds(&s.take_events()),
        vec![("reap", "b".into(), MemberStatus::Failed)]
    );
    assert!(s.member("b").is_none());
}

#[test]
fn failed_member_rejoins() {
    let mut s = state(Instant::now());
    join_b(&mut s);
    s.swim_down(&id("b", 2));
    let renewed = NodeId {
        generation: 2,
        ..id("b", 2)
    };
    s.swim_up(&renewed);
    assert_eq!(
        kinds(&s.take_events()),
        vec![
            ("failed", "b".into(), MemberStatus::Failed),
            ("join", "b".into(), MemberStatus::Alive)
        ]
    );
    // A down notice about the old identity no longer matters.
    s.swim_down(&id("b", 2));
    assert!(s.take_events().is_empty());
}

#[test]
fn graceful_leave_then_tombstone_reap() {
    let t0 = Instant::now();
    let mut s = state(t0);
    join_b(&mut s);
    assert!(s.receive(&leave("b", 7, false)));
    assert_eq!(s.member("b").unwrap().status, MemberStatus::Leaving);
    assert!(s.take_events().is_empty());
    assert!(!s.receive(&leave("b", 7, false)), "duplicate intent");
    s.swim_down(&id("b", 2));
    assert_eq!(
        kinds(&s.take_events()),
        vec![("leave", "b".into(), MemberStatus::Left)]
    );
    s.set_now(t0 + TOMBSTONE);
    s.reap();
    assert_eq!(
        kinds(&s.take_events()),
        vec![("reap", "b".into(), MemberStatus::Left)]
    );
}

#[test]
fn leave_intent_after_failure_means_left() {
    let mut s = state(Instant::now());
    join_b(&mut s);
    s.swim_down(&id("b", 2));
    assert!(s.receive(&leave("b", 8, false)));
    assert_eq!(
        kinds(&s.take_events()),
        vec![
            ("failed", "b".into(), MemberStatus::Failed),
            ("leave", "b".into(), MemberStatus::Left)
        ]
    );
}

#[test]
fn force_leave_with_prune_reaps_at_once() {
    let mut s = state(Instant::now());
    join_b(&mut s);
    s.swim_down(&id("b", 2));
    s.take_events();
    let intent = s.leave_intent("b", true);
    assert!(s.receive(&intent));
    assert_eq!(
        kinds(&s.take_events()),
        vec![
            ("leave", "b".into(), MemberStatus::Left),
            ("reap", "b".into(), MemberStatus::Left)
        ]
    );
    assert!(s.member("b").is_none());
}

#[test]
fn alive_node_refutes_a_leave_about_itself() {
    let mut s = state(Instant::now());
    assert!(!s.receive(&leave("local", 20, false)));
    let out = s.take_outgoing();
    assert_eq!(out.len(), 1);
    let SerfMessage::Alive { name, ltime, .. } = &out[0] else {
        panic!("expected an alive intent, got {out:?}")
    };
    assert_eq!(name, "local");
    assert!(*ltime > 20);
    assert_eq!(s.local_member().status, MemberStatus::Alive);
}

#[test]
fn own_leave_and_set_tags_apply_locally() {
    let mut s = state(Instant::now());
    let intent = s.local_alive_intent(Some(tags("server")));
    assert!(s.receive(&intent));
    assert_eq!(s.local_member().tags, tags("server"));
    assert_eq!(
        kinds(&s.take_events()),
        vec![("update", "local".into(), MemberStatus::Alive)]
    );
    let intent = s.leave_intent("local", false);
    assert!(s.receive(&intent));
    assert_eq!(s.local_member().status, MemberStatus::Leaving);
    assert!(
        s.take_outgoing().is_empty(),
        "no refutation of our own leave"
    );
    s.local_left();
    assert_eq!(s.local_member().status, MemberStatus::Left);
}

#[test]
fn user_events_are_delivered_once_and_clocked() {
    let mut s = state(Instant::now());
    let first = s.user_event("deploy".into(), b"v1".to_vec(), false);
    assert_eq!(first.ltime, 0);
    assert!(s.receive(&SerfMessage::User(first.clone())));
    assert!(!s.receive(&SerfMessage::User(first.clone())), "dedup");
    let remote = UserEvent {
        name: "deploy".into(),
        payload: b"v2".to_vec(),
        ltime: 9,
        coalesce: true,
    };
    assert!(s.receive(&SerfMessage::User(remote.clone())));
    assert_eq!(s.event_ltime(), 10);
    assert_eq!(
        s.take_events(),
        vec![
            GossipEvent::UserEvent(first),
            GossipEvent::UserEvent(remote)
        ]
    );
    let next = s.user_event("x".into(), vec![], false);
    assert_eq!(next.ltime, 10);
}

#[test]
fn events_before_join_time_are_ignored() {
    let mut s = state(Instant::now());
    s.ignore_user_events_before(5);
    let old = UserEvent {
        name: "old".into(),
        payload: vec![],
        ltime: 4,
        coalesce: false,
    };
    assert!(!s.receive(&SerfMessage::User(old)));
    let new = UserEvent {
        name: "new".into(),
        payload: vec![],
        ltime: 5,
        coalesce: false,
    };
    assert!(s.receive(&SerfMessage::User(new)));
    assert_eq!(
        kinds(&s.take_events()),
        vec![("user", "new".into(), MemberStatus::None)]
    );
}

#[test]
fn leave_for_unknown_member_is_not_disseminated() {
    let mut s = state(Instant::now());
    assert!(!s.receive(&leave("ghost", 3, false)));
    assert_eq!(s.member_ltime(), 4, "the clock still witnesses it");
}

#[test]
fn restored_clocks_move_past_the_previous_run() {
    let t0 = Instant::now();
    let mut s = state(t0);
    let previous = Clocks {
        member: 40,
        event: 7,
        query: 3,
    };
    s.restore_clocks(previous);
    let now = s.clocks();
    assert!(now.member > 40 && now.event > 7 && now.query > 3, "{now:?}");
    // The next local intent is newer than anything the previous run issued.
    let SerfMessage::Alive { ltime, .. } = s.local_alive_intent(None) else {
        panic!("an alive intent");
    };
    assert!(ltime > 40);
    // User events the previous run already delivered are not delivered again.
    let old = UserEvent {
        name: "deploy".into(),
        payload: Vec::new(),
        ltime: 7,
        coalesce: false,
    };
    assert!(!s.receive(&SerfMessage::User(old)));
    let new = UserEvent {
        name: "deploy".into(),
        payload: Vec::new(),
        ltime: 8,
        coalesce: false,
    };
    assert!(s.receive(&SerfMessage::User(new)));
}
