//! Network coordinates from gossip to the catalog. Every agent periodically sends its own
//! LAN coordinate to the servers (Consul's `sendCoordinate`: an interval scaled by cluster
//! size, `sync_coordinate_rate_target` / `sync_coordinate_interval_min`, plus a random
//! stagger); a server queues updates, keeping the latest per node and segment, and every
//! `consul.coordinate.update_period` writes them to Raft as `CoordinateBatch` commands of at
//! most `update_batch_size`, `update_max_batches` per period (Consul's `Coordinate.Update`
//! endpoint). `disable_coordinates` turns all of it off, probes included.
//!
//! A server agent queues its own updates directly; a client agent sends
//! `PUT /v1/coordinate/update` to a server over the forwarding path.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::Mutex;
use std::time::Duration;

use legate_config::RuntimeConfig;
use legate_state::command::Command;
use legate_state::model::Coordinate as StoredCoordinate;
use legate_vivaldi::Coordinate;
use serde_json::Value;

use crate::agent::Agent;

/// Coordinate settings, read from the agent configuration.
#[derive(Debug, Clone, PartialEq)]
pub struct CoordinateSettings {
    /// `disable_coordinates`.
    pub disabled: bool,
    /// `sync_coordinate_rate_target`: cluster-wide updates per second to aim for.
    pub sync_rate_target: f64,
    /// `sync_coordinate_interval_min`: the shortest interval between an agent's updates.
    pub sync_interval_min: Duration,
    /// `consul.coordinate.update_period`: how long a server batches updates.
    pub update_period: Duration,
    /// `consul.coordinate.update_batch_size`: updates per Raft command.
    pub update_batch_size: usize,
    /// `consul.coordinate.update_max_batches`: Raft commands per period.
    pub update_max_batches: usize,
    /// `gossip_lan.probe_interval`: how often gossip probes a peer's coordinate.
    pub probe_interval: Duration,
}

impl CoordinateSettings {
    /// Consul's values: 64 updates/s, 15 s minimum, 5 s period (100 ms in dev mode), batches
    /// of 128, 5 per period, 1 s probes; each overridable in the config.
    pub fn from_config(config: &RuntimeConfig) -> Self {
        let raw = &config.raw;
        let default_period = if config.dev {
            Duration::from_millis(100)
        } else {
            Duration::from_secs(5)
        };
        let coordinate = |key: &str| lookup(raw, &["consul", "coordinate", key]);
        Self {
            disabled: lookup(raw, &["disable_coordinates"])
                .and_then(Value::as_bool)
                .unwrap_or(false),
            sync_rate_target: lookup(raw, &["sync_coordinate_rate_target"])
                .and_then(Value::as_f64)
                .filter(|r| r.is_finite())
                .unwrap_or(64.0),
            sync_interval_min: duration(lookup(raw, &["sync_coordinate_interval_min"]))
                .unwrap_or(Duration::from_secs(15)),
            update_period: duration(coordinate("update_period")).unwrap_or(default_period),
            update_batch_size: count(coordinate("update_batch_size")).unwrap_or(128),
            update_max_batches: count(coordinate("update_max_batches")).unwrap_or(5),
            probe_interval: duration(lookup(raw, &["gossip_lan", "probe_interval"]))
                .unwrap_or(Duration::from_secs(1)),
        }
    }

    /// The gossip probe interval, `None` when coordinates are disabled.
    pub fn gossip_probe_interval(&self) -> Option<Duration> {
        (!self.disabled).then_some(self.probe_interval)
    }
}

/// A value by path, looking through HCL's one-element block lists.
fn lookup<'a>(value: &'a Value, path: &[&str]) -> Option<&'a Value> {
    let mut here = value;
    for key in path {
        if let Value::Array(items) = here {
            here = items.first()?;
        }
        here = here.get(key)?;
    }
    Some(here)
}

fn duration(value: Option<&Value>) -> Option<Duration> {
    legate_types::go_duration::parse(value?.as_str()?)
        .ok()
        .filter(|d| !d.is_zero())
}

fn count(value: Option<&Value>) -> Option<usize> {
    let n = value?;
    let n = n.as_u64().or_else(|| n.as_f64().map(|f| f as u64))?;
    usize::try_from(n).ok().filter(|n| *n > 0)
}

/// Consul's `RateScaledInterval`: the interval that keeps `members` agents at `rate` updates
/// per second in total, never below `min`.
pub fn rate_scaled_interval(rate: f64, min: Duration, members: usize) -> Duration {
    if rate <= f64::MIN_POSITIVE {
        return min;
    }
    let secs = members as f64 / rate;
    Duration::try_from_secs_f64(secs).map_or(min, |interval| interval.max(min))
}

/// Coordinate updates waiting for the next batch: the latest per (node, segment).
#[derive(Debug, Default)]
pub struct UpdateQueue {
    pending: BTreeMap<(String, String), Value>,
}

impl UpdateQueue {
    /// Queues (or replaces) the update for `node` in `segment`.
    pub fn push(&mut self, node: String, segment: String, coord: Value) {
        self.pending.insert((node, segment), coord);
    }

    /// Number of queued updates.
    pub fn len(&self) -> usize {
        self.pending.len()
    }

    /// Whether nothing is queued.
    pub fn is_empty(&self) -> bool {
        self.pending.is_empty()
    }

    /// Takes everything queued as batches of at most `batch_size`, at most `max_batches` of
    /// them; returns the batches and how many updates beyond that were discarded.
    pub fn drain(
        &mut self,
        batch_size: usize,
        max_batches: usize,
    ) -> (Vec<Vec<StoredCoordinate>>, usize) {
        let batch_size = batch_size.max(1);
        let limit = batch_size.saturating_mul(max_batches);
        let all = std::mem::take(&mut self.pending);
        let discarded = all.len().saturating_sub(limit);
        let kept: Vec<StoredCoordinate> = all
            .into_iter()
            .take(limit)
            .map(|((node, segment), coord)| StoredCoordinate {
                node,
                segment,
                coord,
                modify_index: 0,
            })
            .collect();
        let batches = kept.chunks(batch_size).map(<[_]>::to_vec).collect();
        (batches, discarded)
    }
}

/// The agent's coordinate machinery: settings and, on servers, the update queue.
#[derive(Debug)]
pub struct Coordinates {
    settings: CoordinateSettings,
    queue: Mutex<UpdateQueue>,
}

impl Coordinates {
    /// Coordinates configured by `config`.
    pub fn new(config: &RuntimeConfig) -> Self {
        Self {
            settings: CoordinateSettings::from_config(config),
            queue: Mutex::default(),
        }
    }

    /// The settings in force.
    pub fn settings(&self) -> &CoordinateSettings {
        &self.settings
    }

    /// Queues an update for the next batch (servers).
    pub fn enqueue(&self, node: String, segment: String, coord: Value) {
        self.lock().push(node, segment, coord);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, UpdateQueue> {
        self.queue.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// This agent's own coordinate, when gossip runs with coordinates enabled.
pub fn own(agent: &Agent) -> Option<Coordinate> {
    if agent.coordinates().settings().disabled {
        return None;
    }
    agent.lan()?.coordinate()
}

/// Sends this agent's coordinate to the servers until shutdown.
pub async fn run_sync(agent: Arc<Agent>) {
    let settings = agent.coordinates().settings().clone();
    if settings.disabled {
        return;
    }
    let shutdown = agent.shutdown_token();
    loop {
        let members = agent.lan().map_or(1, |lan| lan.members().len());
        let interval = rate_scaled_interval(
            settings.sync_rate_target,
            settings.sync_interval_min,
            members,
        );
        let wait = interval + interval.mul_f64(rand::random::<f64>());
        tokio::select! {
            () = shutdown.cancelled() => return,
            () = tokio::time::sleep(wait) => {}
        }
        if let Some(coord) = own(&agent) {
            send(&agent, &coord).await;
        }
    }
}

async fn send(agent: &Agent, coord: &Coordinate) {
    let Ok(coord) = serde_json::to_value(coord) else {
        return;
    };
    let node = agent.node().name.clone();
    if agent.config().server {
        agent.coordinates().enqueue(node, String::new(), coord);
        return;
    }
    let body = serde_json::json!({"Node": node, "Segment": "", "Coord": coord});
    let request = legate_rpc::HttpRequest {
        method: "PUT".to_string(),
        path_and_query: "/v1/coordinate/update".to_string(),
        body: body.to_string().into_bytes(),
        ..legate_rpc::HttpRequest::default()
    };
    match crate::http::forward::to_any_server(agent, request).await {
        Ok(reply) if reply.status == 200 => {}
        Ok(reply) => {
            tracing::warn!(target: "agent", "Coordinate update error: server answered {}: {}", reply.status, String::from_utf8_lossy(&reply.body))
        }
        Err(err) => tracing::warn!(target: "agent", "Coordinate update error: {err}"),
    }
}

/// On a server, writes queued updates to Raft every update period until shutdown.
pub async fn run_flush(agent: Arc<Agent>) {
    if !agent.config().server {
        return;
    }
    let settings = agent.coordinates().settings().clone();
    let shutdown = agent.shutdown_token();
    loop {
        tokio::select! {
            () = shutdown.cancelled() => return,
            () = tokio::time::sleep(settings.update_period) => {}
        }
        let (batches, discarded) = agent
            .coordinates()
            .lock()
            .drain(settings.update_batch_size, settings.update_max_batches);
        if discarded > 0 {
            tracing::warn!(target: "agent.server.coordinate", "Discarded {discarded} coordinate updates");
        }
        for batch in batches {
            if let Err(err) = agent.server().write(Command::CoordinateBatch(batch)).await {
                tracing::warn!(target: "agent.server.coordinate", "Batch update failed: {err}");
                break;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn config(args: &[&str]) -> RuntimeConfig {
        let mut all = vec!["-dev".to_string()];
        all.extend(args.iter().map(|s| s.to_string()));
        legate_config::load(&all).unwrap()
    }

    #[test]
    fn defaults_follow_consul() {
        let s = CoordinateSettings::from_config(&config(&[]));
        assert!(!s.disabled);
        assert_eq!(s.sync_rate_target, 64.0);
        assert_eq!(s.sync_interval_min, Duration::from_secs(15));
        assert_eq!(s.update_period, Duration::from_millis(100));
        assert_eq!((s.update_batch_size, s.update_max_batches), (128, 5));
        assert_eq!(s.gossip_probe_interval(), Some(Duration::from_secs(1)));
    }

    #[test]
    fn settings_come_from_the_config() {
        let hcl = r#"
            disable_coordinates = true
            sync_coordinate_rate_target = 10.5
            sync_coordinate_interval_min = "200ms"
            gossip_lan { probe_interval = "300ms" }
            consul {
                coordinate {
                    update_period = "50ms"
                    update_batch_size = 2
                    update_max_batches = 3
                }
            }
        "#;
        let s = CoordinateSettings::from_config(&config(&["-hcl", hcl]));
        assert!(s.disabled);
        assert_eq!(s.sync_rate_target, 10.5);
        assert_eq!(s.sync_interval_min, Duration::from_millis(200));
        assert_eq!(s.update_period, Duration::from_millis(50));
        assert_eq!((s.update_batch_size, s.update_max_batches), (2, 3));
        assert_eq!(s.probe_interval, Duration::from_millis(300));
        assert_eq!(s.gossip_probe_interval(), None);
    }

    #[test]
    fn interval_scales_with_cluster_size() {
        let min = Duration::from_secs(15);
        assert_eq!(rate_scaled_interval(64.0, min, 10), min);
        assert_eq!(
            rate_scaled_interval(64.0, min, 6400),
            Duration::from_secs(100)
        );
        assert_eq!(rate_scaled_interval(0.0, min, 6400), min);
        assert_eq!(rate_scaled_interval(-1.0, min, 6400), min);
    }

    #[test]
    fn queue_keeps_the_latest_per_node_and_batches() {
        let mut q = UpdateQueue::default();
        for (node, x) in [("a", 1), ("b", 2), ("a", 3), ("c", 4), ("d", 5)] {
            q.push(node.into(), String::new(), json!(x));
        }
        assert_eq!(q.len(), 4);
        let (batches, discarded) = q.drain(2, 5);
        assert_eq!(discarded, 0);
        let shape: Vec<Vec<(String, Value)>> = batches
            .iter()
            .map(|b| {
                b.iter()
                    .map(|c| (c.node.clone(), c.coord.clone()))
                    .collect()
            })
            .collect();
        assert_eq!(
            shape,
            [
                vec![("a".to_string(), json!(3)), ("b".to_string(), json!(2))],
                vec![("c".to_string(), json!(4)), ("d".to_string(), json!(5))],
            ]
        );
        assert!(q.is_empty());
    }

    #[test]
    fn queue_discards_beyond_the_batch_limit() {
        let mut q = UpdateQueue::default();
        for i in 0..7 {
            q.push(format!("n{i}"), String::new(), json!(i));
        }
        let (batches, discarded) = q.drain(2, 2);
        assert_eq!(batches.iter().map(Vec::len).collect::<Vec<_>>(), [2, 2]);
        assert_eq!(discarded, 3);
        assert!(q.is_empty());
    }
}
