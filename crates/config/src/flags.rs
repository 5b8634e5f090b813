//! The `consul agent` command-line flags, and their translation into two config
//! fragments as Consul does: list values (merged before the config files, so file lists
//! append after them) and all other values (merged after the files, so they win).

use serde_json::{Map, Value, json};

use crate::goflag::{FlagSet, Flags};
use crate::normalize::set;

/// Every `consul agent` flag Legate supports.
pub fn agent_flags() -> FlagSet {
    let mut fs = FlagSet::new("agent");
    fs.string("advertise", "", "Sets the advertise address to use.")
        .string("advertise-wan", "", "Sets address to advertise on WAN instead of -advertise address.")
        .string("bind", "", "Sets the bind address for cluster communication.")
        .bool("bootstrap", false, "Sets server to bootstrap mode.")
        .int("bootstrap-expect", 0, "Sets server to expect bootstrap mode.")
        .string("client", "", "Sets the address to bind for client access. This includes RPC, DNS, HTTP, HTTPS and gRPC (if configured).")
        .strings("config-dir", "Path to a directory to read configuration files from. This will read every file ending in '.json' as configuration in this directory in alphabetical order. Can be specified multiple times.")
        .strings("config-file", "Path to a file in JSON or HCL format with a matching file extension. Can be specified multiple times.")
        .string("config-format", "", "Config files are in this format irrespective of their extension. Must be 'hcl' or 'json'")
        .string("data-dir", "", "Path to a data directory to store agent state.")
        .string("datacenter", "", "Datacenter of the agent.")
        .bool("dev", false, "Starts the agent in development mode.")
        .bool("disable-host-node-id", false, "Setting this to true will prevent Consul from using information from the host to generate a node ID, and will cause Consul to generate a random node ID instead.")
        .int("dns-port", 0, "DNS port to use.")
        .string("domain", "", "Domain to use for DNS interface.")
        .bool("enable-local-script-checks", false, "Enables health check scripts from configuration file.")
        .bool("enable-script-checks", false, "Enables health check scripts.")
        .string("encrypt", "", "Provides the gossip encryption key.")
        .int("grpc-port", 0, "Sets the gRPC API port to listen on.")
        .int("grpc-tls-port", 0, "Sets the gRPC-TLS API port to listen on.")
        .strings("hcl", "hcl config fragment. Can be specified multiple times.")
        .int("http-port", 0, "Sets the HTTP API port to listen on.")
        .int("https-port", 0, "Sets the HTTPS API port to listen on.")
        .strings("join", "Address of an agent to join at start time. Can be specified multiple times.")
        .bool("log-json", false, "Output logs in JSON format.")
        .string("log-file", "", "Path to the file the logs get written to")
        .string("log-level", "", "Log level of the agent.")
        .string("node", "", "Name of this node. Must be unique in the cluster.")
        .string("node-id", "", "A unique ID for this node across space and time. Defaults to a randomly-generated ID that persists in the data-dir.")
        .strings("node-meta", "An arbitrary metadata key/value pair for this node, of the format `key:value`. Can be specified multiple times.")
        .string("pid-file", "", "Path to file to store agent PID.")
        .string("primary-datacenter", "", "Sets the primary datacenter name.")
        .strings("recursor", "Address of an upstream DNS server. Can be specified multiple times.")
        .bool("rejoin", false, "Ignores a previous leave and attempts to rejoin the cluster.")
        .strings("retry-join", "Address of an agent to join at start time with retries enabled. Can be specified multiple times.")
        .strings("retry-join-wan", "Address of a Consul server to join -wan at start time with retries enabled. Can be specified multiple times.")
        .int("serf-lan-port", 0, "Sets the Serf LAN port to listen on.")
        .int("serf-wan-port", 0, "Sets the Serf WAN port to listen on.")
        .bool("server", false, "Switches agent to server mode.")
        .int("server-port", 0, "Sets the server port to listen on.")
        .bool("ui", false, "Enables the built-in static web UI server.");
    fs
}

/// Flags that map one-to-one onto a config key: (flag, key, kind).
const SIMPLE: &[(&str, &str, Kind)] = &[
    ("advertise", "advertise_addr", Kind::Str),
    ("advertise-wan", "advertise_addr_wan", Kind::Str),
    ("bind", "bind_addr", Kind::Str),
    ("bootstrap", "bootstrap", Kind::Bool),
    ("bootstrap-expect", "bootstrap_expect", Kind::Int),
    ("client", "client_addr", Kind::Str),
    ("data-dir", "data_dir", Kind::Str),
    ("datacenter", "datacenter", Kind::Str),
    ("disable-host-node-id", "disable_host_node_id", Kind::Bool),
    ("dns-port", "ports.dns", Kind::Int),
    ("domain", "domain", Kind::Str),
    (
        "enable-local-script-checks",
        "enable_local_script_checks",
        Kind::Bool,
    ),
    ("enable-script-checks", "enable_script_checks", Kind::Bool),
    ("encrypt", "encrypt", Kind::Str),
    ("grpc-port", "ports.grpc", Kind::Int),
    ("grpc-tls-port", "ports.grpc_tls", Kind::Int),
    ("http-port", "ports.http", Kind::Int),
    ("https-port", "ports.https", Kind::Int),
    ("log-json", "log_json", Kind::Bool),
    ("log-file", "log_file", Kind::Str),
    ("log-level", "log_level", Kind::Str),
    ("node", "node_name", Kind::Str),
    ("node-id", "node_id", Kind::Str),
    ("pid-file", "pid_file", Kind::Str),
    ("primary-datacenter", "primary_datacenter", Kind::Str),
    ("rejoin", "rejoin_after_leave", Kind::Bool),
    ("serf-lan-port", "ports.serf_lan", Kind::Int),
    ("serf-wan-port", "ports.serf_wan", Kind::Int),
    ("server", "server", Kind::Bool),
    ("server-port", "ports.server", Kind::Int),
    ("ui", "ui_config.enabled", Kind::Bool),
];

/// Repeatable flags that append to a config list: (flag, key).
const LISTS: &[(&str, &str)] = &[
    ("retry-join", "retry_join"),
    ("join", "retry_join"),
    ("retry-join-wan", "retry_join_wan"),
    ("recursor", "recursors"),
];

#[derive(Clone, Copy)]
enum Kind {
    Str,
    Bool,
    Int,
}

/// The config fragments the flags amount to: `(lists, values)`.
pub(crate) fn flag_fragments(flags: &Flags) -> (Map<String, Value>, Map<String, Value>) {
    let mut lists = Map::new();
    for (flag, key) in LISTS {
        let values = flags.strings(flag);
        if values.is_empty() {
            continue;
        }
        let entry = lists
            .entry((*key).to_string())
            .or_insert_with(|| Value::Array(Vec::new()));
        if let Value::Array(items) = entry {
            items.extend(values.into_iter().map(Value::String));
        }
    }
    let mut values = Map::new();
    for (flag, key, kind) in SIMPLE {
        if !flags.is_set(flag) {
            continue;
        }
        let v = match kind {
            Kind::Str => Value::String(flags.string(flag)),
            Kind::Bool => Value::Bool(flags.bool(flag)),
            Kind::Int => json!(flags.int(flag)),
        };
        set(&mut values, key, v);
    }
    let meta = flags.strings("node-meta");
    if !meta.is_empty() {
        let mut m = Map::new();
        for pair in meta {
            let (k, v) = pair.split_once(':').unwrap_or((pair.as_str(), ""));
            m.insert(k.to_string(), Value::String(v.to_string()));
        }
        values.insert("node_meta".to_string(), Value::Object(m));
    }
    (lists, values)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fragments_split_lists_and_values() {
        let f = agent_flags()
            .parse(&[
                "-retry-join",
                "a",
                "-join=b",
                "-recursor",
                "8.8.8.8",
                "-node",
                "n1",
                "-dns-port=-1",
                "-server",
                "-ui",
                "-node-meta",
                "rack:r1",
                "-node-meta=solo",
            ])
            .unwrap();
        let (lists, values) = flag_fragments(&f);
        assert_eq!(
            Value::Object(lists),
            json!({"retry_join": ["a", "b"], "recursors": ["8.8.8.8"]})
        );
        assert_eq!(
            Value::Object(values),
            json!({"node_name": "n1", "ports": {"dns": -1}, "server": true,
                   "ui_config": {"enabled": true}, "node_meta": {"rack": "r1", "solo": ""}})
        );
    }

    #[test]
    fn unset_flags_contribute_nothing() {
        let f = agent_flags().parse::<&str>(&[]).unwrap();
        let (lists, values) = flag_fragments(&f);
        assert!(lists.is_empty() && values.is_empty());
    }

    #[test]
    fn every_simple_flag_is_defined() {
        let usage = agent_flags().usage();
        for (flag, _, _) in SIMPLE {
            assert!(usage.contains(&format!("  -{flag}")), "{flag}");
        }
    }
}
