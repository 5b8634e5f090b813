//! `/v1/kv/{key}`: Consul's key/value store. GET reads one key, a prefix (`?recurse`) or key
//! names (`?keys`, `?separator`), raw (`?raw`) or as KVPair JSON, blocking on the KV table;
//! PUT writes the body as the value (`?flags`, `?cas`, `?acquire`, `?release`); DELETE removes
//! a key or a prefix (`?recurse`, `?cas`). Writes answer `true`/`false`.

use axum::Router;
use axum::extract::Path;
use axum::extract::State;
use axum::response::IntoResponse;
use axum::response::Response;
use axum::routing::MethodRouter;
use axum::routing::get;
use base64::Engine;
use bytes::Bytes;
use http::HeaderValue;
use http::Method;
use http::StatusCode;
use http::Uri;
use legate_state::Table;
use legate_state::command::Command;
use legate_state::command::CommandResult;
use legate_state::command::KvOp;
use legate_state::command::KvVerb;
use legate_state::model::KvEntry;
use serde::Serialize;

use super::AppState;
use super::blocking;
use super::error::ApiError;
use super::query::Params;
use super::query::QueryOptions;
use super::reply;
use super::reply::QueryMeta;

/// Largest value a KV write accepts (Consul's `kv_max_value_size` default, Raft's suggested
/// maximum entry size).
pub(super) const KV_MAX_VALUE_SIZE: usize = 512 * 1024;

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/v1/kv/", kv_methods(root_get, root_put, root_delete))
        .route("/v1/kv/{*key}", kv_methods(key_get, key_put, key_delete))
}

/// GET, PUT and DELETE, and Consul's 405 for anything else.
fn kv_methods<G, P, D, TG, TP, TD>(g: G, p: P, d: D) -> MethodRouter<AppState>
where
    G: axum::handler::Handler<TG, AppState>,
    P: axum::handler::Handler<TP, AppState>,
    D: axum::handler::Handler<TD, AppState>,
    TG: 'static,
    TP: 'static,
    TD: 'static,
{
    get(g).put(p).delete(d).fallback(method_not_allowed)
}

/// Consul's answer to a method a path does not take.
pub(super) async fn method_not_allowed(method: Method) -> ApiError {
    ApiError::MethodNotAllowed(method.to_string())
}

async fn root_get(State(agent): State<AppState>, params: Params) -> Result<Response, ApiError> {
    read(&agent, String::new(), params).await
}

async fn key_get(
    State(agent): State<AppState>,
    Path(key): Path<String>,
    params: Params,
) -> Result<Response, ApiError> {
    read(&agent, key, params).await
}

async fn root_put(
    State(agent): State<AppState>,
    uri: Uri,
    params: Params,
    body: Bytes,
) -> Result<Response, ApiError> {
    write(&agent, String::new(), &uri, &params, body).await
}

async fn key_put(
    State(agent): State<AppState>,
    Path(key): Path<String>,
    uri: Uri,
    params: Params,
    body: Bytes,
) -> Result<Response, ApiError> {
    write(&agent, key, &uri, &params, body).await
}

async fn root_delete(
    State(agent): State<AppState>,
    uri: Uri,
    params: Params,
) -> Result<Response, ApiError> {
    delete(&agent, String::new(), &uri, &params).await
}

async fn key_delete(
    State(agent): State<AppState>,
    Path(key): Path<String>,
    uri: Uri,
    params: Params,
) -> Result<Response, ApiError> {
    delete(&agent, key, &uri, &params).await
}

/// What a GET asks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum ReadMode {
    /// `?keys`: key names under the prefix.
    Keys,
    /// `?recurse`: every entry under the prefix.
    Recurse,
    /// One key.
    Single,
}

impl ReadMode {
    /// `?keys` wins over `?recurse`; a single read needs a key.
    fn of(params: &Params, key: &str) -> Result<ReadMode, ApiError> {
        if params.has("keys") {
            Ok(ReadMode::Keys)
        } else if params.has("recurse") {
            Ok(ReadMode::Recurse)
        } else if key.is_empty() {
            Err(missing_key())
        } else {
            Ok(ReadMode::Single)
        }
    }
}

fn missing_key() -> ApiError {
    ApiError::BadRequest("Missing key name".to_string())
}

async fn read(agent: &AppState, key: String, params: Params) -> Result<Response, ApiError> {
    let opts = agent.query_options(params)?;
    let server = agent.server();
    match ReadMode::of(&opts.params, &key)? {
        ReadMode::Keys => {
            // Both spellings, the later (correct) one winning, as Consul.
            let separator = opts
                .params
                .get("separator")
                .or_else(|| opts.params.get("seperator"))
                .map(str::to_string);
            let (keys, meta) = blocking::query(server, &opts, &[Table::Kvs], |view| {
                Ok((
                    view.kv_keys(&key, separator.as_deref()),
                    view.kv_index(&key),
                ))
            })
            .await?;
            // The root answers an empty list rather than 404.
            if keys.is_empty() && !key.is_empty() {
                return Ok(not_found(&meta));
            }
            reply::json_with_meta(&keys, opts.pretty, &meta)
        }
        ReadMode::Recurse => {
            let (entries, meta) = blocking::query(server, &opts, &[Table::Kvs], |view| {
                Ok((view.kv_list(&key), view.kv_index(&key)))
            })
            .await?;
            entries_reply(&entries, &opts, &meta)
        }
        ReadMode::Single => {
            let (entry, meta) = blocking::query(server, &opts, &[Table::Kvs], |view| {
                let entry = view.kv_get(&key);
                // A present key reports its own ModifyIndex, a missing one the table's.
                let index = entry
                    .as_ref()
                    .map_or_else(|| view.table_index(Table::Kvs), |e| e.modify_index);
                Ok((entry, index))
            })
            .await?;
            let Some(entry) = entry else {
                return Ok(not_found(&meta));
            };
            if opts.params.has("raw") {
                return Ok(raw(&entry, &meta));
            }
            entries_reply(std::slice::from_ref(&entry), &opts, &meta)
        }
    }
}

fn entries_reply(
    entries: &[KvEntry],
    opts: &QueryOptions,
    meta: &QueryMeta,
) -> Result<Response, ApiError> {
    if entries.is_empty() {
        return Ok(not_found(meta));
    }
    let pairs: Vec<KvPair<'_>> = entries.iter().map(KvPair::from).collect();
    reply::json_with_meta(&pairs, opts.pretty, meta)
}

/// Consul's KV 404: empty body, query metadata headers.
fn not_found(meta: &QueryMeta) -> Response {
    let mut response = StatusCode::NOT_FOUND.into_response();
    reply::add_meta(&mut response, meta);
    response
}

/// `?raw`: the value bytes, with the headers Consul sets so browsers never run them.
fn raw(entry: &KvEntry, meta: &QueryMeta) -> Response {
    let body = entry.value.clone().unwrap_or_default();
    let mut response = (StatusCode::OK, body).into_response();
    let headers = response.headers_mut();
    headers.insert(
        http::header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain"),
    );
    headers.insert(
        "X-Content-Type-Options",
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        "Content-Security-Policy",
        HeaderValue::from_static("sandbox"),
    );
    reply::add_meta(&mut response, meta);
    response
}

async fn write(
    agent: &AppState,
    key: String,
    uri: &Uri,
    params: &Params,
    body: Bytes,
) -> Result<Response, ApiError> {
    check_dc(agent, params)?;
    if key.is_empty() {
        return Err(missing_key());
    }
    conflicting_flags(uri, params, &["cas", "acquire", "release"])?;
    let mut op = KvOp {
        verb: KvVerb::Set,
        key,
        value: None,
        flags: 0,
        index: 0,
        session: None,
        now_ms: crate::clock::now_unix_ms(),
    };
    if params.has("flags") {
        op.flags = parse_go_uint(params.get("flags").unwrap_or_default())?;
    }
    if params.has("cas") {
        op.index = parse_go_uint(params.get("cas").unwrap_or_default())?;
        op.verb = KvVerb::Cas;
    }
    if let Some(session) = params.get("acquire") {
        op.session = Some(session.to_string());
        op.verb = KvVerb::Lock;
    }
    if let Some(session) = params.get("release") {
        op.session = Some(session.to_string());
        op.verb = KvVerb::Unlock;
    }
    if body.len() > KV_MAX_VALUE_SIZE {
        return Err(ApiError::TooLarge(format!(
            "Request body({} bytes) too large, max size: {KV_MAX_VALUE_SIZE} bytes. See \
             https://developer.hashicorp.com/docs/agent/config/config-files#kv_max_value_size.",
            body.len()
        )));
    }
    if !body.is_empty() {
        op.value = Some(body.to_vec());
    }
    let conditional = op.verb != KvVerb::Set;
    let applied = apply(agent, op).await?;
    Ok(reply::bool_body(!conditional || applied))
}

async fn delete(
    agent: &AppState,
    key: String,
    uri: &Uri,
    params: &Params,
) -> Result<Response, ApiError> {
    check_dc(agent, params)?;
    conflicting_flags(uri, params, &["recurse", "cas"])?;
    let mut op = KvOp {
        verb: KvVerb::Delete,
        key,
        value: None,
        flags: 0,
        index: 0,
        session: None,
        now_ms: crate::clock::now_unix_ms(),
    };
    if params.has("recurse") {
        op.verb = KvVerb::DeleteTree;
    } else if op.key.is_empty() {
        return Err(missing_key());
    }
    if params.has("cas") {
        op.index = parse_go_uint(params.get("cas").unwrap_or_default())?;
        op.verb = KvVerb::DeleteCas;
    }
    let conditional = op.verb == KvVerb::DeleteCas;
    let applied = apply(agent, op).await?;
    Ok(reply::bool_body(!conditional || applied))
}

/// Writes go to this datacenter only until federation exists.
fn check_dc(agent: &AppState, params: &Params) -> Result<(), ApiError> {
    if params
        .non_empty("dc")
        .is_some_and(|dc| dc != agent.node().datacenter)
    {
        return Err(ApiError::NoPathToDatacenter);
    }
    Ok(())
}

/// Propose one KV operation; `true` unless a conditional write did not take effect.
async fn apply(agent: &AppState, op: KvOp) -> Result<bool, ApiError> {
    match agent.server().write(Command::Kv(op)).await? {
        CommandResult::Bool(applied) => Ok(applied),
        CommandResult::Rejected(message) => {
            Err(ApiError::Internal(format!("raft apply failed: {message}")))
        }
        _ => Ok(true),
    }
}

/// Consul's `conflictingFlags`: at most one of `flags` may be present; otherwise 400 with the
/// query re-encoded as Go's `url.Values.Encode` writes it.
fn conflicting_flags(uri: &Uri, params: &Params, flags: &[&str]) -> Result<(), ApiError> {
    let present = flags.iter().filter(|f| params.has(f)).count();
    if present > 1 {
        return Err(ApiError::BadRequest(format!(
            "Conflicting flags: {}",
            go_encode_query(uri.query())
        )));
    }
    Ok(())
}

/// A query string re-encoded as Go's `url.Values.Encode`: sorted by key, values in order.
pub(super) fn go_encode_query(query: Option<&str>) -> String {
    let mut pairs: Vec<(String, String)> = query
        .map(|q| form_urlencoded::parse(q.as_bytes()).into_owned().collect())
        .unwrap_or_default();
    pairs.sort_by(|a, b| a.0.cmp(&b.0));
    let mut out = form_urlencoded::Serializer::new(String::new());
    for (k, v) in &pairs {
        out.append_pair(k, v);
    }
    out.finish()
}

/// Go's `strconv.ParseUint(s, 10, 64)`, failing with its error text (a 500 in Consul).
pub(super) fn parse_go_uint(s: &str) -> Result<u64, ApiError> {
    let all_digits = !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if !all_digits {
        return Err(ApiError::Internal(format!(
            "strconv.ParseUint: parsing {s:?}: invalid syntax"
        )));
    }
    s.parse().map_err(|_| {
        ApiError::Internal(format!(
            "strconv.ParseUint: parsing {s:?}: value out of range"
        ))
    })
}

/// Consul's `DirEntry` JSON: `Session` only when set, `Value` base64 or `null`.
#[derive(Debug, Serialize)]
pub(super) struct KvPair<'a> {
    #[serde(rename = "LockIndex")]
    lock_index: u64,
    #[serde(rename = "Key")]
    key: &'a str,
    #[serde(rename = "Flags")]
    flags: u64,
    #[serde(rename = "Value")]
    value: Option<String>,
    #[serde(rename = "Session", skip_serializing_if = "Option::is_none")]
    session: Option<&'a str>,
    #[serde(rename = "CreateIndex")]
    create_index: u64,
    #[serde(rename = "ModifyIndex")]
    modify_index: u64,
}

impl<'a> From<&'a KvEntry> for KvPair<'a> {
    fn from(entry: &'a KvEntry) -> Self {
        KvPair {
            lock_index: entry.lock_index,
            key: &entry.key,
            flags: entry.flags,
            value: entry
                .value
                .as_ref()
                .map(|v| base64::engine::general_purpose::STANDARD.encode(v)),
            session: entry.session.as_deref().filter(|s| !s.is_empty()),
            create_index: entry.create_index,
            modify_index: entry.modify_index,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes_build_without_conflicts() {
        let _ = routes();
    }

    #[test]
    fn kv_pair_matches_consul_shape() {
        let entry = KvEntry {
            key: "a/b".into(),
            flags: 42,
            value: Some(b"hello".to_vec()),
            session: None,
            lock_index: 0,
            create_index: 5,
            modify_index: 6,
        };
        let json = serde_json::to_string(&KvPair::from(&entry)).unwrap();
        assert_eq!(
            json,
            r#"{"LockIndex":0,"Key":"a/b","Flags":42,"Value":"aGVsbG8=","CreateIndex":5,"ModifyIndex":6}"#
        );
        let locked = KvEntry {
            value: None,
            session: Some("s1".into()),
            lock_index: 1,
            ..entry
        };
        let json = serde_json::to_string(&KvPair::from(&locked)).unwrap();
        assert_eq!(
            json,
            r#"{"LockIndex":1,"Key":"a/b","Flags":42,"Value":null,"Session":"s1","CreateIndex":5,"ModifyIndex":6}"#
        );
    }

    #[test]
    fn read_mode_rules() {
        let p = |q: &str| Params::parse(Some(q));
        assert_eq!(
            ReadMode::of(&p("keys&recurse"), "").unwrap(),
            ReadMode::Keys
        );
        assert_eq!(ReadMode::of(&p("recurse"), "").unwrap(), ReadMode::Recurse);
        assert_eq!(ReadMode::of(&p(""), "k").unwrap(), ReadMode::Single);
        let err = ReadMode::of(&p("raw"), "").unwrap_err();
        assert_eq!(err.status(), StatusCode::BAD_REQUEST);
        assert_eq!(err.to_string(), "Missing key name");
    }

    #[test]
    fn go_uint_errors_match_strconv() {
        assert_eq!(parse_go_uint("17").unwrap(), 17);
        assert_eq!(
            parse_go_uint("x").unwrap_err().to_string(),
            r#"strconv.ParseUint: parsing "x": invalid syntax"#
        );
        assert_eq!(
            parse_go_uint("").unwrap_err().to_string(),
            r#"strconv.ParseUint: parsing "": invalid syntax"#
        );
        assert_eq!(
            parse_go_uint("-1").unwrap_err().to_string(),
            r#"strconv.ParseUint: parsing "-1": invalid syntax"#
        );
        assert_eq!(
            parse_go_uint("99999999999999999999")
                .unwrap_err()
                .to_string(),
            r#"strconv.ParseUint: parsing "99999999999999999999": value out of range"#
        );
    }

    #[test]
    fn query_is_reencoded_sorted_like_go() {
        assert_eq!(
            go_encode_query(Some("cas=1&acquire=a b")),
            "acquire=a+b&cas=1"
        );
        assert_eq!(go_encode_query(Some("release&cas")), "cas=&release=");
        assert_eq!(go_encode_query(None), "");
    }

    #[test]
    fn conflicting_flags_reports_query() {
        let uri: Uri = "/v1/kv/x?release=s&cas=3".parse().unwrap();
        let params = Params::parse(uri.query());
        let err = conflicting_flags(&uri, &params, &["cas", "acquire", "release"]).unwrap_err();
        assert_eq!(err.status(), StatusCode::BAD_REQUEST);
        assert_eq!(err.to_string(), "Conflicting flags: cas=3&release=s");
        let ok: Uri = "/v1/kv/x?cas=3&flags=1".parse().unwrap();
        assert!(conflicting_flags(&ok, &Params::parse(ok.query()), &["cas", "acquire"]).is_ok());
    }
}
