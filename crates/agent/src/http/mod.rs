//! The HTTP API: Consul's `/v1` paths on axum. This module builds the router from one
//! `routes()` per endpoint family and serves it on each configured address; [`error`] maps
//! failures to statuses, [`query`] parses the common options, [`reply`] writes JSON and the
//! `X-Consul-*` headers, [`blocking`] runs blocking queries.

mod acl;
mod agent;
pub mod blocking;
pub mod body;
mod catalog;
mod config;
mod connect_ca;
mod coordinate;
pub mod error;
mod event;
pub mod forward;
mod health;
mod internal;
mod keyring;
mod kv;
mod metrics;
mod near;
mod operator;
mod peered_services;
mod peering;
pub mod query;
pub mod reply;
pub mod serve;
mod session;
pub mod shapes;
mod snapshot;
mod status;
mod txn;
mod usage;

use std::sync::Arc;

use axum::Router;
use axum::extract::FromRequestParts;
use http::request::Parts;

use crate::agent::Agent;
use error::ApiError;
use query::Params;

pub(crate) use event::deliver as deliver_user_event;

/// Shared state of every handler.
pub type AppState = Arc<Agent>;

impl<S: Send + Sync> FromRequestParts<S> for Params {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        Ok(Params::parse(parts.uri.query()))
    }
}

/// The whole `/v1` API.
pub fn router(agent: AppState) -> Router {
    Router::new()
        .merge(status::routes())
        .merge(acl::routes())
        .merge(agent::routes())
        .merge(catalog::routes())
        .merge(health::routes())
        .merge(kv::routes())
        .merge(txn::routes())
        .merge(session::routes())
        .merge(event::routes())
        .merge(config::routes())
        .merge(connect_ca::routes())
        .merge(operator::routes())
        .merge(snapshot::routes())
        .merge(coordinate::routes())
        .merge(metrics::routes())
        .merge(usage::routes())
        .merge(internal::routes())
        .merge(keyring::routes())
        .merge(peered_services::routes())
        .merge(peering::routes())
        .fallback(not_found)
        .layer(axum::middleware::from_fn_with_state(
            agent.clone(),
            forward::forward,
        ))
        .layer(axum::middleware::from_fn(metrics::track))
        .with_state(agent)
}

/// Go's mux answer for a path no handler owns, which Consul passes through.
async fn not_found() -> ApiError {
    ApiError::NotFound("404 page not found\n".to_string())
}
