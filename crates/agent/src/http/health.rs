//! `/v1/health`: checks by node, by service and by state, and service instances with their
//! health (Consul's CheckServiceNode), with `?passing`, `?tag` and `?filter`.

use axum::Router;
use axum::extract::Path;
use axum::extract::State;
use axum::response::Response;
use axum::routing::get;
use legate_state::StateView;
use legate_state::Table;
use legate_state::model::HealthCheck;
use legate_state::model::Node;
use legate_state::model::Service;
use legate_state::model::health;
use serde_json::Value;

use super::AppState;
use super::blocking;
use super::catalog;
use super::error::ApiError;
use super::near;
use super::query::Params;
use super::query::QueryOptions;
use super::shapes;

const HEALTH: &[Table] = &[Table::Nodes, Table::Services, Table::Checks];

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/v1/health/node/{node}", get(node))
        .route("/v1/health/checks/{service}", get(checks))
        .route("/v1/health/state/{state}", get(state))
        .route("/v1/health/service/{service}", get(service))
        .route("/v1/health/connect/{service}", get(connect))
        .route("/v1/health/ingress/{service}", get(ingress))
}

async fn checks_reply(
    agent: &AppState,
    opts: &QueryOptions,
    read: impl Fn(&StateView) -> Vec<HealthCheck>,
) -> Result<Response, ApiError> {
    blocking::json_reply(agent.server(), opts, &[Table::Checks], |view| {
        let checks = read(&catalog::scoped(view, opts));
        let checks = near::sorted(view, opts, checks, |c| &c.node);
        Ok((
            opts.filter(shapes::health_checks(&checks))?,
            view.table_index(Table::Checks),
        ))
    })
    .await
}

async fn node(
    State(agent): State<AppState>,
    Path(node): Path<String>,
    params: Params,
) -> Result<Response, ApiError> {
    let opts = agent.query_options(params)?;
    checks_reply(&agent, &opts, |view| view.node_checks(&node)).await
}

async fn checks(
    State(agent): State<AppState>,
    Path(service): Path<String>,
    params: Params,
) -> Result<Response, ApiError> {
    let opts = agent.query_options(params)?;
    checks_reply(&agent, &opts, |view| view.service_checks(&service)).await
}

async fn state(
    State(agent): State<AppState>,
    Path(state): Path<String>,
    params: Params,
) -> Result<Response, ApiError> {
    let opts = agent.query_options(params)?;
    if ![
        health::ANY,
        health::PASSING,
        health::WARNING,
        health::CRITICAL,
    ]
    .contains(&state.as_str())
    {
        return Err(ApiError::BadRequest(format!(
            "Invalid check state: {state:?}"
        )));
    }
    checks_reply(&agent, &opts, |view| view.checks_in_state(&state)).await
}

/// Instances with their node and service checks, optionally only fully passing ones.
fn health_entries(
    view: &StateView,
    instances: Vec<(Node, Service)>,
    passing_only: bool,
) -> Vec<Value> {
    instances
        .iter()
        .filter_map(|(node, service)| {
            let checks: Vec<HealthCheck> = view
                .node_checks(&node.node)
                .into_iter()
                .filter(|c| c.service_id.is_empty() || c.service_id == service.id)
                .collect();
            if passing_only && checks.iter().any(|c| c.status != health::PASSING) {
                return None;
            }
            Some(shapes::check_service_node(node, service, &checks))
        })
        .collect()
}

async fn service(
    State(agent): State<AppState>,
    Path(name): Path<String>,
    params: Params,
) -> Result<Response, ApiError> {
    let opts = agent.query_options(params)?;
    let passing = opts.params.flag("passing");
    blocking::json_reply(agent.server(), &opts, HEALTH, |view| {
        let view = &catalog::scoped(view, &opts);
        let entries = health_entries(view, catalog::instances(view, &name, &opts), passing);
        Ok((opts.filter(entries)?, view.max_index(HEALTH)))
    })
    .await
}

async fn connect(
    State(agent): State<AppState>,
    Path(name): Path<String>,
    params: Params,
) -> Result<Response, ApiError> {
    let opts = agent.query_options(params)?;
    let passing = opts.params.flag("passing");
    blocking::json_reply(agent.server(), &opts, HEALTH, |view| {
        let view = &catalog::scoped(view, &opts);
        let entries = health_entries(view, catalog::proxies_for(view, &name), passing);
        Ok((opts.filter(entries)?, view.max_index(HEALTH)))
    })
    .await
}

/// Ingress gateways for a service: none until gateways exist.
async fn ingress(
    State(agent): State<AppState>,
    Path(_name): Path<String>,
    params: Params,
) -> Result<Response, ApiError> {
    let opts = agent.query_options(params)?;
    blocking::json_reply(agent.server(), &opts, HEALTH, |view| {
        Ok((Vec::<Value>::new(), view.max_index(HEALTH)))
    })
    .await
}
