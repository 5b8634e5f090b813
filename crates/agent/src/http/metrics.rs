//! `/v1/agent/metrics`: the agent's telemetry in go-metrics' JSON shape (Consul's default) or,
//! with `?format=prometheus`, the Prometheus text exposition. Gauges are read from the agent
//! when asked (runtime, Raft, state store sizes); counters and samples are recorded into a small
//! in-process [`Registry`] in go-metrics' 10-second intervals. [`track`] records every HTTP
//! request (`consul.api.http` sample, `legate.http.requests` counter) once the router is layered
//! with it.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::Duration;
use std::time::Instant;
use std::time::SystemTime;
use std::time::UNIX_EPOCH;

use axum::Router;
use axum::extract::Request;
use axum::extract::State;
use axum::middleware::Next;
use axum::response::IntoResponse;
use axum::response::Response;
use axum::routing::get;
use http::HeaderValue;
use http::Method;
use http::StatusCode;
use http::header::CONTENT_TYPE;
use serde_json::Value;
use serde_json::json;

use super::AppState;
use super::error::ApiError;
use super::query::Params;
use super::reply;
use crate::agent::Agent;

/// go-metrics' in-memory sink interval.
const INTERVAL: Duration = Duration::from_secs(10);

/// Prometheus' text format content type, as Consul answers it.
const PROMETHEUS_CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

pub(super) fn routes() -> Router<AppState> {
    Router::new().route("/v1/agent/metrics", get(metrics).fallback(not_allowed))
}

async fn not_allowed(method: Method) -> ApiError {
    ApiError::MethodNotAllowed(method.to_string())
}

/// Labels of one series, sorted.
pub(crate) type Labels = BTreeMap<String, String>;

/// A counter's or sample's aggregate over the current interval (go-metrics' AggregateSample).
#[derive(Clone, Debug, Default, PartialEq)]
struct Aggregate {
    count: u64,
    sum: f64,
    sum_sq: f64,
    min: f64,
    max: f64,
}

impl Aggregate {
    fn ingest(&mut self, v: f64) {
        if self.count == 0 || v < self.min {
            self.min = v;
        }
        if self.count == 0 || v > self.max {
            self.max = v;
        }
        self.count += 1;
        self.sum += v;
        self.sum_sq += v * v;
    }

    fn mean(&self) -> f64 {
        if self.count == 0 {
            0.0
        } else {
            self.sum / self.count as f64
        }
    }

    fn stddev(&self) -> f64 {
        if self.count < 2 {
            return 0.0;
        }
        let n = self.count as f64;
        let var = (self.sum_sq - self.sum * self.sum / n) / (n - 1.0);
        var.max(0.0).sqrt()
    }
}

#[derive(Debug, Default)]
struct Interval {
    /// Unix seconds of the interval's start.
    start: u64,
    counters: BTreeMap<(String, Labels), Aggregate>,
    samples: BTreeMap<(String, Labels), Aggregate>,
}

/// Counters and samples of the current interval, process-wide.
#[derive(Debug, Default)]
pub(crate) struct Registry {
    current: Mutex<Interval>,
}

static REGISTRY: Registry = Registry {
    current: Mutex::new(Interval {
        start: 0,
        counters: BTreeMap::new(),
        samples: BTreeMap::new(),
    }),
};

/// The process-wide registry.
pub(crate) fn registry() -> &'static Registry {
    &REGISTRY
}

fn interval_start(now: SystemTime) -> u64 {
    let secs = now.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
    secs - secs % INTERVAL.as_secs()
}

impl Registry {
    fn with_interval<T>(&self, now: SystemTime, f: impl FnOnce(&mut Interval) -> T) -> T {
        let mut current = self.current.lock().unwrap_or_else(|p| p.into_inner());
        let start = interval_start(now);
        if current.start != start {
            *current = Interval {
                start,
                ..Interval::default()
            };
        }
        f(&mut current)
    }

    /// Add `value` to a counter.
    pub(crate) fn incr_counter(&self, name: &str, labels: Labels, value: f64) {
        self.with_interval(SystemTime::now(), |i| {
            i.counters
                .entry((name.to_string(), labels))
                .or_default()
                .ingest(value);
        });
    }

    /// Record one observation of a sample (timings in milliseconds).
    pub(crate) fn add_sample(&self, name: &str, labels: Labels, value: f64) {
        self.with_interval(SystemTime::now(), |i| {
            i.samples
                .entry((name.to_string(), labels))
                .or_default()
                .ingest(value);
        });
    }

    fn snapshot(&self, now: SystemTime) -> (u64, Vec<Series>, Vec<Series>) {
        self.with_interval(now, |i| {
            let collect = |m: &BTreeMap<(String, Labels), Aggregate>| {
                m.iter()
                    .map(|((name, labels), agg)| Series {
                        name: name.clone(),
                        labels: labels.clone(),
                        agg: agg.clone(),
                    })
                    .collect()
            };
            (i.start, collect(&i.counters), collect(&i.samples))
        })
    }
}

#[derive(Clone, Debug)]
struct Series {
    name: String,
    labels: Labels,
    agg: Aggregate,
}

/// Middleware: time every request into `consul.api.http` and count it.
pub(super) async fn track(request: Request, next: Next) -> Response {
    let method = request.method().to_string();
    let path = request
        .uri()
        .path()
        .trim_start_matches('/')
        .replace('/', "_");
    let started = Instant::now();
    let response = next.run(request).await;
    let ms = started.elapsed().as_secs_f64() * 1000.0;
    let labels: Labels = [
        ("method".to_string(), method.clone()),
        ("path".to_string(), path),
    ]
    .into_iter()
    .collect();
    registry().add_sample("consul.api.http", labels, ms);
    registry().incr_counter(
        "legate.http.requests",
        [("method".to_string(), method)].into_iter().collect(),
        1.0,
    );
    response
}

/// A JSON number as Go writes a float32: integral values without a fraction.
fn number(v: f64) -> Value {
    if v.fract() == 0.0 && v.abs() < 1e15 {
        Value::from(v as i64)
    } else {
        serde_json::Number::from_f64(v).map_or(Value::from(0), Value::Number)
    }
}

/// A gauge read now: name, labels, value.
type Gauge = (String, Labels, f64);

/// The gauges, read now.
fn gauges(agent: &Agent) -> Vec<Gauge> {
    let consensus = agent.server().consensus();
    let stats = consensus.stats();
    let stat = |k: &str| {
        stats
            .get(k)
            .and_then(|v| v.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    let view = agent.server().store().view();
    let snapshot = agent.server().store().snapshot();
    let uptime = agent
        .started()
        .elapsed()
        .map_or(0.0, |d| d.as_secs_f64().floor());
    let runtime = tokio::runtime::Handle::try_current().ok();
    let mut out = vec![
        (
            "consul.raft.applied_index".to_string(),
            consensus.applied_index() as f64,
        ),
        ("consul.raft.last_index".to_string(), stat("last_log_index")),
        ("consul.raft.commit_index".to_string(), stat("commit_index")),
        ("consul.raft.term".to_string(), stat("term")),
        (
            "consul.raft.peers".to_string(),
            consensus.servers().len() as f64,
        ),
        (
            "consul.state.nodes".to_string(),
            snapshot.nodes.len() as f64,
        ),
        ("consul.state.services".to_string(), {
            let mut names: Vec<&str> = snapshot
                .services
                .iter()
                .map(|s| s.service.service.as_str())
                .collect();
            names.sort_unstable();
            names.dedup();
            names.len() as f64
        }),
        (
            "consul.state.service_instances".to_string(),
            snapshot.services.len() as f64,
        ),
        (
            "consul.state.kv_entries".to_string(),
            snapshot.kvs.len() as f64,
        ),
        (
            "consul.state.sessions".to_string(),
            snapshot.sessions.len() as f64,
        ),
        (
            "consul.state.config_entries".to_string(),
            view.config_entries(None).len() as f64,
        ),
        ("legate.runtime.uptime_seconds".to_string(), uptime),
    ];
    if let Some(rt) = runtime {
        let m = rt.metrics();
        out.push((
            "legate.runtime.num_workers".to_string(),
            m.num_workers() as f64,
        ));
        out.push((
            "legate.runtime.alive_tasks".to_string(),
            m.num_alive_tasks() as f64,
        ));
    }
    let mut out: Vec<Gauge> = out
        .into_iter()
        .map(|(name, v)| (name, Labels::new(), v))
        .collect();
    out.extend(peering_gauges(agent));
    out.sort_by(|a, b| (&a.0, &a.1).cmp(&(&b.0, &b.1)));
    out
}

/// Per-peering gauges, on the leader (which holds the streams): Consul's
/// `consul.peering.healthy` and `consul.peering.exported_services`, plus our link figures.
fn peering_gauges(agent: &Agent) -> Vec<Gauge> {
    if !agent.server().consensus().is_leader() {
        return Vec::new();
    }
    let registry = agent.peering().registry();
    let mut out = Vec::new();
    for row in agent.server().store().view().peerings() {
        let labels: Labels = [
            ("peer_name".to_string(), row.name.clone()),
            ("peer_id".to_string(), row.id.clone()),
        ]
        .into_iter()
        .collect();
        let link = registry.status(&row.id);
        let state = crate::peering::status::computed_state(&row, link.as_ref().map(|l| &l.tracker));
        let mut gauge = |name: &str, v: f64| out.push((name.to_string(), labels.clone(), v));
        let healthy = state == legate_state::model::PeeringState::Active;
        gauge("consul.peering.healthy", f64::from(u8::from(healthy)));
        let Some(link) = link else {
            continue;
        };
        let t = &link.tracker;
        gauge(
            "consul.peering.exported_services",
            link.exported_services.len() as f64,
        );
        gauge(
            "legate.peering.imported_services",
            link.imported_services.len() as f64,
        );
        if let Some(lag) = t.replication_lag {
            gauge(
                "legate.peering.replication_lag_ms",
                lag.as_secs_f64() * 1000.0,
            );
        }
        gauge("legate.peering.pending_acks", t.pending_acks as f64);
        gauge("legate.peering.messages_sent", t.messages_sent as f64);
        gauge(
            "legate.peering.messages_received",
            t.messages_received as f64,
        );
        gauge("legate.peering.bytes_sent", t.bytes_sent as f64);
        gauge("legate.peering.bytes_received", t.bytes_received as f64);
    }
    out
}

/// Go's `time.Time.String()` in UTC, to the second: `2026-11-22 03:04:00 +0000 UTC`.
fn go_timestamp(unix_secs: u64) -> String {
    let t = time::OffsetDateTime::from_unix_timestamp(i64::try_from(unix_secs).unwrap_or(0))
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    format!(
        "{:04}-{:02}-{:02} {:02}:{:02}:{:02} +0000 UTC",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    )
}

fn aggregate_json(s: &Series) -> Value {
    json!({
        "Name": s.name,
        "Count": s.agg.count,
        "Rate": number(s.agg.sum / INTERVAL.as_secs_f64()),
        "Sum": number(s.agg.sum),
        "Min": number(s.agg.min),
        "Max": number(s.agg.max),
        "Mean": number(s.agg.mean()),
        "Stddev": number(s.agg.stddev()),
        "Labels": s.labels,
    })
}

/// go-metrics' `MetricsSummary` JSON.
fn json_summary(start: u64, gauges: &[Gauge], counters: &[Series], samples: &[Series]) -> Value {
    let gauges: Vec<Value> = gauges
        .iter()
        .map(|(name, labels, v)| json!({"Name": name, "Value": number(*v), "Labels": labels}))
        .collect();
    json!({
        "Timestamp": go_timestamp(start),
        "Gauges": gauges,
        "Points": [],
        "Counters": counters.iter().map(aggregate_json).collect::<Vec<_>>(),
        "Samples": samples.iter().map(aggregate_json).collect::<Vec<_>>(),
    })
}

/// A metric name as Prometheus allows it (`consul.raft.term` → `consul_raft_term`).
fn prom_name(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

fn prom_labels(labels: &Labels) -> String {
    if labels.is_empty() {
        return String::new();
    }
    let parts: Vec<String> = labels
        .iter()
        .map(|(k, v)| {
            let v = v
                .replace('\\', "\\\\")
                .replace('"', "\\\"")
                .replace('\n', "\\n");
            format!("{}=\"{v}\"", prom_name(k))
        })
        .collect();
    format!("{{{}}}", parts.join(","))
}

fn prom_value(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{}", v as i64)
    } else {
        format!("{v}")
    }
}

/// The Prometheus text exposition.
fn prometheus(gauges: &[Gauge], counters: &[Series], samples: &[Series]) -> String {
    let mut out = String::new();
    let header = |out: &mut String, name: &str, kind: &str| {
        out.push_str(&format!("# HELP {name} {name}\n# TYPE {name} {kind}\n"));
    };
    let mut last = String::new();
    for (name, labels, v) in gauges {
        let n = prom_name(name);
        if n != last {
            header(&mut out, &n, "gauge");
            last.clone_from(&n);
        }
        out.push_str(&format!("{n}{} {}\n", prom_labels(labels), prom_value(*v)));
    }
    last.clear();
    for s in counters {
        let n = prom_name(&s.name);
        if n != last {
            header(&mut out, &n, "counter");
            last.clone_from(&n);
        }
        out.push_str(&format!(
            "{n}{} {}\n",
            prom_labels(&s.labels),
            prom_value(s.agg.sum)
        ));
    }
    last.clear();
    for s in samples {
        let n = prom_name(&s.name);
        if n != last {
            header(&mut out, &n, "summary");
            last.clone_from(&n);
        }
        let labels = prom_labels(&s.labels);
        out.push_str(&format!("{n}_sum{labels} {}\n", prom_value(s.agg.sum)));
        out.push_str(&format!("{n}_count{labels} {}\n", s.agg.count));
    }
    out
}

/// `GET /v1/agent/metrics[?format=prometheus]`.
async fn metrics(State(agent): State<AppState>, params: Params) -> Result<Response, ApiError> {
    let gauges = gauges(&agent);
    let (start, counters, samples) = registry().snapshot(SystemTime::now());
    if params.get("format") == Some("prometheus") {
        let body = prometheus(&gauges, &counters, &samples);
        return Ok((
            StatusCode::OK,
            [(
                CONTENT_TYPE,
                HeaderValue::from_static(PROMETHEUS_CONTENT_TYPE),
            )],
            body,
        )
            .into_response());
    }
    reply::json(
        &json_summary(start, &gauges, &counters, &samples),
        params.has("pretty"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aggregate_statistics() {
        let mut a = Aggregate::default();
        for v in [2.0, 4.0, 6.0] {
            a.ingest(v);
        }
        assert_eq!((a.count, a.sum, a.min, a.max), (3, 12.0, 2.0, 6.0));
        assert_eq!(a.mean(), 4.0);
        assert_eq!(a.stddev(), 2.0);
    }

    #[test]
    fn go_timestamp_format() {
        assert_eq!(go_timestamp(0), "1970-01-01 00:00:00 +0000 UTC");
        assert_eq!(go_timestamp(1_795_316_640), "2026-11-22 03:04:00 +0000 UTC");
    }

    #[test]
    fn numbers_look_like_go_floats() {
        assert_eq!(number(42.0), json!(42));
        assert_eq!(number(0.5), json!(0.5));
    }

    #[test]
    fn prometheus_exposition() {
        let gauges = vec![("consul.raft.term".to_string(), Labels::new(), 2.0)];
        let counters = vec![Series {
            name: "legate.http.requests".into(),
            labels: [("method".to_string(), "GET".to_string())]
                .into_iter()
                .collect(),
            agg: Aggregate {
                count: 3,
                sum: 3.0,
                sum_sq: 3.0,
                min: 1.0,
                max: 1.0,
            },
        }];
        let text = prometheus(&gauges, &counters, &[]);
        assert_eq!(
            text,
            "# HELP consul_raft_term consul_raft_term\n# TYPE consul_raft_term gauge\nconsul_raft_term 2\n\
             # HELP legate_http_requests legate_http_requests\n# TYPE legate_http_requests counter\n\
             legate_http_requests{method=\"GET\"} 3\n"
        );
    }

    #[test]
    fn registry_resets_each_interval() {
        let r = Registry::default();
        let t0 = UNIX_EPOCH + Duration::from_secs(100);
        r.with_interval(t0, |i| {
            i.counters
                .entry(("c".into(), Labels::new()))
                .or_default()
                .ingest(1.0);
        });
        assert_eq!(r.snapshot(t0).1.len(), 1);
        assert_eq!(r.snapshot(t0 + INTERVAL).1.len(), 0);
    }
}
