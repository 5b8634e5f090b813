//! `consul members [-detailed] [-status REGEX] [-wan] [-segment] [-filter]`: the gossip pool as
//! Consul's table (`Node Address Status Type Build Protocol DC Partition Segment`); exit 2
//! when no member matches.

use std::collections::BTreeMap;
use std::net::IpAddr;

use legate_config::goflag::FlagSet;
use serde::Deserialize;

use crate::commands::common;
use crate::flags;
use crate::format::columnize;
use crate::ui::Ui;

/// One-line description.
pub(crate) const SYNOPSIS: &str = "Lists the members of a Consul cluster";

const USAGE: &str = "Usage: consul members [options]

  Outputs the members of a running Consul agent.";

/// A gossip member as `/v1/agent/members` returns it.
#[derive(Debug, Clone, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct Member {
    /// Node name.
    #[serde(default)]
    pub(crate) name: String,
    /// Gossip IP address.
    #[serde(default)]
    pub(crate) addr: String,
    /// Gossip port.
    #[serde(default)]
    pub(crate) port: u16,
    /// Serf tags.
    #[serde(default)]
    pub(crate) tags: BTreeMap<String, String>,
    /// Serf status code.
    #[serde(default)]
    pub(crate) status: i64,
}

/// Serf's `MemberStatus.String()`.
pub(crate) fn status_text(status: i64) -> &'static str {
    match status {
        0 => "none",
        1 => "alive",
        2 => "leaving",
        3 => "left",
        4 => "failed",
        _ => "unknown",
    }
}

/// Go's `net.TCPAddr.String()` for an address text and port.
pub(crate) fn tcp_addr(addr: &str, port: u16) -> String {
    match addr.parse::<IpAddr>() {
        Ok(IpAddr::V6(ip)) => format!("[{ip}]:{port}"),
        Ok(IpAddr::V4(ip)) => format!("{ip}:{port}"),
        Err(_) => format!(":{port}"),
    }
}

fn tag<'m>(m: &'m Member, key: &str) -> &'m str {
    m.tags.get(key).map(String::as_str).unwrap_or_default()
}

fn is_default_partition(p: &str) -> bool {
    p.is_empty() || p == "default"
}

/// Fills in partition/segment display tags the way Consul does before printing.
fn normalise(members: &mut [Member], segment_flag: &str) {
    for m in members.iter_mut() {
        if tag(m, "ap").is_empty() {
            m.tags.insert("ap".into(), "default".into());
        }
        if is_default_partition(tag(m, "ap")) {
            if segment_flag == "_all" && tag(m, "role") == "consul" {
                m.tags.insert("segment".into(), "<all>".into());
            } else if tag(m, "segment").is_empty() {
                m.tags.insert("segment".into(), "<default>".into());
            }
        } else {
            m.tags.insert("segment".into(), String::new());
        }
    }
}

/// Consul's member ordering: servers first, then default partition, segment, partition, name.
fn sort_members(members: &mut [Member]) {
    members.sort_by(|a, b| {
        let server = |m: &Member| tag(m, "role") != "consul";
        let part = |m: &Member| !is_default_partition(tag(m, "ap"));
        server(a)
            .cmp(&server(b))
            .then(part(a).cmp(&part(b)))
            .then(tag(a, "segment").cmp(tag(b, "segment")))
            .then(tag(a, "ap").cmp(tag(b, "ap")))
            .then(a.name.cmp(&b.name))
    });
}

/// The standard table.
pub(crate) fn standard_output(members: &[Member]) -> String {
    let mut lines = vec![columnize::row(&[
        "Node",
        "Address",
        "Status",
        "Type",
        "Build",
        "Protocol",
        "DC",
        "Partition",
        "Segment",
    ])];
    for m in members {
        let addr = tcp_addr(&m.addr, m.port);
        let status = status_text(m.status);
        let build = match tag(m, "build") {
            "" => "< 0.3",
            b => b.split(':').next().unwrap_or(b),
        };
        let kind = match tag(m, "role") {
            "node" => "client",
            "consul" => "server",
            _ => {
                lines.push(columnize::row(&[
                    &m.name, &addr, status, "unknown", "", "", "", "", "",
                ]));
                continue;
            }
        };
        lines.push(columnize::row(&[
            m.name.as_str(),
            &addr,
            status,
            kind,
            build,
            tag(m, "vsn"),
            tag(m, "dc"),
            tag(m, "ap"),
            tag(m, "segment"),
        ]));
    }
    columnize::format(&lines)
}

/// The `-detailed` table: all tags as `k=v,…`.
pub(crate) fn detailed_output(members: &[Member]) -> String {
    let mut lines = vec![columnize::row(&["Node", "Address", "Status", "Tags"])];
    for m in members {
        let tags = m
            .tags
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join(",");
        lines.push(columnize::row(&[
            m.name.as_str(),
            &tcp_addr(&m.addr, m.port),
            status_text(m.status),
            &tags,
        ]));
    }
    columnize::format(&lines)
}

fn flag_set() -> FlagSet {
    let mut fs = FlagSet::new("members");
    flags::client_flags(&mut fs);
    fs.bool(
        "detailed",
        false,
        "Provides detailed information about nodes.",
    )
    .bool(
        "wan",
        false,
        "If the agent is in server mode, this can be used to return the other peers in the \
             WAN pool.",
    )
    .string(
        "status",
        ".*",
        "If provided, output is filtered to only nodes matching the regular expression for \
             status.",
    )
    .string(
        "segment",
        "_all",
        "(Enterprise-only) If provided, output is filtered to only nodes in the given segment.",
    )
    .string("filter", "", "Filter to use with the request")
    .string(
        "partition",
        "",
        "Specifies the admin partition (Enterprise).",
    );
    fs
}

/// Help text.
pub(crate) fn help() -> String {
    flags::help_text(USAGE, Some(&flag_set()))
}

/// Runs the command.
pub(crate) fn run(args: &[String], ui: &mut Ui<'_>) -> i32 {
    let fs = flag_set();
    let Some(f) = flags::parse(&fs, args, ui) else {
        return 1;
    };
    let status_re = match regex::Regex::new(&f.string("status")) {
        Ok(r) => r,
        Err(e) => {
            ui.error(&format!("Failed to compile status regexp: {e}"));
            return 1;
        }
    };
    let Some(client) = common::client(&f, ui) else {
        return 1;
    };
    let segment = f.string("segment");
    let mut req = client
        .get("/v1/agent/members")
        .query_nonempty("segment", &segment)
        .query_nonempty("filter", &f.string("filter"));
    if f.bool("wan") {
        req = req.query("wan", "1");
    }
    let mut members: Vec<Member> = match req.send().and_then(|r| r.json::<Option<Vec<Member>>>()) {
        Ok(m) => m.unwrap_or_default(),
        Err(e) => {
            ui.error(&format!("Error retrieving members: {e}"));
            return 1;
        }
    };
    normalise(&mut members, &segment);
    members.retain(|m| status_re.is_match(status_text(m.status)));
    if members.is_empty() {
        return 2;
    }
    sort_members(&mut members);
    let table = if f.bool("detailed") {
        detailed_output(&members)
    } else {
        standard_output(&members)
    };
    ui.output(&table);
    0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn member(name: &str, role: &str, status: i64) -> Member {
        let mut tags = BTreeMap::new();
        tags.insert("role".to_string(), role.to_string());
        tags.insert("build".to_string(), "1.21.0:abcdef".to_string());
        tags.insert("vsn".to_string(), "2".to_string());
        tags.insert("dc".to_string(), "dc1".to_string());
        Member {
            name: name.into(),
            addr: "127.0.0.1".into(),
            port: 8301,
            tags,
            status,
        }
    }

    #[test]
    fn standard_table_matches_consul() {
        let mut ms = vec![
            member("b-client", "node", 1),
            member("a-server", "consul", 1),
        ];
        normalise(&mut ms, "_all");
        sort_members(&mut ms);
        assert_eq!(
            standard_output(&ms),
            "Node      Address         Status  Type    Build   Protocol  DC   Partition  Segment\n\
             a-server  127.0.0.1:8301  alive   server  1.21.0  2         dc1  default    <all>\n\
             b-client  127.0.0.1:8301  alive   client  1.21.0  2         dc1  default    <default>"
        );
    }

    #[test]
    fn servers_sort_first() {
        let mut ms = vec![member("a", "node", 1), member("z", "consul", 1)];
        normalise(&mut ms, "_all");
        sort_members(&mut ms);
        assert_eq!(ms[0].name, "z");
    }

    #[test]
    fn ipv6_addresses_are_bracketed() {
        assert_eq!(tcp_addr("::1", 8301), "[::1]:8301");
        assert_eq!(tcp_addr("bogus", 1), ":1");
    }

    #[test]
    fn detailed_lists_sorted_tags() {
        let ms = vec![member("a", "consul", 4)];
        let out = detailed_output(&ms);
        assert!(out.ends_with(
            "a     127.0.0.1:8301  failed  build=1.21.0:abcdef,dc=dc1,role=consul,vsn=2"
        ));
    }
}
