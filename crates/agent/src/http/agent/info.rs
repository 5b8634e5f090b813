//! This agent's identity: `self`, `members`, `host`, `version`.

use axum::extract::State;
use axum::response::Response;
use legate_types::version::CONSUL_VERSION;
use legate_types::version::PRERELEASE;
use serde_json::Value;
use serde_json::json;

use crate::agent::Agent;
use crate::http::AppState;
use crate::http::error::ApiError;
use crate::http::query::Params;
use crate::http::reply;

/// Serf member status code of a live member.
const MEMBER_ALIVE: u8 = 1;

/// This agent as a gossip member (used when gossip is disabled, and for the WAN pool until
/// federation exists). In the WAN pool a server is named `<node>.<datacenter>` and listens on
/// the serf WAN port.
pub(crate) fn member(agent: &Agent, wan: bool) -> Value {
    let config = agent.config();
    let node = agent.node();
    // Go renders member tags as a map: keys sorted (a BTreeMap here).
    let tags = crate::membership::tags(&config, node);
    let (name, port) = if wan {
        (
            format!("{}.{}", node.name, node.datacenter),
            config.ports.serf_wan.unwrap_or(8302),
        )
    } else {
        (node.name.clone(), config.ports.serf_lan.unwrap_or(8301))
    };
    member_json(&name, &node.address, port, &tags, MEMBER_ALIVE)
}

/// A LAN gossip member in Consul's JSON shape.
fn gossip_member(m: &legate_gossip::Member) -> Value {
    member_json(
        &m.name,
        &m.addr.ip().to_string(),
        m.port(),
        &m.tags,
        m.status.code(),
    )
}

/// Consul's member object (serf protocol and delegate versions as Consul reports them).
fn member_json(
    name: &str,
    addr: &str,
    port: u16,
    tags: &std::collections::BTreeMap<String, String>,
    status: u8,
) -> Value {
    json!({
        "Name": name,
        "Addr": addr,
        "Port": port,
        "Tags": tags,
        "Status": status,
        "ProtocolMin": 1,
        "ProtocolMax": 5,
        "ProtocolCur": 2,
        "DelegateMin": 2,
        "DelegateMax": 5,
        "DelegateCur": 4,
    })
}

pub(super) async fn self_(
    State(agent): State<AppState>,
    params: Params,
) -> Result<Response, ApiError> {
    let opts = agent.query_options(params)?;
    let config = agent.config();
    let node = agent.node();
    let consensus = agent.server().consensus();
    let leader_addr = consensus.leader_addr().unwrap_or_default();
    let mut raft_stats = serde_json::Map::new();
    for (k, v) in consensus.stats() {
        raft_stats.insert(k, Value::String(v));
    }
    let body = json!({
        "Config": {
            "Datacenter": node.datacenter,
            "PrimaryDatacenter": config.primary_datacenter,
            "NodeName": node.name,
            "NodeID": node.id,
            "Partition": "",
            "Revision": "",
            "Server": config.server,
            "Version": CONSUL_VERSION,
            "BuildDate": "2026-11-01T00:00:00Z",
        },
        "DebugConfig": {
            "Datacenter": node.datacenter,
            "NodeName": node.name,
            "NodeID": node.id,
            "ServerMode": config.server,
            "Bootstrap": config.bootstrap,
            "BootstrapExpect": config.bootstrap_expect,
            "DataDir": config.data_dir.as_ref().map(|d| d.display().to_string()).unwrap_or_default(),
            "DevMode": config.dev,
            "EnableScriptChecks": config.enable_script_checks,
            "EnableLocalScriptChecks": config.enable_local_script_checks,
            "ConnectEnabled": config.connect.enabled,
            "PeeringEnabled": config.peering_enabled,
            "Version": CONSUL_VERSION,
            "VersionPrerelease": PRERELEASE,
        },
        "Coord": crate::coordinates::own(&agent),
        "Member": member(&agent, false),
        "Stats": {
            "agent": {
                "check_monitors": "0",
                "check_ttls": "0",
                "checks": agent.local().snapshot().checks.len().to_string(),
                "services": agent.local().snapshot().services.len().to_string(),
            },
            "build": {"prerelease": PRERELEASE, "revision": "", "version": CONSUL_VERSION, "version_metadata": ""},
            "consul": {
                "acl": if config.acl.enabled { "enabled" } else { "disabled" },
                "bootstrap": config.bootstrap.to_string(),
                "known_datacenters": "1",
                "leader": consensus.is_leader().to_string(),
                "leader_addr": leader_addr,
                "server": config.server.to_string(),
            },
            "raft": raft_stats,
            "runtime": {
                "arch": std::env::consts::ARCH,
                "os": std::env::consts::OS,
                "cpu_count": std::thread::available_parallelism().map_or(1, |n| n.get()).to_string(),
                "version": format!("legate {}", legate_types::version::LEGATE_VERSION),
            },
        },
        "Meta": agent.catalog_node().meta,
        "xDS": Value::Null,
    });
    reply::json(&body, opts.pretty)
}

pub(super) async fn members(
    State(agent): State<AppState>,
    params: Params,
) -> Result<Response, ApiError> {
    let opts = agent.query_options(params)?;
    let wan = opts.params.flag("wan");
    // `consul members` sends `segment=_all` by default; any named segment is Enterprise-only.
    let segment = opts.params.get("segment").unwrap_or_default();
    if !segment.is_empty() && segment != "_all" {
        return Err(if wan {
            ApiError::BadRequest("Cannot provide a segment with wan=true".to_string())
        } else {
            ApiError::Internal(
                "Network segments are not supported in this version of Consul".to_string(),
            )
        });
    }
    // Only servers join the WAN pool (the WAN pool itself arrives with federation).
    let members: Vec<Value> = if wan && !agent.config().server {
        Vec::new()
    } else if let (false, Some(lan)) = (wan, agent.lan()) {
        lan.members().iter().map(gossip_member).collect()
    } else {
        vec![member(&agent, wan)]
    };
    reply::json(&members, opts.pretty)
}

pub(super) async fn version(
    State(agent): State<AppState>,
    params: Params,
) -> Result<Response, ApiError> {
    let opts = agent.query_options(params)?;
    let body = json!({
        "SHA": "",
        "BuildDate": "2026-11-01T00:00:00Z",
        "HumanVersion": CONSUL_VERSION,
        "FIPS": "",
    });
    reply::json(&body, opts.pretty)
}

/// Read a `/proc` file; an unreadable one yields an empty string (reported in `Errors`).
fn proc_file(path: &str, errors: &mut Vec<String>) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|err| {
        errors.push(format!("{path}: {err}"));
        String::new()
    })
}

fn meminfo_bytes(meminfo: &str, key: &str) -> u64 {
    meminfo
        .lines()
        .find(|l| l.starts_with(key))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|kb| kb.parse::<u64>().ok())
        .map_or(0, |kb| kb * 1024)
}

pub(super) async fn host(
    State(agent): State<AppState>,
    params: Params,
) -> Result<Response, ApiError> {
    let opts = agent.query_options(params)?;
    let mut errors = Vec::new();
    let meminfo = proc_file("/proc/meminfo", &mut errors);
    let hostname = proc_file("/proc/sys/kernel/hostname", &mut errors);
    let uptime = proc_file("/proc/uptime", &mut errors);
    let cpuinfo = proc_file("/proc/cpuinfo", &mut errors);
    let total = meminfo_bytes(&meminfo, "MemTotal:");
    let available = meminfo_bytes(&meminfo, "MemAvailable:");
    let cpus: Vec<Value> = cpuinfo
        .split("\n\n")
        .filter(|block| block.contains("processor"))
        .map(|block| {
            let field = |name: &str| {
                block
                    .lines()
                    .find(|l| l.starts_with(name))
                    .and_then(|l| l.split_once(':'))
                    .map(|(_, v)| v.trim().to_string())
                    .unwrap_or_default()
            };
            json!({"cpu": field("processor").parse::<u64>().unwrap_or(0), "vendorId": field("vendor_id"), "modelName": field("model name"), "cores": 1})
        })
        .collect();
    let uptime_secs = uptime
        .split_whitespace()
        .next()
        .and_then(|s| s.parse::<f64>().ok())
        .unwrap_or(0.0);
    let body = json!({
        "Memory": {"total": total, "available": available, "used": total.saturating_sub(available), "usedPercent": if total > 0 { (total - available.min(total)) as f64 * 100.0 / total as f64 } else { 0.0 }},
        "CPU": cpus,
        "Host": {"hostname": hostname.trim(), "uptime": uptime_secs as u64, "os": std::env::consts::OS, "platform": "", "kernelArch": std::env::consts::ARCH},
        "Disk": {},
        "CollectionTime": crate::clock::now_unix_ms() * 1_000_000,
        "Errors": errors,
    });
    reply::json(&body, opts.pretty)
}
