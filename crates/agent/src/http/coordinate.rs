//! `/v1/coordinate/*`: network coordinates. LAN coordinates live in the state store: agents
//! measure them by gossip and send them with `PUT /v1/coordinate/update`, which a server
//! queues for its next Raft batch (see `crate::coordinates`). There is no WAN pool yet, so the
//! WAN list holds this datacenter's servers with the coordinates LAN gossip measured for them.

use axum::Router;
use axum::extract::Path;
use axum::extract::State;
use axum::response::IntoResponse;
use axum::response::Response;
use axum::routing::get;
use axum::routing::put;
use bytes::Bytes;
use http::Method;
use http::StatusCode;
use legate_state::Table;
use legate_state::model::Coordinate;
use serde_json::Value;
use serde_json::json;

use super::AppState;
use super::blocking;
use super::body;
use super::error::ApiError;
use super::query::Params;
use super::reply;

/// Dimensions of a Vivaldi coordinate (serf's default).
const DIMENSIONS: usize = 8;

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/v1/coordinate/datacenters",
            get(datacenters).fallback(not_allowed),
        )
        .route("/v1/coordinate/nodes", get(nodes).fallback(not_allowed))
        .route(
            "/v1/coordinate/node/{node}",
            get(node).fallback(not_allowed),
        )
        .route("/v1/coordinate/update", put(update).fallback(not_allowed))
}

async fn not_allowed(method: Method) -> ApiError {
    ApiError::MethodNotAllowed(method.to_string())
}

fn coordinate_json(c: &Coordinate) -> Value {
    json!({"Node": c.node, "Segment": c.segment, "Coord": c.coord})
}

/// `GET /v1/coordinate/datacenters`.
async fn datacenters(State(agent): State<AppState>, params: Params) -> Result<Response, ApiError> {
    let opts = agent.query_options(params)?;
    let node = agent.node();
    let coordinates: Vec<Value> = wan_stand_ins(&agent)
        .into_iter()
        .map(|(name, coord)| json!({"Node": format!("{name}.{}", node.datacenter), "Coord": coord}))
        .collect();
    let body = json!([{
        "Datacenter": node.datacenter,
        "AreaID": "wan",
        "Coordinates": coordinates,
    }]);
    reply::json(&body, opts.pretty)
}

/// This datacenter's alive servers (this one first when it is a server) with the coordinates
/// LAN gossip holds for them; servers without one are left out, as Serf's cache does.
fn wan_stand_ins(agent: &AppState) -> Vec<(String, legate_vivaldi::Coordinate)> {
    let Some(lan) = agent.lan() else {
        return Vec::new();
    };
    let me = &agent.node().name;
    let mut servers: Vec<String> = lan
        .alive_members()
        .into_iter()
        .filter(|m| m.tags.get("role").map(String::as_str) == Some("consul"))
        .filter(|m| m.tags.get("dc") == Some(&agent.node().datacenter))
        .map(|m| m.name)
        .collect();
    servers.sort_by_key(|name| (name != me, name.clone()));
    servers
        .into_iter()
        .filter_map(|name| {
            let coord = if &name == me {
                crate::coordinates::own(agent)
            } else {
                lan.member_coordinate(&name)
            };
            coord.map(|c| (name, c))
        })
        .collect()
}

/// `GET /v1/coordinate/nodes[?segment=]`.
async fn nodes(State(agent): State<AppState>, params: Params) -> Result<Response, ApiError> {
    let opts = agent.query_options(params)?;
    let segment = opts.params.get("segment").map(str::to_string);
    let (coords, meta) = blocking::query(agent.server(), &opts, &[Table::Coordinates], |view| {
        let coords: Vec<Value> = view
            .coordinates()
            .iter()
            .filter(|c| segment.as_ref().is_none_or(|s| &c.segment == s))
            .map(coordinate_json)
            .collect();
        Ok((coords, view.table_index(Table::Coordinates)))
    })
    .await?;
    let coords = opts.filter(coords)?;
    reply::json_with_meta(&coords, opts.pretty, &meta)
}

/// `GET /v1/coordinate/node/{node}`: the node's coordinates in every segment; an empty 404 when
/// it has none.
async fn node(
    State(agent): State<AppState>,
    Path(node): Path<String>,
    params: Params,
) -> Result<Response, ApiError> {
    let opts = agent.query_options(params)?;
    let segment = opts.params.get("segment").map(str::to_string);
    let (coords, meta) = blocking::query(agent.server(), &opts, &[Table::Coordinates], |view| {
        let coords: Vec<Value> = view
            .coordinates()
            .iter()
            .filter(|c| c.node.eq_ignore_ascii_case(&node))
            .filter(|c| segment.as_ref().is_none_or(|s| &c.segment == s))
            .map(coordinate_json)
            .collect();
        Ok((coords, view.table_index(Table::Coordinates)))
    })
    .await?;
    if coords.is_empty() {
        let mut response = StatusCode::NOT_FOUND.into_response();
        reply::add_meta(&mut response, &meta);
        return Ok(response);
    }
    reply::json_with_meta(&coords, opts.pretty, &meta)
}

/// Check a coordinate's shape: Consul refuses one with the wrong dimensions or non-finite
/// components (`invalid coordinate`).
fn valid_coordinate(coord: &Value) -> Result<Value, ApiError> {
    let invalid = || ApiError::BadRequest("invalid coordinate".to_string());
    let finite = |v: &Value| v.as_f64().filter(|f| f.is_finite());
    let vec = coord
        .get("Vec")
        .and_then(Value::as_array)
        .ok_or_else(invalid)?;
    if vec.len() != DIMENSIONS || vec.iter().any(|c| finite(c).is_none()) {
        return Err(invalid());
    }
    let component = |name: &str| {
        coord
            .get(name)
            .map_or(Some(0.0), finite)
            .ok_or_else(invalid)
    };
    Ok(json!({
        "Vec": vec,
        "Error": component("Error")?,
        "Adjustment": component("Adjustment")?,
        "Height": component("Height")?,
    }))
}

/// `PUT /v1/coordinate/update`: body `{Node, Segment, Coord}`, queued for the next batch.
async fn update(
    State(agent): State<AppState>,
    params: Params,
    body: Bytes,
) -> Result<Response, ApiError> {
    agent.query_options(params)?;
    let raw = body::decode_object(&body)?;
    let field = |name: &str| {
        raw.as_object()
            .and_then(|m| m.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)))
            .map(|(_, v)| v.clone())
            .unwrap_or(Value::Null)
    };
    let node = field("Node").as_str().unwrap_or_default().to_string();
    let segment = field("Segment").as_str().unwrap_or_default().to_string();
    let coord = valid_coordinate(&field("Coord"))?;
    agent.coordinates().enqueue(node, segment, coord);
    Ok(reply::empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn coordinates_are_checked() {
        let fresh = serde_json::to_value(legate_vivaldi::Coordinate::default()).unwrap();
        assert!(valid_coordinate(&fresh).is_ok());
        assert!(valid_coordinate(&json!({"Vec": [0.0, 1.0]})).is_err());
        assert!(valid_coordinate(&json!({"Vec": vec![0.0; 8], "Error": "x"})).is_err());
        assert!(valid_coordinate(&json!({})).is_err());
    }
}
