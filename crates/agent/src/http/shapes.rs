//! Consul's composite JSON shapes, built from state records: `ServiceNode` (catalog),
//! `AgentService` (agent API), `NodeService` and `CheckServiceNode` (health), `HealthCheck`.
//! Field order follows Consul's Go structs, since clients diff golden output.

use legate_state::model::HealthCheck;
use legate_state::model::Node;
use legate_state::model::Service;
use serde_json::Value;
use serde_json::json;

/// The empty proxy object Go renders for a service without proxy configuration.
fn proxy_or_empty(service: &Service) -> Value {
    service
        .proxy
        .clone()
        .unwrap_or_else(|| json!({"Mode": "", "MeshGateway": {}, "Expose": {}}))
}

fn connect_or_empty(service: &Service) -> Value {
    service.connect.clone().unwrap_or_else(|| json!({}))
}

/// `catalog/service/:name` entry.
pub fn service_node(node: &Node, service: &Service) -> Value {
    let mut v = json!({
        "ID": node.id,
        "Node": node.node,
        "Address": node.address,
        "Datacenter": node.datacenter,
        "TaggedAddresses": node.tagged_addresses,
        "NodeMeta": node.meta,
        "ServiceKind": service.kind,
        "ServiceID": service.id,
        "ServiceName": service.service,
        "ServiceTags": service.tags,
        "ServiceAddress": service.address,
    });
    let obj = v.as_object_mut();
    if let Some(obj) = obj {
        if !service.tagged_addresses.is_empty() {
            obj.insert(
                "ServiceTaggedAddresses".into(),
                json!(service.tagged_addresses),
            );
        }
        obj.insert("ServiceWeights".into(), json!(service.weights));
        obj.insert("ServiceMeta".into(), json!(service.meta));
        obj.insert("ServicePort".into(), json!(service.port));
        obj.insert("ServiceSocketPath".into(), json!(""));
        obj.insert(
            "ServiceEnableTagOverride".into(),
            json!(service.enable_tag_override),
        );
        obj.insert("ServiceProxy".into(), proxy_or_empty(service));
        obj.insert("ServiceConnect".into(), connect_or_empty(service));
        obj.insert("ServiceLocality".into(), Value::Null);
        if !service.peer_name.is_empty() {
            obj.insert("PeerName".into(), json!(service.peer_name));
        }
        obj.insert("CreateIndex".into(), json!(service.create_index));
        obj.insert("ModifyIndex".into(), json!(service.modify_index));
    }
    v
}

/// `agent/services` value, and with `content_hash` the `agent/service/:id` body.
pub fn agent_service(service: &Service, datacenter: &str, content_hash: Option<&str>) -> Value {
    let mut obj = serde_json::Map::new();
    if !service.kind.is_empty() {
        obj.insert("Kind".into(), json!(service.kind));
    }
    obj.insert("ID".into(), json!(service.id));
    obj.insert("Service".into(), json!(service.service));
    obj.insert("Tags".into(), json!(service.tags));
    obj.insert("Meta".into(), json!(service.meta));
    obj.insert("Port".into(), json!(service.port));
    obj.insert("Address".into(), json!(service.address));
    if !service.tagged_addresses.is_empty() {
        obj.insert("TaggedAddresses".into(), json!(service.tagged_addresses));
    }
    obj.insert("Weights".into(), json!(service.weights));
    obj.insert(
        "EnableTagOverride".into(),
        json!(service.enable_tag_override),
    );
    if let Some(hash) = content_hash {
        obj.insert("ContentHash".into(), json!(hash));
    }
    if let Some(proxy) = &service.proxy {
        obj.insert("Proxy".into(), proxy.clone());
    }
    if let Some(connect) = &service.connect {
        obj.insert("Connect".into(), connect.clone());
    }
    obj.insert("Datacenter".into(), json!(datacenter));
    Value::Object(obj)
}

/// The `Service` object of a health entry and of `catalog/node/:node` (Consul's NodeService).
pub fn node_service(service: &Service) -> Value {
    let mut obj = serde_json::Map::new();
    if !service.kind.is_empty() {
        obj.insert("Kind".into(), json!(service.kind));
    }
    obj.insert("ID".into(), json!(service.id));
    obj.insert("Service".into(), json!(service.service));
    obj.insert("Tags".into(), json!(service.tags));
    obj.insert("Address".into(), json!(service.address));
    if !service.tagged_addresses.is_empty() {
        obj.insert("TaggedAddresses".into(), json!(service.tagged_addresses));
    }
    obj.insert("Meta".into(), json!(service.meta));
    obj.insert("Port".into(), json!(service.port));
    obj.insert("Weights".into(), json!(service.weights));
    obj.insert(
        "EnableTagOverride".into(),
        json!(service.enable_tag_override),
    );
    obj.insert("Proxy".into(), proxy_or_empty(service));
    obj.insert("Connect".into(), connect_or_empty(service));
    obj.insert("PeerName".into(), json!(service.peer_name));
    obj.insert("CreateIndex".into(), json!(service.create_index));
    obj.insert("ModifyIndex".into(), json!(service.modify_index));
    Value::Object(obj)
}

/// A health check as every endpoint returns it (`PeerName` only on imported checks).
pub fn health_check(check: &HealthCheck) -> Value {
    let mut v = json!({
        "Node": check.node,
        "CheckID": check.check_id,
        "Name": check.name,
        "Status": check.status,
        "Notes": check.notes,
        "Output": check.output,
        "ServiceID": check.service_id,
        "ServiceName": check.service_name,
        "ServiceTags": check.service_tags,
        "Type": check.check_type,
        "Interval": check.interval,
        "Timeout": check.timeout,
        "ExposedPort": 0,
    });
    if let Some(obj) = v.as_object_mut() {
        if !check.peer_name.is_empty() {
            obj.insert("PeerName".into(), json!(check.peer_name));
        }
        let definition = if check.definition.is_object() {
            check.definition.clone()
        } else {
            json!({})
        };
        obj.insert("Definition".into(), definition);
        obj.insert("CreateIndex".into(), json!(check.create_index));
        obj.insert("ModifyIndex".into(), json!(check.modify_index));
    }
    v
}

/// A list of health checks.
pub fn health_checks(checks: &[HealthCheck]) -> Vec<Value> {
    checks.iter().map(health_check).collect()
}

/// `health/service/:name` entry (Consul's CheckServiceNode).
pub fn check_service_node(node: &Node, service: &Service, checks: &[HealthCheck]) -> Value {
    json!({
        "Node": node,
        "Service": node_service(service),
        "Checks": health_checks(checks),
    })
}
