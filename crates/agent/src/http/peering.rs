//! `/v1/peering/*` and `/v1/peerings`: peering rows as Consul's API shows them
//! (`legate_peering::api::ApiPeering`), blocking on the peerings table, and the management
//! writes — generate-token ([`token`]), establish ([`establish`]) and the soft delete. `State`
//! and `StreamStatus` come from the leader's link registry (`crate::peering::status`); a
//! peering no stream was tried for shows the stored state and an empty `StreamStatus` (lists
//! and times `null`), as Consul does. Followers forward all of these to the leader (see
//! `forward.rs`).

mod establish;
mod token;

use axum::Router;
use axum::extract::Path;
use axum::extract::State;
use axum::response::Response;
use axum::routing::get;
use axum::routing::post;
use http::Method;
use legate_state::StateView;
use legate_state::Table;
use legate_state::command::Command;
use legate_state::command::CommandResult;
use legate_state::model::Peering;

use super::AppState;
use super::blocking;
use super::error::ApiError;
use super::query::Params;
use super::reply;
use crate::agent::Agent;

/// Consul's answer when `peering.enabled` is off.
const NOT_ENABLED: &str = "peering must be enabled to use this endpoint";

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/v1/peering/token",
            post(token::generate).fallback(not_allowed),
        )
        .route(
            "/v1/peering/establish",
            post(establish::establish).fallback(not_allowed),
        )
        .route(
            "/v1/peering/{name}",
            get(read).delete(delete).fallback(not_allowed),
        )
        .route("/v1/peerings", get(list).fallback(not_allowed))
}

async fn not_allowed(method: Method) -> ApiError {
    ApiError::MethodNotAllowed(method.to_string())
}

/// The API form of a stored row, with what the leader knows of its stream.
fn api(agent: &Agent, row: &Peering) -> crate::peering::status::PeeringView {
    let link = agent.peering().registry().status(&row.id);
    crate::peering::status::peering_view(row, link.as_ref())
}

/// 400 unless `peering.enabled` is on.
fn require_enabled(agent: &Agent) -> Result<(), ApiError> {
    if agent.config().peering_enabled {
        Ok(())
    } else {
        Err(ApiError::BadRequest(NOT_ENABLED.to_string()))
    }
}

/// Consul CE knows only the default partition.
fn check_partition(partition: &str) -> Result<(), ApiError> {
    if partition.is_empty() || partition == "default" {
        Ok(())
    } else {
        Err(ApiError::BadRequest(
            "Partitions are a Consul Enterprise feature".to_string(),
        ))
    }
}

/// This cluster's TLS identity for peering: the server name peers verify
/// (`server.<dc>.peering.<trust domain>`), the trust domain and every CA root PEM (trailing
/// newline ensured), or Consul's error while the CA is not initialised.
fn tls_materials(view: &StateView, dc: &str) -> Result<TlsMaterials, ApiError> {
    let ca = view.ca_state();
    let Some(config) = ca.config.as_ref().filter(|_| !ca.roots.is_empty()) else {
        return Err(ApiError::Internal(
            "CA has not finished initializing".to_string(),
        ));
    };
    let trust_domain = legate_connect::TrustDomain::from_cluster_id(&config.cluster_id);
    let ca_pems = ca
        .roots
        .iter()
        .map(|r| {
            if r.root_cert.ends_with('\n') {
                r.root_cert.clone()
            } else {
                format!("{}\n", r.root_cert)
            }
        })
        .collect();
    Ok(TlsMaterials {
        server_name: legate_connect::server_name(dc, &trust_domain),
        trust_domain: trust_domain.as_str().to_string(),
        ca_pems,
    })
}

/// See [`tls_materials`].
struct TlsMaterials {
    server_name: String,
    trust_domain: String,
    ca_pems: Vec<String>,
}

/// Propose `command`; a state-store rejection becomes `failed to write peering: …` (500).
async fn write(agent: &Agent, command: Command) -> Result<(), ApiError> {
    match agent.server().write(command).await? {
        CommandResult::Rejected(message) => Err(ApiError::Internal(format!(
            "failed to write peering: {message}"
        ))),
        _ => Ok(()),
    }
}

/// A fresh UUID not used as a peering ID yet.
fn new_peering_id(view: &StateView) -> String {
    loop {
        let id = uuid::Uuid::new_v4().to_string();
        if view.peering_by_id(&id).is_none() {
            return id;
        }
    }
}

/// `GET /v1/peering/{name}`: the peering, or 404 `Peering not found for "name"`. The index is
/// the row's ModifyIndex (the table's when absent).
async fn read(
    State(agent): State<AppState>,
    Path(name): Path<String>,
    params: Params,
) -> Result<Response, ApiError> {
    let opts = agent.query_options(params)?;
    let (found, meta) = blocking::query(agent.server(), &opts, &[Table::Peerings], |view| {
        Ok(match view.peering(&name) {
            Some(row) => {
                let index = row.modify_index;
                (Some(api(&agent, &row)), index)
            }
            None => (None, view.table_index(Table::Peerings)),
        })
    })
    .await?;
    match found {
        Some(peering) => reply::json_with_meta(&peering, opts.pretty, &meta),
        None => Err(ApiError::NotFound(format!(
            "Peering not found for {name:?}"
        ))),
    }
}

/// `GET /v1/peerings`: every peering, sorted by name (`[]` when none).
async fn list(State(agent): State<AppState>, params: Params) -> Result<Response, ApiError> {
    let opts = agent.query_options(params)?;
    blocking::json_reply(agent.server(), &opts, &[Table::Peerings], |view| {
        let all: Vec<_> = view.peerings().iter().map(|row| api(&agent, row)).collect();
        Ok((all, view.table_index(Table::Peerings)))
    })
    .await
}

/// `DELETE /v1/peering/{name}`: mark the peering for deletion (state DELETING, `DeletedAt`);
/// the leader's cleanup routine removes its imported data, trust bundle and row. Idempotent:
/// an unknown name or a peering already being deleted answers 200 as well. Empty body.
async fn delete(
    State(agent): State<AppState>,
    Path(name): Path<String>,
    params: Params,
) -> Result<Response, ApiError> {
    require_enabled(&agent)?;
    check_partition(params.get("partition").unwrap_or_default())?;
    write(&agent, Command::PeeringDelete { name }).await?;
    Ok(reply::empty())
}

/// Decode a management request body as Go's decoder does (field names matched ignoring case;
/// user maps in `opaque` keep their keys), with Consul's `Body decoding failed: …` text.
fn decode_body<T: serde::de::DeserializeOwned>(
    body: &bytes::Bytes,
    fields: &[&str],
    opaque: &[&str],
) -> Result<T, ApiError> {
    let failed =
        |e: &dyn std::fmt::Display| ApiError::BadRequest(format!("Body decoding failed: {e}"));
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err(failed(&"EOF"));
    }
    let mut value: serde_json::Value = serde_json::from_slice(body).map_err(|e| failed(&e))?;
    super::body::canonicalize_keys(&mut value, fields, opaque);
    serde_json::from_value(value).map_err(|e| failed(&e))
}
