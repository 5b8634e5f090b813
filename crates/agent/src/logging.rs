//! Logging in Consul's hclog shape (`2026-01-02T03:04:05.678Z [INFO]  agent: message: k=v`),
//! or JSON lines with `-log-json`, written to stdout and fanned out to `/v1/agent/monitor`
//! subscribers. Log wording is part of the de facto interface (launchers wait for
//! `cluster leadership acquired`).

use std::fmt::Write as _;
use std::io::Write as _;
use std::sync::OnceLock;

use time::OffsetDateTime;
use time::macros::format_description;
use tokio::sync::broadcast;
use tracing::Event;
use tracing::Level;
use tracing::Subscriber;
use tracing::field::Field;
use tracing::field::Visit;
use tracing_subscriber::Layer;
use tracing_subscriber::filter::LevelFilter;
use tracing_subscriber::filter::Targets;
use tracing_subscriber::layer::Context;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

static MONITOR: OnceLock<broadcast::Sender<(Level, String)>> = OnceLock::new();

/// Lines kept for a slow monitor subscriber before it starts missing some.
const MONITOR_BUFFER: usize = 512;

/// Parse a Consul log level (`trace`, `debug`, `info`, `warn`, `err`/`error`).
pub fn parse_level(level: &str) -> Option<Level> {
    match level.to_ascii_lowercase().as_str() {
        "trace" => Some(Level::TRACE),
        "debug" => Some(Level::DEBUG),
        "" | "info" => Some(Level::INFO),
        "warn" | "warning" => Some(Level::WARN),
        "err" | "error" => Some(Level::ERROR),
        _ => None,
    }
}

/// Install the global logger. Safe to call once per process; later calls do nothing.
pub fn init(level: Level, json: bool) {
    let layer = HclogLayer { json };
    // Libraries speak up only for warnings unless the operator asked for trace.
    let libraries = if level == Level::TRACE {
        LevelFilter::TRACE
    } else {
        LevelFilter::WARN
    };
    let filter = Targets::new()
        .with_default(LevelFilter::from_level(level))
        .with_target("openraft", libraries)
        .with_target("hyper", libraries)
        .with_target("h2", libraries)
        .with_target("reqwest", libraries)
        .with_target("rustls", libraries);
    let _ = tracing_subscriber::registry()
        .with(layer.with_filter(filter))
        .try_init();
}

/// Subscribe to formatted log lines (for `/v1/agent/monitor`).
pub fn subscribe() -> broadcast::Receiver<(Level, String)> {
    monitor().subscribe()
}

fn monitor() -> &'static broadcast::Sender<(Level, String)> {
    MONITOR.get_or_init(|| broadcast::channel(MONITOR_BUFFER).0)
}

struct HclogLayer {
    json: bool,
}

#[derive(Default)]
struct Fields {
    message: String,
    pairs: Vec<(String, String)>,
}

impl Visit for Fields {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        if field.name() == "message" {
            let _ = write!(self.message, "{value:?}");
        } else {
            self.pairs
                .push((field.name().to_string(), format!("{value:?}")));
        }
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "message" {
            self.message.push_str(value);
        } else {
            self.pairs
                .push((field.name().to_string(), value.to_string()));
        }
    }
}

fn level_text(level: Level) -> &'static str {
    match level {
        Level::TRACE => "[TRACE] ",
        Level::DEBUG => "[DEBUG] ",
        Level::INFO => "[INFO]  ",
        Level::WARN => "[WARN]  ",
        Level::ERROR => "[ERROR] ",
    }
}

/// The logger name hclog would print: our targets are already short (`agent`, `agent.http`);
/// Rust module paths become their last two segments.
fn logger_name(target: &str) -> String {
    if !target.contains("::") {
        return target.to_string();
    }
    target.trim_start_matches("legate_").replace("::", ".")
}

impl<S: Subscriber> Layer<S> for HclogLayer {
    fn on_event(&self, event: &Event<'_>, _ctx: Context<'_, S>) {
        let mut fields = Fields::default();
        event.record(&mut fields);
        let level = *event.metadata().level();
        let now = OffsetDateTime::now_utc();
        let stamp = now
            .format(format_description!(
                "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z"
            ))
            .unwrap_or_default();
        let name = logger_name(event.metadata().target());
        let line = if self.json {
            let mut obj = serde_json::Map::new();
            obj.insert("@level".into(), level.as_str().to_ascii_lowercase().into());
            obj.insert("@message".into(), fields.message.clone().into());
            obj.insert("@module".into(), name.into());
            obj.insert("@timestamp".into(), stamp.into());
            for (k, v) in fields.pairs {
                obj.insert(k, v.into());
            }
            serde_json::Value::Object(obj).to_string()
        } else {
            let mut line = format!("{stamp} {}{name}: {}", level_text(level), fields.message);
            if !fields.pairs.is_empty() {
                line.push(':');
                for (k, v) in &fields.pairs {
                    let _ = write!(line, " {k}={v}");
                }
            }
            line
        };
        let mut stdout = std::io::stdout().lock();
        let _ = writeln!(stdout, "{line}");
        let _ = monitor().send((level, line));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_consul_levels() {
        assert_eq!(parse_level("trace"), Some(Level::TRACE));
        assert_eq!(parse_level("ERR"), Some(Level::ERROR));
        assert_eq!(parse_level("warn"), Some(Level::WARN));
        assert_eq!(parse_level("loud"), None);
    }

    #[test]
    fn logger_names_are_short() {
        assert_eq!(logger_name("agent"), "agent");
        assert_eq!(logger_name("legate_consensus::raft"), "consensus.raft");
    }
}
