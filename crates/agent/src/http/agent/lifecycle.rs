//! Maintenance modes, reload, leave, force-leave, join and the log monitor.

use std::convert::Infallible;

use axum::body::Body;
use axum::extract::Path;
use axum::extract::State;
use axum::response::Response;
use bytes::Bytes;
use futures::StreamExt;
use tokio_stream::wrappers::BroadcastStream;

use crate::http::AppState;
use crate::http::error::ApiError;
use crate::http::query::Params;
use crate::http::reply;
use crate::logging;
use crate::registration;

/// `?enable=` as Consul reads it: required, and a Go boolean.
fn enable_param(params: &Params) -> Result<bool, ApiError> {
    let value = params
        .get("enable")
        .ok_or_else(|| ApiError::BadRequest("Missing value for enable".into()))?;
    match value {
        "1" | "t" | "T" | "true" | "TRUE" | "True" => Ok(true),
        "0" | "f" | "F" | "false" | "FALSE" | "False" => Ok(false),
        other => Err(ApiError::BadRequest(format!(
            "Invalid value for enable: {other:?}"
        ))),
    }
}

pub(super) async fn node_maintenance(
    State(agent): State<AppState>,
    params: Params,
) -> Result<Response, ApiError> {
    let enable = enable_param(&params)?;
    registration::node_maintenance(&agent, enable, params.get("reason").unwrap_or(""));
    Ok(reply::empty())
}

pub(super) async fn service_maintenance(
    State(agent): State<AppState>,
    Path(id): Path<String>,
    params: Params,
) -> Result<Response, ApiError> {
    let enable = enable_param(&params)?;
    registration::service_maintenance(&agent, &id, enable, params.get("reason").unwrap_or(""))?;
    Ok(reply::empty())
}

pub(super) async fn reload(State(agent): State<AppState>) -> Result<Response, ApiError> {
    let old = agent.config();
    let new = old
        .reload()
        .map_err(|err| ApiError::Internal(format!("Failed to reload configs: {err}")))?;
    registration::reload_config_definitions(&agent, &old, &new)?;
    agent.set_config(new);
    tracing::info!(target: "agent", "Reloaded configuration");
    Ok(reply::empty())
}

pub(super) async fn leave(State(agent): State<AppState>) -> Result<Response, ApiError> {
    tracing::info!(target: "agent", "Graceful leave requested through the API");
    if let Some(lan) = agent.lan()
        && let Err(err) = lan.leave().await
    {
        tracing::warn!(target: "agent", error = %err, "leaving the LAN pool failed");
    }
    agent.shutdown();
    Ok(reply::empty())
}

pub(super) async fn force_leave(
    State(agent): State<AppState>,
    Path(node): Path<String>,
    params: Params,
) -> Result<Response, ApiError> {
    let Some(lan) = agent.lan() else {
        return Err(ApiError::Internal("gossip is disabled".to_string()));
    };
    lan.force_leave(&node, params.flag("prune"))
        .await
        .map_err(|err| ApiError::Internal(err.to_string()))?;
    agent.members_changed();
    Ok(reply::empty())
}

pub(super) async fn join(
    State(agent): State<AppState>,
    Path(address): Path<String>,
    params: Params,
) -> Result<Response, ApiError> {
    if params.flag("wan") {
        return Err(ApiError::Internal(
            "WAN federation is not available yet in this Legate build".to_string(),
        ));
    }
    crate::membership::join(&agent, &[address])
        .await
        .map_err(ApiError::Internal)?;
    Ok(reply::empty())
}

pub(super) async fn monitor(params: Params) -> Result<Response, ApiError> {
    let level_name = params.get("loglevel").unwrap_or("info");
    let level = logging::parse_level(level_name)
        .ok_or_else(|| ApiError::BadRequest(format!("Unknown log level: {level_name}")))?;
    // A reader too slow for the buffer skips the lines it missed (Lagged items are dropped).
    let lines = BroadcastStream::new(logging::subscribe()).filter_map(move |item| {
        let line = match item {
            Ok((line_level, line)) if line_level <= level => Some(line),
            _ => None,
        };
        async move { line.map(|l| Ok::<Bytes, Infallible>(Bytes::from(format!("{l}\n")))) }
    });
    Response::builder()
        .header(http::header::CONTENT_TYPE, "text/plain")
        .body(Body::from_stream(lines))
        .map_err(|err| ApiError::Internal(err.to_string()))
}
