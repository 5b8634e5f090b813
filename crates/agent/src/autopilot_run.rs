//! The autopilot loop: while this server leads, gather the inputs of the pure core
//! (`autopilot`) — Raft servers and progress from consensus, servers from gossip, the stored
//! configuration — every health interval, keep the latest [`State`] in the [`Tracker`] for the
//! HTTP API, and every reconcile interval carry out the core's promotions and removals.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::Mutex;
use std::time::Duration;
use std::time::SystemTime;

use legate_state::autopilot::AutopilotConfig;

use crate::agent::Agent;
use crate::autopilot::Action;
use crate::autopilot::Inputs;
use crate::autopilot::KnownServer;
use crate::autopilot::NodeStatus;
use crate::autopilot::RaftServer;
use crate::autopilot::State;
use crate::reconcile::MemberStatus;

/// How often the loop runs. Consul checks health every 200 ms and reconciles every 10 s; we
/// reconcile every second so new servers are promoted soon after they stabilize.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Timing {
    /// Between health updates.
    pub health_interval: Duration,
    /// Between reconciliations (promotions and removals).
    pub reconcile_interval: Duration,
}

impl Default for Timing {
    fn default() -> Self {
        Timing {
            health_interval: Duration::from_millis(200),
            reconcile_interval: Duration::from_secs(1),
        }
    }
}

/// The latest autopilot state computed by this server (while it leads).
#[derive(Clone, Default)]
pub struct Tracker {
    state: Arc<Mutex<Option<State>>>,
}

impl Tracker {
    /// The latest state, if this server has computed one since it last became leader.
    pub fn get(&self) -> Option<State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    fn set(&self, state: Option<State>) {
        *self.state.lock().unwrap_or_else(|p| p.into_inner()) = state;
    }
}

/// Run autopilot whenever this server leads, until shutdown.
pub async fn run(agent: Arc<Agent>, timing: Timing) {
    if !agent.config().server {
        return;
    }
    let shutdown = agent.shutdown_token();
    let mut leadership = agent.server().consensus().leadership();
    loop {
        let leading = *leadership.borrow_and_update();
        if leading {
            tokio::select! {
                () = shutdown.cancelled() => return,
                () = lead(&agent, timing) => {}
                changed = leadership.changed() => if changed.is_err() { return },
            }
            agent.autopilot().set(None);
            continue;
        }
        tokio::select! {
            () = shutdown.cancelled() => return,
            changed = leadership.changed() => if changed.is_err() { return },
        }
    }
}

/// One term of leadership: seed the configuration, then update and reconcile forever.
async fn lead(agent: &Arc<Agent>, timing: Timing) {
    let config = loop {
        match crate::autopilot_config::ensure(agent).await {
            Ok(config) => break config,
            Err(err) => {
                tracing::warn!(target: "agent.autopilot", error = %err, "failed to initialize the autopilot configuration");
                tokio::time::sleep(timing.health_interval).await;
            }
        }
    };
    tracing::debug!(target: "agent.autopilot", ?config, "autopilot running");
    let mut last_reconcile = tokio::time::Instant::now();
    loop {
        let config = agent
            .server()
            .store()
            .view()
            .autopilot_config()
            .unwrap_or_else(|| config.clone());
        let previous = agent.autopilot().get();
        let state = compute(agent, &config, previous.as_ref());
        agent.autopilot().set(Some(state.clone()));
        if last_reconcile.elapsed() >= timing.reconcile_interval {
            last_reconcile = tokio::time::Instant::now();
            let actions = crate::autopilot::plan(&config, &state, SystemTime::now());
            apply(agent, actions).await;
        }
        tokio::time::sleep(timing.health_interval).await;
    }
}

/// The state as this server sees it now, carrying `previous` forward.
pub fn compute(agent: &Agent, config: &AutopilotConfig, previous: Option<&State>) -> State {
    let consensus = agent.server().consensus();
    let infos = consensus.servers();
    let raft: Vec<RaftServer> = infos
        .iter()
        .map(|s| RaftServer {
            id: s.id.clone(),
            name: s.node.clone(),
            address: s.address.clone(),
            voter: s.voter,
        })
        .collect();
    let leader = infos.iter().find(|s| s.leader).map(|s| s.id.clone());
    let progress = consensus.progress();
    let known = known_servers(agent);
    let heartbeat = Duration::from_millis(50 * u64::from(agent.config().raft_multiplier.max(1)));
    crate::autopilot::next_state(
        &Inputs {
            now: SystemTime::now(),
            config,
            raft: &raft,
            known: &known,
            progress: &progress,
            leader: leader.as_deref(),
            heartbeat_interval: heartbeat,
        },
        previous,
    )
}

/// This datacenter's servers as gossip reports them, by node ID.
fn known_servers(agent: &Agent) -> BTreeMap<String, KnownServer> {
    let mut known = BTreeMap::new();
    let Some(lan) = agent.lan() else {
        return known;
    };
    let dc = &agent.node().datacenter;
    for member in lan.members() {
        let info = crate::membership::member_info(&member);
        let is_server = info.tags.get("role").map(String::as_str) == Some("consul");
        if !is_server || info.tags.get("dc") != Some(dc) {
            continue;
        }
        let Some(id) = info.tags.get("id") else {
            continue;
        };
        let version = info
            .tags
            .get("build")
            .map(|b| b.split(':').next().unwrap_or_default().to_string())
            .unwrap_or_default();
        let status = match info.status {
            MemberStatus::Alive => NodeStatus::Alive,
            MemberStatus::Failed => NodeStatus::Failed,
            MemberStatus::Leaving | MemberStatus::Left => NodeStatus::Left,
        };
        known.insert(
            id.clone(),
            KnownServer {
                name: info.name.clone(),
                status,
                version,
            },
        );
    }
    known
}

/// Carry out promotions and removals, logging failures (the next round tries again).
async fn apply(agent: &Agent, actions: Vec<Action>) {
    let consensus = agent.server().consensus();
    for action in actions {
        match action {
            Action::Promote { id, name } => {
                tracing::info!(target: "agent.autopilot", "Promoting server: id={id} name={name}");
                if let Err(err) = consensus.promote(&id).await {
                    tracing::warn!(target: "agent.autopilot", error = %err, "failed promoting server {name}");
                }
            }
            Action::Remove { id, name } => {
                tracing::info!(target: "agent.autopilot", "Attempting removal of failed server node: id={id} name={name}");
                if let Err(err) = consensus.remove_server(&id).await {
                    tracing::warn!(target: "agent.autopilot", error = %err, "failed removing server {name}");
                }
            }
        }
    }
}
