//! `/v1/config`: central config entries. `PUT /v1/config` decodes, normalises and validates an
//! entry (see [`crate::config_entry`]) and writes it through Raft (`?cas=` for check-and-set);
//! `GET /v1/config/{kind}[/{name}]` reads one entry or lists a kind (blocking on the config-entry
//! table); `DELETE /v1/config/{kind}/{name}` removes one (200 also when it does not exist).

use axum::Router;
use axum::extract::Path;
use axum::extract::State;
use axum::response::Response;
use axum::routing::get;
use axum::routing::put;
use bytes::Bytes;
use http::Method;
use legate_state::Table;
use legate_state::command::Command;
use legate_state::command::CommandResult;
use legate_state::model::ConfigEntry;
use serde_json::Value;

use super::AppState;
use super::blocking;
use super::body;
use super::error::ApiError;
use super::query::Params;
use super::reply;
use crate::config_entry;
use crate::config_entry::EntryError;

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/v1/config", put(apply).fallback(not_allowed))
        .route(
            "/v1/config/{*rest}",
            get(read).delete(delete).fallback(not_allowed),
        )
}

async fn not_allowed(method: Method) -> ApiError {
    ApiError::MethodNotAllowed(method.to_string())
}

/// The entry as Consul returns it: its fields, then the Raft indexes.
pub(crate) fn entry_json(entry: &ConfigEntry) -> Value {
    let mut body = match &entry.body {
        Value::Object(map) => map.clone(),
        _ => serde_json::Map::new(),
    };
    body.insert("CreateIndex".into(), Value::from(entry.create_index));
    body.insert("ModifyIndex".into(), Value::from(entry.modify_index));
    Value::Object(body)
}

/// `?cas=`: parsed as Go's `strconv.ParseUint`, whose failure Consul answers with a 500.
fn cas(params: &Params) -> Result<Option<u64>, ApiError> {
    match params.non_empty("cas") {
        None => Ok(None),
        Some(v) => v.parse().map(Some).map_err(|_| {
            ApiError::Internal(format!("strconv.ParseUint: parsing {v:?}: invalid syntax"))
        }),
    }
}

fn write_result(result: CommandResult) -> Result<bool, ApiError> {
    match result {
        CommandResult::Bool(b) => Ok(b),
        CommandResult::Ok => Ok(true),
        CommandResult::Rejected(message) => Err(ApiError::BadRequest(message)),
        other => Err(ApiError::Internal(format!("unexpected result {other:?}"))),
    }
}

/// `PUT /v1/config`.
async fn apply(
    State(agent): State<AppState>,
    params: Params,
    body: Bytes,
) -> Result<Response, ApiError> {
    agent.query_options(params.clone())?;
    let raw = body::decode_optional_value(&body)
        .map_err(|err| ApiError::BadRequest(format!("Request decoding failed: {err}")))?
        .unwrap_or(Value::Null);
    let entry = config_entry::decode(&raw).map_err(|err| match err {
        EntryError::Decode(m) => ApiError::BadRequest(format!("Request decoding failed: {m}")),
        // Consul answers its Normalize/Validate failures with a 500; we answer 400 because the
        // request, not the server, is at fault (see the lead's brief).
        other => ApiError::BadRequest(other.to_string()),
    })?;
    config_entry::chain::check_protocol(&entry.kind, &entry.name, &agent.server().store().view())
        .map_err(|err| ApiError::BadRequest(err.to_string()))?;
    let cas = cas(&params)?;
    let command = Command::ConfigSet {
        entry: ConfigEntry {
            kind: entry.kind,
            name: entry.name,
            body: entry.body,
            create_index: 0,
            modify_index: 0,
        },
        cas,
    };
    let done = write_result(agent.server().write(command).await?)?;
    Ok(reply::bool_body(done))
}

/// `GET /v1/config/{kind}` and `GET /v1/config/{kind}/{name}`.
async fn read(
    State(agent): State<AppState>,
    Path(rest): Path<String>,
    params: Params,
) -> Result<Response, ApiError> {
    let opts = agent.query_options(params)?;
    let (kind, name) = match rest.split_once('/') {
        Some((kind, name)) => (kind.to_string(), Some(name.to_string())),
        None => (rest.clone(), None),
    };
    if !kind.is_empty() {
        // Consul's RPC layer rejects the kind with a plain error, which HTTP answers as a 500.
        config_entry::check_kind(&kind).map_err(|e| ApiError::Internal(e.to_string()))?;
    }
    let server = agent.server();
    match name {
        Some(name) => {
            let (found, meta) = blocking::query(server, &opts, &[Table::ConfigEntries], |view| {
                let entry = view.config_entry(&kind, &name);
                Ok((entry, view.table_index(Table::ConfigEntries)))
            })
            .await?;
            let Some(entry) = found else {
                return Err(ApiError::NotFound(format!(
                    "Config entry not found for {kind:?} / {name:?}"
                )));
            };
            reply::json_with_meta(&entry_json(&entry), opts.pretty, &meta)
        }
        None => {
            let filter = (!kind.is_empty()).then_some(kind.as_str());
            let (entries, meta) = blocking::query(server, &opts, &[Table::ConfigEntries], |view| {
                let entries: Vec<Value> =
                    view.config_entries(filter).iter().map(entry_json).collect();
                Ok((entries, view.table_index(Table::ConfigEntries)))
            })
            .await?;
            let entries = opts.filter(entries)?;
            reply::json_with_meta(&entries, opts.pretty, &meta)
        }
    }
}

/// `DELETE /v1/config/{kind}/{name}`: `{}` normally, `true`/`false` with `?cas=`.
async fn delete(
    State(agent): State<AppState>,
    Path(rest): Path<String>,
    params: Params,
) -> Result<Response, ApiError> {
    agent.query_options(params.clone())?;
    let Some((kind, name)) = rest.split_once('/') else {
        return Err(ApiError::NotFound(
            "Must provide both a kind and name to delete".to_string(),
        ));
    };
    let name = config_entry::delete_name(kind, name).map_err(|err| match err {
        EntryError::Decode(m) => ApiError::BadRequest(m),
        other => ApiError::Internal(other.to_string()),
    })?;
    let cas = cas(&params)?;
    let command = Command::ConfigDelete {
        kind: kind.to_string(),
        name,
        cas,
    };
    let deleted = write_result(agent.server().write(command).await?)?;
    if cas.is_some() {
        Ok(reply::bool_body(deleted))
    } else {
        reply::json(&serde_json::json!({}), false)
    }
}
