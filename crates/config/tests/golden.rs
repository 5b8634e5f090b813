//! Golden tests: the launch styles and config files from launch-contracts §2 and §5,
//! loaded through the public `load` entry point, plus Consul's error texts.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::Path;

use legate_config::{ConfigError, ListenAddr, load};
use serde_json::json;

fn args(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| s.to_string()).collect()
}

fn write(dir: &Path, name: &str, text: &str) -> String {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p.display().to_string()
}

fn tcp(ip: [u8; 4], port: u16) -> ListenAddr {
    ListenAddr::Tcp(SocketAddr::new(IpAddr::V4(Ipv4Addr::from(ip)), port))
}

const SDK_JSON: &str = r#"{"node_name":"node-6f5b8c3e-1111-2222-3333-444444444444","node_id":"6f5b8c3e-1111-2222-3333-444444444444","performance":{"raft_multiplier":1},
 "bootstrap":true,"server":true,"data_dir":"DATA","segments":null,
 "disable_update_check":true,"log_level":"debug","bind_addr":"127.0.0.1","addresses":{},
 "ports":{"dns":20001,"http":20002,"https":20003,"serf_lan":20004,"serf_wan":20005,"server":20006,"grpc":20007,"grpc_tls":20008},
 "acl":{"tokens":{}},
 "connect":{"enabled":true,"ca_config":{"cluster_id":"11111111-2222-3333-4444-555555555555"}},
 "skip_leave_on_interrupt":true,"peering":{"enabled":true},"version":"1.20.0"}"#;

#[test]
fn sdk_test_server_config() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let text = SDK_JSON.replace("DATA", &data.display().to_string());
    let file = write(dir.path(), "config.json", &text);
    let rc = load(&args(&["-config-file", &file])).unwrap();
    assert_eq!(rc.node_name, "node-6f5b8c3e-1111-2222-3333-444444444444");
    assert_eq!(
        rc.node_id.as_deref(),
        Some("6f5b8c3e-1111-2222-3333-444444444444")
    );
    assert!(rc.server && rc.bootstrap && !rc.dev);
    assert_eq!(rc.data_dir.as_deref(), Some(data.as_path()));
    assert_eq!(rc.ports.http, Some(20002));
    assert_eq!(rc.ports.https, Some(20003));
    assert_eq!(rc.ports.grpc_tls, Some(20008));
    assert_eq!(rc.http_addrs, vec![tcp([127, 0, 0, 1], 20002)]);
    assert_eq!(rc.bind_addr, IpAddr::V4(Ipv4Addr::LOCALHOST));
    assert_eq!(rc.advertise_addr, IpAddr::V4(Ipv4Addr::LOCALHOST));
    assert_eq!(
        rc.connect.cluster_id.as_deref(),
        Some("11111111-2222-3333-4444-555555555555")
    );
    assert!(rc.connect.enabled && rc.peering_enabled && rc.skip_leave_on_interrupt);
    assert!(rc.disable_update_check);
    assert_eq!(rc.raft_multiplier, 1);
    assert_eq!(rc.log_level, "debug");
    assert_eq!(rc.version.as_deref(), Some("1.20.0"));
    assert_eq!(rc.acl.tokens.initial_management, None);
    assert_eq!(rc.datacenter, "dc1");
    assert_eq!(rc.sources, vec![Path::new(&file).to_path_buf()]);
}

#[test]
fn container_dev_launch() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("config");
    std::fs::create_dir(&cfg).unwrap();
    write(
        &cfg,
        "local.json",
        r#"{"ports":{"https":-1,"dns":-1,"grpc_tls":-1},"performance":{"raft_multiplier":1},"enable_script_checks":true}"#,
    );
    write(&cfg, "README.md", "not config");
    let data = dir.path().join("data").display().to_string();
    let cfg_arg = format!("-config-dir={}", cfg.display());
    let rc = load(&args(&[
        &format!("-data-dir={data}"),
        &cfg_arg,
        "-dev",
        "-client=0.0.0.0",
        "-log-level",
        "trace",
    ]))
    .unwrap();
    assert!(rc.dev && rc.server && rc.bootstrap && rc.ui);
    assert_eq!(rc.bind_addr, IpAddr::V4(Ipv4Addr::LOCALHOST));
    assert_eq!(rc.client_addrs, vec!["0.0.0.0"]);
    assert_eq!(rc.http_addrs, vec![tcp([0, 0, 0, 0], 8500)]);
    assert_eq!(rc.ports.https, None);
    assert_eq!(rc.ports.dns, None);
    assert!(rc.dns_addrs.is_empty());
    assert_eq!(rc.ports.grpc_tls, None);
    assert_eq!(rc.ports.grpc, Some(8502));
    assert_eq!(
        (rc.ports.server, rc.ports.serf_lan, rc.ports.serf_wan),
        (Some(8300), Some(8301), Some(8302))
    );
    assert!(rc.enable_script_checks && rc.enable_local_script_checks);
    assert_eq!(rc.log_level, "trace");
    assert!(rc.connect.enabled);
    assert_eq!(rc.sources.len(), 1);
}

#[test]
fn container_dev_launch_acl_variant() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "local.json",
        r#"{"ports":{"https":-1,"dns":-1,"grpc_tls":-1},"performance":{"raft_multiplier":1},"enable_script_checks":true,
            "primary_datacenter":"dc1","acl":{"enabled":true,"tokens":{"initial_management":"4f9a9d3b-4a52-4c1d-9f0b-0b5f1e1d2c3a"}}}"#,
    );
    let rc = load(&args(&[
        "-dev",
        &format!("-config-dir={}", dir.path().display()),
        "-client=127.0.0.1",
    ]))
    .unwrap();
    assert!(rc.acl.enabled);
    assert_eq!(rc.acl.default_policy, "allow");
    assert_eq!(
        rc.acl.tokens.initial_management.as_deref(),
        Some("4f9a9d3b-4a52-4c1d-9f0b-0b5f1e1d2c3a")
    );
    assert_eq!(rc.primary_datacenter, "dc1");
    assert_eq!(rc.data_dir, None);
}

#[test]
fn loopback_cluster_launch() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = write(
        dir.path(),
        "config.json",
        r#"{"primary_datacenter":"dc1","acl":{"enabled":false},"enable_script_checks":true}"#,
    );
    let data = dir.path().join("node2/data").display().to_string();
    let pid = dir.path().join("node2/pid").display().to_string();
    let rc = load(&args(&[
        "-node",
        "node2",
        "-datacenter",
        "dc1",
        "-bind",
        "127.0.0.2",
        "-client",
        "127.0.0.2",
        "-config-file",
        &cfg,
        "-data-dir",
        &data,
        "-pid-file",
        &pid,
    ]))
    .unwrap();
    assert_eq!(rc.node_name, "node2");
    assert!(!rc.server && !rc.bootstrap);
    assert_eq!(rc.bind_addr, IpAddr::V4(Ipv4Addr::new(127, 0, 0, 2)));
    assert_eq!(rc.advertise_addr, IpAddr::V4(Ipv4Addr::new(127, 0, 0, 2)));
    assert_eq!(rc.http_addrs, vec![tcp([127, 0, 0, 2], 8500)]);
    assert_eq!(
        rc.ports.grpc_tls, None,
        "clients get no grpc_tls by default"
    );
    assert_eq!(rc.ports.grpc, None);
    assert_eq!(rc.pid_file.as_deref(), Some(Path::new(&pid)));
    assert!(rc.leave_on_terminate && !rc.skip_leave_on_interrupt);

    let rc1 = load(&args(&[
        "-node",
        "node1",
        "-datacenter",
        "dc1",
        "-bind",
        "127.0.0.1",
        "-client",
        "127.0.0.1",
        "-config-file",
        &cfg,
        "-data-dir",
        &data,
        "-bootstrap",
        "-server",
    ]))
    .unwrap();
    assert!(rc1.server && rc1.bootstrap);
    assert_eq!(rc1.ports.grpc_tls, Some(8503));
    assert!(!rc1.leave_on_terminate && rc1.skip_leave_on_interrupt);
}

const HCL_FILE: &str = r#"
acl {
  enabled = true
  default_policy = "allow"
  enable_token_persistence = true
  tokens {
    initial_management = "8b2ab5e2-7f43-4a28-9e66-2b8f1f3c9d10"
  }
}

services {
  id = "test-service-1"
  name = "test-service"
  address = "10.0.0.1"
  port = 8080
  checks = []
  tags = ["primary"]
}

services {
  id = "test-service-2"
  name = "test-service"
  address = "10.0.0.2"
  port = 8080
  checks = []
  tags = ["secondary"]
}

services {
  id = "test-service-3"
  name = "test-service"
  address = "10.0.0.3"
  port = 8080
  checks = []
  tags = ["secondary"]
}
"#;

const BLOCK_ARRAY_JSON: &str = r#"{
  "acl": [{"enabled": true, "default_policy": "allow", "enable_token_persistence": true,
           "tokens": [{"initial_management": "8b2ab5e2-7f43-4a28-9e66-2b8f1f3c9d10"}]}],
  "services": [
    {"id": "test-service-1", "name": "test-service", "address": "10.0.0.1", "port": 8080, "checks": [], "tags": ["primary"]},
    {"id": "test-service-2", "name": "test-service", "address": "10.0.0.2", "port": 8080, "checks": [], "tags": ["secondary"]},
    {"id": "test-service-3", "name": "test-service", "address": "10.0.0.3", "port": 8080, "checks": [], "tags": ["secondary"]}
  ]
}"#;

fn hcl_launch(file: &str) -> legate_config::RuntimeConfig {
    load(&args(&[
        "-dev",
        "-log-level=debug",
        "-client=127.0.0.1",
        "-enable-local-script-checks",
        &format!("-config-file={file}"),
        "-datacenter=dc1",
        "-recursor=8.8.8.8",
    ]))
    .unwrap()
}

#[test]
fn hcl_file_with_acl_and_three_services() {
    let dir = tempfile::tempdir().unwrap();
    let rc = hcl_launch(&write(dir.path(), "config.hcl", HCL_FILE));
    assert!(rc.acl.enabled && rc.acl.enable_token_persistence);
    assert_eq!(
        rc.acl.tokens.initial_management.as_deref(),
        Some("8b2ab5e2-7f43-4a28-9e66-2b8f1f3c9d10")
    );
    assert_eq!(rc.services.len(), 3);
    assert_eq!(
        rc.services[0],
        json!({"id": "test-service-1", "name": "test-service", "address": "10.0.0.1",
               "port": 8080, "checks": [], "tags": ["primary"]})
    );
    assert_eq!(rc.recursors, vec!["8.8.8.8"]);
    assert!(rc.enable_local_script_checks && !rc.enable_script_checks);
    assert_eq!(rc.log_level, "debug");
}

#[test]
fn block_array_json_equals_hcl() {
    let dir = tempfile::tempdir().unwrap();
    let from_hcl = hcl_launch(&write(dir.path(), "config.hcl", HCL_FILE));
    let from_json = hcl_launch(&write(dir.path(), "config.json", BLOCK_ARRAY_JSON));
    assert_eq!(from_hcl.services, from_json.services);
    assert_eq!(from_hcl.acl, from_json.acl);
}

#[test]
fn legacy_dev_launch() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "config.json",
        r#"{"ports":{"http":18500,"serf_lan":18301,"serf_wan":18302,"server":18300,"dns":-1},
            "acl_datacenter":"dc1","acl_master_token":"root","acl_default_policy":"deny",
            "acl":{"tokens":{"agent_master":"agent-root"}}}"#,
    );
    let enc = write(
        dir.path(),
        "encrypt.json",
        r#"{"encrypt":"pUqJrVyVRj5jsiYEkM/tFQYfWyJIv4s3XkvDwy7Cu5s="}"#,
    );
    let rc = load(&args(&[
        "-dev",
        "-bind=127.0.0.1",
        &format!("-config-dir={}", dir.path().display()),
    ]))
    .unwrap();
    assert_eq!(rc.ports.http, Some(18500));
    assert_eq!(rc.ports.dns, None);
    assert!(rc.acl.enabled);
    assert_eq!(rc.acl.default_policy, "deny");
    assert_eq!(rc.acl.tokens.initial_management.as_deref(), Some("root"));
    assert_eq!(rc.acl.tokens.agent_recovery.as_deref(), Some("agent-root"));
    assert_eq!(
        rc.encrypt.as_deref(),
        Some("pUqJrVyVRj5jsiYEkM/tFQYfWyJIv4s3XkvDwy7Cu5s=")
    );
    assert_eq!(
        rc.sources.len(),
        2,
        "config.json and encrypt.json in lexical order"
    );

    let rc = load(&args(&[
        "-dev",
        "-bind=127.0.0.1",
        "-bootstrap-expect",
        "1",
        &format!("-config-file={enc}"),
    ]))
    .unwrap();
    assert!(rc.bootstrap);
    assert_eq!(rc.bootstrap_expect, 0);
}

#[test]
fn log_line_watcher_all_ports() {
    let dir = tempfile::tempdir().unwrap();
    let f = write(
        dir.path(),
        "ports.json",
        r#"{"ports":{"dns":1,"http":2,"https":3,"serf_lan":4,"serf_wan":5,"server":6,"grpc":7}}"#,
    );
    let rc = load(&args(&[
        "-dev",
        "-bind",
        "127.0.0.1",
        "-datacenter",
        "Lab",
        "-config-file",
        &f,
    ]))
    .unwrap();
    assert_eq!(rc.datacenter, "lab");
    assert_eq!(rc.ports.grpc, Some(7));
    assert_eq!(rc.ports.grpc_tls, Some(8503));
}

#[test]
fn unknown_key_is_rejected_with_consul_text() {
    let dir = tempfile::tempdir().unwrap();
    let f = write(dir.path(), "x.json", r#"{"foo": 1}"#);
    let e = load(&args(&["-dev", "-config-file", &f])).unwrap_err();
    assert_eq!(
        e.to_string(),
        format!("failed to parse {f}: 1 error occurred:\n\t* invalid config key foo\n\n")
    );
    let h = write(dir.path(), "x.hcl", "ports {\n  htp = 1\n}\n");
    let e = load(&args(&["-dev", "-config-file", &h])).unwrap_err();
    assert!(
        e.to_string().contains("invalid config key ports.htp"),
        "{e}"
    );
}

#[test]
fn bad_values_name_the_key() {
    let dir = tempfile::tempdir().unwrap();
    let f = write(dir.path(), "p.json", r#"{"ports": {"http": "abc"}}"#);
    let e = load(&args(&["-dev", "-config-file", &f])).unwrap_err();
    assert!(matches!(e, ConfigError::Parse { .. }));
    assert!(
        e.to_string().contains("'ports.http' expected type 'int'"),
        "{e}"
    );

    let f = write(dir.path(), "big.json", r#"{"ports": {"http": 70000}}"#);
    let e = load(&args(&["-dev", "-config-file", &f])).unwrap_err();
    assert_eq!(
        e.to_string(),
        "1 error occurred:\n\t* ports.http: invalid port: 70000\n\n"
    );

    let f = write(dir.path(), "d.json", r#"{"acl": {"token_ttl": "soon"}}"#);
    let e = load(&args(&["-dev", "-config-file", &f])).unwrap_err();
    assert!(
        e.to_string()
            .contains("acl.token_ttl: invalid duration: \"soon\""),
        "{e}"
    );

    let f = write(
        dir.path(),
        "c.json",
        r#"{"service": {"name": "a", "check": {"ttl": "5"}}}"#,
    );
    let e = load(&args(&["-dev", "-config-file", &f])).unwrap_err();
    assert!(
        e.to_string().contains("check[].ttl: invalid duration"),
        "{e}"
    );

    let e = load(&args(&["-dev", "-bind", "nope"])).unwrap_err();
    assert_eq!(e.to_string(), "bind_addr must be an ip address");
    let e = load(&args(&["-dev", "-advertise", "1.2.3"])).unwrap_err();
    assert!(
        e.to_string()
            .contains("advertise_addr: invalid ip address: 1.2.3"),
        "{e}"
    );
    let e = load(&args(&["-dev", "-http-port", "x"])).unwrap_err();
    assert_eq!(
        e.to_string(),
        "invalid value \"x\" for flag -http-port: parse error"
    );
    let e = load(&args(&["-dev", "-datacenter", "dc 1"])).unwrap_err();
    assert!(
        e.to_string().starts_with("datacenter can only contain"),
        "{e}"
    );
}

#[test]
fn minus_one_disables_and_flags_override_files() {
    let dir = tempfile::tempdir().unwrap();
    let f = write(
        dir.path(),
        "a.json",
        r#"{"ports": {"http": 9000, "dns": -1}, "node_name": "file-node"}"#,
    );
    let rc = load(&args(&[
        "-dev",
        "-config-file",
        &f,
        "-http-port",
        "-1",
        "-node",
        "flag-node",
    ]))
    .unwrap();
    assert_eq!(rc.ports.http, None);
    assert!(rc.http_addrs.is_empty());
    assert_eq!(rc.ports.dns, None);
    assert_eq!(rc.node_name, "flag-node");
    // Flags win even when they appear before the file.
    let rc = load(&args(&["-dev", "-node", "flag-node", "-config-file", &f])).unwrap();
    assert_eq!(rc.node_name, "flag-node");
    assert_eq!(rc.ports.http, Some(9000));
}

#[test]
fn arrays_append_across_flags_and_files() {
    let dir = tempfile::tempdir().unwrap();
    let a = write(
        dir.path(),
        "a.json",
        r#"{"retry_join": ["a"], "services": [{"name": "s1"}]}"#,
    );
    let b = write(
        dir.path(),
        "b.hcl",
        "retry_join = [\"b\"]\nservice {\n  name = \"s2\"\n}\n",
    );
    let rc = load(&args(&[
        "-dev",
        "-retry-join",
        "flag",
        "-config-file",
        &a,
        "-config-file",
        &b,
    ]))
    .unwrap();
    assert_eq!(rc.retry_join, vec!["flag", "a", "b"]);
    let names: Vec<_> = rc.services.iter().map(|s| s["name"].clone()).collect();
    assert_eq!(names, vec![json!("s1"), json!("s2")]);
}

#[test]
fn empty_file_and_reload_picks_up_new_service() {
    let dir = tempfile::tempdir().unwrap();
    let f = write(dir.path(), "svc.json", "");
    let rc = load(&args(&["-dev", "-config-file", &f])).unwrap();
    assert!(rc.services.is_empty());
    write(
        dir.path(),
        "svc.json",
        r#"{"service": {"name": "web", "port": 80}}"#,
    );
    let again = rc.reload().unwrap();
    assert_eq!(again.services, vec![json!({"name": "web", "port": 80})]);
}

#[test]
fn file_errors() {
    let dir = tempfile::tempdir().unwrap();
    let f = write(dir.path(), "conf.txt", "{}");
    let e = load(&args(&["-dev", "-config-file", &f])).unwrap_err();
    assert!(matches!(e, ConfigError::UnknownExtension(_)));
    let rc = load(&args(&["-dev", "-config-format=json", "-config-file", &f])).unwrap();
    assert_eq!(rc.sources.len(), 1);
    let e = load(&args(&["-dev", "-config-file", "/nonexistent/x.json"])).unwrap_err();
    assert!(
        e.to_string()
            .starts_with("config: Open failed on /nonexistent/x.json."),
        "{e}"
    );
    let e = load(&args(&["-dev", "-config-format=yaml"])).unwrap_err();
    assert_eq!(
        e.to_string(),
        "config: -config-format must be either 'hcl' or 'json'"
    );
    let bad = write(dir.path(), "bad.json", "{");
    let e = load(&args(&["-dev", "-config-file", &bad])).unwrap_err();
    assert!(
        e.to_string()
            .starts_with(&format!("failed to parse {bad}: ")),
        "{e}"
    );
}

#[test]
fn validation_rules() {
    let e = load(&args(&[])).unwrap_err();
    assert_eq!(e.to_string(), "data_dir cannot be empty");
    let e = load(&args(&["-data-dir", "/tmp/x", "-bootstrap"])).unwrap_err();
    assert_eq!(e.to_string(), "'bootstrap = true' requires 'server = true'");
    let e = load(&args(&["-dev", "-bootstrap-expect", "3"])).unwrap_err();
    assert_eq!(
        e.to_string(),
        "'bootstrap_expect > 0' not allowed in dev mode"
    );
    let e = load(&args(&["-dev", "-encrypt", "abc"])).unwrap_err();
    assert!(e.to_string().starts_with("encrypt has invalid key"), "{e}");
    assert!(matches!(
        load(&args(&["-h"])),
        Err(ConfigError::Flag(legate_config::goflag::FlagError::Help))
    ));
}

#[test]
fn hcl_flag_fragments_and_node_meta() {
    let rc = load(&args(&[
        "-dev",
        "-node-meta",
        "rack:r1",
        "-hcl",
        "node_meta {\n  \"zone.name\" = \"z1\"\n}\n",
        "-hcl",
        "addresses {\n  http = \"unix:///tmp/legate.sock\"\n}\n",
    ]))
    .unwrap();
    assert_eq!(rc.node_meta.get("rack").map(String::as_str), Some("r1"));
    assert_eq!(
        rc.node_meta.get("zone.name").map(String::as_str),
        Some("z1")
    );
    assert_eq!(
        rc.http_addrs,
        vec![ListenAddr::Unix("/tmp/legate.sock".into())]
    );
}

#[test]
fn defaults_without_dev() {
    let dir = tempfile::tempdir().unwrap();
    let rc = load(&args(&["-data-dir", &dir.path().display().to_string()])).unwrap();
    assert_eq!(rc.datacenter, "dc1");
    assert_eq!(rc.domain, "consul.");
    assert_eq!(rc.ports.http, Some(8500));
    assert_eq!(rc.ports.dns, Some(8600));
    assert_eq!(rc.ports.grpc, None);
    assert_eq!(rc.ports.grpc_tls, None);
    assert_eq!(rc.bind_addr, IpAddr::V4(Ipv4Addr::UNSPECIFIED));
    assert!(!rc.advertise_addr.is_unspecified());
    assert_eq!(rc.client_addrs, vec!["127.0.0.1"]);
    assert_eq!(rc.raft_multiplier, 5);
    assert!(!rc.node_name.is_empty());
    assert!(!rc.ui);
}
