//! The openraft type configuration and the small value types it is made of.
//!
//! Everything openraft-specific about *what* we replicate lives here: the node id (the Consul
//! node UUID as a string), the membership node record, and the opaque command/response bytes.
//! None of these types leave the crate.

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use serde::Deserialize;
use serde::Serialize;

/// A raft node id: the Consul `node_id` UUID string.
#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub(crate) struct NodeKey(pub(crate) String);

impl fmt::Display for NodeKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Needed by openraft's storage conformance suite, which names nodes by number.
impl From<u64> for NodeKey {
    fn from(v: u64) -> Self {
        NodeKey(v.to_string())
    }
}

/// What the membership config records about each server.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct NodeMeta {
    /// Consul node name.
    pub(crate) name: String,
    /// Server RPC address, e.g. `127.0.0.1:8300`.
    pub(crate) rpc_addr: String,
}

impl fmt::Display for NodeMeta {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}@{}", self.name, self.rpc_addr)
    }
}

/// An opaque application command; serialized as base64 so JSON log records stay compact.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Command(pub(crate) Vec<u8>);

impl fmt::Display for Command {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Command({} bytes)", self.0.len())
    }
}

impl Serialize for Command {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&B64.encode(&self.0))
    }
}

impl<'de> Deserialize<'de> for Command {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        B64.decode(s.as_bytes())
            .map(Command)
            .map_err(serde::de::Error::custom)
    }
}

openraft::declare_raft_types!(
    /// Legate's raft type configuration.
    pub(crate) TypeConfig:
        D = Command,
        R = Vec<u8>,
        NodeId = NodeKey,
        Node = NodeMeta,
        LeaderId = openraft::impls::leader_id_std::LeaderId<u64, NodeKey>,
);

/// The openraft handle, parameterised with our state-machine adapter.
pub(crate) type RaftHandle = openraft::Raft<TypeConfig, crate::state_machine::SmAdapter>;
pub(crate) type LogId = openraft::alias::LogIdOf<TypeConfig>;
pub(crate) type Entry = openraft::alias::EntryOf<TypeConfig>;
pub(crate) type Vote = openraft::alias::VoteOf<TypeConfig>;
pub(crate) type SnapshotMeta = openraft::alias::SnapshotMetaOf<TypeConfig>;
pub(crate) type StoredMembership = openraft::alias::StoredMembershipOf<TypeConfig>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn command_round_trips_through_json_as_base64() {
        let c = Command(vec![0, 1, 2, 255]);
        let s = serde_json::to_string(&c).unwrap();
        assert_eq!(s, "\"AAEC/w==\"");
        let back: Command = serde_json::from_str(&s).unwrap();
        assert_eq!(back, c);
    }

    #[test]
    fn node_key_serializes_as_plain_string() {
        let k = NodeKey("abc".into());
        assert_eq!(serde_json::to_string(&k).unwrap(), "\"abc\"");
        assert_eq!(NodeKey::from(7).to_string(), "7");
    }
}
