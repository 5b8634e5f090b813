//! `/v1/agent`: this agent's identity and members, its local services and checks, maintenance
//! modes, and its lifecycle (reload, leave, join, monitor).

mod checks;
mod info;
mod lifecycle;
mod services;

use axum::Router;
use axum::routing::get;
use axum::routing::put;

use legate_state::model::health;

use super::AppState;

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/v1/agent/self", get(info::self_))
        .route("/v1/agent/members", get(info::members))
        .route("/v1/agent/host", get(info::host))
        .route("/v1/agent/version", get(info::version))
        .route("/v1/agent/services", get(services::list))
        .route("/v1/agent/service/{id}", get(services::get_one))
        .route("/v1/agent/service/register", put(services::register))
        .route(
            "/v1/agent/service/deregister/{id}",
            put(services::deregister),
        )
        .route(
            "/v1/agent/service/maintenance/{id}",
            put(lifecycle::service_maintenance),
        )
        .route(
            "/v1/agent/health/service/name/{name}",
            get(services::health_by_name),
        )
        .route(
            "/v1/agent/health/service/id/{id}",
            get(services::health_by_id),
        )
        .route("/v1/agent/checks", get(checks::list))
        .route("/v1/agent/check/register", put(checks::register))
        .route("/v1/agent/check/deregister/{id}", put(checks::deregister))
        .route(
            "/v1/agent/check/pass/{id}",
            put(checks::ttl_status(health::PASSING)),
        )
        .route(
            "/v1/agent/check/warn/{id}",
            put(checks::ttl_status(health::WARNING)),
        )
        .route(
            "/v1/agent/check/fail/{id}",
            put(checks::ttl_status(health::CRITICAL)),
        )
        .route("/v1/agent/check/update/{id}", put(checks::update))
        .route("/v1/agent/maintenance", put(lifecycle::node_maintenance))
        .route("/v1/agent/reload", put(lifecycle::reload))
        .route("/v1/agent/leave", put(lifecycle::leave))
        .route("/v1/agent/force-leave/{node}", put(lifecycle::force_leave))
        .route("/v1/agent/join/{address}", put(lifecycle::join))
        .route("/v1/agent/monitor", get(lifecycle::monitor))
}
