//! `/v1/catalog`: register/deregister nodes, services and checks directly, and read nodes and
//! services. Reads block on the catalog tables; `?peer=` reads the catalog imported from that
//! peer instead of the local one (see [`scoped`]).

use std::collections::BTreeMap;

use axum::Router;
use axum::extract::Path;
use axum::extract::State;
use axum::response::Response;
use axum::routing::get;
use axum::routing::put;
use bytes::Bytes;
use legate_state::StateView;
use legate_state::Table;
use legate_state::command::Command;
use legate_state::command::CommandResult;
use legate_state::command::RegisterRequest;
use legate_state::model::HealthCheck;
use legate_state::model::Node;
use legate_state::model::Service;
use legate_state::model::ServiceAddress;
use legate_state::model::Weights;
use legate_state::model::health;
use serde::Deserialize;
use serde_json::Value;
use serde_json::json;

use super::AppState;
use super::blocking;
use super::body;
use super::error::ApiError;
use super::near;
use super::query::Params;
use super::query::QueryOptions;
use super::reply;
use super::shapes;

/// Field names of catalog register/deregister bodies, for Consul's case-insensitive decoding.
const REGISTER_FIELDS: &[&str] = &[
    "ID",
    "Node",
    "Address",
    "Datacenter",
    "TaggedAddresses",
    "NodeMeta",
    "Service",
    "Check",
    "Checks",
    "SkipNodeUpdate",
    "Kind",
    "Tags",
    "Meta",
    "Port",
    "Weights",
    "Passing",
    "Warning",
    "EnableTagOverride",
    "Proxy",
    "Connect",
    "CheckID",
    "Name",
    "Status",
    "Notes",
    "Output",
    "ServiceID",
    "Type",
    "Definition",
];
/// Fields whose values are user data, never renamed.
const OPAQUE_FIELDS: &[&str] = &[
    "TaggedAddresses",
    "NodeMeta",
    "Meta",
    "Proxy",
    "Connect",
    "Definition",
];

/// Decode a catalog body with Consul's lenient key matching.
fn decode_lenient<T: serde::de::DeserializeOwned>(body: &Bytes) -> Result<T, ApiError> {
    let mut value: Value = body::decode(body)?;
    body::canonicalize_keys(&mut value, REGISTER_FIELDS, OPAQUE_FIELDS);
    serde_json::from_value(value).map_err(ApiError::decode)
}

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/v1/catalog/register", put(register))
        .route("/v1/catalog/deregister", put(deregister))
        .route("/v1/catalog/datacenters", get(datacenters))
        .route("/v1/catalog/nodes", get(nodes))
        .route("/v1/catalog/services", get(services))
        .route("/v1/catalog/service/{name}", get(service))
        .route("/v1/catalog/connect/{name}", get(connect))
        .route("/v1/catalog/node/{node}", get(node))
        .route("/v1/catalog/node-services/{node}", get(node_services))
        .route("/v1/catalog/gateway-services/{name}", get(gateway_services))
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct RegisterBody {
    #[serde(rename = "ID")]
    id: String,
    #[serde(rename = "Node")]
    node: String,
    #[serde(rename = "Address")]
    address: String,
    #[serde(rename = "Datacenter")]
    datacenter: String,
    #[serde(rename = "TaggedAddresses")]
    tagged_addresses: Option<BTreeMap<String, String>>,
    #[serde(rename = "NodeMeta")]
    node_meta: Option<BTreeMap<String, String>>,
    #[serde(rename = "Service")]
    service: Option<ServiceBody>,
    #[serde(rename = "Check")]
    check: Option<CheckBody>,
    #[serde(rename = "Checks")]
    checks: Option<Vec<CheckBody>>,
    #[serde(rename = "SkipNodeUpdate")]
    skip_node_update: bool,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct ServiceBody {
    #[serde(rename = "Kind")]
    kind: String,
    #[serde(rename = "ID")]
    id: String,
    #[serde(rename = "Service")]
    service: String,
    #[serde(rename = "Tags")]
    tags: Option<Vec<String>>,
    #[serde(rename = "Address")]
    address: String,
    #[serde(rename = "TaggedAddresses")]
    tagged_addresses: Option<BTreeMap<String, ServiceAddress>>,
    #[serde(rename = "Meta")]
    meta: Option<BTreeMap<String, String>>,
    #[serde(rename = "Port")]
    port: u16,
    #[serde(rename = "Weights")]
    weights: Option<Weights>,
    #[serde(rename = "EnableTagOverride")]
    enable_tag_override: bool,
    #[serde(rename = "Proxy")]
    proxy: Option<Value>,
    #[serde(rename = "Connect")]
    connect: Option<Value>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct CheckBody {
    #[serde(rename = "Node")]
    node: String,
    #[serde(rename = "CheckID")]
    check_id: String,
    #[serde(rename = "Name")]
    name: String,
    #[serde(rename = "Status")]
    status: String,
    #[serde(rename = "Notes")]
    notes: String,
    #[serde(rename = "Output")]
    output: String,
    #[serde(rename = "ServiceID")]
    service_id: String,
    #[serde(rename = "Type")]
    check_type: String,
    #[serde(rename = "Definition")]
    definition: Option<Value>,
}

impl CheckBody {
    fn into_check(self, node: &str) -> Result<HealthCheck, ApiError> {
        let status = if self.status.is_empty() {
            health::CRITICAL.to_string()
        } else {
            self.status
        };
        if ![health::PASSING, health::WARNING, health::CRITICAL].contains(&status.as_str()) {
            return Err(ApiError::BadRequest(format!(
                "Invalid check status: {status:?}"
            )));
        }
        let check_id = if self.check_id.is_empty() {
            self.name.clone()
        } else {
            self.check_id
        };
        if check_id.is_empty() {
            return Err(ApiError::BadRequest("Must provide check ID or name".into()));
        }
        if !self.node.is_empty() && self.node != node {
            return Err(ApiError::BadRequest(format!(
                "Check node {:?} does not match registration node {node:?}",
                self.node
            )));
        }
        Ok(HealthCheck {
            node: node.to_string(),
            check_id,
            name: self.name,
            status,
            notes: self.notes,
            output: self.output,
            service_id: self.service_id,
            check_type: self.check_type,
            definition: self.definition.unwrap_or_else(|| json!({})),
            ..HealthCheck::default()
        })
    }
}

async fn register(
    State(agent): State<AppState>,
    params: Params,
    body: Bytes,
) -> Result<Response, ApiError> {
    let opts = agent.query_options(params)?;
    let body: RegisterBody = decode_lenient(&body)?;
    if body.node.is_empty() {
        return Err(ApiError::BadRequest("Must provide node".into()));
    }
    if body.address.is_empty() && !body.skip_node_update {
        return Err(ApiError::BadRequest("Must provide address".into()));
    }
    if !body.id.is_empty() && uuid::Uuid::parse_str(&body.id).is_err() {
        return Err(ApiError::BadRequest(format!(
            "Invalid node ID: {:?}: must be a UUID",
            body.id
        )));
    }
    let node = Node {
        id: body.id,
        node: body.node.clone(),
        address: body.address,
        datacenter: if body.datacenter.is_empty() {
            agent.node().datacenter.clone()
        } else {
            body.datacenter
        },
        tagged_addresses: body.tagged_addresses.unwrap_or_default(),
        meta: body.node_meta.unwrap_or_default(),
        peer_name: String::new(),
        create_index: 0,
        modify_index: 0,
    };
    let service = match body.service {
        None => None,
        Some(s) => {
            if s.service.is_empty() {
                return Err(ApiError::BadRequest("Must provide service name".into()));
            }
            Some(Service {
                kind: s.kind,
                id: if s.id.is_empty() {
                    s.service.clone()
                } else {
                    s.id
                },
                service: s.service,
                tags: s.tags.unwrap_or_default(),
                address: s.address,
                tagged_addresses: s.tagged_addresses.unwrap_or_default(),
                meta: s.meta.unwrap_or_default(),
                port: s.port,
                weights: s.weights.unwrap_or_default(),
                enable_tag_override: s.enable_tag_override,
                proxy: s.proxy,
                connect: s.connect,
                peer_name: String::new(),
                create_index: 0,
                modify_index: 0,
            })
        }
    };
    let mut checks = Vec::new();
    for check in body
        .check
        .into_iter()
        .chain(body.checks.unwrap_or_default())
    {
        checks.push(check.into_check(&node.node)?);
    }
    let command = Command::Register(RegisterRequest {
        node,
        skip_node_update: body.skip_node_update,
        service,
        checks,
    });
    write_bool(&agent, command, opts.pretty).await
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct DeregisterBody {
    #[serde(rename = "Node")]
    node: String,
    #[serde(rename = "ServiceID")]
    service_id: String,
    #[serde(rename = "CheckID")]
    check_id: String,
}

async fn deregister(
    State(agent): State<AppState>,
    params: Params,
    body: Bytes,
) -> Result<Response, ApiError> {
    let opts = agent.query_options(params)?;
    let body: DeregisterBody = decode_lenient(&body)?;
    if body.node.is_empty() {
        return Err(ApiError::BadRequest("Must provide node".into()));
    }
    let some = |s: String| (!s.is_empty()).then_some(s);
    let command = Command::Deregister {
        node: body.node,
        service_id: some(body.service_id),
        check_id: some(body.check_id),
    };
    write_bool(&agent, command, opts.pretty).await
}

async fn write_bool(
    agent: &AppState,
    command: Command,
    pretty: bool,
) -> Result<Response, ApiError> {
    match agent.server().write(command).await? {
        CommandResult::Rejected(message) => Err(ApiError::BadRequest(message)),
        _ => reply::json(&true, pretty),
    }
}

async fn datacenters(State(agent): State<AppState>, params: Params) -> Result<Response, ApiError> {
    let opts = agent.query_options(params)?;
    reply::json(&[agent.node().datacenter.clone()], opts.pretty)
}

fn meta_matches(node: &Node, wanted: &[(String, String)]) -> bool {
    wanted
        .iter()
        .all(|(k, v)| node.meta.get(k).is_some_and(|have| have == v))
}

async fn nodes(State(agent): State<AppState>, params: Params) -> Result<Response, ApiError> {
    let opts = agent.query_options(params)?;
    blocking::json_reply(agent.server(), &opts, &[Table::Nodes], |view| {
        let nodes: Vec<Node> = scoped(view, &opts)
            .nodes()
            .into_iter()
            .filter(|n| meta_matches(n, &opts.node_meta))
            .collect();
        let nodes = near::sorted(view, &opts, nodes, |n| &n.node);
        Ok((opts.filter(nodes)?, view.table_index(Table::Nodes)))
    })
    .await
}

async fn services(State(agent): State<AppState>, params: Params) -> Result<Response, ApiError> {
    let opts = agent.query_options(params)?;
    let tables = [Table::Nodes, Table::Services];
    blocking::json_reply(agent.server(), &opts, &tables, |view| {
        let scoped = scoped(view, &opts);
        let services = if opts.node_meta.is_empty() && opts.filter.is_none() {
            scoped.services()
        } else {
            services_on_matching_nodes(&scoped, &opts)?
        };
        Ok((services, view.max_index(&tables)))
    })
    .await
}

/// Service names and tags from the instances on nodes matching `?node-meta=` whose
/// ServiceNode form matches `?filter=` (Consul filters instances, then groups them).
fn services_on_matching_nodes(
    view: &StateView,
    opts: &QueryOptions,
) -> Result<BTreeMap<String, Vec<String>>, ApiError> {
    let mut out: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let nodes = view.nodes();
    for node in nodes.iter().filter(|n| meta_matches(n, &opts.node_meta)) {
        let services = view
            .node_services(&node.node)
            .map(|(_, s)| s)
            .unwrap_or_default();
        for service in services {
            if let Some(filter) = &opts.filter {
                let shaped = shapes::service_node(node, &service);
                let keep = filter
                    .matches(&shaped)
                    .map_err(|err| ApiError::BadRequest(err.consul_message()))?;
                if !keep {
                    continue;
                }
            }
            let tags = out.entry(service.service.clone()).or_default();
            tags.extend(service.tags);
            tags.sort();
            tags.dedup();
        }
    }
    Ok(out)
}

/// The view `?peer=` selects: the catalog imported from that peer, or the local one.
pub(super) fn scoped(view: &StateView, opts: &QueryOptions) -> StateView {
    match &opts.peer {
        Some(peer) => view.for_peer(peer),
        None => view.clone(),
    }
}

/// Instances of `name` carrying every tag in `?tag=`, on nodes matching `?node-meta=`, in the
/// catalog `view` holds (callers pass the [`scoped`] view).
pub(super) fn instances(view: &StateView, name: &str, opts: &QueryOptions) -> Vec<(Node, Service)> {
    let tags = opts.params.all("tag");
    let found = view
        .service_instances(name)
        .into_iter()
        .filter(|(node, service)| {
            meta_matches(node, &opts.node_meta)
                && tags
                    .iter()
                    .all(|t| service.tags.iter().any(|have| have == t))
        })
        .collect();
    near::sorted(view, opts, found, |(node, _)| &node.node)
}

async fn service(
    State(agent): State<AppState>,
    Path(name): Path<String>,
    params: Params,
) -> Result<Response, ApiError> {
    let opts = agent.query_options(params)?;
    let tables = [Table::Nodes, Table::Services];
    blocking::json_reply(agent.server(), &opts, &tables, |view| {
        let entries: Vec<Value> = instances(&scoped(view, &opts), &name, &opts)
            .iter()
            .map(|(node, service)| shapes::service_node(node, service))
            .collect();
        Ok((opts.filter(entries)?, view.max_index(&tables)))
    })
    .await
}

/// Connect-capable instances of `name`: its sidecar proxies (native Connect comes with the mesh).
pub(super) fn proxies_for(view: &StateView, name: &str) -> Vec<(Node, Service)> {
    view.services()
        .keys()
        .flat_map(|service| view.service_instances(service))
        .filter(|(_, s)| {
            s.kind == "connect-proxy"
                && s.proxy
                    .as_ref()
                    .and_then(|p| p.get("DestinationServiceName"))
                    .and_then(Value::as_str)
                    == Some(name)
        })
        .collect()
}

async fn connect(
    State(agent): State<AppState>,
    Path(name): Path<String>,
    params: Params,
) -> Result<Response, ApiError> {
    let opts = agent.query_options(params)?;
    let tables = [Table::Nodes, Table::Services];
    blocking::json_reply(agent.server(), &opts, &tables, |view| {
        let entries: Vec<Value> = proxies_for(&scoped(view, &opts), &name)
            .iter()
            .map(|(node, service)| shapes::service_node(node, service))
            .collect();
        Ok((opts.filter(entries)?, view.max_index(&tables)))
    })
    .await
}

/// A node and its services, as `shape` renders them (`null` for an unknown node).
async fn node_with_services(
    agent: &AppState,
    name: &str,
    params: Params,
    shape: impl Fn(Vec<Value>, &QueryOptions) -> Result<Value, ApiError>,
) -> Result<Response, ApiError> {
    let opts = agent.query_options(params)?;
    let tables = [Table::Nodes, Table::Services];
    blocking::json_reply(agent.server(), &opts, &tables, |view| {
        let body = match scoped(view, &opts).node_services(name) {
            Some((node, services)) => {
                let services = services.iter().map(shapes::node_service).collect();
                json!({"Node": node, "Services": shape(services, &opts)?})
            }
            _ => Value::Null,
        };
        Ok((body, view.max_index(&tables)))
    })
    .await
}

/// `catalog/node/:node`: services as a map by ID.
async fn node(
    State(agent): State<AppState>,
    Path(name): Path<String>,
    params: Params,
) -> Result<Response, ApiError> {
    node_with_services(&agent, &name, params, |services, _| {
        let by_id: serde_json::Map<String, Value> = services
            .into_iter()
            .map(|s| (s["ID"].as_str().unwrap_or_default().to_string(), s))
            .collect();
        Ok(Value::Object(by_id))
    })
    .await
}

/// `catalog/node-services/:node`: services as a list, `?filter` applied.
async fn node_services(
    State(agent): State<AppState>,
    Path(name): Path<String>,
    params: Params,
) -> Result<Response, ApiError> {
    node_with_services(&agent, &name, params, |services, opts| {
        Ok(Value::Array(opts.filter(services)?))
    })
    .await
}

/// Gateway services: none until gateways exist; shaped and blocking like Consul.
async fn gateway_services(
    State(agent): State<AppState>,
    Path(_name): Path<String>,
    params: Params,
) -> Result<Response, ApiError> {
    let opts = agent.query_options(params)?;
    blocking::json_reply(agent.server(), &opts, &[Table::ConfigEntries], |view| {
        Ok((Vec::<Value>::new(), view.table_index(Table::ConfigEntries)))
    })
    .await
}
