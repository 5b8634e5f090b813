//! The agent's LAN gossip membership: starting the pool with Consul's member tags and its
//! member snapshot (re-joined at restart), joining (`-join`, `-retry-join`,
//! `/v1/agent/join`), and turning gossip events into agent events — user events are
//! delivered to this agent, member changes wake the leader's reconciliation.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use legate_config::RuntimeConfig;
use legate_gossip::Gossip;
use legate_gossip::GossipConfig;
use legate_gossip::GossipEvent;
use legate_gossip::LAN_KEYRING_FILE;
use legate_gossip::LAN_SNAPSHOT_FILE;
use legate_gossip::Member;
use legate_gossip::MemberStatus as GossipStatus;
use legate_gossip::Profile;
use legate_gossip::setup_keyring;
use legate_types::version::CONSUL_VERSION;

use crate::agent::Agent;
use crate::agent::AgentError;
use crate::agent::NodeIdentity;
use crate::events::UserEvent;
use crate::reconcile::MemberInfo;
use crate::reconcile::MemberStatus;

/// Pause between `retry_join` attempts.
const RETRY_JOIN_INTERVAL: Duration = Duration::from_secs(5);

/// Consul's serf tags for this agent.
pub fn tags(config: &RuntimeConfig, node: &NodeIdentity) -> BTreeMap<String, String> {
    let mut tags = BTreeMap::new();
    let mut tag = |k: &str, v: String| {
        tags.insert(k.to_string(), v);
    };
    tag("build", format!("{CONSUL_VERSION}:"));
    tag("dc", node.datacenter.clone());
    tag("id", node.id.clone());
    tag("segment", String::new());
    tag("vsn", "2".into());
    tag("vsn_min", "2".into());
    tag("vsn_max", "3".into());
    tag("ft_fs", "1".into());
    tag("ft_si", "1".into());
    if config.server {
        tag("role", "consul".into());
        tag("port", config.ports.server.unwrap_or(8300).to_string());
        tag("raft_vsn", "3".into());
        tag("acls", if config.acl.enabled { "1" } else { "0" }.into());
        if config.bootstrap_expect > 0 {
            tag("expect", config.bootstrap_expect.to_string());
        }
        if config.bootstrap {
            tag("bootstrap", "1".into());
        }
        if let Some(port) = config.ports.serf_wan {
            tag("wan_join_port", port.to_string());
        }
        if let Some(port) = config.ports.grpc_tls {
            tag("grpc_tls_port", port.to_string());
        }
    } else {
        tag("role", "node".into());
    }
    if let Some(port) = config.ports.grpc {
        tag("grpc_port", port.to_string());
    }
    tags
}

/// Start the LAN pool (None when `ports.serf_lan` is disabled).
pub async fn start_lan(
    config: &RuntimeConfig,
    node: &NodeIdentity,
) -> Result<Option<Gossip>, AgentError> {
    let Some(port) = config.ports.serf_lan else {
        return Ok(None);
    };
    let bind = SocketAddr::new(config.bind_addr, port);
    let mut gossip = GossipConfig::new(node.name.clone(), bind, Profile::Lan);
    gossip.advertise_addr = SocketAddr::new(config.advertise_addr, port);
    gossip.tags = tags(config, node);
    gossip.coordinate_probe_interval =
        crate::coordinates::CoordinateSettings::from_config(config).gossip_probe_interval();
    // Consul keeps the keyring in `serf/local.keyring` under the data dir: the file wins
    // over `encrypt`, which only seeds it on first start.
    let keyring_file = config.data_dir.as_ref().map(|d| d.join(LAN_KEYRING_FILE));
    gossip.keyring = setup_keyring(keyring_file.as_deref(), config.encrypt.as_deref())
        .map_err(|err| AgentError::Definition(format!("invalid gossip keyring: {err}")))?;
    gossip.keyring_file = keyring_file;
    // Consul's `serf/local.snapshot`: members re-joined at restart unless the agent left
    // gracefully (then only with `rejoin_after_leave`).
    gossip.snapshot_file = config.data_dir.as_ref().map(|d| d.join(LAN_SNAPSHOT_FILE));
    gossip.rejoin_after_leave = config.rejoin_after_leave;
    Gossip::start(gossip)
        .await
        .map(Some)
        .map_err(|err| AgentError::Bind {
            what: "serf LAN",
            addr: bind.to_string(),
            source: std::io::Error::other(err.to_string()),
        })
}

/// A gossip member as reconciliation sees it.
pub fn member_info(member: &Member) -> MemberInfo {
    MemberInfo {
        name: member.name.clone(),
        address: member.addr.ip().to_string(),
        status: match member.status {
            GossipStatus::Alive | GossipStatus::None => MemberStatus::Alive,
            GossipStatus::Leaving => MemberStatus::Leaving,
            GossipStatus::Left => MemberStatus::Left,
            GossipStatus::Failed => MemberStatus::Failed,
        },
        tags: member.tags.clone(),
    }
}

/// Resolve `host`, `ip`, `host:port` or `ip:port` (default port `default_port`).
pub async fn resolve(target: &str, default_port: u16) -> Result<Vec<SocketAddr>, String> {
    if let Ok(addr) = target.parse::<SocketAddr>() {
        return Ok(vec![addr]);
    }
    if let Ok(ip) = target.trim_matches(['[', ']']).parse::<std::net::IpAddr>() {
        return Ok(vec![SocketAddr::new(ip, default_port)]);
    }
    let with_port = if target.contains(':') {
        target.to_string()
    } else {
        format!("{target}:{default_port}")
    };
    tokio::net::lookup_host(with_port.as_str())
        .await
        .map(|addrs| addrs.collect())
        .map_err(|err| format!("{target}: {err}"))
}

/// Join the LAN pool through `targets`; returns how many were joined.
pub async fn join(agent: &Agent, targets: &[String]) -> Result<usize, String> {
    let Some(lan) = agent.lan() else {
        return Err("gossip is disabled (ports.serf_lan = -1)".to_string());
    };
    let port = agent.config().ports.serf_lan.unwrap_or(8301);
    let mut addrs = Vec::new();
    for target in targets {
        addrs.extend(resolve(target, port).await?);
    }
    lan.join(&addrs).await.map_err(|err| err.to_string())
}

/// `-join` / `-retry-join`: keep trying until one attempt succeeds.
pub async fn retry_join(agent: Arc<Agent>) {
    let config = agent.config();
    let targets: Vec<String> = config.retry_join.clone();
    if targets.is_empty() {
        return;
    }
    let shutdown = agent.shutdown_token();
    loop {
        match join(&agent, &targets).await {
            Ok(n) => {
                tracing::info!(target: "agent", "Join cluster completed. Synced with {n} initial agents");
                return;
            }
            Err(err) => {
                tracing::warn!(target: "agent", "Join cluster failed, will retry: cluster=LAN retry_interval={RETRY_JOIN_INTERVAL:?} error=\"{err}\"")
            }
        }
        tokio::select! {
            () = shutdown.cancelled() => return,
            () = tokio::time::sleep(RETRY_JOIN_INTERVAL) => {}
        }
    }
}

/// Wire format of a user event inside gossip: the event as the API shows it.
pub fn encode_user_event(event: &UserEvent) -> Vec<u8> {
    serde_json::to_vec(event).unwrap_or_default()
}

/// Server RPC addresses of the alive servers of this agent's datacenter.
fn alive_servers(agent: &Agent, lan: &Gossip) -> Vec<String> {
    lan.members()
        .iter()
        .filter(|m| m.status == GossipStatus::Alive)
        .filter(|m| m.tags.get("role").map(String::as_str) == Some("consul"))
        .filter(|m| m.tags.get("dc") == Some(&agent.node().datacenter))
        .filter_map(|m| m.tags.get("port").map(|p| format!("{}:{p}", m.addr.ip())))
        .collect()
}

/// Turn gossip events into agent events until shutdown.
pub async fn run_events(agent: Arc<Agent>) {
    let Some(lan) = agent.lan() else {
        return;
    };
    let mut events = lan.events();
    agent.server().set_known_servers(alive_servers(&agent, lan));
    let shutdown = agent.shutdown_token();
    loop {
        let event = tokio::select! {
            () = shutdown.cancelled() => return,
            event = events.recv() => event,
        };
        match event {
            Ok(GossipEvent::UserEvent(user)) => {
                match serde_json::from_slice::<UserEvent>(&user.payload) {
                    Ok(event) => crate::http::deliver_user_event(&agent, event),
                    Err(err) => {
                        tracing::warn!(target: "agent", "dropping undecodable user event {}: {err}", user.name)
                    }
                }
            }
            Ok(_) | Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {
                agent.server().set_known_servers(alive_servers(&agent, lan));
                agent.members_changed();
            }
            Err(tokio::sync::broadcast::error::RecvError::Closed) => return,
        }
    }
}
