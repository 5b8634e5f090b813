//! Records held by the state store: nodes, services, checks, KV entries, sessions, config
//! entries and coordinates. Field names serialize in Consul's PascalCase so the HTTP layer can
//! return them directly where Consul's shape is the same; the HTTP layer builds the composite
//! shapes (`ServiceNode`, `CheckServiceNode`, …) from these.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde::Serialize;

/// Raft index at which a record was created or last modified.
pub type Index = u64;

mod peering;
mod peering_secrets;

pub use peering::Locality;
pub use peering::Peering;
pub use peering::PeeringRemote;
pub use peering::PeeringState;
pub use peering::PeeringTrustBundle;
pub use peering_secrets::OpenOutcome;
pub use peering_secrets::PeeringSecrets;
pub use peering_secrets::SecretError;
pub use peering_secrets::SecretsWrite;
pub use peering_secrets::secret_eq;

/// Health status strings as Consul spells them.
pub mod health {
    /// The check passes.
    pub const PASSING: &str = "passing";
    /// The check warns.
    pub const WARNING: &str = "warning";
    /// The check fails.
    pub const CRITICAL: &str = "critical";
    /// Pseudo-status used by `/v1/health/state/any`.
    pub const ANY: &str = "any";
    /// Status of a check that has not run yet in Consul's maintenance mode.
    pub const MAINTENANCE: &str = "maintenance";
}

/// A catalog node.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Node {
    #[serde(rename = "ID")]
    pub id: String,
    #[serde(rename = "Node")]
    pub node: String,
    #[serde(rename = "Address")]
    pub address: String,
    #[serde(rename = "Datacenter")]
    pub datacenter: String,
    /// The peer this node was imported from; empty for local nodes (and then not serialized,
    /// as Consul omits it).
    #[serde(rename = "PeerName", default, skip_serializing_if = "String::is_empty")]
    pub peer_name: String,
    #[serde(rename = "TaggedAddresses")]
    pub tagged_addresses: BTreeMap<String, String>,
    #[serde(rename = "Meta")]
    pub meta: BTreeMap<String, String>,
    #[serde(rename = "CreateIndex")]
    pub create_index: Index,
    #[serde(rename = "ModifyIndex")]
    pub modify_index: Index,
}

/// One of a service's tagged addresses (`{"Address": …, "Port": …}`).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ServiceAddress {
    #[serde(rename = "Address")]
    pub address: String,
    #[serde(rename = "Port")]
    pub port: u16,
}

/// DNS weights of a service instance.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Weights {
    #[serde(rename = "Passing")]
    pub passing: i32,
    #[serde(rename = "Warning")]
    pub warning: i32,
}

impl Default for Weights {
    fn default() -> Self {
        Weights {
            passing: 1,
            warning: 1,
        }
    }
}

/// A service instance registered on a node (Consul's `NodeService`).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Service {
    /// `""` for a typical service, or `connect-proxy`, `mesh-gateway`, …
    #[serde(rename = "Kind")]
    pub kind: String,
    #[serde(rename = "ID")]
    pub id: String,
    #[serde(rename = "Service")]
    pub service: String,
    #[serde(rename = "Tags")]
    pub tags: Vec<String>,
    #[serde(rename = "Address")]
    pub address: String,
    #[serde(rename = "TaggedAddresses")]
    pub tagged_addresses: BTreeMap<String, ServiceAddress>,
    #[serde(rename = "Meta")]
    pub meta: BTreeMap<String, String>,
    #[serde(rename = "Port")]
    pub port: u16,
    #[serde(rename = "Weights")]
    pub weights: Weights,
    #[serde(rename = "EnableTagOverride")]
    pub enable_tag_override: bool,
    /// Proxy configuration, kept as Consul-shaped JSON until the mesh exists.
    #[serde(rename = "Proxy")]
    pub proxy: Option<serde_json::Value>,
    /// Connect configuration, kept as Consul-shaped JSON until the mesh exists.
    #[serde(rename = "Connect")]
    pub connect: Option<serde_json::Value>,
    /// The peer this instance was imported from; empty for local instances.
    #[serde(rename = "PeerName", default, skip_serializing_if = "String::is_empty")]
    pub peer_name: String,
    #[serde(rename = "CreateIndex")]
    pub create_index: Index,
    #[serde(rename = "ModifyIndex")]
    pub modify_index: Index,
}

/// A health check on a node, optionally bound to one of its services.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct HealthCheck {
    #[serde(rename = "Node")]
    pub node: String,
    #[serde(rename = "CheckID")]
    pub check_id: String,
    #[serde(rename = "Name")]
    pub name: String,
    /// One of [`health::PASSING`], [`health::WARNING`], [`health::CRITICAL`].
    #[serde(rename = "Status")]
    pub status: String,
    #[serde(rename = "Notes")]
    pub notes: String,
    #[serde(rename = "Output")]
    pub output: String,
    #[serde(rename = "ServiceID")]
    pub service_id: String,
    #[serde(rename = "ServiceName")]
    pub service_name: String,
    #[serde(rename = "ServiceTags")]
    pub service_tags: Vec<String>,
    /// `ttl`, `http`, `tcp`, `grpc`, `script`, `alias`, `serf`, or `""` for a bare catalog check.
    #[serde(rename = "Type")]
    pub check_type: String,
    /// How often an agent runs the check (Go duration string, `""` for TTL and catalog checks).
    #[serde(rename = "Interval", default)]
    pub interval: String,
    /// The check's timeout (Go duration string, `""` when not set).
    #[serde(rename = "Timeout", default)]
    pub timeout: String,
    /// Consul's `HealthCheckDefinition` object (HTTP, TCP, Interval, Timeout, …), set by
    /// catalog registrations of externally managed checks; `{}` for checks an agent runs.
    #[serde(rename = "Definition")]
    pub definition: serde_json::Value,
    /// The peer this check was imported from; empty for local checks.
    #[serde(rename = "PeerName", default, skip_serializing_if = "String::is_empty")]
    pub peer_name: String,
    #[serde(rename = "CreateIndex")]
    pub create_index: Index,
    #[serde(rename = "ModifyIndex")]
    pub modify_index: Index,
}

/// A key/value entry.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct KvEntry {
    pub key: String,
    pub flags: u64,
    /// `None` is Consul's null value (a PUT with an empty body).
    pub value: Option<Vec<u8>>,
    /// ID of the session holding the lock on this key, if any.
    pub session: Option<String>,
    pub lock_index: Index,
    pub create_index: Index,
    pub modify_index: Index,
}

/// What happens to a session's locks when the session is invalidated.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum SessionBehavior {
    /// Locks are released; the keys stay.
    #[default]
    #[serde(rename = "release")]
    Release,
    /// Locked keys are deleted.
    #[serde(rename = "delete")]
    Delete,
}

/// A session (Consul's `Session` object).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Session {
    pub id: String,
    pub name: String,
    pub node: String,
    pub node_checks: Vec<String>,
    /// Service checks as `(check id, namespace)` pairs.
    pub service_checks: Vec<String>,
    /// Lock delay in nanoseconds.
    pub lock_delay_ns: u64,
    pub behavior: SessionBehavior,
    /// Go duration string, `""` when the session has no TTL.
    pub ttl: String,
    pub create_index: Index,
    pub modify_index: Index,
}

/// A config entry. `body` holds the complete entry as Consul-shaped JSON (`Kind`, `Name`, …,
/// without the indexes); the HTTP layer adds `CreateIndex`/`ModifyIndex` on the way out.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ConfigEntry {
    pub kind: String,
    pub name: String,
    pub body: serde_json::Value,
    pub create_index: Index,
    pub modify_index: Index,
}

/// A node's network coordinate (Vivaldi), kept as Consul-shaped JSON.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Coordinate {
    pub node: String,
    pub segment: String,
    pub coord: serde_json::Value,
    pub modify_index: Index,
}
