//! A gossip member as the serf layer sees it: name, address, tags, status and the
//! Lamport time of its last status change.

use std::collections::BTreeMap;
use std::net::SocketAddr;

use serde::{Deserialize, Serialize};

/// Member tags (`role`, `dc`, `port`, `build`, `vsn`, `id`, …).
pub type Tags = BTreeMap<String, String>;

/// A member's status, numbered like Consul's `/v1/agent/members` `Status` field.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum MemberStatus {
    /// Known only by intent; not yet seen alive (0).
    None,
    /// Alive (1).
    Alive,
    /// Announced a graceful leave, still reachable (2).
    Leaving,
    /// Left gracefully or was force-left (3).
    Left,
    /// Unreachable without having left (4).
    Failed,
}

impl MemberStatus {
    /// Consul's numeric status code.
    pub fn code(self) -> u8 {
        match self {
            Self::None => 0,
            Self::Alive => 1,
            Self::Leaving => 2,
            Self::Left => 3,
            Self::Failed => 4,
        }
    }
}

/// One member of a gossip pool.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Member {
    /// Node name, unique in the pool.
    pub name: String,
    /// Gossip address (UDP and TCP share it).
    pub addr: SocketAddr,
    /// Tags announced by the member.
    pub tags: Tags,
    /// Current status.
    pub status: MemberStatus,
    /// Lamport time of the intent that set the current status/tags.
    pub status_ltime: u64,
}

impl Member {
    /// The gossip port (Consul reports address and port separately).
    pub fn port(&self) -> u16 {
        self.addr.port()
    }
}
