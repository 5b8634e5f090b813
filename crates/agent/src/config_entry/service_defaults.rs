//! `service-defaults`: per-service defaults (protocol, upstream settings, destination).

use serde_json::Map;
use serde_json::Value;

use super::KindSpec;
use super::common;
use super::schema::Field;
use super::schema::Omit::Empty;
use super::schema::Omit::Never;
use super::schema::Shape;
use super::schema::field;
use super::schema::str_of;

static UPSTREAM: &[Field] = &[
    field("Name", "", Shape::Str, Empty),
    field("Partition", "", Shape::Str, Empty),
    field("Namespace", "", Shape::Str, Empty),
    field("Peer", "", Shape::Str, Empty),
    field(
        "EnvoyListenerJSON",
        "envoy_listener_json",
        Shape::Str,
        Empty,
    ),
    field("EnvoyClusterJSON", "envoy_cluster_json", Shape::Str, Empty),
    field("Protocol", "", Shape::Str, Empty),
    field("ConnectTimeoutMs", "connect_timeout_ms", Shape::Int, Empty),
    field("Limits", "", Shape::Any, Empty),
    field(
        "PassiveHealthCheck",
        "passive_health_check",
        Shape::Any,
        Empty,
    ),
    field(
        "MeshGateway",
        "mesh_gateway",
        Shape::Struct(common::MESH_GATEWAY),
        Empty,
    ),
    field(
        "BalanceOutboundConnections",
        "balance_outbound_connections",
        Shape::Str,
        Empty,
    ),
];

static UPSTREAM_CONFIG: &[Field] = &[
    field("Overrides", "", Shape::List(UPSTREAM), Empty),
    field("Defaults", "", Shape::Ptr(UPSTREAM), Empty),
];

static DESTINATION: &[Field] = &[
    field("Addresses", "", Shape::StrList, Empty),
    field("Port", "", Shape::Int, Empty),
];

static FIELDS: &[Field] = &[
    field("Kind", "", Shape::Str, Never),
    field("Name", "", Shape::Str, Never),
    field("Protocol", "", Shape::Str, Never),
    field("Mode", "", Shape::Str, Empty),
    field(
        "TransparentProxy",
        "transparent_proxy",
        Shape::Struct(common::TRANSPARENT_PROXY),
        Empty,
    ),
    field("MutualTLSMode", "mutual_tls_mode", Shape::Str, Empty),
    field(
        "MeshGateway",
        "mesh_gateway",
        Shape::Struct(common::MESH_GATEWAY),
        Empty,
    ),
    field("Expose", "", Shape::Struct(common::EXPOSE), Empty),
    field("ExternalSNI", "external_sni", Shape::Str, Empty),
    field(
        "UpstreamConfig",
        "upstream_config",
        Shape::Ptr(UPSTREAM_CONFIG),
        Empty,
    ),
    field("Destination", "", Shape::Ptr(DESTINATION), Empty),
    field(
        "MaxInboundConnections",
        "max_inbound_connections",
        Shape::Int,
        Empty,
    ),
    field(
        "LocalConnectTimeoutMs",
        "local_connect_timeout_ms",
        Shape::Int,
        Empty,
    ),
    field(
        "LocalRequestTimeoutMs",
        "local_request_timeout_ms",
        Shape::Int,
        Empty,
    ),
    field(
        "BalanceInboundConnections",
        "balance_inbound_connections",
        Shape::Str,
        Empty,
    ),
    field("RateLimits", "rate_limits", Shape::Any, Empty),
    field("EnvoyExtensions", "envoy_extensions", Shape::Any, Empty),
    field("Meta", "", Shape::StrMap, Empty),
];

/// The kind's table entry.
pub(super) static SPEC: KindSpec = KindSpec {
    kind: "service-defaults",
    fields: FIELDS,
    normalize,
    validate,
    fixed_name: None,
};

fn normalize(body: &mut Map<String, Value>) -> Result<(), String> {
    let protocol = str_of(body, "Protocol").to_lowercase();
    body.insert("Protocol".to_string(), Value::String(protocol));
    Ok(())
}

fn validate(body: &Map<String, Value>) -> Result<(), String> {
    common::require_name(body)?;
    if str_of(body, "Name") == "*" {
        return Err(
            "service-defaults name must be the name of a service, and not a wildcard".to_string(),
        );
    }
    common::validate_meta(body)?;
    let balance = str_of(body, "BalanceInboundConnections");
    if !balance.is_empty() && balance != "exact_balance" {
        return Err(format!(
            "invalid value for balance_inbound_connections: {balance}"
        ));
    }
    let destination = body.get("Destination").and_then(Value::as_object);
    if body.get("UpstreamConfig").is_some_and(|u| !u.is_null()) && destination.is_some() {
        return Err(
            "UpstreamConfig and Destination are mutually exclusive for service defaults"
                .to_string(),
        );
    }
    if let Some(dest) = destination {
        let addresses = super::schema::list_of(dest, "Addresses");
        if addresses.is_empty() {
            return Err("Destination must contain at least one valid address".to_string());
        }
        let mut seen = std::collections::BTreeSet::new();
        for address in addresses.iter().filter_map(Value::as_str) {
            if !seen.insert(address) {
                return Err(format!("Duplicate address '{address}' is not allowed"));
            }
        }
        let port = dest.get("Port").and_then(Value::as_i64).unwrap_or(0);
        if !(1..=65535).contains(&port) {
            return Err(format!("Invalid Port number {port}"));
        }
    }
    common::validate_mtls_mode(body)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use crate::config_entry::EntryError;
    use crate::config_entry::decode;

    #[test]
    fn good_entry_has_consul_shape() {
        let e = decode(
            &json!({"Kind": "service-defaults", "Name": "web", "Protocol": "HTTP",
            "upstream_config": {"defaults": {"connect_timeout_ms": 100}}}),
        )
        .unwrap();
        assert_eq!(
            e.body,
            json!({"Kind": "service-defaults", "Name": "web", "Protocol": "http",
                "TransparentProxy": {}, "MeshGateway": {}, "Expose": {},
                "UpstreamConfig": {"Defaults": {"ConnectTimeoutMs": 100, "MeshGateway": {}}}})
        );
    }

    #[test]
    fn bad_entries() {
        let bad = |v| match decode(&v) {
            Err(EntryError::Invalid(m)) => m,
            other => panic!("{other:?}"),
        };
        assert_eq!(bad(json!({"Kind": "service-defaults"})), "Name is required");
        assert!(bad(json!({"Kind": "service-defaults", "Name": "*"})).contains("wildcard"));
        assert_eq!(
            bad(json!({"Kind": "service-defaults", "Name": "w", "Destination": {"Port": 80}})),
            "Destination must contain at least one valid address"
        );
        assert_eq!(
            bad(json!({"Kind": "service-defaults", "Name": "w",
                "Destination": {"Addresses": ["a.com"], "Port": 0}})),
            "Invalid Port number 0"
        );
        assert!(
            bad(json!({"Kind": "service-defaults", "Name": "w",
            "BalanceInboundConnections": "x"}))
            .starts_with("invalid value for balance_inbound_connections")
        );
    }
}
