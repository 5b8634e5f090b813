//! Read-only views of the raft state built from openraft metrics: [`ServerInfo`] for the
//! membership and the Consul-style `raft` stats map.

use std::collections::BTreeMap;

use openraft::RaftMetrics;
use openraft::ServerState;

use crate::types::NodeKey;
use crate::types::TypeConfig;

/// One server in the current raft membership.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerInfo {
    /// Raft server id (the Consul node id).
    pub id: String,
    /// Node name.
    pub node: String,
    /// Server RPC address.
    pub address: String,
    /// Whether this server is the current leader.
    pub leader: bool,
    /// Whether this server is a voter (false for non-voters / learners).
    pub voter: bool,
}

type Metrics = RaftMetrics<TypeConfig>;

/// The RPC address of the current leader, looked up in the membership.
pub(crate) fn leader_addr(m: &Metrics) -> Option<String> {
    let leader = m.current_leader.as_ref()?;
    m.membership_config
        .membership()
        .get_node(leader)
        .map(|n| n.rpc_addr.clone())
}

/// The servers of the current (effective) membership, ordered by id.
pub(crate) fn servers(m: &Metrics) -> Vec<ServerInfo> {
    let membership = m.membership_config.membership();
    let voters: Vec<NodeKey> = membership.voter_ids().collect();
    membership
        .nodes()
        .map(|(id, node)| ServerInfo {
            id: id.0.clone(),
            node: node.name.clone(),
            address: node.rpc_addr.clone(),
            leader: m.current_leader.as_ref() == Some(id),
            voter: voters.contains(id),
        })
        .collect()
}

fn state_name(s: ServerState) -> &'static str {
    match s {
        ServerState::Leader => "Leader",
        ServerState::Candidate => "Candidate",
        ServerState::Follower | ServerState::Learner => "Follower",
        ServerState::Shutdown => "Shutdown",
    }
}

/// Consul's `raft` section of `/v1/agent/self` `Stats`, as far as we can fill it.
pub(crate) fn stats(
    m: &Metrics,
    applied_index: u64,
    last_contact: &str,
) -> BTreeMap<String, String> {
    let num = |v: Option<u64>| v.unwrap_or(0).to_string();
    let membership = m.membership_config.membership();
    let num_peers = membership.voter_ids().filter(|id| *id != m.id).count();
    let configuration = servers(m)
        .iter()
        .map(|s| {
            let suffrage = if s.voter { "Voter" } else { "Nonvoter" };
            format!("{{Suffrage:{suffrage} ID:{} Address:{}}}", s.id, s.address)
        })
        .collect::<Vec<_>>()
        .join(" ");

    let mut out = BTreeMap::new();
    let mut put = |k: &str, v: String| {
        out.insert(k.to_string(), v);
    };
    put("state", state_name(m.state).to_string());
    put("term", m.current_term.to_string());
    put("last_log_index", num(m.last_log_index));
    put(
        "commit_index",
        num(m.cluster_committed.as_ref().map(|id| id.index)),
    );
    put("applied_index", applied_index.to_string());
    put("fsm_pending", "0".to_string());
    put(
        "last_snapshot_index",
        num(m.snapshot.as_ref().map(|id| id.index)),
    );
    put(
        "last_snapshot_term",
        num(m.snapshot.as_ref().map(|id| id.leader_id.term)),
    );
    put(
        "last_purged_index",
        num(m.purged.as_ref().map(|id| id.index)),
    );
    put("num_peers", num_peers.to_string());
    put("last_contact", last_contact.to_string());
    put(
        "latest_configuration_index",
        num(m.membership_config.log_id().as_ref().map(|id| id.index)),
    );
    put("latest_configuration", format!("[{configuration}]"));
    put("protocol_version", "3".to_string());
    put("protocol_version_min", "0".to_string());
    put("protocol_version_max", "3".to_string());
    put("snapshot_version_min", "0".to_string());
    put("snapshot_version_max", "1".to_string());
    out
}
