//! `/v1/exported-services` and `/v1/imported-services`: which local services the
//! `exported-services` config entry exports (wildcards and sameness groups expanded, by
//! `legate_peering::exporter`), and which services this cluster imports from its peers. Both are
//! blocking reads with `?filter`; Partition/Namespace fields are Enterprise-only and omitted.

use axum::Router;
use axum::extract::State;
use axum::response::Response;
use axum::routing::get;
use legate_peering::exporter;
use legate_state::StateView;
use legate_state::Table;
use serde_json::Map;
use serde_json::Value;
use serde_json::json;

use super::AppState;
use super::blocking;
use super::error::ApiError;
use super::query::Params;

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/v1/exported-services", get(exported))
        .route("/v1/imported-services", get(imported))
}

/// `GET /v1/exported-services`: `[{"Service", "Consumers": {"Peers"?, "Partitions"?}}]`.
async fn exported(State(agent): State<AppState>, params: Params) -> Result<Response, ApiError> {
    let opts = agent.query_options(params)?;
    let tables = [Table::ConfigEntries, Table::Services];
    blocking::json_reply(agent.server(), &opts, &tables, |view| {
        let (list, index) = exported_list(view);
        Ok((opts.filter(list)?, index))
    })
    .await
}

/// The resolved exports and the index describing them: the config entries' index, and the
/// services' too when a wildcard makes the answer depend on the catalog.
fn exported_list(view: &StateView) -> (Vec<Value>, u64) {
    let entry = view.config_entry(
        exporter::EXPORTED_SERVICES_KIND,
        exporter::EXPORTED_SERVICES_NAME,
    );
    let Some(entry) = entry else {
        return (Vec::new(), view.table_index(Table::ConfigEntries));
    };
    let wildcard = entry
        .body
        .get("Services")
        .and_then(Value::as_array)
        .is_some_and(|s| s.iter().any(|s| s.get("Name") == Some(&json!("*"))));
    let index = if wildcard {
        view.max_index(&[Table::ConfigEntries, Table::Services])
    } else {
        view.table_index(Table::ConfigEntries)
    };
    let list = exporter::resolved_exports(view, &entry)
        .into_iter()
        .map(|e| {
            let mut consumers = Map::new();
            if !e.peers.is_empty() {
                consumers.insert("Peers".into(), json!(e.peers));
            }
            if !e.partitions.is_empty() {
                consumers.insert("Partitions".into(), json!(e.partitions));
            }
            json!({"Service": e.service, "Consumers": consumers})
        })
        .collect();
    (list, index)
}

/// `GET /v1/imported-services`: `[{"Service", "SourcePeer"}]` (Consul CE's bare array).
async fn imported(State(agent): State<AppState>, params: Params) -> Result<Response, ApiError> {
    let opts = agent.query_options(params)?;
    let tables = [Table::Services];
    blocking::json_reply(agent.server(), &opts, &tables, |view| {
        let list: Vec<Value> = view
            .imported_services()
            .into_iter()
            .map(|s| json!({"Service": s.service, "SourcePeer": s.peer}))
            .collect();
        Ok((opts.filter(list)?, view.table_index(Table::Services)))
    })
    .await
}
