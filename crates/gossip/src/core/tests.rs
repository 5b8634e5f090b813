//! Deterministic in-memory simulation: several cores exchange packets through a
//! queue and fire timers on a virtual clock. No sockets, no real time.

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use super::*;
use crate::config::{Profile, Timing};
use crate::event::UserEvent;

const RECONNECT: Duration = Duration::from_secs(5);

struct Sim {
    t0: Instant,
    now: Duration,
    cores: Vec<Core>,
    packets: VecDeque<(SocketAddr, Vec<u8>)>,
    timers: BTreeMap<(Duration, u64), (usize, Timer<NodeId>)>,
    seq: u64,
    events: Vec<Vec<GossipEvent>>,
    queries: Vec<Vec<IncomingQuery>>,
    crashed: BTreeSet<usize>,
    last_tick: Duration,
}

fn addr(i: usize) -> SocketAddr {
    SocketAddr::from(([10, 0, 0, 1], 7000 + u16::try_from(i).unwrap()))
}

impl Sim {
    fn new(n: usize) -> Self {
        let t0 = Instant::now();
        let mut sim = Self {
            t0,
            now: Duration::ZERO,
            cores: Vec::new(),
            packets: VecDeque::new(),
            timers: BTreeMap::new(),
            seq: 0,
            events: vec![Vec::new(); n],
            queries: vec![Vec::new(); n],
            crashed: BTreeSet::new(),
            last_tick: Duration::ZERO,
        };
        for i in 0..n {
            let config = CoreConfig {
                name: format!("n{i}"),
                addr: addr(i),
                tags: [("id".to_string(), i.to_string())].into(),
                generation: 1,
                swim: Timing::for_profile(Profile::Local).swim,
                reconnect_timeout: RECONNECT,
                tombstone_timeout: RECONNECT,
                event_buffer_size: 64,
                user_event_size_limit: 512,
            };
            let (core, out) = Core::new(config, [u8::try_from(i).unwrap(); 32], t0);
            sim.cores.push(core);
            sim.apply(i, out);
        }
        sim
    }

    fn at(&self) -> Instant {
        self.t0 + self.now
    }

    fn apply(&mut self, i: usize, outputs: Vec<Output>) {
        for output in outputs {
            match output {
                Output::Send { to, data } => self.packets.push_back((to, data)),
                Output::Timer { after, timer } => {
                    self.seq += 1;
                    self.timers.insert((self.now + after, self.seq), (i, timer));
                }
                Output::Event(e) => self.events[i].push(e),
                Output::Query(q) => self.queries[i].push(q),
            }
        }
    }

    /// `i` joins `j` with a push-pull exchange in both directions.
    fn join(&mut self, i: usize, j: usize) {
        let now = self.at();
        let from_i = self.cores[i].push_pull(true);
        let from_j = self.cores[j].push_pull(true);
        let out = self.cores[j].merge_push_pull(now, from_i);
        self.apply(j, out);
        let out = self.cores[i].merge_push_pull(now, from_j);
        self.apply(i, out);
    }

    /// Runs one step; false when nothing is left to do.
    fn step(&mut self) -> bool {
        if let Some((to, data)) = self.packets.pop_front() {
            let Some(i) = (0..self.cores.len()).find(|i| addr(*i) == to) else {
                return true;
            };
            if !self.crashed.contains(&i) {
                let now = self.at();
                let out = self.cores[i].handle_packet(now, &data);
                self.apply(i, out);
            }
            return true;
        }
        let Some(((when, _), (i, timer))) = self.timers.pop_first() else {
            return false;
        };
        self.now = when;
        if !self.crashed.contains(&i) {
            let now = self.at();
            let out = self.cores[i].handle_timer(now, timer);
            self.apply(i, out);
        }
        if self.now - self.last_tick >= Duration::from_millis(100) {
            self.last_tick = self.now;
            for k in 0..self.cores.len() {
                if !self.crashed.contains(&k) {
                    let now = self.at();
                    let out = self.cores[k].tick(now);
                    self.apply(k, out);
                }
            }
        }
        true
    }

    /// Steps until `done` holds, within `limit` of virtual time.
    fn run_until(&mut self, limit: Duration, mut done: impl FnMut(&Self) -> bool) {
        let end = self.now + limit;
        while !done(self) {
            assert!(self.now <= end, "condition not reached within {limit:?}");
            assert!(self.step(), "simulation ran dry");
        }
    }

    fn alive_counts(&self) -> Vec<usize> {
        self.cores
            .iter()
            .map(|c| {
                c.members()
                    .iter()
                    .filter(|m| m.status == MemberStatus::Alive)
                    .count()
            })
            .collect()
    }

    fn user_events(&self, i: usize) -> Vec<&UserEvent> {
        self.events[i]
            .iter()
            .filter_map(|e| match e {
                GossipEvent::UserEvent(u) => Some(u),
                _ => None,
            })
            .collect()
    }
}

fn converged(n: usize) -> Sim {
    let mut sim = Sim::new(n);
    for i in 1..n {
        sim.join(i, 0);
    }
    sim.run_until(Duration::from_secs(10), |s| {
        s.alive_counts().iter().all(|c| *c == n)
    });
    sim
}

#[test]
fn cores_converge_with_tags_and_only_join_events() {
    let sim = converged(4);
    for i in 0..4 {
        let members = sim.cores[i].members();
        assert_eq!(members.len(), 4);
        for m in &members {
            assert_eq!(m.tags["id"], m.name[1..]);
        }
        let joins: BTreeSet<String> = sim.events[i]
            .iter()
            .map(|e| match e {
                GossipEvent::MemberJoin(m) => m.name.clone(),
                other => panic!("unexpected event {other:?}"),
            })
            .collect();
        assert_eq!(joins.len(), 3, "node {i}: {:?}", sim.events[i]);
    }
}

#[test]
fn query_is_delivered_once_everywhere_with_the_origin_address() {
    let mut sim = converged(4);
    let now = sim.at();
    let (key, out) = sim.cores[1].query(now, 42, "_serf_list-keys", b"req", 0);
    assert_eq!(key.id, 42);
    sim.apply(1, out);
    assert_eq!(
        sim.queries[1].len(),
        1,
        "the originator answers its own query"
    );
    sim.run_until(Duration::from_secs(5), |s| {
        (0..4).all(|i| !s.queries[i].is_empty())
    });
    let later = sim.now + Duration::from_secs(5);
    sim.run_until(Duration::from_secs(6), |s| s.now >= later);
    for i in 0..4 {
        assert_eq!(sim.queries[i].len(), 1, "node {i}");
        let q = &sim.queries[i][0];
        assert_eq!((q.name(), q.payload()), ("_serf_list-keys", &b"req"[..]));
        assert_eq!(q.0.key(), key);
        assert_eq!((q.0.origin.as_str(), q.0.addr), ("n1", addr(1)));
    }
}

#[test]
fn user_event_is_delivered_once_everywhere() {
    let mut sim = converged(4);
    let now = sim.at();
    let out = sim.cores[2]
        .user_event(now, "deploy", b"v7", false)
        .unwrap();
    sim.apply(2, out);
    sim.run_until(Duration::from_secs(5), |s| {
        (0..4).all(|i| !s.user_events(i).is_empty())
    });
    // Let gossip run on well past dissemination; duplicates would show up.
    let later = sim.now + Duration::from_secs(5);
    sim.run_until(Duration::from_secs(6), |s| s.now >= later);
    for i in 0..4 {
        let events = sim.user_events(i);
        assert_eq!(events.len(), 1, "node {i}: {events:?}");
        assert_eq!(events[0].payload, b"v7");
        assert_eq!(events[0].ltime, 0);
    }
    let err = sim.cores[0]
        .user_event(now, "big", &[0; 600], false)
        .unwrap_err();
    assert!(matches!(err, GossipError::UserEventTooLarge { limit: 512 }));
}

#[test]
fn crash_is_failed_then_reaped_and_events_are_ordered() {
    let mut sim = converged(3);
    sim.events.iter_mut().for_each(Vec::clear);
    sim.crashed.insert(2);
    sim.run_until(Duration::from_secs(20), |s| {
        s.events[0]
            .iter()
            .any(|e| matches!(e, GossipEvent::MemberReap(m) if m.name == "n2"))
    });
    let kinds: Vec<(&str, &str)> = sim.events[0]
        .iter()
        .map(|e| match e {
            GossipEvent::MemberFailed(m) => ("failed", m.name.as_str()),
            GossipEvent::MemberReap(m) => ("reap", m.name.as_str()),
            other => panic!("unexpected event {other:?}"),
        })
        .collect();
    assert_eq!(kinds, vec![("failed", "n2"), ("reap", "n2")]);
}

#[test]
fn graceful_leave_and_force_leave() {
    let mut sim = converged(4);
    sim.events.iter_mut().for_each(Vec::clear);
    let now = sim.at();
    let out = sim.cores[3].start_leave(now);
    sim.apply(3, out);
    let until = sim.now + Duration::from_millis(500);
    sim.run_until(Duration::from_secs(1), |s| s.now >= until);
    let now = sim.at();
    let out = sim.cores[3].finish_leave(now);
    sim.apply(3, out);
    sim.run_until(Duration::from_secs(5), |s| {
        (0..3).all(|i| {
            s.cores[i]
                .members()
                .iter()
                .any(|m| m.name == "n3" && m.status == MemberStatus::Left)
        })
    });
    assert!(
        sim.events[0]
            .iter()
            .any(|e| matches!(e, GossipEvent::MemberLeave(m) if m.name == "n3"))
    );
    assert!(
        !sim.events[0]
            .iter()
            .any(|e| matches!(e, GossipEvent::MemberFailed(_)))
    );

    // n2 crashes, is seen failed, and is force-left with prune.
    sim.crashed.insert(2);
    sim.run_until(Duration::from_secs(10), |s| {
        s.cores[0]
            .members()
            .iter()
            .any(|m| m.name == "n2" && m.status == MemberStatus::Failed)
    });
    let now = sim.at();
    let out = sim.cores[0].force_leave(now, "n2", true).unwrap();
    sim.apply(0, out);
    sim.run_until(Duration::from_secs(5), |s| {
        (0..2).all(|i| s.cores[i].members().iter().all(|m| m.name != "n2"))
    });
    assert!(
        sim.events[1]
            .iter()
            .any(|e| matches!(e, GossipEvent::MemberReap(m) if m.name == "n2"))
    );
}

#[test]
fn restarted_member_with_new_tags_is_updated_everywhere() {
    let mut sim = converged(3);
    // n2 restarts with fresh state (clock back at zero) and a new tag value.
    let config = CoreConfig {
        name: "n2".into(),
        addr: addr(2),
        tags: [("id".to_string(), "moved".to_string())].into(),
        generation: 2,
        swim: Timing::for_profile(Profile::Local).swim,
        reconnect_timeout: RECONNECT,
        tombstone_timeout: RECONNECT,
        event_buffer_size: 64,
        user_event_size_limit: 512,
    };
    let (core, out) = Core::new(config, [9; 32], sim.at());
    sim.cores[2] = core;
    sim.apply(2, out);
    sim.join(2, 0);
    sim.run_until(Duration::from_secs(10), |s| {
        (0..3).all(|i| {
            s.cores[i]
                .members()
                .iter()
                .any(|m| m.name == "n2" && m.tags["id"] == "moved")
        })
    });
}
