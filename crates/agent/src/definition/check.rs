//! Check definitions: decoding (`PUT /v1/agent/check/register`, a service's `Check`/`Checks`,
//! agent config files), Consul's `CheckType.Validate` rules, the check kind, and the
//! `HealthCheck` state record the agent stores for a registered check.

use std::collections::BTreeMap;
use std::time::Duration;

use legate_state::model::HealthCheck;
use legate_state::model::Service;
use legate_state::model::health;
use legate_types::go_duration;
use serde_json::Map;
use serde_json::Value;

use super::error::DefinitionError;
use super::fields::Fields;

/// Default cap on captured check output (Consul's `check_output_max_size`).
pub const DEFAULT_OUTPUT_MAX_SIZE: usize = 4096;

/// Normalised keys a check definition may carry (config files reject anything else).
const KNOWN_KEYS: &[&str] = &[
    "id",
    "checkid",
    "name",
    "notes",
    "serviceid",
    "token",
    "status",
    "scriptargs",
    "args",
    "http",
    "h2ping",
    "h2pingusetls",
    "header",
    "method",
    "body",
    "disableredirects",
    "tcp",
    "tcpusetls",
    "udp",
    "interval",
    "dockercontainerid",
    "shell",
    "grpc",
    "grpcusetls",
    "osservice",
    "tlsservername",
    "tlsskipverify",
    "aliasnode",
    "aliasservice",
    "timeout",
    "ttl",
    "successbeforepassing",
    "failuresbeforewarning",
    "failuresbeforecritical",
    "deregistercriticalserviceafter",
    "outputmaxsize",
    "namespace",
    "partition",
];

/// What a check does to decide its status.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum CheckKind {
    /// Status is pushed through `/v1/agent/check/{pass,warn,fail,update}`; critical when the
    /// TTL runs out without an update.
    Ttl {
        /// Time allowed between updates.
        ttl: Duration,
    },
    /// An HTTP request: 2xx passing, 429 warning, anything else critical.
    Http {
        /// Target URL, as given.
        url: String,
        /// Request method (`GET` when not given).
        method: String,
        /// Extra request headers.
        header: BTreeMap<String, Vec<String>>,
        /// Request body.
        body: String,
        /// Accept any server certificate.
        tls_skip_verify: bool,
        /// SNI / verification name override.
        tls_server_name: String,
        /// Report the first response instead of following redirects.
        disable_redirects: bool,
    },
    /// A TCP connect to `host:port`.
    Tcp {
        /// `host:port`.
        addr: String,
    },
    /// A UDP datagram to `host:port`; a read timeout counts as passing.
    Udp {
        /// `host:port`.
        addr: String,
    },
    /// A `grpc.health.v1.Health/Check` call to `host:port[/service]`.
    Grpc {
        /// `host:port` optionally followed by `/service`.
        target: String,
        /// Connect with TLS.
        use_tls: bool,
        /// Accept any server certificate.
        tls_skip_verify: bool,
    },
    /// A command run directly (no shell): exit 0 passing, 1 warning, else critical.
    Script {
        /// Program and arguments.
        args: Vec<String>,
    },
    /// Mirrors the health of another node or service.
    Alias {
        /// Aliased node (`""` = this agent's node).
        node: String,
        /// Aliased service ID.
        service_id: String,
    },
}

/// A check as registered with the agent.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CheckDefinition {
    /// Check ID (`""` inside a service definition until [`super::ServiceDefinition::check_definitions`]
    /// assigns `service:<id>`).
    pub id: String,
    /// Display name.
    pub name: String,
    /// Free-form notes kept on the check.
    pub notes: String,
    /// Owning service ID, `""` for a node check.
    pub service_id: String,
    /// Initial status, if given (validated to passing/warning/critical).
    pub status: Option<String>,
    /// What the check does.
    pub kind: CheckKind,
    /// Run interval for interval checks.
    pub interval: Option<Duration>,
    /// Per-run timeout (defaults differ per kind).
    pub timeout: Option<Duration>,
    /// Deregister the owning service after being critical this long.
    pub deregister_critical_service_after: Option<Duration>,
    /// Consecutive successes needed before reporting passing.
    pub success_before_passing: u32,
    /// Consecutive failures before reporting warning (0 = same as critical).
    pub failures_before_warning: u32,
    /// Consecutive failures before reporting critical.
    pub failures_before_critical: u32,
    /// Output cap in bytes (0 = [`DEFAULT_OUTPUT_MAX_SIZE`]).
    pub output_max_size: usize,
}

impl CheckDefinition {
    /// Decodes a standalone check (`/v1/agent/check/register`) leniently: unknown keys are
    /// ignored. The ID defaults to the name.
    pub fn from_value(v: &Value) -> Result<Self, DefinitionError> {
        Self::from_value_opts(v, false)
    }

    /// Decodes a standalone check; with `strict` (config files) unknown keys are an error.
    pub fn from_value_opts(v: &Value, strict: bool) -> Result<Self, DefinitionError> {
        let fields = Fields::new(v, "CheckDefinition")?;
        if strict {
            fields.reject_unknown(KNOWN_KEYS, "check")?;
        }
        let raw = RawCheck::decode(&fields)?;
        if raw.name.is_empty() {
            return Err(DefinitionError::MissingCheckName);
        }
        if !raw.status.is_empty() && status_str(&raw.status).is_none() {
            return Err(DefinitionError::BadCheckStatus);
        }
        raw.validate()?;
        let mut def = raw.into_definition()?;
        if def.id.is_empty() {
            def.id = def.name.clone();
        }
        Ok(def)
    }

    /// Decodes one check of a service definition. `Ok(None)` for an empty object, which
    /// Consul drops.
    pub(crate) fn from_service_value(
        v: &Value,
        strict: bool,
        path: &str,
    ) -> Result<Option<Self>, DefinitionError> {
        let fields = Fields::new(v, "CheckType")?;
        if strict {
            fields.reject_unknown(KNOWN_KEYS, path)?;
        }
        let raw = RawCheck::decode(&fields)?;
        if raw.is_empty() {
            return Ok(None);
        }
        raw.validate()?;
        if !raw.status.is_empty() && status_str(&raw.status).is_none() {
            return Err(DefinitionError::BadServiceCheckStatus);
        }
        raw.into_definition().map(Some)
    }

    /// Consul's check type string: `ttl`, `http`, `tcp`, `udp`, `grpc`, `script` or `alias`.
    pub fn check_type(&self) -> &'static str {
        match self.kind {
            CheckKind::Ttl { .. } => "ttl",
            CheckKind::Http { .. } => "http",
            CheckKind::Tcp { .. } => "tcp",
            CheckKind::Udp { .. } => "udp",
            CheckKind::Grpc { .. } => "grpc",
            CheckKind::Script { .. } => "script",
            CheckKind::Alias { .. } => "alias",
        }
    }

    /// The status a new check starts in: the given `Status`, else critical.
    pub fn initial_status(&self) -> &'static str {
        self.status
            .as_deref()
            .and_then(status_str)
            .unwrap_or(health::CRITICAL)
    }

    /// The output cap with the default applied.
    pub fn effective_output_max_size(&self) -> usize {
        if self.output_max_size == 0 {
            DEFAULT_OUTPUT_MAX_SIZE
        } else {
            self.output_max_size
        }
    }

    /// The state record for this check on `node`, owned by `service` when given.
    pub fn to_health_check(&self, node: &str, service: Option<&Service>) -> HealthCheck {
        HealthCheck {
            node: node.to_string(),
            check_id: self.id.clone(),
            name: self.name.clone(),
            status: self.initial_status().to_string(),
            notes: self.notes.clone(),
            output: String::new(),
            service_id: service.map_or_else(|| self.service_id.clone(), |s| s.id.clone()),
            service_name: service.map(|s| s.service.clone()).unwrap_or_default(),
            service_tags: service.map(|s| s.tags.clone()).unwrap_or_default(),
            check_type: self.check_type().to_string(),
            interval: self.interval.map(go_duration::format).unwrap_or_default(),
            timeout: self.timeout.map(go_duration::format).unwrap_or_default(),
            // Consul keeps the definition of agent-run checks in the agent, not the catalog.
            definition: Value::Object(Map::new()),
            peer_name: String::new(),
            create_index: 0,
            modify_index: 0,
        }
    }

    /// Consul's `HealthCheckDefinition` JSON: zero fields omitted, durations as Go strings
    /// (except `TTL`, which Consul emits in nanoseconds), in Go's field order.
    pub fn definition_json(&self) -> Value {
        let mut m = Map::new();
        let dur = |m: &mut Map<String, Value>, key: &str, d: Option<Duration>| {
            if let Some(d) = d.filter(|d| !d.is_zero()) {
                m.insert(
                    key.into(),
                    Value::String(legate_types::go_duration::format(d)),
                );
            }
        };
        dur(&mut m, "Interval", self.interval);
        if self.output_max_size > 0 {
            m.insert("OutputMaxSize".into(), Value::from(self.output_max_size));
        }
        dur(&mut m, "Timeout", self.timeout);
        dur(
            &mut m,
            "DeregisterCriticalServiceAfter",
            self.deregister_critical_service_after,
        );
        let text = |m: &mut Map<String, Value>, key: &str, s: &str| {
            if !s.is_empty() {
                m.insert(key.into(), Value::String(s.to_string()));
            }
        };
        let flag = |m: &mut Map<String, Value>, key: &str, b: bool| {
            if b {
                m.insert(key.into(), Value::Bool(true));
            }
        };
        match &self.kind {
            CheckKind::Http {
                url,
                method,
                header,
                body,
                tls_skip_verify,
                tls_server_name,
                disable_redirects,
            } => {
                text(&mut m, "HTTP", url);
                text(&mut m, "TLSServerName", tls_server_name);
                flag(&mut m, "TLSSkipVerify", *tls_skip_verify);
                if !header.is_empty() {
                    let h: Map<String, Value> = header
                        .iter()
                        .map(|(k, vs)| (k.clone(), Value::from(vs.clone())))
                        .collect();
                    m.insert("Header".into(), Value::Object(h));
                }
                text(&mut m, "Method", method);
                text(&mut m, "Body", body);
                flag(&mut m, "DisableRedirects", *disable_redirects);
            }
            CheckKind::Tcp { addr } => text(&mut m, "TCP", addr),
            CheckKind::Udp { addr } => text(&mut m, "UDP", addr),
            CheckKind::Script { args } => {
                m.insert("ScriptArgs".into(), Value::from(args.clone()));
            }
            CheckKind::Grpc {
                target,
                use_tls,
                tls_skip_verify,
            } => {
                flag(&mut m, "TLSSkipVerify", *tls_skip_verify);
                text(&mut m, "GRPC", target);
                flag(&mut m, "GRPCUseTLS", *use_tls);
            }
            CheckKind::Alias { node, service_id } => {
                text(&mut m, "AliasNode", node);
                text(&mut m, "AliasService", service_id);
            }
            CheckKind::Ttl { ttl } => {
                let nanos = u64::try_from(ttl.as_nanos()).unwrap_or(u64::MAX);
                m.insert("TTL".into(), Value::from(nanos));
            }
        }
        Value::Object(m)
    }
}

/// Maps a valid status string to its constant.
fn status_str(s: &str) -> Option<&'static str> {
    match s {
        "passing" => Some(health::PASSING),
        "warning" => Some(health::WARNING),
        "critical" => Some(health::CRITICAL),
        _ => None,
    }
}

/// Every field of Consul's `CheckType`/`CheckDefinition`, as decoded, before validation.
#[derive(Debug, Default, PartialEq)]
struct RawCheck {
    id: String,
    name: String,
    notes: String,
    service_id: String,
    status: String,
    script_args: Vec<String>,
    http: String,
    h2ping: String,
    header: BTreeMap<String, Vec<String>>,
    method: String,
    body: String,
    disable_redirects: bool,
    tcp: String,
    udp: String,
    interval: Duration,
    docker_container_id: String,
    grpc: String,
    grpc_use_tls: bool,
    os_service: String,
    tls_server_name: String,
    tls_skip_verify: bool,
    alias_node: String,
    alias_service: String,
    timeout: Duration,
    ttl: Duration,
    success_before_passing: i64,
    failures_before_warning: i64,
    failures_before_critical: i64,
    deregister_critical_service_after: Duration,
    output_max_size: i64,
}

impl RawCheck {
    fn decode(f: &Fields<'_>) -> Result<Self, DefinitionError> {
        Ok(RawCheck {
            id: f.string(&["id", "checkid"], "ID")?,
            name: f.string(&["name"], "Name")?,
            notes: f.string(&["notes"], "Notes")?,
            service_id: f.string(&["serviceid"], "ServiceID")?,
            status: f.string(&["status"], "Status")?,
            script_args: f.strings(&["scriptargs", "args"], "ScriptArgs")?,
            http: f.string(&["http"], "HTTP")?,
            h2ping: f.string(&["h2ping"], "H2PING")?,
            header: f.header_map(&["header"], "Header")?,
            method: f.string(&["method"], "Method")?,
            body: f.string(&["body"], "Body")?,
            disable_redirects: f.boolean(&["disableredirects"], "DisableRedirects")?,
            tcp: f.string(&["tcp"], "TCP")?,
            udp: f.string(&["udp"], "UDP")?,
            interval: f.duration(&["interval"])?,
            docker_container_id: f.string(&["dockercontainerid"], "DockerContainerID")?,
            grpc: f.string(&["grpc"], "GRPC")?,
            grpc_use_tls: f.boolean(&["grpcusetls"], "GRPCUseTLS")?,
            os_service: f.string(&["osservice"], "OSService")?,
            tls_server_name: f.string(&["tlsservername"], "TLSServerName")?,
            tls_skip_verify: f.boolean(&["tlsskipverify"], "TLSSkipVerify")?,
            alias_node: f.string(&["aliasnode"], "AliasNode")?,
            alias_service: f.string(&["aliasservice"], "AliasService")?,
            timeout: f.duration(&["timeout"])?,
            ttl: f.duration(&["ttl"])?,
            success_before_passing: f.int(&["successbeforepassing"], "SuccessBeforePassing")?,
            failures_before_warning: f.int(&["failuresbeforewarning"], "FailuresBeforeWarning")?,
            failures_before_critical: f
                .int(&["failuresbeforecritical"], "FailuresBeforeCritical")?,
            deregister_critical_service_after: f.duration(&["deregistercriticalserviceafter"])?,
            output_max_size: f.int(&["outputmaxsize"], "OutputMaxSize")?,
        })
    }

    fn is_empty(&self) -> bool {
        *self == RawCheck::default()
    }

    fn is_alias(&self) -> bool {
        !self.alias_node.is_empty() || !self.alias_service.is_empty()
    }

    /// Consul's `CheckType.Validate`, in its order and with its texts.
    fn validate(&self) -> Result<(), DefinitionError> {
        let invalid = |msg: &str| Err(DefinitionError::InvalidCheck(msg.to_string()));
        let interval_check = !self.script_args.is_empty()
            || !self.http.is_empty()
            || !self.tcp.is_empty()
            || !self.udp.is_empty()
            || !self.grpc.is_empty()
            || !self.h2ping.is_empty()
            || !self.os_service.is_empty();
        let has_interval = !self.interval.is_zero();
        let has_ttl = !self.ttl.is_zero();
        if has_interval && has_ttl {
            return invalid("Interval and TTL cannot both be specified");
        }
        if interval_check && !has_interval {
            return invalid(
                "Interval must be > 0 for Script, HTTP, H2PING, TCP, UDP or OSService checks",
            );
        }
        if interval_check && self.is_alias() {
            return invalid("Interval cannot be set for Alias checks");
        }
        if self.is_alias() && has_ttl {
            return invalid("TTL must be not be set for Alias checks");
        }
        if !interval_check && !self.is_alias() && !has_ttl {
            return invalid("TTL must be > 0 for TTL checks");
        }
        if self.output_max_size < 0 {
            return invalid("MaxOutputMaxSize must be positive");
        }
        if self.failures_before_warning > self.failures_before_critical {
            return invalid("FailuresBeforeWarning can't be higher than FailuresBeforeCritical");
        }
        Ok(())
    }

    /// Picks the kind in Consul's `CheckType.Type()` priority order. Call after `validate`.
    fn into_definition(self) -> Result<CheckDefinition, DefinitionError> {
        let kind = if !self.grpc.is_empty() {
            CheckKind::Grpc {
                target: self.grpc,
                use_tls: self.grpc_use_tls,
                tls_skip_verify: self.tls_skip_verify,
            }
        } else if !self.http.is_empty() {
            CheckKind::Http {
                url: self.http,
                method: self.method,
                header: self.header,
                body: self.body,
                tls_skip_verify: self.tls_skip_verify,
                tls_server_name: self.tls_server_name,
                disable_redirects: self.disable_redirects,
            }
        } else if !self.ttl.is_zero() {
            CheckKind::Ttl { ttl: self.ttl }
        } else if !self.tcp.is_empty() {
            CheckKind::Tcp { addr: self.tcp }
        } else if !self.udp.is_empty() {
            CheckKind::Udp { addr: self.udp }
        } else if !self.alias_node.is_empty() || !self.alias_service.is_empty() {
            CheckKind::Alias {
                node: self.alias_node,
                service_id: self.alias_service,
            }
        } else if !self.script_args.is_empty() {
            if !self.docker_container_id.is_empty() {
                return Err(DefinitionError::UnsupportedCheck("docker"));
            }
            CheckKind::Script {
                args: self.script_args,
            }
        } else if !self.h2ping.is_empty() {
            return Err(DefinitionError::UnsupportedCheck("h2ping"));
        } else {
            return Err(DefinitionError::UnsupportedCheck("os_service"));
        };
        let count = |n: i64| u32::try_from(n.max(0)).unwrap_or(u32::MAX);
        let some = |d: Duration| (!d.is_zero()).then_some(d);
        Ok(CheckDefinition {
            id: self.id,
            name: self.name,
            notes: self.notes,
            service_id: self.service_id,
            status: (!self.status.is_empty()).then_some(self.status),
            kind,
            interval: some(self.interval),
            timeout: some(self.timeout),
            deregister_critical_service_after: some(self.deregister_critical_service_after),
            success_before_passing: count(self.success_before_passing),
            failures_before_warning: count(self.failures_before_warning),
            failures_before_critical: count(self.failures_before_critical),
            output_max_size: usize::try_from(self.output_max_size.max(0)).unwrap_or(usize::MAX),
        })
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn err(v: Value) -> String {
        CheckDefinition::from_value(&v).unwrap_err().to_string()
    }

    #[test]
    fn ttl_check_pascal_case() {
        let def = CheckDefinition::from_value(&json!({"Name": "mem", "TTL": "15s", "Notes": "n"}))
            .unwrap();
        assert_eq!(def.id, "mem");
        assert_eq!(
            def.kind,
            CheckKind::Ttl {
                ttl: Duration::from_secs(15)
            }
        );
        assert_eq!(def.check_type(), "ttl");
        assert_eq!(def.initial_status(), "critical");
        assert_eq!(def.notes, "n");
    }

    #[test]
    fn http_check_snake_case() {
        let def = CheckDefinition::from_value(&json!({
            "id": "web", "name": "Web", "http": "http://localhost:8500/", "interval": "10s",
            "tls_skip_verify": true, "tls_server_name": "x", "method": "POST",
            "header": {"X-A": ["1", "2"]}, "body": "{}", "service_id": "svc",
            "deregister_critical_service_after": "90m", "status": "passing", "timeout": 1_000_000_000u64
        }))
        .unwrap();
        assert_eq!(def.id, "web");
        assert_eq!(def.service_id, "svc");
        assert_eq!(def.interval, Some(Duration::from_secs(10)));
        assert_eq!(def.timeout, Some(Duration::from_secs(1)));
        assert_eq!(
            def.deregister_critical_service_after,
            Some(Duration::from_secs(5400))
        );
        assert_eq!(def.initial_status(), "passing");
        match &def.kind {
            CheckKind::Http {
                url,
                method,
                header,
                tls_skip_verify,
                tls_server_name,
                body,
                ..
            } => {
                assert_eq!(url, "http://localhost:8500/");
                assert_eq!(method, "POST");
                assert_eq!(header["X-A"], vec!["1", "2"]);
                assert!(*tls_skip_verify);
                assert_eq!(tls_server_name, "x");
                assert_eq!(body, "{}");
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn kinds_and_aliases() {
        let cases = [
            (
                json!({"Name": "a", "TCP": "127.0.0.1:1", "Interval": "1s"}),
                "tcp",
            ),
            (
                json!({"Name": "a", "UDP": "127.0.0.1:1", "Interval": "1s"}),
                "udp",
            ),
            (
                json!({"Name": "a", "GRPC": "127.0.0.1:1/svc", "grpc_use_tls": true, "Interval": "1s"}),
                "grpc",
            ),
            (
                json!({"Name": "a", "args": ["/bin/true"], "Interval": "1s"}),
                "script",
            ),
            (
                json!({"Name": "a", "ScriptArgs": ["/bin/true"], "Interval": "1s"}),
                "script",
            ),
            (
                json!({"Name": "a", "script_args": ["/bin/true"], "Interval": "1s"}),
                "script",
            ),
            (json!({"Name": "a", "AliasService": "web"}), "alias"),
        ];
        for (v, want) in cases {
            assert_eq!(
                CheckDefinition::from_value(&v).unwrap().check_type(),
                want,
                "{v}"
            );
        }
    }

    #[test]
    fn consul_error_texts() {
        let cases = [
            (json!({"TTL": "10s"}), "Missing check name"),
            (
                json!({"Name": "a", "TTL": "10s", "Status": "ok"}),
                "Bad check status",
            ),
            (
                json!({"Name": "a"}),
                "Invalid check: TTL must be > 0 for TTL checks",
            ),
            (
                json!({"Name": "a", "TTL": "0s"}),
                "Invalid check: TTL must be > 0 for TTL checks",
            ),
            (
                json!({"Name": "a", "HTTP": "http://x"}),
                "Invalid check: Interval must be > 0 for Script, HTTP, H2PING, TCP, UDP or OSService checks",
            ),
            (
                json!({"Name": "a", "TCP": "x:1", "Interval": "-1s"}),
                "Invalid check: Interval must be > 0 for Script, HTTP, H2PING, TCP, UDP or OSService checks",
            ),
            (
                json!({"Name": "a", "TTL": "1s", "Interval": "1s"}),
                "Invalid check: Interval and TTL cannot both be specified",
            ),
            (
                json!({"Name": "a", "AliasService": "x", "TCP": "x:1", "Interval": "1s"}),
                "Invalid check: Interval cannot be set for Alias checks",
            ),
            (
                json!({"Name": "a", "AliasService": "x", "TTL": "1s"}),
                "Invalid check: TTL must be not be set for Alias checks",
            ),
            (
                json!({"Name": "a", "TTL": "1s", "OutputMaxSize": -1}),
                "Invalid check: MaxOutputMaxSize must be positive",
            ),
            (
                json!({"Name": "a", "TTL": "1s", "FailuresBeforeWarning": 2}),
                "Invalid check: FailuresBeforeWarning can't be higher than FailuresBeforeCritical",
            ),
            (
                json!({"Name": "a", "TTL": "soon"}),
                "Request decode failed: time: invalid duration \"soon\"",
            ),
            (
                json!({"Name": "a", "H2PING": "x:1", "Interval": "1s"}),
                "Invalid check: h2ping checks are not supported by this agent",
            ),
        ];
        for (v, want) in cases {
            assert_eq!(err(v.clone()), want, "{v}");
        }
    }

    #[test]
    fn strict_mode_rejects_unknown_keys() {
        let v = json!({"name": "a", "ttl": "1s", "frobnicate": true});
        assert!(CheckDefinition::from_value(&v).is_ok());
        assert_eq!(
            CheckDefinition::from_value_opts(&v, true)
                .unwrap_err()
                .to_string(),
            "invalid config key check.frobnicate"
        );
    }

    #[test]
    fn health_check_record_and_definition_json() {
        let def = CheckDefinition::from_value(&json!({
            "ID": "c1", "Name": "web", "HTTP": "http://x/", "Interval": "10s", "Timeout": "1s",
            "Notes": "keep me", "Header": {"A": ["b"]}
        }))
        .unwrap();
        let svc = Service {
            id: "web-1".into(),
            service: "web".into(),
            tags: vec!["t".into()],
            ..Default::default()
        };
        let hc = def.to_health_check("node1", Some(&svc));
        assert_eq!(hc.node, "node1");
        assert_eq!(hc.check_id, "c1");
        assert_eq!(hc.status, "critical");
        assert_eq!(hc.notes, "keep me");
        assert_eq!(hc.service_id, "web-1");
        assert_eq!(hc.service_name, "web");
        assert_eq!(hc.service_tags, vec!["t".to_string()]);
        assert_eq!(hc.check_type, "http");
        assert_eq!((hc.interval.as_str(), hc.timeout.as_str()), ("10s", "1s"));
        // The catalog record of an agent-run check carries no definition, as in Consul.
        assert_eq!(hc.definition, json!({}));
        assert_eq!(
            serde_json::to_string(&def.definition_json()).unwrap(),
            r#"{"Interval":"10s","Timeout":"1s","HTTP":"http://x/","Header":{"A":["b"]}}"#
        );
    }
}
