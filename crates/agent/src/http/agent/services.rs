//! Local services: list, read, register, deregister, and the aggregated-health endpoints
//! load balancers poll (`/v1/agent/health/service/...`).

use std::collections::BTreeMap;

use axum::extract::Path;
use axum::extract::State;
use axum::response::IntoResponse;
use axum::response::Response;
use bytes::Bytes;
use http::StatusCode;
use legate_state::model::HealthCheck;
use legate_state::model::Service;
use legate_state::model::health;
use serde_json::Value;
use serde_json::json;

use crate::checks::CheckSource;
use crate::definition::ServiceDefinition;
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
    let dc = agent.node().datacenter.clone();
    let services: BTreeMap<String, Value> = agent
        .local()
        .snapshot()
        .services
        .values()
        .map(|s| (s.id.clone(), shapes::agent_service(s, &dc, None)))
        .collect();
    reply::json(&opts.filter_map(services)?, opts.pretty)
}

pub(super) async fn get_one(
    State(agent): State<AppState>,
    Path(id): Path<String>,
    params: Params,
) -> Result<Response, ApiError> {
    let opts = agent.query_options(params)?;
    let service = agent
        .local()
        .service(&id)
        .ok_or_else(|| ApiError::NotFound(format!("unknown service ID: {id}")))?;
    let hash = content_hash(&service);
    let value = shapes::agent_service(&service, &agent.node().datacenter, Some(&hash));
    reply::json(&value, opts.pretty)
}

/// A stable hash of a service's definition, as Consul's `ContentHash`.
fn content_hash(service: &Service) -> String {
    use std::hash::Hash;
    use std::hash::Hasher;
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    serde_json::to_string(service)
        .unwrap_or_default()
        .hash(&mut hasher);
    format!("{:016x}", hasher.finish())
}

pub(super) async fn register(
    State(agent): State<AppState>,
    params: Params,
    body: Bytes,
) -> Result<Response, ApiError> {
    agent.query_options(params.clone())?;
    let value = body::decode_object(&body)?;
    let definition = ServiceDefinition::from_value(&value)
        .map_err(|err| ApiError::BadRequest(err.to_string()))?;
    let replace = params.flag("replace-existing-checks");
    registration::register_service(&agent, &definition, CheckSource::Api, replace)?;
    Ok(reply::empty())
}

pub(super) async fn deregister(
    State(agent): State<AppState>,
    Path(id): Path<String>,
    params: Params,
) -> Result<Response, ApiError> {
    agent.query_options(params)?;
    registration::deregister_service(&agent, &id)?;
    Ok(reply::empty())
}

/// Worst status among checks (critical > warning > passing), Consul's aggregation.
fn aggregate(checks: &[HealthCheck]) -> &'static str {
    if checks.iter().any(|c| c.status == health::CRITICAL) {
        health::CRITICAL
    } else if checks.iter().any(|c| c.status == health::WARNING) {
        health::WARNING
    } else {
        health::PASSING
    }
}

fn status_code(status: &str) -> StatusCode {
    match status {
        health::PASSING => StatusCode::OK,
        health::WARNING => StatusCode::TOO_MANY_REQUESTS,
        _ => StatusCode::SERVICE_UNAVAILABLE,
    }
}

fn service_health(agent: &AppState, service: &Service) -> (&'static str, Value) {
    let checks: Vec<HealthCheck> = agent
        .local()
        .snapshot()
        .checks
        .values()
        .map(|c| c.check.clone())
        .filter(|c| c.service_id == service.id || c.service_id.is_empty())
        .collect();
    let status = aggregate(&checks);
    let value = json!({
        "AggregatedStatus": status,
        "Service": shapes::agent_service(service, &agent.node().datacenter, None),
        "Checks": shapes::health_checks(&checks),
    });
    (status, value)
}

fn health_reply(
    status: &str,
    body: &Value,
    text: bool,
    pretty: bool,
) -> Result<Response, ApiError> {
    let code = status_code(status);
    let mut response = if text {
        status.to_string().into_response()
    } else {
        reply::json(body, pretty)?
    };
    *response.status_mut() = code;
    Ok(response)
}

pub(super) async fn health_by_id(
    State(agent): State<AppState>,
    Path(id): Path<String>,
    params: Params,
) -> Result<Response, ApiError> {
    let opts = agent.query_options(params)?;
    let text = opts.params.get("format") == Some("text");
    let Some(service) = agent.local().service(&id) else {
        let message = format!("ServiceId {id} not found");
        return Err(ApiError::NotFound(message));
    };
    let (status, body) = service_health(&agent, &service);
    health_reply(status, &body, text, opts.pretty)
}

pub(super) async fn health_by_name(
    State(agent): State<AppState>,
    Path(name): Path<String>,
    params: Params,
) -> Result<Response, ApiError> {
    let opts = agent.query_options(params)?;
    let text = opts.params.get("format") == Some("text");
    let services: Vec<Service> = agent
        .local()
        .snapshot()
        .services
        .into_values()
        .filter(|s| s.service == name)
        .collect();
    if services.is_empty() {
        return Err(ApiError::NotFound(format!("ServiceName {name} Not Found")));
    }
    let entries: Vec<(&'static str, Value)> =
        services.iter().map(|s| service_health(&agent, s)).collect();
    let statuses: Vec<HealthCheck> = entries
        .iter()
        .map(|(status, _)| HealthCheck {
            status: (*status).to_string(),
            ..HealthCheck::default()
        })
        .collect();
    let status = aggregate(&statuses);
    let body = Value::Array(entries.into_iter().map(|(_, v)| v).collect());
    health_reply(status, &body, text, opts.pretty)
}
