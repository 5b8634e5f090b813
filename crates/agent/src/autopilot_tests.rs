//! Unit tests of the autopilot core: health rules, StableSince bookkeeping, failure tolerance,
//! promotion after stabilization and dead-server cleanup limits.

use std::collections::BTreeMap;
use std::time::Duration;
use std::time::SystemTime;

use legate_consensus::Progress;
use legate_state::autopilot::AutopilotConfig;

use super::*;

const HEARTBEAT: Duration = Duration::from_millis(50);

/// A test cluster: raft servers, gossip view and progress, all editable.
struct World {
    config: AutopilotConfig,
    raft: Vec<RaftServer>,
    known: BTreeMap<String, KnownServer>,
    progress: BTreeMap<String, Progress>,
    leader: Option<String>,
}

fn t(secs: u64) -> SystemTime {
    SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000 + secs)
}

impl World {
    /// `voters` healthy voters s0.. (s0 leads) and `nonvoters` healthy non-voters after them.
    fn new(voters: usize, nonvoters: usize) -> World {
        let mut w = World {
            config: AutopilotConfig::default(),
            raft: Vec::new(),
            known: BTreeMap::new(),
            progress: BTreeMap::new(),
            leader: Some("s0".into()),
        };
        for i in 0..voters + nonvoters {
            let id = format!("s{i}");
            w.raft.push(RaftServer {
                id: id.clone(),
                name: format!("node{i}"),
                address: format!("127.0.0.1:{}", 8300 + i),
                voter: i < voters,
            });
            w.known.insert(
                id.clone(),
                KnownServer {
                    name: format!("node{i}"),
                    status: NodeStatus::Alive,
                    version: "1.21.0".into(),
                },
            );
            w.progress.insert(
                id,
                Progress {
                    last_index: 100,
                    last_term: 2,
                    last_contact: Some(Duration::from_millis(if i == 0 { 0 } else { 10 })),
                },
            );
        }
        w
    }

    fn state(&self, now: SystemTime, previous: Option<&State>) -> State {
        next_state(
            &Inputs {
                now,
                config: &self.config,
                raft: &self.raft,
                known: &self.known,
                progress: &self.progress,
                leader: self.leader.as_deref(),
                heartbeat_interval: HEARTBEAT,
            },
            previous,
        )
    }

    fn status(&mut self, id: &str, status: NodeStatus) {
        self.known.get_mut(id).unwrap().status = status;
    }

    fn progress(&mut self, id: &str) -> &mut Progress {
        self.progress.get_mut(id).unwrap()
    }
}

fn removed(actions: &[Action]) -> Vec<&str> {
    actions
        .iter()
        .filter_map(|a| match a {
            Action::Remove { id, .. } => Some(id.as_str()),
            Action::Promote { .. } => None,
        })
        .collect()
}

fn promoted(actions: &[Action]) -> Vec<&str> {
    actions
        .iter()
        .filter_map(|a| match a {
            Action::Promote { id, .. } => Some(id.as_str()),
            Action::Remove { .. } => None,
        })
        .collect()
}

#[test]
fn healthy_three_voters_tolerate_one_failure() {
    let w = World::new(3, 0);
    let s = w.state(t(0), None);
    assert!(s.healthy);
    assert_eq!(s.failure_tolerance, 1);
    assert_eq!(s.leader, "s0");
    assert_eq!(s.voters[0], "s0", "leader first");
    assert_eq!(s.voters.len(), 3);
    let leader = &s.servers["s0"];
    assert!(leader.leader && leader.voter && leader.healthy);
    assert_eq!(leader.status.as_str(), "alive");
    assert_eq!(leader.name, "node0");
    assert_eq!(leader.stable_since, t(0));
    assert!(plan(&w.config, &s, t(0)).is_empty());
}

#[test]
fn tolerance_by_cluster_size() {
    for (voters, tolerance) in [(1, 0), (2, 0), (3, 1), (4, 1), (5, 2)] {
        let s = World::new(voters, 0).state(t(0), None);
        assert_eq!(s.failure_tolerance, tolerance, "{voters} voters");
    }
    // Unhealthy voters do not count; non-voters never count.
    let mut w = World::new(5, 2);
    w.status("s4", NodeStatus::Failed);
    let s = w.state(t(0), None);
    assert_eq!(s.failure_tolerance, 1);
    assert!(!s.healthy);
}

#[test]
fn each_health_rule() {
    let check = |edit: &dyn Fn(&mut World), healthy: bool, why: &str| {
        let mut w = World::new(3, 0);
        edit(&mut w);
        let s = w.state(t(0), None);
        assert_eq!(s.servers["s1"].healthy, healthy, "{why}");
    };
    check(&|_| {}, true, "baseline");
    check(
        &|w| w.status("s1", NodeStatus::Failed),
        false,
        "failed in gossip",
    );
    check(&|w| w.status("s1", NodeStatus::Left), false, "left gossip");
    check(
        &|w| {
            w.known.remove("s1");
        },
        false,
        "unknown to gossip",
    );
    check(
        &|w| w.progress("s1").last_contact = None,
        false,
        "never heard from the leader",
    );
    check(
        &|w| w.progress("s1").last_contact = Some(Duration::from_millis(250)),
        true,
        "within threshold plus one heartbeat",
    );
    check(
        &|w| w.progress("s1").last_contact = Some(Duration::from_millis(251)),
        false,
        "past threshold plus one heartbeat",
    );
    check(
        &|w| w.progress("s1").last_term = 1,
        false,
        "stuck in an old term",
    );
    check(
        &|w| {
            w.progress("s0").last_index = 1000;
            w.progress("s1").last_index = 750;
        },
        true,
        "exactly MaxTrailingLogs behind",
    );
    check(
        &|w| {
            w.progress("s0").last_index = 1000;
            w.progress("s1").last_index = 749;
        },
        false,
        "more than MaxTrailingLogs behind",
    );
    check(
        &|w| {
            w.progress("s0").last_index = 200;
            w.progress("s1").last_index = 0;
        },
        true,
        "a leader below MaxTrailingLogs makes nobody trail",
    );
}

#[test]
fn no_leader_means_nobody_matches_its_term() {
    let mut w = World::new(3, 0);
    w.leader = None;
    let s = w.state(t(0), None);
    assert_eq!(s.leader, "");
    assert!(!s.healthy);
    assert_eq!(s.failure_tolerance, 0);
}

#[test]
fn stable_since_moves_only_when_health_changes() {
    let mut w = World::new(3, 0);
    let s0 = w.state(t(0), None);
    let s1 = w.state(t(5), Some(&s0));
    assert_eq!(s1.servers["s1"].stable_since, t(0));
    assert_eq!(s1.first_state_time, t(0));
    w.status("s1", NodeStatus::Failed);
    let s2 = w.state(t(7), Some(&s1));
    assert_eq!(s2.servers["s1"].stable_since, t(7));
    assert_eq!(s2.servers["s2"].stable_since, t(0));
    let s3 = w.state(t(9), Some(&s2));
    assert_eq!(s3.servers["s1"].stable_since, t(7));
    w.status("s1", NodeStatus::Alive);
    let s4 = w.state(t(12), Some(&s3));
    assert_eq!(s4.servers["s1"].stable_since, t(12));
}

#[test]
fn voters_order_leader_then_healthy_then_longest_stable() {
    let mut w = World::new(4, 0);
    let first = w.state(t(0), None);
    w.status("s1", NodeStatus::Failed);
    let second = w.state(t(3), Some(&first));
    assert_eq!(second.voters, ["s0", "s2", "s3", "s1"]);
}

#[test]
fn nonvoter_is_promoted_after_stabilization() {
    let mut w = World::new(3, 1);
    w.config.cleanup_dead_servers = false;
    // The run has been going for a while: the full stabilization time applies.
    let mut state = w.state(t(0), None);
    state.first_state_time = t(0) - Duration::from_secs(100);
    let s = w.state(t(1), Some(&state));
    assert_eq!(s.servers["s3"].stable_since, t(0));
    assert!(
        promoted(&plan(&w.config, &s, t(9))).is_empty(),
        "9 s < 10 s"
    );
    assert_eq!(promoted(&plan(&w.config, &s, t(10))), ["s3"]);
    // Unhealthy non-voters are never promoted, however long they have been so.
    w.progress("s3").last_contact = None;
    let s = w.state(t(11), Some(&s));
    assert!(promoted(&plan(&w.config, &s, t(100))).is_empty());
}

#[test]
fn a_young_run_promotes_healthy_nonvoters_at_once() {
    let w = World::new(1, 1);
    let s = w.state(t(0), None);
    assert_eq!(promoted(&plan(&w.config, &s, t(0))), ["s1"]);
    // Past 110 % of the stabilization time, the full wait applies to newly healthy servers.
    let mut w2 = World::new(1, 1);
    w2.progress("s1").last_contact = None;
    let s = w2.state(t(0), None);
    w2.progress("s1").last_contact = Some(Duration::from_millis(5));
    let s = w2.state(t(12), Some(&s));
    assert!(promoted(&plan(&w2.config, &s, t(12))).is_empty());
    assert_eq!(promoted(&plan(&w2.config, &s, t(22))), ["s1"]);
}

#[test]
fn zero_stabilization_promotes_immediately() {
    let mut w = World::new(3, 1);
    w.config.server_stabilization_time = Duration::ZERO;
    let mut s = w.state(t(0), None);
    s.first_state_time = t(0) - Duration::from_secs(100);
    assert_eq!(promoted(&plan(&w.config, &s, t(0))), ["s3"]);
}

#[test]
fn one_failed_voter_of_three_is_removed() {
    let mut w = World::new(3, 0);
    w.status("s2", NodeStatus::Failed);
    let s = w.state(t(0), None);
    assert_eq!(removed(&plan(&w.config, &s, t(0))), ["s2"]);
    // Left counts as dead as well.
    w.status("s2", NodeStatus::Left);
    let s = w.state(t(0), None);
    assert_eq!(removed(&plan(&w.config, &s, t(0))), ["s2"]);
}

#[test]
fn cleanup_off_removes_nothing() {
    let mut w = World::new(3, 0);
    w.config.cleanup_dead_servers = false;
    w.status("s2", NodeStatus::Failed);
    let s = w.state(t(0), None);
    assert!(plan(&w.config, &s, t(0)).is_empty());
}

#[test]
fn never_more_than_a_minority_of_voters_at_once() {
    // 5 voters, 3 failed: (5-1)/2 = 2 may go.
    let mut w = World::new(5, 0);
    for id in ["s2", "s3", "s4"] {
        w.status(id, NodeStatus::Failed);
    }
    let s = w.state(t(0), None);
    assert_eq!(removed(&plan(&w.config, &s, t(0))), ["s2", "s3"]);
    // 2 voters, 1 failed: (2-1)/2 = 0 may go.
    let mut w = World::new(2, 0);
    w.status("s1", NodeStatus::Failed);
    let s = w.state(t(0), None);
    assert!(removed(&plan(&w.config, &s, t(0))).is_empty());
}

#[test]
fn min_quorum_is_respected() {
    let mut w = World::new(3, 0);
    w.config.min_quorum = 3;
    w.status("s2", NodeStatus::Failed);
    let s = w.state(t(0), None);
    assert!(removed(&plan(&w.config, &s, t(0))).is_empty());
    w.config.min_quorum = 2;
    assert_eq!(removed(&plan(&w.config, &s, t(0))), ["s2"]);
}

#[test]
fn failed_nonvoters_go_first_and_count_against_the_cap() {
    // 3 voters + 2 non-voters, one of each failed: 5 potential voters, cap 2 for the
    // non-voter batch; the voter batch then sees 4 potential voters, cap 1.
    let mut w = World::new(3, 2);
    w.status("s4", NodeStatus::Failed);
    w.status("s1", NodeStatus::Failed);
    let s = w.state(t(0), None);
    assert_eq!(removed(&plan(&w.config, &s, t(0))), ["s4", "s1"]);
    // With MinQuorum 4, only the non-voter may go (5 - 1 = 4 remain, then 4 - 1 < 4).
    w.config.min_quorum = 4;
    assert_eq!(removed(&plan(&w.config, &s, t(0))), ["s4"]);
}

#[test]
fn unknown_servers_and_the_leader_are_never_removed() {
    let mut w = World::new(3, 0);
    w.known.remove("s2");
    w.status("s0", NodeStatus::Failed);
    let s = w.state(t(0), None);
    assert_eq!(s.servers["s2"].status.as_str(), "left");
    assert!(removed(&plan(&w.config, &s, t(0))).is_empty());
}

#[test]
fn promotion_and_removal_in_one_round() {
    let mut w = World::new(3, 1);
    w.status("s2", NodeStatus::Failed);
    let s = w.state(t(0), None);
    let actions = plan(&w.config, &s, t(0));
    assert_eq!(promoted(&actions), ["s3"]);
    assert_eq!(removed(&actions), ["s2"]);
}
