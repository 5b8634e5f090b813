//! Local checks: list, register, deregister, and TTL updates (pass/warn/fail/update).

use std::collections::BTreeMap;

use axum::extract::Path;
use axum::extract::State;
use axum::response::Response;
use bytes::Bytes;
use legate_state::model::health;
use serde::Deserialize;
use serde_json::Value;

use crate::checks::CheckSource;
use crate::definition::CheckDefinition;
use crate::http::AppState;
use crate::http::body;
use crate::http::error::ApiError;
use crate::http::query::Params;
use crate::http::reply;
use crate::http::shapes;
use crate::registration;

pub(super) async fn list(
    State(agent): State<AppState>,
    params: Params,
) -> Result<Response, ApiError> {
    let opts = agent.query_options(params)?;
    let checks: BTreeMap<String, Value> = agent
        .local()
        .snapshot()
        .checks
        .values()
        .map(|c| (c.check.check_id.clone(), shapes::health_check(&c.check)))
        .collect();
    reply::json(&opts.filter_map(checks)?, opts.pretty)
}

pub(super) async fn register(
    State(agent): State<AppState>,
    params: Params,
    body: Bytes,
) -> Result<Response, ApiError> {
    agent.query_options(params)?;
    let value = body::decode_object(&body)?;
    let definition =
        CheckDefinition::from_value(&value).map_err(|err| ApiError::BadRequest(err.to_string()))?;
    registration::register_check(&agent, &definition, CheckSource::Api)?;
    Ok(reply::empty())
}

pub(super) async fn deregister(
    State(agent): State<AppState>,
    Path(id): Path<String>,
    params: Params,
) -> Result<Response, ApiError> {
    agent.query_options(params)?;
    registration::deregister_check(&agent, &id)?;
    Ok(reply::empty())
}

fn ttl(
    agent: &AppState,
    id: &str,
    status: &'static str,
    output: &str,
) -> Result<Response, ApiError> {
    agent
        .runners()
        .ttl_update(id, status, output)
        // Consul answers 500 with this text, and clients match on it to re-register.
        .map_err(|err| ApiError::Internal(err.to_string()))?;
    agent.local().update_check(id, status, output);
    Ok(reply::empty())
}

/// `PUT /v1/agent/check/{pass,warn,fail}/{id}?note=`: the handler for one fixed status.
pub(super) fn ttl_status(
    status: &'static str,
) -> impl Fn(State<AppState>, Path<String>, Params) -> std::future::Ready<Result<Response, ApiError>>
+ Clone
+ Send
+ 'static {
    move |State(agent), Path(id), params| {
        std::future::ready(ttl(&agent, &id, status, params.get("note").unwrap_or("")))
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct UpdateBody {
    #[serde(rename = "Status", alias = "status")]
    status: String,
    #[serde(rename = "Output", alias = "output")]
    output: String,
}

pub(super) async fn update(
    State(agent): State<AppState>,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let update: UpdateBody = body::decode(&body)?;
    let status = match update.status.as_str() {
        health::PASSING => health::PASSING,
        health::WARNING => health::WARNING,
        health::CRITICAL => health::CRITICAL,
        other => {
            return Err(ApiError::BadRequest(format!(
                "Invalid check status: '{other}'"
            )));
        }
    };
    ttl(&agent, &id, status, &update.output)
}
