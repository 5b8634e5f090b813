//! Autopilot's pure core (Consul's autopilot, after hashicorp/raft-autopilot): from the Raft
//! servers, their replication progress, gossip membership, the configuration and the time —
//! all passed in — compute every server's health, the cluster's health and failure tolerance
//! ([`next_state`]), and what to change ([`plan`]): promote non-voters that stayed healthy for
//! `ServerStabilizationTime`, remove failed servers when `CleanupDeadServers` is on, never
//! below `MinQuorum` and never more voters at once than quorum can spare. The loop that feeds
//! it and carries the actions out is `autopilot_run`.

use std::collections::BTreeMap;
use std::collections::BTreeSet;
use std::time::Duration;
use std::time::SystemTime;

use legate_consensus::Progress;
use legate_state::autopilot::AutopilotConfig;

/// A server's gossip status as autopilot sees it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NodeStatus {
    /// Alive in gossip.
    Alive,
    /// Failed in gossip.
    Failed,
    /// Left (or leaving) gossip.
    Left,
    /// In the Raft configuration but unknown to gossip (reported as `left`, as Consul does).
    Unknown,
}

impl NodeStatus {
    /// Consul's spelling (`SerfStatus` / `NodeStatus`).
    pub fn as_str(self) -> &'static str {
        match self {
            NodeStatus::Alive => "alive",
            NodeStatus::Failed => "failed",
            NodeStatus::Left | NodeStatus::Unknown => "left",
        }
    }
}

/// One server of the Raft configuration.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RaftServer {
    /// Raft ID (node ID).
    pub id: String,
    /// Node name.
    pub name: String,
    /// Server RPC address.
    pub address: String,
    /// Whether it votes.
    pub voter: bool,
}

/// What gossip says about a server.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KnownServer {
    /// Node name.
    pub name: String,
    /// Gossip status.
    pub status: NodeStatus,
    /// Consul version it reports (from its `build` tag).
    pub version: String,
}

/// Everything one autopilot round looks at.
#[derive(Clone, Copy, Debug)]
pub struct Inputs<'a> {
    /// Current time.
    pub now: SystemTime,
    /// Autopilot configuration in force.
    pub config: &'a AutopilotConfig,
    /// The Raft configuration.
    pub raft: &'a [RaftServer],
    /// Gossip's servers, by node ID.
    pub known: &'a BTreeMap<String, KnownServer>,
    /// Replication progress by raft ID (complete on the leader).
    pub progress: &'a BTreeMap<String, Progress>,
    /// The current leader's raft ID.
    pub leader: Option<&'a str>,
    /// Leader contact is measured at heartbeat acks, which come once per heartbeat interval:
    /// a server counts as out of contact only after `LastContactThreshold` plus this.
    pub heartbeat_interval: Duration,
}

/// One server's health.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServerHealth {
    /// Raft ID.
    pub id: String,
    /// Node name.
    pub name: String,
    /// Server RPC address.
    pub address: String,
    /// Gossip status.
    pub status: NodeStatus,
    /// Consul version.
    pub version: String,
    /// Whether it leads.
    pub leader: bool,
    /// Whether it votes.
    pub voter: bool,
    /// Time since it last heard from the leader (`None`: never).
    pub last_contact: Option<Duration>,
    /// Term of its last log entry.
    pub last_term: u64,
    /// Index of its last log entry.
    pub last_index: u64,
    /// Whether it is healthy.
    pub healthy: bool,
    /// When `healthy` last changed (or the server was first seen).
    pub stable_since: SystemTime,
}

/// The cluster's health.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct State {
    /// Every server healthy.
    pub healthy: bool,
    /// How many voters may fail with quorum kept (healthy voters beyond quorum).
    pub failure_tolerance: usize,
    /// The leader's raft ID ("" when none).
    pub leader: String,
    /// Voter IDs: the leader first, then healthy before unhealthy, longest stable first.
    pub voters: Vec<String>,
    /// Every server of the Raft configuration, by ID.
    pub servers: BTreeMap<String, ServerHealth>,
    /// When the first state of this run was computed: until the stabilization time has
    /// passed since (plus 10 %), every healthy server counts as stable, so a new leader does
    /// not hold back servers that were already healthy.
    pub first_state_time: SystemTime,
}

/// A change autopilot wants made to the Raft configuration.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Action {
    /// Make this non-voter a voter.
    Promote {
        /// Raft ID.
        id: String,
        /// Node name.
        name: String,
    },
    /// Remove this failed server.
    Remove {
        /// Raft ID.
        id: String,
        /// Node name.
        name: String,
    },
}

/// Compute the next state from `inputs`, carrying `StableSince` over from `previous`.
pub fn next_state(inputs: &Inputs<'_>, previous: Option<&State>) -> State {
    let leader = inputs.leader.unwrap_or_default();
    let (leader_term, leader_index) = inputs
        .progress
        .get(leader)
        .map_or((0, 0), |p| (p.last_term, p.last_index));
    let mut servers = BTreeMap::new();
    for raft in inputs.raft {
        let known = inputs.known.get(&raft.id);
        let progress = inputs.progress.get(&raft.id).cloned().unwrap_or_default();
        let mut health = ServerHealth {
            id: raft.id.clone(),
            name: if raft.name.is_empty() {
                known.map(|k| k.name.clone()).unwrap_or_default()
            } else {
                raft.name.clone()
            },
            address: raft.address.clone(),
            status: known.map_or(NodeStatus::Unknown, |k| k.status),
            version: known.map(|k| k.version.clone()).unwrap_or_default(),
            leader: raft.id == leader,
            voter: raft.voter,
            last_contact: progress.last_contact,
            last_term: progress.last_term,
            last_index: progress.last_index,
            healthy: false,
            stable_since: inputs.now,
        };
        health.healthy = is_healthy(&health, inputs, leader_term, leader_index);
        if let Some(before) = previous.and_then(|p| p.servers.get(&raft.id))
            && before.healthy == health.healthy
        {
            health.stable_since = before.stable_since;
        }
        servers.insert(raft.id.clone(), health);
    }
    let voters_total = servers.values().filter(|s| s.voter).count();
    let healthy_voters = servers.values().filter(|s| s.voter && s.healthy).count();
    let mut voters: Vec<&ServerHealth> = servers.values().filter(|s| s.voter).collect();
    voters.sort_by(|a, b| {
        b.leader
            .cmp(&a.leader)
            .then(b.healthy.cmp(&a.healthy))
            .then(a.stable_since.cmp(&b.stable_since))
            .then(a.id.cmp(&b.id))
    });
    State {
        healthy: servers.values().all(|s| s.healthy),
        failure_tolerance: healthy_voters.saturating_sub(quorum(voters_total)),
        leader: if servers.contains_key(leader) {
            leader.to_string()
        } else {
            String::new()
        },
        voters: voters.iter().map(|s| s.id.clone()).collect(),
        first_state_time: previous.map_or(inputs.now, |p| p.first_state_time),
        servers,
    }
}

/// Votes needed for a majority of `voters`.
fn quorum(voters: usize) -> usize {
    voters / 2 + 1
}

fn is_healthy(s: &ServerHealth, inputs: &Inputs<'_>, leader_term: u64, leader_index: u64) -> bool {
    let config = inputs.config;
    if s.status != NodeStatus::Alive {
        return false;
    }
    match s.last_contact {
        None => return false,
        Some(d) if d > config.last_contact_threshold + inputs.heartbeat_interval => return false,
        Some(_) => {}
    }
    if s.last_term != leader_term {
        return false;
    }
    let trailing = config.max_trailing_logs;
    !(leader_index > trailing && s.last_index < leader_index - trailing)
}

/// The stabilization time in force at `now`: zero while the run is younger than 110 % of it.
fn stabilization(config: &AutopilotConfig, state: &State, now: SystemTime) -> Duration {
    let configured = config.server_stabilization_time;
    let running = now
        .duration_since(state.first_state_time)
        .unwrap_or_default();
    if running > configured + configured / 10 {
        configured
    } else {
        Duration::ZERO
    }
}

/// What to change now: promotions of stable healthy non-voters, then (with
/// `CleanupDeadServers`) removals of failed servers, non-voters first.
pub fn plan(config: &AutopilotConfig, state: &State, now: SystemTime) -> Vec<Action> {
    let mut actions = Vec::new();
    let stable_for = stabilization(config, state, now);
    for s in state.servers.values() {
        let stable = now.duration_since(s.stable_since).unwrap_or_default() >= stable_for;
        if !s.voter && s.healthy && stable {
            actions.push(Action::Promote {
                id: s.id.clone(),
                name: s.name.clone(),
            });
        }
    }
    if config.cleanup_dead_servers {
        actions.extend(removals(config, state));
    }
    actions
}

/// Failed (or left) servers to remove, in two batches — non-voters, then voters — each capped
/// so that at most `(potential voters - 1) / 2` go at once and never fewer than `MinQuorum`
/// potential voters remain. Servers gossip does not know are left alone.
fn removals(config: &AutopilotConfig, state: &State) -> Vec<Action> {
    let failed =
        |s: &&ServerHealth| matches!(s.status, NodeStatus::Failed | NodeStatus::Left) && !s.leader;
    // Every server gossip knows could vote (Consul CE has no read replicas); voters always can.
    let mut potential: BTreeSet<&str> = state
        .servers
        .values()
        .filter(|s| s.voter || s.status != NodeStatus::Unknown)
        .map(|s| s.id.as_str())
        .collect();
    let min_quorum = usize::try_from(config.min_quorum).unwrap_or(usize::MAX);
    let mut actions = Vec::new();
    for voters in [false, true] {
        let batch: Vec<&ServerHealth> = state
            .servers
            .values()
            .filter(|s| s.voter == voters)
            .filter(failed)
            .collect();
        let initial = potential.len();
        let mut max_removal = initial.saturating_sub(1) / 2;
        let mut removed = 0;
        let mut chosen = Vec::new();
        for s in batch {
            let is_potential = potential.contains(s.id.as_str());
            if is_potential && initial - removed - 1 < min_quorum {
                tracing::debug!(target: "agent.autopilot", "not removing {}: would leave fewer than MinQuorum={min_quorum} voters", s.name);
                continue;
            }
            if s.voter && max_removal == 0 {
                tracing::debug!(target: "agent.autopilot", "not removing {}: removing a majority of voters is not safe", s.name);
                continue;
            }
            if is_potential {
                max_removal = max_removal.saturating_sub(1);
                removed += 1;
            }
            chosen.push(s);
        }
        for s in chosen {
            potential.remove(s.id.as_str());
            actions.push(Action::Remove {
                id: s.id.clone(),
                name: s.name.clone(),
            });
        }
    }
    actions
}

#[cfg(test)]
#[path = "autopilot_tests.rs"]
mod tests;
