//! `bootstrap_expect`: when to form the Raft group, as a pure decision over the servers gossip
//! has seen. Every server of the datacenter computes the same sorted voter set, so each may
//! initialize Raft with it and they agree.

use std::sync::Arc;
use std::time::Duration;

use legate_rpc::HttpRequest;

use crate::agent::Agent;
use crate::reconcile::MemberInfo;
use crate::reconcile::MemberStatus;

/// A server that will be a voter of the new group.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Voter {
    /// Node ID (the Raft server ID).
    pub id: String,
    /// Node name.
    pub name: String,
    /// Server RPC address (`ip:port`).
    pub rpc_addr: String,
}

/// What to do about bootstrapping now.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Decision {
    /// Fewer than `expect` servers known: wait for more.
    Wait {
        /// Servers seen so far.
        seen: usize,
    },
    /// Two servers disagree on `bootstrap_expect`: refuse, as Consul does.
    Mismatch {
        /// The conflicting member's name.
        member: String,
        /// Its expect value.
        their_expect: u32,
    },
    /// Form the group with exactly these voters.
    Bootstrap(Vec<Voter>),
}

/// Decide from the alive servers of `dc` seen in gossip (including this one).
pub fn decide(dc: &str, expect: u32, members: &[MemberInfo]) -> Decision {
    let mut voters = Vec::new();
    for m in members {
        let is_server = m.tags.get("role").map(String::as_str) == Some("consul");
        let same_dc = m.tags.get("dc").is_some_and(|d| d == dc);
        if !is_server || !same_dc || m.status != MemberStatus::Alive {
            continue;
        }
        if let Some(theirs) = m.tags.get("expect").and_then(|e| e.parse::<u32>().ok())
            && theirs != 0
            && theirs != expect
        {
            return Decision::Mismatch {
                member: m.name.clone(),
                their_expect: theirs,
            };
        }
        let (Some(id), Some(port)) = (m.tags.get("id"), m.tags.get("port")) else {
            continue;
        };
        voters.push(Voter {
            id: id.clone(),
            name: m.name.clone(),
            rpc_addr: format!("{}:{port}", m.address),
        });
    }
    voters.sort();
    voters.dedup();
    if voters.len() < expect as usize {
        return Decision::Wait { seen: voters.len() };
    }
    voters.truncate(expect as usize);
    Decision::Bootstrap(voters)
}

/// Pause before asking the other servers again when one of them did not answer.
const PROBE_RETRY: Duration = Duration::from_secs(1);

/// What the other would-be voters say about an existing Raft group.
enum Probe {
    /// None of them is part of a Raft group yet: bootstrapping is safe.
    NoCluster,
    /// This server already has Raft peers: join it instead of forming a second group.
    Cluster(String),
    /// This server did not answer; ask again later.
    Unreachable(String),
}

/// Asks every other would-be voter for its Raft peers (`/v1/status/peers` over server RPC),
/// as Consul does before bootstrapping, so that a server started with `bootstrap_expect`
/// next to an existing datacenter joins it instead of forming a second Raft group.
async fn existing_cluster(agent: &Agent, voters: &[Voter]) -> Probe {
    for voter in voters.iter().filter(|v| v.id != agent.node().id) {
        let request = HttpRequest {
            method: "GET".into(),
            path_and_query: "/v1/status/peers?stale".into(),
            headers: Vec::new(),
            body: Vec::new(),
        };
        match agent.server().rpc().http(&voter.rpc_addr, request).await {
            Ok(reply) if reply.status == 200 => {
                let peers: Vec<String> = serde_json::from_slice(&reply.body).unwrap_or_default();
                if !peers.is_empty() {
                    return Probe::Cluster(voter.name.clone());
                }
            }
            Ok(_) | Err(_) => return Probe::Unreachable(voter.name.clone()),
        }
    }
    Probe::NoCluster
}

/// For a server with `bootstrap_expect` > 1 and no Raft configuration yet: watch gossip until
/// enough servers are alive, then initialize Raft with them (every such server does the same
/// with the same voter set).
pub async fn run(agent: Arc<Agent>) {
    let config = agent.config();
    let expect = config.bootstrap_expect;
    if !config.server || expect < 2 || !agent.server().consensus().servers().is_empty() {
        return;
    }
    let Some(lan) = agent.lan() else {
        return;
    };
    let shutdown = agent.shutdown_token();
    let mut changes = agent.members_subscribe();
    loop {
        changes.borrow_and_update();
        let members: Vec<MemberInfo> = lan
            .members()
            .iter()
            .map(crate::membership::member_info)
            .collect();
        match decide(&agent.node().datacenter, expect, &members) {
            Decision::Bootstrap(voters) => {
                match existing_cluster(&agent, &voters).await {
                    Probe::NoCluster => {}
                    Probe::Cluster(server) => {
                        tracing::info!(target: "agent.server", "Existing Raft peers reported by server, disabling bootstrap mode: server={server}");
                        return;
                    }
                    Probe::Unreachable(server) => {
                        tracing::warn!(target: "agent.server", "Failed to confirm peer status for server, retrying: server={server}");
                        tokio::select! {
                            () = shutdown.cancelled() => return,
                            () = tokio::time::sleep(PROBE_RETRY) => {},
                        }
                        continue;
                    }
                }
                let peers = voters
                    .into_iter()
                    .map(|v| legate_consensus::Peer {
                        id: v.id,
                        name: v.name,
                        rpc_addr: v.rpc_addr,
                    })
                    .collect();
                match agent.server().consensus().initialize(peers).await {
                    Ok(()) => {
                        tracing::info!(target: "agent.server", "Found expected number of peers, attempting bootstrap: expect={expect}");
                        return;
                    }
                    Err(err) => {
                        tracing::error!(target: "agent.server", error = %err, "bootstrap failed")
                    }
                }
            }
            Decision::Mismatch {
                member,
                their_expect,
            } => tracing::error!(
                target: "agent.server",
                "Member has a conflicting expect value. All nodes should expect the same number: member={member} expect={their_expect}"
            ),
            Decision::Wait { seen } => {
                tracing::debug!(target: "agent.server", "waiting for servers: seen={seen} expect={expect}")
            }
        }
        tokio::select! {
            () = shutdown.cancelled() => return,
            changed = changes.changed() => if changed.is_err() { return },
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;

    fn server(name: &str, expect: u32) -> MemberInfo {
        let tags: BTreeMap<String, String> = [
            ("role", "consul".to_string()),
            ("dc", "dc1".to_string()),
            ("id", format!("id-{name}")),
            ("port", "8300".to_string()),
            ("expect", expect.to_string()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect();
        MemberInfo {
            name: name.into(),
            address: format!("127.0.0.{}", name.len()),
            status: MemberStatus::Alive,
            tags,
        }
    }

    #[test]
    fn waits_then_bootstraps_with_the_same_set_everywhere() {
        assert_eq!(
            decide("dc1", 3, &[server("a", 3), server("bb", 3)]),
            Decision::Wait { seen: 2 }
        );
        let one = decide(
            "dc1",
            3,
            &[server("a", 3), server("bb", 3), server("ccc", 3)],
        );
        let other = decide(
            "dc1",
            3,
            &[server("ccc", 3), server("a", 3), server("bb", 3)],
        );
        assert_eq!(one, other);
        let Decision::Bootstrap(voters) = one else {
            panic!("expected bootstrap")
        };
        assert_eq!(voters.len(), 3);
        assert_eq!(voters[0].rpc_addr, "127.0.0.1:8300");
    }

    #[test]
    fn mismatched_expect_is_refused_and_clients_ignored() {
        assert!(matches!(
            decide("dc1", 3, &[server("a", 3), server("bb", 5)]),
            Decision::Mismatch { .. }
        ));
        let mut client = server("c", 0);
        client.tags.insert("role".into(), "node".into());
        assert_eq!(decide("dc1", 1, &[client]), Decision::Wait { seen: 0 });
    }
}
