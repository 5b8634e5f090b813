//! `/v1/session`: create, destroy and renew sessions, and read them (one, all, or a node's),
//! blocking on the sessions table. Creation fills Consul's defaults (this agent's node, the
//! `serfHealth` check, a 15 s lock delay, `release`) and validates the behaviour and TTL as
//! Consul's `Session.Apply` does; TTL timers live in [`crate::sessions`].

use axum::Router;
use axum::extract::Path;
use axum::extract::State;
use axum::response::Response;
use axum::routing::get;
use axum::routing::put;
use bytes::Bytes;
use legate_state::Table;
use legate_state::command::Command;
use legate_state::command::CommandResult;
use legate_state::model::Session;
use legate_state::model::SessionBehavior;
use legate_types::go_duration;
use serde::Serialize;
use serde_json::Map;
use serde_json::Value;

use super::AppState;
use super::blocking;
use super::error::ApiError;
use super::kv::method_not_allowed;
use super::query::Params;
use super::reply;
use super::txn::field;
use crate::anti_entropy::SERF_HEALTH_CHECK_ID;

/// Lock delay of a session created without one.
const DEFAULT_LOCK_DELAY_NS: u64 = 15_000_000_000;
/// Numbers below this are seconds, not nanoseconds (Consul's `lockDelayMinThreshold`).
const LOCK_DELAY_MIN_THRESHOLD: i128 = 1000;
/// Shortest TTL a session may have (Consul's `session_ttl_min` default).
const SESSION_TTL_MIN: std::time::Duration = std::time::Duration::from_secs(10);
/// Longest TTL a session may have (Consul's `SessionTTLMax`).
const SESSION_TTL_MAX: std::time::Duration = std::time::Duration::from_secs(24 * 3600);

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/v1/session/create",
            put(create).fallback(method_not_allowed),
        )
        .route(
            "/v1/session/destroy/{id}",
            put(destroy).fallback(method_not_allowed),
        )
        .route(
            "/v1/session/destroy/",
            put(missing_session).fallback(method_not_allowed),
        )
        .route(
            "/v1/session/renew/{id}",
            put(renew).fallback(method_not_allowed),
        )
        .route(
            "/v1/session/renew/",
            put(missing_session).fallback(method_not_allowed),
        )
        .route(
            "/v1/session/info/{id}",
            get(info).fallback(method_not_allowed),
        )
        .route(
            "/v1/session/info/",
            get(missing_session).fallback(method_not_allowed),
        )
        .route(
            "/v1/session/node/{node}",
            get(node).fallback(method_not_allowed),
        )
        .route(
            "/v1/session/node/",
            get(missing_node).fallback(method_not_allowed),
        )
        .route("/v1/session/list", get(list).fallback(method_not_allowed))
}

async fn missing_session() -> ApiError {
    ApiError::BadRequest("Missing session".to_string())
}

async fn missing_node() -> ApiError {
    ApiError::BadRequest("Missing node name".to_string())
}

/// `PUT /v1/session/create` → `{"ID": "<uuid>"}`.
async fn create(
    State(agent): State<AppState>,
    params: Params,
    body: Bytes,
) -> Result<Response, ApiError> {
    let opts = agent.query_options(params)?;
    let request = CreateRequest::decode(&body, &agent.node().name)?;
    let mut session = request.validate()?;
    let view = agent.server().store().view();
    loop {
        session.id = uuid::Uuid::new_v4().to_string();
        if view.session(&session.id).is_none() {
            break;
        }
    }
    match agent
        .server()
        .write(Command::SessionCreate(session.clone()))
        .await?
    {
        CommandResult::Rejected(message) => {
            return Err(ApiError::Internal(format!("apply failed: {message}")));
        }
        _ => agent.session_timers().reset(&session),
    }
    reply::json(&serde_json::json!({ "ID": session.id }), opts.pretty)
}

/// `PUT /v1/session/destroy/{id}` → `true` (also for an unknown session, as Consul).
async fn destroy(
    State(agent): State<AppState>,
    Path(id): Path<String>,
    params: Params,
) -> Result<Response, ApiError> {
    agent.query_options(params)?;
    if agent.server().store().view().session(&id).is_some() {
        let command = Command::SessionDestroy {
            id: id.clone(),
            now_ms: crate::clock::now_unix_ms(),
        };
        if let CommandResult::Rejected(message) = agent.server().write(command).await? {
            return Err(ApiError::Internal(format!("apply failed: {message}")));
        }
    }
    agent.session_timers().clear(&id);
    Ok(reply::bool_body(true))
}

/// `PUT /v1/session/renew/{id}` → `[Session]`, restarting its TTL timer; 404 when unknown.
async fn renew(
    State(agent): State<AppState>,
    Path(id): Path<String>,
    params: Params,
) -> Result<Response, ApiError> {
    let opts = agent.query_options(params)?;
    let Some(session) = agent.server().store().view().session(&id) else {
        return Err(ApiError::NotFound(format!("Session id '{id}' not found")));
    };
    agent.session_timers().reset(&session);
    reply::json(&[SessionJson::from(&session)], opts.pretty)
}

/// `GET /v1/session/info/{id}` → `[Session]`, or `[]` when unknown.
async fn info(
    State(agent): State<AppState>,
    Path(id): Path<String>,
    params: Params,
) -> Result<Response, ApiError> {
    let opts = agent.query_options(params)?;
    let (sessions, meta) = blocking::query(agent.server(), &opts, &[Table::Sessions], |view| {
        let found: Vec<Session> = view.session(&id).into_iter().collect();
        Ok((found, view.table_index(Table::Sessions)))
    })
    .await?;
    sessions_reply(&sessions, opts.pretty, &meta)
}

/// `GET /v1/session/node/{node}` → the node's sessions (`[]` for an unknown node).
async fn node(
    State(agent): State<AppState>,
    Path(node): Path<String>,
    params: Params,
) -> Result<Response, ApiError> {
    let opts = agent.query_options(params)?;
    let (sessions, meta) = blocking::query(agent.server(), &opts, &[Table::Sessions], |view| {
        Ok((view.node_sessions(&node), view.table_index(Table::Sessions)))
    })
    .await?;
    sessions_reply(&sessions, opts.pretty, &meta)
}

/// `GET /v1/session/list` → every session.
async fn list(State(agent): State<AppState>, params: Params) -> Result<Response, ApiError> {
    let opts = agent.query_options(params)?;
    let (sessions, meta) = blocking::query(agent.server(), &opts, &[Table::Sessions], |view| {
        Ok((view.sessions(), view.table_index(Table::Sessions)))
    })
    .await?;
    sessions_reply(&sessions, opts.pretty, &meta)
}

fn sessions_reply(
    sessions: &[Session],
    pretty: bool,
    meta: &reply::QueryMeta,
) -> Result<Response, ApiError> {
    let out: Vec<SessionJson<'_>> = sessions.iter().map(SessionJson::from).collect();
    reply::json_with_meta(&out, pretty, meta)
}

/// A session create request after decoding, before Consul's `Session.Apply` checks.
#[derive(Clone, Debug, PartialEq)]
struct CreateRequest {
    name: String,
    node: String,
    lock_delay_ns: i128,
    behavior: String,
    ttl: String,
    node_checks: Vec<String>,
    service_checks: Vec<String>,
    /// The pre-1.7 `Checks` field; `None` when absent or `null`.
    checks: Option<Vec<String>>,
}

impl CreateRequest {
    /// Consul's defaults overlaid with the optional body, then `fixupEmptySessionChecks`.
    fn decode(body: &Bytes, local_node: &str) -> Result<CreateRequest, ApiError> {
        let serf = || vec![SERF_HEALTH_CHECK_ID.to_string()];
        let mut request = CreateRequest {
            name: String::new(),
            node: local_node.to_string(),
            lock_delay_ns: i128::from(DEFAULT_LOCK_DELAY_NS),
            behavior: "release".to_string(),
            ttl: String::new(),
            node_checks: serf(),
            service_checks: Vec::new(),
            checks: Some(serf()),
        };
        if !body.iter().all(u8::is_ascii_whitespace) {
            let value: Value = serde_json::from_slice(body).map_err(ApiError::decode)?;
            let Value::Object(map) = value else {
                return Err(ApiError::decode(
                    "json: cannot unmarshal non-object into Go value of type structs.Session",
                ));
            };
            request.overlay(&map).map_err(ApiError::decode)?;
        }
        // Fix up the deprecated `Checks` field as Consul does.
        match &request.checks {
            None => request.node_checks.clear(),
            Some(c) if c.is_empty() => request.node_checks.clear(),
            Some(c) if c.len() == 1 && c[0] == SERF_HEALTH_CHECK_ID => request.checks = None,
            Some(_) if request.node_checks.is_empty() => request.checks = None,
            Some(_) => {}
        }
        Ok(request)
    }

    /// Apply the fields present in a create body.
    fn overlay(&mut self, map: &Map<String, Value>) -> Result<(), String> {
        if let Some(v) = field(map, "Name") {
            self.name = string_field("Name", v)?;
        }
        if let Some(v) = field(map, "Node") {
            self.node = string_field("Node", v)?;
        }
        if let Some(v) = field(map, "Behavior") {
            self.behavior = string_field("Behavior", v)?;
        }
        if let Some(v) = field(map, "TTL") {
            self.ttl = string_field("TTL", v)?;
        }
        if let Some(ns) = field(map, "LockDelay")
            .map(lock_delay)
            .transpose()?
            .flatten()
        {
            self.lock_delay_ns = ns;
        }
        if let Some(v) = field(map, "NodeChecks") {
            self.node_checks = string_list("NodeChecks", v)?.unwrap_or_default();
        }
        if let Some(v) = field(map, "Checks") {
            self.checks = string_list("Checks", v)?;
        }
        if let Some(v) = field(map, "ServiceChecks") {
            self.service_checks = service_checks(v)?;
        }
        Ok(())
    }

    /// Consul's `Session.Apply` checks: a node, a known behaviour, a TTL in range.
    fn validate(self) -> Result<Session, ApiError> {
        if self.node.is_empty() {
            return Err(ApiError::Internal("Must provide Node".to_string()));
        }
        let behavior = match self.behavior.as_str() {
            "" | "release" => SessionBehavior::Release,
            "delete" => SessionBehavior::Delete,
            other => {
                return Err(ApiError::Internal(format!(
                    "Invalid Behavior setting '{other}'"
                )));
            }
        };
        if !self.ttl.is_empty() {
            let ttl = go_duration::parse_signed(&self.ttl).map_err(|err| {
                ApiError::Internal(format!("Session TTL '{}' invalid: {err}", self.ttl))
            })?;
            let min = i128::try_from(SESSION_TTL_MIN.as_nanos()).unwrap_or(i128::MAX);
            let max = i128::try_from(SESSION_TTL_MAX.as_nanos()).unwrap_or(i128::MAX);
            if ttl != 0 && (ttl < min || ttl > max) {
                return Err(ApiError::Internal(format!(
                    "Invalid Session TTL '{ttl}', must be between [{}={}]",
                    go_duration::format(SESSION_TTL_MIN),
                    go_duration::format(SESSION_TTL_MAX)
                )));
            }
        }
        let mut node_checks = self.node_checks;
        for check in self.checks.unwrap_or_default() {
            if !node_checks.contains(&check) {
                node_checks.push(check);
            }
        }
        Ok(Session {
            id: String::new(),
            name: self.name,
            node: self.node,
            node_checks,
            service_checks: self.service_checks,
            lock_delay_ns: u64::try_from(self.lock_delay_ns.max(0)).unwrap_or(u64::MAX),
            behavior,
            ttl: self.ttl,
            create_index: 0,
            modify_index: 0,
        })
    }
}

fn string_field(name: &str, value: &Value) -> Result<String, String> {
    match value {
        Value::Null => Ok(String::new()),
        Value::String(s) => Ok(s.clone()),
        other => Err(format!(
            "json: cannot unmarshal {} into Go struct field Session.{name} of type string",
            kind(other)
        )),
    }
}

/// A list of strings; `None` for `null`.
fn string_list(name: &str, value: &Value) -> Result<Option<Vec<String>>, String> {
    match value {
        Value::Null => Ok(None),
        Value::Array(items) => items
            .iter()
            .map(|item| match item {
                Value::String(s) => Ok(s.clone()),
                other => Err(format!(
                    "json: cannot unmarshal {} into Go struct field Session.{name} of type string",
                    kind(other)
                )),
            })
            .collect::<Result<Vec<_>, _>>()
            .map(Some),
        other => Err(format!(
            "json: cannot unmarshal {} into Go struct field Session.{name} of type []string",
            kind(other)
        )),
    }
}

/// `ServiceChecks: [{"ID": …, "Namespace": …}]`, keeping the IDs.
fn service_checks(value: &Value) -> Result<Vec<String>, String> {
    match value {
        Value::Null => Ok(Vec::new()),
        Value::Array(items) => items
            .iter()
            .map(|item| match item {
                Value::Object(check) => match field(check, "ID") {
                    None | Some(Value::Null) => Ok(String::new()),
                    Some(id) => string_field("ServiceChecks.ID", id),
                },
                other => Err(format!(
                    "json: cannot unmarshal {} into Go struct field Session.ServiceChecks of type structs.ServiceCheck",
                    kind(other)
                )),
            })
            .collect(),
        other => Err(format!(
            "json: cannot unmarshal {} into Go struct field Session.ServiceChecks of type []structs.ServiceCheck",
            kind(other)
        )),
    }
}

/// `LockDelay` as a Go duration string or a number of nanoseconds; values below 1000 are
/// seconds. `None` for `null` and other kinds, which Consul ignores.
fn lock_delay(value: &Value) -> Result<Option<i128>, String> {
    let ns = match value {
        Value::String(s) => go_duration::parse_signed(s).map_err(|e| e.to_string())?,
        // Go decodes JSON numbers as float64 and truncates to a Duration.
        Value::Number(n) => n.as_f64().map_or(0, |f| f as i64).into(),
        _ => return Ok(None),
    };
    Ok(Some(if ns < LOCK_DELAY_MIN_THRESHOLD {
        ns * 1_000_000_000
    } else {
        ns
    }))
}

fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "bool",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// Consul's `Session` JSON.
#[derive(Debug, Serialize)]
struct SessionJson<'a> {
    #[serde(rename = "ID")]
    id: &'a str,
    #[serde(rename = "Name")]
    name: &'a str,
    #[serde(rename = "Node")]
    node: &'a str,
    /// Nanoseconds.
    #[serde(rename = "LockDelay")]
    lock_delay: u64,
    #[serde(rename = "Behavior")]
    behavior: &'static str,
    #[serde(rename = "TTL")]
    ttl: &'a str,
    #[serde(rename = "NodeChecks")]
    node_checks: &'a [String],
    #[serde(rename = "ServiceChecks")]
    service_checks: Option<Vec<ServiceCheckJson<'a>>>,
    #[serde(rename = "CreateIndex")]
    create_index: u64,
    #[serde(rename = "ModifyIndex")]
    modify_index: u64,
}

#[derive(Debug, Serialize)]
struct ServiceCheckJson<'a> {
    #[serde(rename = "ID")]
    id: &'a str,
    #[serde(rename = "Namespace")]
    namespace: &'static str,
}

impl<'a> From<&'a Session> for SessionJson<'a> {
    fn from(s: &'a Session) -> Self {
        SessionJson {
            id: &s.id,
            name: &s.name,
            node: &s.node,
            lock_delay: s.lock_delay_ns,
            behavior: match s.behavior {
                SessionBehavior::Release => "release",
                SessionBehavior::Delete => "delete",
            },
            ttl: &s.ttl,
            node_checks: &s.node_checks,
            service_checks: (!s.service_checks.is_empty()).then(|| {
                s.service_checks
                    .iter()
                    .map(|id| ServiceCheckJson { id, namespace: "" })
                    .collect()
            }),
            create_index: s.create_index,
            modify_index: s.modify_index,
        }
    }
}

#[cfg(test)]
mod tests {
    use http::StatusCode;

    use super::*;

    fn decode(body: &str) -> Result<CreateRequest, ApiError> {
        CreateRequest::decode(&Bytes::from(body.to_string()), "node1")
    }

    #[test]
    fn routes_build_without_conflicts() {
        let _ = routes();
    }

    #[test]
    fn empty_body_gives_consul_defaults() {
        let s = decode("").unwrap().validate().unwrap();
        assert_eq!(s.node, "node1");
        assert_eq!(s.node_checks, ["serfHealth"]);
        assert_eq!(s.lock_delay_ns, 15_000_000_000);
        assert_eq!(s.behavior, SessionBehavior::Release);
        assert_eq!(s.ttl, "");
    }

    #[test]
    fn body_fields_override_defaults() {
        let s = decode(
            r#"{"Name":"n","Node":"other","LockDelay":"1s","Behavior":"delete","TTL":"30s",
                "NodeChecks":["a"],"ServiceChecks":[{"ID":"svc:1","Namespace":""}]}"#,
        )
        .unwrap()
        .validate()
        .unwrap();
        assert_eq!(s.name, "n");
        assert_eq!(s.node, "other");
        assert_eq!(s.lock_delay_ns, 1_000_000_000);
        assert_eq!(s.behavior, SessionBehavior::Delete);
        assert_eq!(s.ttl, "30s");
        assert_eq!(s.node_checks, ["a"]);
        assert_eq!(s.service_checks, ["svc:1"]);
    }

    #[test]
    fn lock_delay_small_numbers_are_seconds() {
        let ns = |body: &str| decode(body).unwrap().lock_delay_ns;
        assert_eq!(ns(r#"{"LockDelay":5}"#), 5_000_000_000);
        assert_eq!(ns(r#"{"lockdelay":2500000000}"#), 2_500_000_000);
        assert_eq!(ns(r#"{"LockDelay":"0s"}"#), 0);
        assert_eq!(ns(r#"{"LockDelay":"15ns"}"#), 15_000_000_000);
        let err = decode(r#"{"LockDelay":"soon"}"#).unwrap_err();
        assert_eq!(err.status(), StatusCode::BAD_REQUEST);
        assert!(err.to_string().starts_with("Request decode failed: "));
    }

    #[test]
    fn deprecated_checks_field_fixups() {
        assert!(decode(r#"{"Checks":[]}"#).unwrap().node_checks.is_empty());
        assert!(
            decode(r#"{"NodeChecks":[]}"#)
                .unwrap()
                .validate()
                .unwrap()
                .node_checks
                .is_empty()
        );
        let s = decode(r#"{"Checks":["a"]}"#).unwrap().validate().unwrap();
        assert_eq!(s.node_checks, ["serfHealth", "a"]);
    }

    #[test]
    fn validation_errors_match_consul() {
        let err = |body: &str| decode(body).unwrap().validate().unwrap_err();
        let e = err(r#"{"Behavior":"keep"}"#);
        assert_eq!(e.status(), StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(e.to_string(), "Invalid Behavior setting 'keep'");
        assert_eq!(
            err(r#"{"TTL":"5s"}"#).to_string(),
            "Invalid Session TTL '5000000000', must be between [10s=24h0m0s]"
        );
        assert_eq!(
            err(r#"{"TTL":"25h"}"#).to_string(),
            "Invalid Session TTL '90000000000000', must be between [10s=24h0m0s]"
        );
        assert_eq!(
            err(r#"{"TTL":"x"}"#).to_string(),
            r#"Session TTL 'x' invalid: time: invalid duration "x""#
        );
        assert_eq!(err(r#"{"Node":""}"#).to_string(), "Must provide Node");
        assert!(decode(r#"{"TTL":"0s"}"#).unwrap().validate().is_ok());
        assert!(decode(r#"{"TTL":"10s"}"#).unwrap().validate().is_ok());
    }

    #[test]
    fn session_json_shape() {
        let s = Session {
            id: "id1".into(),
            name: "n".into(),
            node: "node1".into(),
            node_checks: vec!["serfHealth".into()],
            service_checks: Vec::new(),
            lock_delay_ns: 15_000_000_000,
            behavior: SessionBehavior::Release,
            ttl: "".into(),
            create_index: 7,
            modify_index: 7,
        };
        assert_eq!(
            serde_json::to_string(&SessionJson::from(&s)).unwrap(),
            r#"{"ID":"id1","Name":"n","Node":"node1","LockDelay":15000000000,"Behavior":"release","TTL":"","NodeChecks":["serfHealth"],"ServiceChecks":null,"CreateIndex":7,"ModifyIndex":7}"#
        );
        let with_service = Session {
            service_checks: vec!["c".into()],
            ..s
        };
        let json = serde_json::to_value(SessionJson::from(&with_service)).unwrap();
        assert_eq!(
            json["ServiceChecks"],
            serde_json::json!([{"ID": "c", "Namespace": ""}])
        );
    }
}
