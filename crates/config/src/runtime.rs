//! [`RuntimeConfig`]: the validated agent configuration built from the merged config
//! map, with Consul's derived values (listener addresses, advertise address, default
//! ports, leave behaviour) and Consul's validation errors.

use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr, SocketAddr, UdpSocket};
use std::path::PathBuf;
use std::time::Duration;

use serde_json::{Map, Value};

use crate::error::{ConfigError, multierror};
use crate::normalize::get;
use crate::schema;

/// Listener ports; `None` means disabled (`-1`, `0` or unset without a default).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ports {
    /// HTTP API (default 8500).
    pub http: Option<u16>,
    /// HTTPS API (off by default).
    pub https: Option<u16>,
    /// DNS, TCP and UDP (default 8600).
    pub dns: Option<u16>,
    /// Plain gRPC (off by default, 8502 in dev mode).
    pub grpc: Option<u16>,
    /// gRPC with TLS (8503 on servers by default).
    pub grpc_tls: Option<u16>,
    /// Server RPC (default 8300).
    pub server: Option<u16>,
    /// Serf LAN (default 8301).
    pub serf_lan: Option<u16>,
    /// Serf WAN (default 8302).
    pub serf_wan: Option<u16>,
}

/// Where a client-facing listener binds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ListenAddr {
    /// A TCP (and for DNS also UDP) socket address.
    Tcp(SocketAddr),
    /// A Unix domain socket path (from `unix:///path`).
    Unix(PathBuf),
}

/// ACL tokens from `acl.tokens` (legacy names already mapped).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AclTokens {
    /// `initial_management` (legacy `master`, `acl_master_token`).
    pub initial_management: Option<String>,
    /// `agent_recovery` (legacy `agent_master`, `acl_agent_master_token`).
    pub agent_recovery: Option<String>,
    /// `default` (legacy `acl_token`).
    pub default: Option<String>,
    /// `agent` (legacy `acl_agent_token`).
    pub agent: Option<String>,
    /// `replication` (legacy `acl_replication_token`).
    pub replication: Option<String>,
}

/// The `acl` stanza.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AclConfig {
    /// Whether ACLs are enforced.
    pub enabled: bool,
    /// `allow` or `deny` (default `allow`).
    pub default_policy: String,
    /// Default `extend-cache`.
    pub down_policy: String,
    /// `enable_token_persistence`.
    pub enable_token_persistence: bool,
    /// `enable_token_replication`.
    pub enable_token_replication: bool,
    /// Cache TTL for tokens (default 30s).
    pub token_ttl: Duration,
    /// Cache TTL for policies (default 30s).
    pub policy_ttl: Duration,
    /// Configured tokens.
    pub tokens: AclTokens,
}

/// The `connect` stanza.
#[derive(Debug, Clone, PartialEq)]
pub struct ConnectConfig {
    /// Whether Connect (service mesh CA) is on.
    pub enabled: bool,
    /// `ca_provider`, e.g. `consul`.
    pub ca_provider: Option<String>,
    /// `ca_config` as written (an object; empty when absent).
    pub ca_config: Value,
    /// `ca_config.cluster_id` when given (the trust domain is `<cluster_id>.consul`).
    pub cluster_id: Option<String>,
}

/// TLS settings, with `tls.https`/`tls.internal_rpc` falling back to `tls.defaults`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TlsConfig {
    /// CA bundle file (relative paths are relative to the working directory).
    pub ca_file: Option<PathBuf>,
    /// CA directory.
    pub ca_path: Option<PathBuf>,
    /// Certificate for HTTPS.
    pub cert_file: Option<PathBuf>,
    /// Key for HTTPS.
    pub key_file: Option<PathBuf>,
    /// Require client certificates on HTTPS.
    pub https_verify_incoming: bool,
    /// Require client certificates on server RPC.
    pub rpc_verify_incoming: bool,
    /// Verify servers on outgoing connections.
    pub verify_outgoing: bool,
    /// Verify server host names.
    pub verify_server_hostname: bool,
}

/// The validated configuration an agent runs with.
#[derive(Debug, Clone)]
pub struct RuntimeConfig {
    /// Node name (`node_name`, `-node`; defaults to the host name).
    pub node_name: String,
    /// Node ID (lowercased UUID) when configured.
    pub node_id: Option<String>,
    /// Datacenter, lowercased (default `dc1`).
    pub datacenter: String,
    /// Primary datacenter (defaults to `datacenter`).
    pub primary_datacenter: String,
    /// DNS domain (default `consul.`).
    pub domain: String,
    /// Server mode.
    pub server: bool,
    /// Bootstrap mode (also on in dev mode and for `bootstrap_expect = 1`).
    pub bootstrap: bool,
    /// Servers to wait for before electing (0 when not used).
    pub bootstrap_expect: u32,
    /// `-dev` was given.
    pub dev: bool,
    /// Data directory; `None` in dev mode without `-data-dir` (state in memory).
    pub data_dir: Option<PathBuf>,
    /// Address for cluster traffic (server RPC, Serf).
    pub bind_addr: IpAddr,
    /// LAN advertise address.
    pub advertise_addr: IpAddr,
    /// WAN advertise address (defaults to the LAN one).
    pub advertise_addr_wan: IpAddr,
    /// Client addresses as written (`client_addr` split on spaces; may hold `unix://…`).
    pub client_addrs: Vec<String>,
    /// HTTP listeners (`addresses.http` overrides the client addresses).
    pub http_addrs: Vec<ListenAddr>,
    /// HTTPS listeners (empty unless `ports.https` is set).
    pub https_addrs: Vec<ListenAddr>,
    /// DNS listeners.
    pub dns_addrs: Vec<ListenAddr>,
    /// gRPC listeners.
    pub grpc_addrs: Vec<ListenAddr>,
    /// gRPC-TLS listeners.
    pub grpc_tls_addrs: Vec<ListenAddr>,
    /// Ports.
    pub ports: Ports,
    /// Log level, lowercased (`trace`, `debug`, `info`, `warn`, `error`).
    pub log_level: String,
    /// JSON log lines.
    pub log_json: bool,
    /// Log file path.
    pub log_file: Option<PathBuf>,
    /// PID file path.
    pub pid_file: Option<PathBuf>,
    /// Script checks from any source.
    pub enable_script_checks: bool,
    /// Script checks from local config (defaults to `enable_script_checks`).
    pub enable_local_script_checks: bool,
    /// Service definitions from config, in order, keys as written (shapes normalised).
    pub services: Vec<Value>,
    /// Check definitions from config, in order, keys as written.
    pub checks: Vec<Value>,
    /// Node metadata.
    pub node_meta: BTreeMap<String, String>,
    /// Gossip encryption key (base64).
    pub encrypt: Option<String>,
    /// LAN addresses to join with retries (`retry_join`, `start_join`, `-join`).
    pub retry_join: Vec<String>,
    /// WAN addresses to join with retries.
    pub retry_join_wan: Vec<String>,
    /// Upstream DNS servers, deduplicated.
    pub recursors: Vec<String>,
    /// ACL settings.
    pub acl: AclConfig,
    /// Connect settings.
    pub connect: ConnectConfig,
    /// TLS settings.
    pub tls: TlsConfig,
    /// Cluster peering on.
    pub peering_enabled: bool,
    /// Raft timing multiplier (1..=10; default 5, dev 1).
    pub raft_multiplier: u32,
    /// Snapshot after this many new Raft log entries (`raft_snapshot_threshold`, default 16384).
    pub raft_snapshot_threshold: u64,
    /// Log entries kept after a snapshot for lagging followers (`raft_trailing_logs`,
    /// default 10240).
    pub raft_trailing_logs: u64,
    /// Exit without leaving on SIGINT (default: `server`).
    pub skip_leave_on_interrupt: bool,
    /// Leave gracefully on SIGTERM (default: `!server`).
    pub leave_on_terminate: bool,
    /// Rejoin after a previous leave (`-rejoin`).
    pub rejoin_after_leave: bool,
    /// Web UI on (`ui_config.enabled`, legacy `ui`, `-ui`; on in dev).
    pub ui: bool,
    /// `disable_update_check`.
    pub disable_update_check: bool,
    /// `disable_host_node_id` (default true).
    pub disable_host_node_id: bool,
    /// `enable_debug` (on in dev).
    pub enable_debug: bool,
    /// `version` as written by launchers (informational; Legate reports its own).
    pub version: Option<String>,
    /// The merged canonical config map, for fields not lifted into this struct.
    pub raw: Value,
    /// Config files read, in load order.
    pub sources: Vec<PathBuf>,
    /// The command-line arguments this config was loaded from (for reload).
    pub args: Vec<String>,
}

/// Reads typed values from the merged config by dotted path.
struct View<'a>(&'a Map<String, Value>);

impl View<'_> {
    fn str(&self, path: &str) -> Option<String> {
        get(self.0, path)
            .and_then(Value::as_str)
            .map(str::to_string)
    }

    fn nonempty(&self, path: &str) -> Option<String> {
        self.str(path).filter(|s| !s.is_empty())
    }

    fn bool(&self, path: &str) -> Option<bool> {
        get(self.0, path).and_then(Value::as_bool)
    }

    fn flag(&self, path: &str) -> bool {
        self.bool(path).unwrap_or(false)
    }

    fn int(&self, path: &str) -> Option<i64> {
        get(self.0, path).and_then(|v| v.as_i64().or_else(|| v.as_f64().map(|f| f as i64)))
    }

    fn strings(&self, path: &str) -> Vec<String> {
        get(self.0, path)
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(|v| v.as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default()
    }

    fn objects(&self, path: &str) -> Vec<Value> {
        get(self.0, path)
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default()
    }

    fn duration(&self, path: &str, default: Duration) -> Duration {
        self.str(path)
            .and_then(|s| legate_types::go_duration::parse(&s).ok())
            .unwrap_or(default)
    }
}

/// Builds and validates the runtime config from the merged map.
pub(crate) fn build(
    merged: Map<String, Value>,
    dev: bool,
    sources: Vec<PathBuf>,
    args: Vec<String>,
) -> Result<RuntimeConfig, ConfigError> {
    let v = View(&merged);
    let mut errs: Vec<String> = Vec::new();
    check_durations(&merged, &mut errs);

    let server = v.flag("server");
    let port = |name: &str, errs: &mut Vec<String>| -> Option<u16> {
        let p = v.int(&format!("ports.{name}"))?;
        if p <= 0 {
            return None;
        }
        match u16::try_from(p) {
            Ok(p) => Some(p),
            Err(_) => {
                errs.push(format!("ports.{name}: invalid port: {p}"));
                None
            }
        }
    };
    let mut ports = Ports {
        http: port("http", &mut errs),
        https: port("https", &mut errs),
        dns: port("dns", &mut errs),
        grpc: port("grpc", &mut errs),
        grpc_tls: port("grpc_tls", &mut errs),
        server: port("server", &mut errs),
        serf_lan: port("serf_lan", &mut errs),
        serf_wan: port("serf_wan", &mut errs),
    };
    if get(&merged, "ports.grpc_tls").is_none() && server {
        ports.grpc_tls = Some(8503);
    }
    if ports.server.is_none() {
        return Err(invalid("server-port must be greater than zero"));
    }
    if ports.serf_lan.is_none() {
        return Err(invalid("serf-lan-port must be greater than zero"));
    }

    // Addresses.
    let bind_text = v.str("bind_addr").unwrap_or_default();
    let bind_parts: Vec<&str> = bind_text.split_whitespace().collect();
    let bind_addr = match bind_parts.as_slice() {
        [] => return Err(invalid("bind_addr cannot be empty")),
        [one] if one.starts_with("unix://") => {
            return Err(invalid("bind_addr cannot be a unix socket"));
        }
        [one] => one
            .parse::<IpAddr>()
            .map_err(|_| invalid("bind_addr must be an ip address"))?,
        _ => {
            return Err(invalid(
                "bind_addr cannot contain multiple addresses. Use 'addresses.{dns,http,https}' instead.",
            ));
        }
    };
    let advertise_given = ip_opt(&v, "advertise_addr", &mut errs);
    if advertise_given.is_some_and(|ip| ip.is_unspecified()) {
        return Err(invalid("Advertise address cannot be 0.0.0.0, :: or [::]"));
    }
    let wan_given = ip_opt(&v, "advertise_addr_wan", &mut errs);
    if wan_given.is_some_and(|ip| ip.is_unspecified()) {
        return Err(invalid(
            "Advertise WAN address cannot be 0.0.0.0, :: or [::]",
        ));
    }
    let advertise_addr = match advertise_given {
        Some(ip) => ip,
        None if bind_addr.is_unspecified() => detect_private_ip(),
        None => bind_addr,
    };
    let advertise_addr_wan = wan_given.unwrap_or(advertise_addr);

    let client_addrs: Vec<String> = v
        .str("client_addr")
        .unwrap_or_default()
        .split_whitespace()
        .map(str::to_string)
        .collect();
    for a in &client_addrs {
        if !a.starts_with("unix://") && a.parse::<IpAddr>().is_err() {
            errs.push(format!("client_addr: invalid ip address: {a}"));
        }
    }
    let mut listeners = |key: &str, port: Option<u16>| -> Vec<ListenAddr> {
        let own = v.str(&format!("addresses.{key}")).unwrap_or_default();
        let own: Vec<String> = own.split_whitespace().map(str::to_string).collect();
        if own.is_empty() {
            make_addrs(&client_addrs, port, None)
        } else {
            make_addrs(&own, port, Some((&format!("addresses.{key}"), &mut errs)))
        }
    };
    let http_addrs = listeners("http", ports.http);
    let https_addrs = listeners("https", ports.https);
    let dns_addrs = listeners("dns", ports.dns);
    let grpc_addrs = listeners("grpc", ports.grpc);
    let grpc_tls_addrs = listeners("grpc_tls", ports.grpc_tls);

    if !errs.is_empty() {
        return Err(invalid(&multierror(&errs)));
    }

    // Identity.
    let datacenter = v.str("datacenter").unwrap_or_default().to_lowercase();
    let mut primary_datacenter = v
        .str("primary_datacenter")
        .unwrap_or_default()
        .to_lowercase();
    if primary_datacenter.is_empty() {
        primary_datacenter = datacenter.clone();
    }
    let node_name = match v.str("node_name").map(|s| s.trim().to_string()) {
        Some(n) if !n.is_empty() => n,
        _ => hostname(),
    };
    let node_id = v.nonempty("node_id").map(|s| s.to_lowercase());

    let mut bootstrap = v.flag("bootstrap");
    let mut bootstrap_expect = v.int("bootstrap_expect").unwrap_or(0);
    if bootstrap_expect == 1 {
        bootstrap = true;
        bootstrap_expect = 0;
    }
    let raft_multiplier = v.int("performance.raft_multiplier").unwrap_or(5);
    let data_dir = v.nonempty("data_dir").map(PathBuf::from);

    // Validation, in Consul's order.
    let raft_protocol = v.int("raft_protocol").unwrap_or(3);
    if raft_protocol != 3 {
        return Err(invalid(&format!(
            "raft_protocol version {raft_protocol} is not supported by this version of Consul"
        )));
    }
    validate_basic_name("datacenter", &datacenter, false)?;
    if data_dir.is_none() && !dev {
        return Err(invalid("data_dir cannot be empty"));
    }
    if let Some(d) = &data_dir
        && d.exists()
        && !d.is_dir()
    {
        return Err(invalid(&format!(
            "data_dir {:?} is not a directory",
            d.display().to_string()
        )));
    }
    if node_name.is_empty() {
        return Err(invalid("node_name cannot be empty"));
    }
    if let Some(id) = &node_id
        && !is_uuid(id)
    {
        return Err(invalid(&format!("node_id {id:?} is not a valid UUID")));
    }
    if bootstrap && !server {
        return Err(invalid("'bootstrap = true' requires 'server = true'"));
    }
    if bootstrap_expect < 0 {
        return Err(invalid(&format!(
            "bootstrap_expect cannot be {bootstrap_expect}. Must be greater than or equal to zero"
        )));
    }
    if bootstrap_expect > 0 && !server {
        return Err(invalid("'bootstrap_expect > 0' requires 'server = true'"));
    }
    if bootstrap_expect > 0 && dev {
        return Err(invalid("'bootstrap_expect > 0' not allowed in dev mode"));
    }
    if bootstrap_expect > 0 && bootstrap {
        return Err(invalid(
            "'bootstrap_expect > 0' and 'bootstrap = true' are mutually exclusive",
        ));
    }
    validate_basic_name("primary_datacenter", &primary_datacenter, true)?;
    if !(1..=10).contains(&raft_multiplier) {
        return Err(invalid(&format!(
            "performance.raft_multiplier cannot be {raft_multiplier}. Must be between 1 and 10"
        )));
    }
    let encrypt = v.nonempty("encrypt");
    if let Some(key) = &encrypt {
        validate_encrypt(key)?;
    }

    let acl = AclConfig {
        enabled: v.flag("acl.enabled"),
        default_policy: v
            .str("acl.default_policy")
            .unwrap_or_else(|| "allow".into()),
        down_policy: v
            .str("acl.down_policy")
            .unwrap_or_else(|| "extend-cache".into()),
        enable_token_persistence: v.flag("acl.enable_token_persistence"),
        enable_token_replication: v.flag("acl.enable_token_replication"),
        token_ttl: v.duration("acl.token_ttl", Duration::from_secs(30)),
        policy_ttl: v.duration("acl.policy_ttl", Duration::from_secs(30)),
        tokens: AclTokens {
            initial_management: v.nonempty("acl.tokens.initial_management"),
            agent_recovery: v.nonempty("acl.tokens.agent_recovery"),
            default: v.nonempty("acl.tokens.default"),
            agent: v.nonempty("acl.tokens.agent"),
            replication: v.nonempty("acl.tokens.replication"),
        },
    };
    let ca_config = get(&merged, "connect.ca_config")
        .cloned()
        .unwrap_or_else(|| Value::Object(Map::new()));
    let connect = ConnectConfig {
        enabled: v.flag("connect.enabled"),
        ca_provider: v.nonempty("connect.ca_provider"),
        cluster_id: ca_config
            .get("cluster_id")
            .and_then(Value::as_str)
            .map(str::to_string),
        ca_config,
    };
    let tls_str = |kind: &str, key: &str| {
        v.nonempty(&format!("tls.{kind}.{key}"))
            .or_else(|| v.nonempty(&format!("tls.defaults.{key}")))
    };
    let tls_bool = |kind: &str, key: &str| {
        v.bool(&format!("tls.{kind}.{key}"))
            .or_else(|| v.bool(&format!("tls.defaults.{key}")))
            .unwrap_or(false)
    };
    let tls = TlsConfig {
        ca_file: tls_str("https", "ca_file").map(PathBuf::from),
        ca_path: tls_str("https", "ca_path").map(PathBuf::from),
        cert_file: tls_str("https", "cert_file").map(PathBuf::from),
        key_file: tls_str("https", "key_file").map(PathBuf::from),
        https_verify_incoming: tls_bool("https", "verify_incoming"),
        rpc_verify_incoming: tls_bool("internal_rpc", "verify_incoming"),
        verify_outgoing: tls_bool("internal_rpc", "verify_outgoing"),
        verify_server_hostname: tls_bool("internal_rpc", "verify_server_hostname"),
    };

    let mut recursors: Vec<String> = Vec::new();
    for r in v.strings("recursors") {
        for addr in r.split_whitespace() {
            if addr.starts_with("unix://") {
                return Err(invalid(&format!(
                    "DNS Recursors cannot be unix sockets: {addr}"
                )));
            }
            if !recursors.iter().any(|x| x == addr) {
                recursors.push(addr.to_string());
            }
        }
    }
    let node_meta = get(&merged, "node_meta")
        .and_then(Value::as_object)
        .map(|m| {
            m.iter()
                .map(|(k, v)| {
                    let s = v.as_str().map_or_else(|| v.to_string(), str::to_string);
                    (k.clone(), s)
                })
                .collect()
        })
        .unwrap_or_default();
    let enable_script_checks = v.flag("enable_script_checks");
    let ui = v
        .bool("ui_config.enabled")
        .or_else(|| v.bool("ui"))
        .unwrap_or(false);

    Ok(RuntimeConfig {
        node_name,
        node_id,
        datacenter,
        primary_datacenter,
        domain: v.str("domain").unwrap_or_else(|| "consul.".into()),
        server,
        bootstrap,
        bootstrap_expect: u32::try_from(bootstrap_expect).unwrap_or(0),
        dev,
        data_dir,
        bind_addr,
        advertise_addr,
        advertise_addr_wan,
        client_addrs,
        http_addrs,
        https_addrs,
        dns_addrs,
        grpc_addrs,
        grpc_tls_addrs,
        ports,
        log_level: v
            .str("log_level")
            .unwrap_or_else(|| "info".into())
            .to_lowercase(),
        log_json: v.flag("log_json"),
        log_file: v.nonempty("log_file").map(PathBuf::from),
        pid_file: v.nonempty("pid_file").map(PathBuf::from),
        enable_script_checks,
        enable_local_script_checks: v
            .bool("enable_local_script_checks")
            .unwrap_or(enable_script_checks),
        services: v.objects("services"),
        checks: v.objects("checks"),
        node_meta,
        encrypt,
        retry_join: v.strings("retry_join"),
        retry_join_wan: v.strings("retry_join_wan"),
        recursors,
        acl,
        connect,
        tls,
        peering_enabled: v.flag("peering.enabled"),
        raft_multiplier: u32::try_from(raft_multiplier).unwrap_or(1),
        raft_snapshot_threshold: v
            .int("raft_snapshot_threshold")
            .and_then(|n| u64::try_from(n).ok())
            .unwrap_or(16_384),
        raft_trailing_logs: v
            .int("raft_trailing_logs")
            .and_then(|n| u64::try_from(n).ok())
            .unwrap_or(10_240),
        skip_leave_on_interrupt: v.bool("skip_leave_on_interrupt").unwrap_or(server),
        leave_on_terminate: v.bool("leave_on_terminate").unwrap_or(!server),
        rejoin_after_leave: v.flag("rejoin_after_leave"),
        ui,
        disable_update_check: v.flag("disable_update_check"),
        disable_host_node_id: v.bool("disable_host_node_id").unwrap_or(true),
        enable_debug: v.flag("enable_debug"),
        version: v.nonempty("version"),
        raw: Value::Object(merged.clone()),
        sources,
        args,
    })
}

fn invalid(msg: &str) -> ConfigError {
    ConfigError::Invalid(msg.to_string())
}

/// Checks every duration-typed key, plus the durations inside check definitions.
fn check_durations(merged: &Map<String, Value>, errs: &mut Vec<String>) {
    let mut paths = Vec::new();
    schema::duration_paths(schema::TOP, "", &mut paths);
    for path in paths {
        if let Some(Value::String(s)) = get(merged, &path)
            && let Err(e) = legate_types::go_duration::parse_signed(s)
        {
            errs.push(format!("{path}: invalid duration: {s:?}: {e}"));
        }
    }
    let mut checks: Vec<&Map<String, Value>> = Vec::new();
    let defs = |key: &str| {
        get(merged, key)
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(Value::as_object)
    };
    checks.extend(defs("checks"));
    for svc in defs("services") {
        for (k, val) in svc {
            let canon = k.replace('_', "").to_ascii_lowercase();
            match (canon.as_str(), val) {
                ("check", Value::Object(c)) => checks.push(c),
                ("checks", Value::Array(list)) => {
                    checks.extend(list.iter().filter_map(Value::as_object));
                }
                _ => {}
            }
        }
    }
    for check in checks {
        let id = ["id", "ID", "CheckID", "check_id"]
            .iter()
            .find_map(|k| check.get(*k).and_then(Value::as_str))
            .unwrap_or("");
        for (k, val) in check {
            let canon = k.replace('_', "").to_ascii_lowercase();
            let name = match canon.as_str() {
                "interval" => "interval",
                "timeout" => "timeout",
                "ttl" => "ttl",
                "deregistercriticalserviceafter" => "deregister_critical_service_after",
                _ => continue,
            };
            if let Value::String(s) = val
                && let Err(e) = legate_types::go_duration::parse_signed(s)
            {
                errs.push(format!("check[{id}].{name}: invalid duration: {s:?}: {e}"));
            }
        }
    }
}

fn ip_opt(v: &View<'_>, key: &str, errs: &mut Vec<String>) -> Option<IpAddr> {
    let s = v.nonempty(key)?;
    match s.trim().parse::<IpAddr>() {
        Ok(ip) => Some(ip),
        Err(_) => {
            errs.push(format!("{key}: invalid ip address: {s}"));
            None
        }
    }
}

/// Listener addresses for `list` on `port`; invalid entries are reported to `report`
/// (`None` when the list was validated already).
fn make_addrs(
    list: &[String],
    port: Option<u16>,
    mut report: Option<(&str, &mut Vec<String>)>,
) -> Vec<ListenAddr> {
    let mut out = Vec::new();
    for a in list {
        if let Some(path) = a.strip_prefix("unix://") {
            out.push(ListenAddr::Unix(PathBuf::from(path)));
            continue;
        }
        let Some(port) = port else { continue };
        match a.parse::<IpAddr>() {
            Ok(ip) => out.push(ListenAddr::Tcp(SocketAddr::new(ip, port))),
            Err(_) => {
                if let Some((key, errs)) = report.as_mut() {
                    errs.push(format!("{key}: invalid ip address: {a}"));
                }
            }
        }
    }
    out
}

/// Consul's `validateBasicName`.
fn validate_basic_name(field: &str, value: &str, allow_empty: bool) -> Result<(), ConfigError> {
    if value.is_empty() {
        if allow_empty {
            return Ok(());
        }
        return Err(invalid(&format!("{field} cannot be empty")));
    }
    let ok = value
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-');
    if !ok {
        return Err(invalid(&format!(
            "{field} can only contain lowercase alphanumeric, - or _ characters. received: {value:?}"
        )));
    }
    Ok(())
}

fn validate_encrypt(key: &str) -> Result<(), ConfigError> {
    use base64::Engine as _;
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(key)
        .map_err(|e| invalid(&format!("encrypt has invalid key: {e}")))?;
    if ![16, 24, 32].contains(&bytes.len()) {
        return Err(invalid(&format!(
            "encrypt has invalid key: key size must be 16, 24 or 32 bytes, got {}",
            bytes.len()
        )));
    }
    Ok(())
}

fn is_uuid(s: &str) -> bool {
    s.len() == 36
        && s.char_indices().all(|(i, c)| match i {
            8 | 13 | 18 | 23 => c == '-',
            _ => c.is_ascii_hexdigit(),
        })
}

/// The host name: `/proc/sys/kernel/hostname`, else `$HOSTNAME`, else `legate`.
fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .or_else(|| std::env::var("HOSTNAME").ok().filter(|s| !s.is_empty()))
        .unwrap_or_else(|| "legate".to_string())
}

/// For a wildcard bind: the private IPv4 address of the default route's interface (found
/// by connecting a UDP socket, which sends nothing), else 127.0.0.1.
fn detect_private_ip() -> IpAddr {
    let found = UdpSocket::bind((Ipv4Addr::UNSPECIFIED, 0))
        .and_then(|s| {
            s.connect((Ipv4Addr::new(10, 255, 255, 254), 9))?;
            s.local_addr()
        })
        .ok()
        .map(|a| a.ip());
    match found {
        Some(IpAddr::V4(ip)) if ip.is_private() || is_shared(ip) => IpAddr::V4(ip),
        _ => IpAddr::V4(Ipv4Addr::LOCALHOST),
    }
}

/// RFC 6598 shared address space (100.64.0.0/10), which Consul counts as private.
fn is_shared(ip: Ipv4Addr) -> bool {
    let o = ip.octets();
    o[0] == 100 && (o[1] & 0xc0) == 64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn basic_names() {
        assert!(validate_basic_name("datacenter", "dc-1_a", false).is_ok());
        let e = validate_basic_name("datacenter", "DC 1", false).unwrap_err();
        assert_eq!(
            e.to_string(),
            "datacenter can only contain lowercase alphanumeric, - or _ characters. received: \"DC 1\""
        );
        assert!(validate_basic_name("primary_datacenter", "", true).is_ok());
    }

    #[test]
    fn encrypt_keys() {
        assert!(validate_encrypt("pUqJrVyVRj5jsiYEkM/tFQYfWyJIv4s3XkvDwy7Cu5s=").is_ok());
        assert!(validate_encrypt("not base64!").is_err());
        assert!(validate_encrypt("YWJj").is_err());
    }

    #[test]
    fn uuids() {
        assert!(is_uuid("11111111-2222-3333-4444-555555555555"));
        assert!(!is_uuid("node1"));
    }

    #[test]
    fn unix_listeners_kept_without_port() {
        let mut errs = Vec::new();
        let out = make_addrs(
            &["unix:///tmp/s.sock".to_string(), "127.0.0.1".to_string()],
            None,
            Some(("addresses.http", &mut errs)),
        );
        assert_eq!(out, vec![ListenAddr::Unix(PathBuf::from("/tmp/s.sock"))]);
        assert!(errs.is_empty());
    }

    #[test]
    fn detected_ip_is_not_unspecified() {
        assert!(!detect_private_ip().is_unspecified());
    }

    #[test]
    fn raft_snapshot_settings_default_and_override() {
        let args = |extra: &[&str]| {
            let mut a = vec!["-dev".to_string()];
            a.extend(extra.iter().map(|s| s.to_string()));
            a
        };
        let rc = crate::load(&args(&[])).unwrap();
        assert_eq!(
            (rc.raft_snapshot_threshold, rc.raft_trailing_logs),
            (16_384, 10_240)
        );
        let rc = crate::load(&args(&[
            "-hcl",
            "raft_snapshot_threshold = 64",
            "-hcl",
            "raft_trailing_logs = 8",
        ]))
        .unwrap();
        assert_eq!((rc.raft_snapshot_threshold, rc.raft_trailing_logs), (64, 8));
    }

    #[test]
    fn shared_range() {
        assert!(is_shared(Ipv4Addr::new(100, 64, 0, 1)));
        assert!(!is_shared(Ipv4Addr::new(100, 128, 0, 1)));
    }
}
