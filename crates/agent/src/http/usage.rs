//! `GET /v1/operator/usage`: counts of services, instances and nodes in this datacenter.

use std::collections::BTreeMap;

use axum::Router;
use axum::extract::State;
use axum::response::Response;
use axum::routing::get;
use legate_state::StateView;
use legate_state::Table;
use serde_json::Value;
use serde_json::json;

use super::AppState;
use super::blocking;
use super::error::ApiError;
use super::query::Params;

/// Service kinds Consul counts under `ConnectServiceInstances`.
const CONNECT_KINDS: [&str; 6] = [
    "api-gateway",
    "connect-native",
    "connect-proxy",
    "ingress-gateway",
    "mesh-gateway",
    "terminating-gateway",
];

pub(super) fn routes() -> Router<AppState> {
    Router::new().route("/v1/operator/usage", get(usage))
}

/// The usage figures of one datacenter, as Consul's `ServiceUsage` plus node count.
fn usage_of(view: &StateView) -> Value {
    let services = view.services();
    let mut instances = 0u64;
    let mut billable = 0u64;
    let mut connect: BTreeMap<&str, u64> = CONNECT_KINDS.iter().map(|k| (*k, 0)).collect();
    for name in services.keys() {
        for (_, service) in view.service_instances(name) {
            instances += 1;
            if let Some(count) = connect.get_mut(service.kind.as_str()) {
                *count += 1;
            }
            let native = service
                .connect
                .as_ref()
                .and_then(|c| c.get("Native"))
                .and_then(Value::as_bool)
                .unwrap_or(false);
            if native && let Some(count) = connect.get_mut("connect-native") {
                *count += 1;
            }
            // Consul bills neither its own servers nor mesh infrastructure.
            if service.service != "consul" && service.kind.is_empty() {
                billable += 1;
            }
        }
    }
    json!({
        "Services": services.len(),
        "ServiceInstances": instances,
        "ConnectServiceInstances": connect,
        "BillableServiceInstances": billable,
        "Nodes": view.nodes().len(),
    })
}

async fn usage(State(agent): State<AppState>, params: Params) -> Result<Response, ApiError> {
    let opts = agent.query_options(params)?;
    let dc = agent.node().datacenter.clone();
    let tables = [Table::Nodes, Table::Services];
    blocking::json_reply(agent.server(), &opts, &tables, |view| {
        let index = view.max_index(&tables);
        Ok((
            json!({"Usage": {dc.as_str(): usage_of(view)}, "Index": index}),
            index,
        ))
    })
    .await
}
