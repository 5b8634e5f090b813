//! Leader reconciliation of gossip membership into the catalog, as a pure function: the
//! members the gossip layer reports, and the catalog as it is, in; the register/deregister
//! commands that make the catalog agree, out. Alive members get a passing `serfHealth`,
//! failed ones a critical one, members that left or were reaped are deregistered, and servers
//! carry the `consul` service. [`moved_servers`] is the same kind of plan for the Raft
//! configuration: servers whose gossip-advertised RPC address differs from their entry.

use std::collections::BTreeMap;

use legate_consensus::ServerInfo;
use legate_state::StateView;
use legate_state::command::Command;
use legate_state::command::RegisterRequest;
use legate_state::model::HealthCheck;
use legate_state::model::Node;
use legate_state::model::Service;
use legate_state::model::health;

use crate::anti_entropy::CONSUL_SERVICE_ID;
use crate::anti_entropy::SERF_HEALTH_CHECK_ID;

/// A member's gossip status, with Consul's numeric codes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MemberStatus {
    /// 1: alive.
    Alive,
    /// 2: leaving.
    Leaving,
    /// 3: left.
    Left,
    /// 4: failed.
    Failed,
}

/// What reconciliation needs to know about one gossip member.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MemberInfo {
    /// Node name.
    pub name: String,
    /// Gossip address (the node's catalog address).
    pub address: String,
    /// Gossip status.
    pub status: MemberStatus,
    /// Serf tags (`role`, `dc`, `id`, `port`, …).
    pub tags: BTreeMap<String, String>,
}

impl MemberInfo {
    fn is_server(&self) -> bool {
        self.tags.get("role").map(String::as_str) == Some("consul")
    }

    /// The server RPC address the member advertises (`<gossip ip>:<port tag>`), if it is a
    /// server with a port tag.
    pub fn rpc_addr(&self) -> Option<String> {
        if !self.is_server() {
            return None;
        }
        let port: u16 = self.tags.get("port")?.parse().ok()?;
        let ip = self.address.as_str();
        Some(if ip.contains(':') {
            format!("[{ip}]:{port}")
        } else {
            format!("{ip}:{port}")
        })
    }
}

/// A Raft server to re-add at the address it now advertises.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MovedServer {
    /// Raft server id (the node id).
    pub id: String,
    /// Node name.
    pub name: String,
    /// The address in the Raft configuration.
    pub old_addr: String,
    /// The address gossip advertises.
    pub new_addr: String,
}

const SERF_CHECK_NAME: &str = "Serf Health Status";
const ALIVE_OUTPUT: &str = "Agent alive and reachable";
const FAILED_OUTPUT: &str = "Agent not live or unreachable";

/// The commands that make the catalog agree with `members` for datacenter `dc`. Members of
/// other datacenters are ignored; `reaped` names members gossip has forgotten entirely.
pub fn plan(
    dc: &str,
    members: &[MemberInfo],
    reaped: &[String],
    catalog: &StateView,
) -> Vec<Command> {
    let mut commands = Vec::new();
    for member in members {
        if member.tags.get("dc").is_some_and(|d| d != dc) {
            continue;
        }
        match member.status {
            MemberStatus::Alive | MemberStatus::Leaving => {
                if let Some(cmd) =
                    register_if_needed(dc, member, health::PASSING, ALIVE_OUTPUT, catalog)
                {
                    commands.push(cmd);
                }
            }
            MemberStatus::Failed => {
                if let Some(cmd) =
                    register_if_needed(dc, member, health::CRITICAL, FAILED_OUTPUT, catalog)
                {
                    commands.push(cmd);
                }
            }
            MemberStatus::Left => commands.extend(deregister_if_present(&member.name, catalog)),
        }
    }
    for name in reaped {
        commands.extend(deregister_if_present(name, catalog));
    }
    commands
}

/// Alive servers of datacenter `dc` whose Raft entry (matched by id) carries another RPC
/// address than the one they advertise in gossip: restarted with a new address or port.
pub fn moved_servers(dc: &str, members: &[MemberInfo], raft: &[ServerInfo]) -> Vec<MovedServer> {
    members
        .iter()
        .filter(|m| m.status == MemberStatus::Alive && m.tags.get("dc").is_some_and(|d| d == dc))
        .filter_map(|m| {
            let new_addr = m.rpc_addr()?;
            let id = m.tags.get("id")?;
            let entry = raft.iter().find(|s| &s.id == id)?;
            (entry.address != new_addr).then(|| MovedServer {
                id: id.clone(),
                name: m.name.clone(),
                old_addr: entry.address.clone(),
                new_addr,
            })
        })
        .collect()
}

fn deregister_if_present(name: &str, catalog: &StateView) -> Option<Command> {
    catalog.node(name).map(|_| Command::Deregister {
        node: name.to_string(),
        service_id: None,
        check_id: None,
    })
}

fn register_if_needed(
    dc: &str,
    member: &MemberInfo,
    status: &str,
    output: &str,
    catalog: &StateView,
) -> Option<Command> {
    let node_ok = catalog
        .node(&member.name)
        .is_some_and(|n| n.address == member.address);
    let check_ok = catalog
        .node_checks(&member.name)
        .iter()
        .any(|c| c.check_id == SERF_HEALTH_CHECK_ID && c.status == status);
    let service_ok = !member.is_server()
        || catalog
            .node_service(&member.name, CONSUL_SERVICE_ID)
            .is_some();
    if node_ok && check_ok && service_ok {
        return None;
    }
    let existing = catalog.node(&member.name);
    let node = Node {
        id: member
            .tags
            .get("id")
            .cloned()
            .or_else(|| existing.as_ref().map(|n| n.id.clone()))
            .unwrap_or_default(),
        node: member.name.clone(),
        address: member.address.clone(),
        datacenter: dc.to_string(),
        tagged_addresses: existing
            .as_ref()
            .map(|n| n.tagged_addresses.clone())
            .unwrap_or_default(),
        meta: existing
            .as_ref()
            .map(|n| n.meta.clone())
            .unwrap_or_default(),
        peer_name: String::new(),
        create_index: 0,
        modify_index: 0,
    };
    let service = (member.is_server() && !service_ok).then(|| Service {
        id: CONSUL_SERVICE_ID.to_string(),
        service: CONSUL_SERVICE_ID.to_string(),
        port: member
            .tags
            .get("port")
            .and_then(|p| p.parse().ok())
            .unwrap_or(8300),
        ..Service::default()
    });
    let check = HealthCheck {
        node: member.name.clone(),
        check_id: SERF_HEALTH_CHECK_ID.to_string(),
        name: SERF_CHECK_NAME.to_string(),
        status: status.to_string(),
        output: output.to_string(),
        definition: serde_json::json!({}),
        ..HealthCheck::default()
    };
    Some(Command::Register(RegisterRequest {
        node,
        skip_node_update: node_ok,
        service,
        checks: vec![check],
    }))
}

#[cfg(test)]
mod tests {
    use legate_state::Store;

    use super::*;

    fn member(name: &str, status: MemberStatus, server: bool) -> MemberInfo {
        let mut tags = BTreeMap::new();
        tags.insert("dc".to_string(), "dc1".to_string());
        let suffix: u64 = name.bytes().map(u64::from).sum();
        tags.insert(
            "id".to_string(),
            format!("00000000-0000-0000-0000-{suffix:012}"),
        );
        if server {
            tags.insert("role".to_string(), "consul".to_string());
            tags.insert("port".to_string(), "8300".to_string());
        } else {
            tags.insert("role".to_string(), "node".to_string());
        }
        MemberInfo {
            name: name.into(),
            address: "127.0.0.2".into(),
            status,
            tags,
        }
    }

    fn apply(store: &Store, commands: Vec<Command>) {
        for command in commands {
            let index = store.last_index() + 1;
            store.apply(index, command);
        }
    }

    #[test]
    fn alive_failed_left_and_reaped_members() {
        let store = Store::new();
        let members = vec![
            member("s1", MemberStatus::Alive, true),
            member("c1", MemberStatus::Alive, false),
        ];
        apply(&store, plan("dc1", &members, &[], &store.view()));
        let view = store.view();
        assert_eq!(view.node_checks("s1")[0].status, health::PASSING);
        assert!(view.node_service("s1", "consul").is_some());
        assert!(view.node_service("c1", "consul").is_none());
        assert!(plan("dc1", &members, &[], &view).is_empty(), "converged");

        let failed = vec![
            member("s1", MemberStatus::Alive, true),
            member("c1", MemberStatus::Failed, false),
        ];
        apply(&store, plan("dc1", &failed, &[], &store.view()));
        let check = &store.view().node_checks("c1")[0];
        assert_eq!(
            (check.status.as_str(), check.output.as_str()),
            (health::CRITICAL, FAILED_OUTPUT)
        );

        let left = vec![
            member("s1", MemberStatus::Alive, true),
            member("c1", MemberStatus::Left, false),
        ];
        apply(&store, plan("dc1", &left, &[], &store.view()));
        assert!(store.view().node("c1").is_none());

        apply(&store, plan("dc1", &[], &["s1".to_string()], &store.view()));
        assert!(store.view().node("s1").is_none());
    }

    fn raft_entry(m: &MemberInfo, addr: &str) -> ServerInfo {
        ServerInfo {
            id: m.tags["id"].clone(),
            node: m.name.clone(),
            address: addr.to_string(),
            leader: false,
            voter: true,
        }
    }

    #[test]
    fn servers_advertising_a_new_rpc_address_are_moved() {
        let s1 = member("s1", MemberStatus::Alive, true);
        let s2 = member("s2", MemberStatus::Alive, true);
        let raft = vec![
            raft_entry(&s1, "127.0.0.2:8300"),
            raft_entry(&s2, "127.0.0.2:9999"),
        ];
        let moved = moved_servers("dc1", &[s1.clone(), s2.clone()], &raft);
        assert_eq!(
            moved,
            vec![MovedServer {
                id: s2.tags["id"].clone(),
                name: "s2".into(),
                old_addr: "127.0.0.2:9999".into(),
                new_addr: "127.0.0.2:8300".into(),
            }]
        );
    }

    #[test]
    fn only_alive_known_servers_of_this_dc_move() {
        let failed = member("f", MemberStatus::Failed, true);
        let client = member("c", MemberStatus::Alive, false);
        let unknown = member("u", MemberStatus::Alive, true);
        let mut far = member("far", MemberStatus::Alive, true);
        far.tags.insert("dc".into(), "dc2".into());
        let raft = vec![
            raft_entry(&failed, "127.0.0.9:1"),
            raft_entry(&client, "127.0.0.9:1"),
            raft_entry(&far, "127.0.0.9:1"),
        ];
        assert!(moved_servers("dc1", &[failed, client, unknown, far], &raft).is_empty());
    }

    #[test]
    fn rpc_addr_brackets_ipv6() {
        let mut s = member("s", MemberStatus::Alive, true);
        s.address = "::1".into();
        assert_eq!(s.rpc_addr().as_deref(), Some("[::1]:8300"));
        s.tags.remove("port");
        assert_eq!(s.rpc_addr(), None);
    }

    #[test]
    fn other_datacenters_are_ignored() {
        let store = Store::new();
        let mut m = member("far", MemberStatus::Alive, true);
        m.tags.insert("dc".into(), "dc2".into());
        assert!(plan("dc1", &[m], &[], &store.view()).is_empty());
    }
}
