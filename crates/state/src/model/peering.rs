//! Cluster-peering records as the state store keeps them: the peering row, its state enum, the
//! remote side's identity and the peer's trust bundle. This is the storage form (every field,
//! including internal ones such as `ManualServerAddresses`); the HTTP API shape with its
//! omit-when-empty rules and the computed `StreamStatus` is built by `legate-peering`.
//! Peering secrets live in `peering_secrets.rs`.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde::Serialize;

use crate::model::Index;

/// A peering's lifecycle state, spelled as Consul's API spells it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
#[non_exhaustive]
pub enum PeeringState {
    /// Write-time "keep the existing state"; a new row becomes [`PeeringState::Pending`].
    #[default]
    Undefined,
    /// Created by generate-token (acceptor) or written by establish before the exchange.
    Pending,
    /// The dialer exchanged the secret and is about to open the stream.
    Establishing,
    /// The stream is connected (computed on read, never written by Legate itself).
    Active,
    /// The stream ended with an error (computed on read).
    Failing,
    /// Marked for deletion; a leader routine cleans up and removes the row.
    Deleting,
    /// The peer ended the peering; the row is kept so the operator notices.
    Terminated,
}

impl PeeringState {
    /// The state's name as Consul's API spells it (`"PENDING"`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            PeeringState::Undefined => "UNDEFINED",
            PeeringState::Pending => "PENDING",
            PeeringState::Establishing => "ESTABLISHING",
            PeeringState::Active => "ACTIVE",
            PeeringState::Failing => "FAILING",
            PeeringState::Deleting => "DELETING",
            PeeringState::Terminated => "TERMINATED",
        }
    }
}

impl std::fmt::Display for PeeringState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Where the peer runs (Consul's `Locality`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Locality {
    #[serde(rename = "Region", default)]
    pub region: String,
    #[serde(rename = "Zone", default)]
    pub zone: String,
}

/// The remote side of a peering (Consul's `PeeringRemoteInfo`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PeeringRemote {
    #[serde(rename = "Partition", default)]
    pub partition: String,
    #[serde(rename = "Datacenter", default)]
    pub datacenter: String,
    #[serde(rename = "Locality", default, skip_serializing_if = "Option::is_none")]
    pub locality: Option<Locality>,
}

impl PeeringRemote {
    /// Whether nothing is known about the remote side (a write with an empty remote keeps the
    /// stored one).
    pub fn is_empty(&self) -> bool {
        self.partition.is_empty() && self.datacenter.is_empty() && self.locality.is_none()
    }
}

/// A peering row. Acceptor rows have no server addresses; dialer rows hold the acceptor's
/// addresses, CA PEMs, TLS server name and the ID the acceptor gave the peering (`peer_id`).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Peering {
    /// Local UUID of the peering.
    #[serde(rename = "ID")]
    pub id: String,
    /// Local alias of the peer (lower-case DNS label).
    #[serde(rename = "Name")]
    pub name: String,
    /// Local partition; `""` outside Enterprise.
    #[serde(rename = "Partition")]
    pub partition: String,
    /// When the peering was marked for deletion, Unix milliseconds at the proposer.
    #[serde(rename = "DeletedAtMs")]
    pub deleted_at_ms: Option<u64>,
    #[serde(rename = "Meta")]
    pub meta: BTreeMap<String, String>,
    #[serde(rename = "State")]
    pub state: PeeringState,
    /// The ID the remote side assigned (dialer rows only).
    #[serde(rename = "PeerID")]
    pub peer_id: String,
    /// The acceptor's CA roots (dialer rows; kept current by trust-bundle writes).
    #[serde(rename = "PeerCAPems")]
    pub peer_ca_pems: Vec<String>,
    /// TLS server name to verify when dialing (dialer rows).
    #[serde(rename = "PeerServerName")]
    pub peer_server_name: String,
    /// Current dial targets (dialer rows; updated by replication).
    #[serde(rename = "PeerServerAddresses")]
    pub peer_server_addresses: Vec<String>,
    /// Addresses from the token's `ManualServerAddresses`; override the discovered ones.
    #[serde(rename = "ManualServerAddresses")]
    pub manual_server_addresses: Vec<String>,
    #[serde(rename = "Remote")]
    pub remote: PeeringRemote,
    #[serde(rename = "CreateIndex")]
    pub create_index: Index,
    #[serde(rename = "ModifyIndex")]
    pub modify_index: Index,
}

impl Peering {
    /// Whether this side dials (Consul's `ShouldDial`): it knows server addresses to dial.
    pub fn should_dial(&self) -> bool {
        !self.peer_server_addresses.is_empty() || !self.manual_server_addresses.is_empty()
    }

    /// Whether the peering is live: neither terminated nor marked for deletion.
    pub fn is_active(&self) -> bool {
        self.state != PeeringState::Terminated && self.deleted_at_ms.is_none()
    }
}

/// A peer's trust bundle: its Connect CA roots and trust domain, used to verify the peer's
/// mTLS identities.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct PeeringTrustBundle {
    #[serde(rename = "TrustDomain")]
    pub trust_domain: String,
    #[serde(rename = "PeerName")]
    pub peer_name: String,
    /// Local partition of the peering; `""` outside Enterprise.
    #[serde(rename = "Partition")]
    pub partition: String,
    #[serde(rename = "RootPEMs")]
    pub root_pems: Vec<String>,
    /// The peer's partition the bundle was exported from.
    #[serde(rename = "ExportedPartition")]
    pub exported_partition: String,
    #[serde(rename = "CreateIndex")]
    pub create_index: Index,
    #[serde(rename = "ModifyIndex")]
    pub modify_index: Index,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn state_names_match_consul() {
        let all = [
            (PeeringState::Undefined, "UNDEFINED"),
            (PeeringState::Pending, "PENDING"),
            (PeeringState::Establishing, "ESTABLISHING"),
            (PeeringState::Active, "ACTIVE"),
            (PeeringState::Failing, "FAILING"),
            (PeeringState::Deleting, "DELETING"),
            (PeeringState::Terminated, "TERMINATED"),
        ];
        for (state, name) in all {
            assert_eq!(state.as_str(), name);
            assert_eq!(
                serde_json::to_string(&state).unwrap(),
                format!("\"{name}\"")
            );
            let back: PeeringState = serde_json::from_str(&format!("\"{name}\"")).unwrap();
            assert_eq!(back, state);
        }
    }

    #[test]
    fn dialing_and_activity() {
        let mut p = Peering::default();
        assert!(!p.should_dial());
        assert!(p.is_active());
        p.manual_server_addresses = vec!["10.0.0.1:8503".into()];
        assert!(p.should_dial());
        p.state = PeeringState::Terminated;
        assert!(!p.is_active());
        p.state = PeeringState::Deleting;
        p.deleted_at_ms = Some(5);
        assert!(!p.is_active());
    }

    #[test]
    fn storage_form_round_trips_and_tolerates_missing_fields() {
        let p = Peering {
            id: "id".into(),
            name: "peer".into(),
            state: PeeringState::Establishing,
            remote: PeeringRemote {
                datacenter: "dc2".into(),
                ..PeeringRemote::default()
            },
            ..Peering::default()
        };
        let json = serde_json::to_string(&p).unwrap();
        assert_eq!(serde_json::from_str::<Peering>(&json).unwrap(), p);
        let sparse: Peering = serde_json::from_str(r#"{"ID":"x","Name":"y"}"#).unwrap();
        assert_eq!(sparse.state, PeeringState::Undefined);
        assert!(PeeringRemote::default().is_empty());
        assert!(!p.remote.is_empty());
    }
}
