//! The foca identity of a node: its name, gossip address and a generation number
//! that is bumped to rejoin after the cluster declared this identity down.

use std::net::SocketAddr;

use serde::{Deserialize, Serialize};

/// Identity carried in every SWIM message header.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct NodeId {
    /// Node name.
    pub name: String,
    /// Gossip address.
    pub addr: SocketAddr,
    /// Generation: the shell seeds it from the wall clock at start; renewals add one.
    pub generation: u64,
}

impl foca::Identity for NodeId {
    type Addr = SocketAddr;

    fn renew(&self) -> Option<Self> {
        Some(Self {
            generation: self.generation.wrapping_add(1),
            ..self.clone()
        })
    }

    fn addr(&self) -> SocketAddr {
        self.addr
    }

    fn win_addr_conflict(&self, adversary: &Self) -> bool {
        self.generation > adversary.generation
    }
}
