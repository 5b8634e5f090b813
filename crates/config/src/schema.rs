//! The keys a Consul agent config file may contain, with the shape and type of each value.
//! Used to reject unknown keys, check value types and normalise HCL/block-array shapes.
//! Rarely used sections whose inner keys we do not interpret are typed [`Ty::Any`].

/// The expected shape of one config value.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Ty {
    /// A string.
    Str,
    /// A boolean.
    Bool,
    /// An integer (JSON floats are truncated, as Go's decoder does).
    Int,
    /// Any number.
    Float,
    /// A Go duration string, checked when the runtime config is built.
    Dur,
    /// A list of strings.
    StrList,
    /// A map from string to anything; entries are not checked.
    Map,
    /// Anything at all (tolerated or opaque sections).
    Any,
    /// An object with exactly these keys.
    Obj(&'static [Field]),
    /// A list of objects with these keys; a single object is wrapped.
    ObjList(&'static [Field]),
    /// A map from names to objects with these keys (HCL labelled blocks).
    MapOf(&'static [Field]),
    /// A list of service or check definitions (a single object is wrapped): shapes are
    /// normalised, keys kept as written (snake_case or PascalCase) and not checked.
    OpenList,
}

/// A key and the type of its value.
pub(crate) type Field = (&'static str, Ty);

use Ty::*;

const TOKENS: &[Field] = &[
    ("initial_management", Str),
    ("replication", Str),
    ("agent_recovery", Str),
    ("default", Str),
    ("agent", Str),
    ("config_file_service_registration", Str),
    ("managed_service_provider", Any),
    ("master", Str),
    ("agent_master", Str),
];

const ACL: &[Field] = &[
    ("enabled", Bool),
    ("enable_token_replication", Bool),
    ("policy_ttl", Dur),
    ("role_ttl", Dur),
    ("token_ttl", Dur),
    ("disabled_ttl", Dur),
    ("down_policy", Str),
    ("default_policy", Str),
    ("enable_key_list_policy", Bool),
    ("tokens", Obj(TOKENS)),
    ("enable_token_persistence", Bool),
    ("msp_disable_bootstrap", Bool),
];

const ADDRESSES: &[Field] = &[
    ("dns", Str),
    ("http", Str),
    ("https", Str),
    ("grpc", Str),
    ("grpc_tls", Str),
];

const PORTS: &[Field] = &[
    ("dns", Int),
    ("http", Int),
    ("https", Int),
    ("serf_lan", Int),
    ("serf_wan", Int),
    ("server", Int),
    ("grpc", Int),
    ("grpc_tls", Int),
    ("proxy_min_port", Int),
    ("proxy_max_port", Int),
    ("sidecar_min_port", Int),
    ("sidecar_max_port", Int),
    ("expose_min_port", Int),
    ("expose_max_port", Int),
];

const AUTOPILOT: &[Field] = &[
    ("cleanup_dead_servers", Bool),
    ("last_contact_threshold", Dur),
    ("max_trailing_logs", Int),
    ("min_quorum", Int),
    ("server_stabilization_time", Dur),
    ("disable_upgrade_migration", Bool),
    ("redundancy_zone_tag", Str),
    ("upgrade_version_tag", Str),
];

const GOSSIP: &[Field] = &[
    ("gossip_nodes", Int),
    ("gossip_interval", Dur),
    ("probe_interval", Dur),
    ("probe_timeout", Dur),
    ("suspicion_mult", Int),
    ("retransmit_mult", Int),
];

const CONNECT: &[Field] = &[
    ("enabled", Bool),
    ("ca_provider", Str),
    ("ca_config", Map),
    ("enable_mesh_gateway_wan_federation", Bool),
    ("test_ca_leaf_root_change_spread", Dur),
];

const PERFORMANCE: &[Field] = &[
    ("leave_drain_time", Dur),
    ("raft_multiplier", Int),
    ("rpc_hold_timeout", Dur),
];

const PEERING: &[Field] = &[("enabled", Bool), ("test_allow_peer_registrations", Bool)];

const LOCALITY: &[Field] = &[("region", Str), ("zone", Str)];

const DNS_CONFIG: &[Field] = &[
    ("allow_stale", Bool),
    ("a_record_limit", Int),
    ("disable_compression", Bool),
    ("enable_truncate", Bool),
    ("max_stale", Dur),
    ("node_ttl", Dur),
    ("only_passing", Bool),
    ("recursor_strategy", Str),
    ("recursor_timeout", Dur),
    ("service_ttl", Map),
    ("udp_answer_limit", Int),
    ("enable_additional_node_meta_txt", Bool),
    ("soa", Any),
    ("use_cache", Bool),
    ("cache_max_age", Dur),
    ("prefer_namespace", Bool),
];

const HTTP_CONFIG: &[Field] = &[
    ("block_endpoints", StrList),
    ("allow_write_http_from", StrList),
    ("response_headers", Map),
    ("use_cache", Bool),
    ("max_header_bytes", Int),
];

const LIMITS: &[Field] = &[
    ("http_max_conns_per_client", Int),
    ("https_handshake_timeout", Dur),
    ("request_limits", Any),
    ("rpc_client_timeout", Dur),
    ("rpc_handshake_timeout", Dur),
    ("rpc_max_burst", Int),
    ("rpc_max_conns_per_client", Int),
    ("rpc_rate", Float),
    ("kv_max_value_size", Int),
    ("txn_max_req_len", Int),
];

const TLS_PROTOCOL: &[Field] = &[
    ("ca_file", Str),
    ("ca_path", Str),
    ("cert_file", Str),
    ("key_file", Str),
    ("tls_min_version", Str),
    ("tls_cipher_suites", Str),
    ("verify_incoming", Bool),
    ("verify_outgoing", Bool),
    ("verify_server_hostname", Bool),
    ("use_auto_cert", Bool),
];

const TLS: &[Field] = &[
    ("defaults", Obj(TLS_PROTOCOL)),
    ("internal_rpc", Obj(TLS_PROTOCOL)),
    ("https", Obj(TLS_PROTOCOL)),
    ("grpc", Obj(TLS_PROTOCOL)),
];

const UI_CONFIG: &[Field] = &[
    ("enabled", Bool),
    ("dir", Str),
    ("content_path", Str),
    ("metrics_provider", Str),
    ("metrics_provider_files", StrList),
    ("metrics_provider_options_json", Str),
    ("metrics_proxy", Any),
    ("dashboard_url_templates", Map),
];

const UNIX_SOCKETS: &[Field] = &[("group", Str), ("mode", Str), ("user", Str)];

const AUDIT_SINK: &[Field] = &[
    ("name", Str),
    ("type", Str),
    ("format", Str),
    ("path", Str),
    ("delivery_guarantee", Str),
    ("mode", Str),
    ("rotate_bytes", Int),
    ("rotate_duration", Dur),
    ("rotate_max_files", Int),
];

const AUDIT: &[Field] = &[("enabled", Bool), ("sink", MapOf(AUDIT_SINK))];

const SEGMENT: &[Field] = &[
    ("advertise", Str),
    ("bind", Str),
    ("name", Str),
    ("port", Int),
    ("rpc_listener", Bool),
];

const CONFIG_ENTRIES: &[Field] = &[("bootstrap", Any)];

const AUTO_ENCRYPT: &[Field] = &[
    ("tls", Bool),
    ("dns_san", StrList),
    ("ip_san", StrList),
    ("allow_tls", Bool),
];

/// Every top-level key of a Consul 1.20 agent config (including tolerated deprecated ones).
pub(crate) const TOP: &[Field] = &[
    ("acl", Obj(ACL)),
    ("addresses", Obj(ADDRESSES)),
    ("advertise_addr", Str),
    ("advertise_addr_ipv4", Str),
    ("advertise_addr_ipv6", Str),
    ("advertise_addr_wan", Str),
    ("advertise_addr_wan_ipv4", Str),
    ("advertise_addr_wan_ipv6", Str),
    ("advertise_reconnect_timeout", Dur),
    ("auto_config", Any),
    ("auto_encrypt", Obj(AUTO_ENCRYPT)),
    ("auto_reload_config", Bool),
    ("autopilot", Obj(AUTOPILOT)),
    ("bind_addr", Str),
    ("bootstrap", Bool),
    ("bootstrap_expect", Int),
    ("cache", Any),
    ("check", OpenList),
    ("check_output_max_size", Int),
    ("check_update_interval", Dur),
    ("checks", OpenList),
    ("client_addr", Str),
    ("cloud", Any),
    ("config_entries", Obj(CONFIG_ENTRIES)),
    ("connect", Obj(CONNECT)),
    ("data_dir", Str),
    ("datacenter", Str),
    ("default_query_time", Dur),
    ("disable_anonymous_signature", Bool),
    ("disable_coordinates", Bool),
    ("disable_host_node_id", Bool),
    ("disable_http_unprintable_char_filter", Bool),
    ("disable_keyring_file", Bool),
    ("disable_remote_exec", Bool),
    ("disable_update_check", Bool),
    ("discard_check_output", Bool),
    ("discovery_max_stale", Dur),
    ("dns_config", Obj(DNS_CONFIG)),
    ("domain", Str),
    ("alt_domain", Str),
    ("enable_agent_tls_for_checks", Bool),
    ("enable_central_service_config", Bool),
    ("enable_debug", Bool),
    ("enable_local_script_checks", Bool),
    ("enable_script_checks", Bool),
    ("enable_syslog", Bool),
    ("encrypt", Str),
    ("encrypt_verify_incoming", Bool),
    ("encrypt_verify_outgoing", Bool),
    ("experiments", StrList),
    ("gossip_lan", Obj(GOSSIP)),
    ("gossip_wan", Obj(GOSSIP)),
    ("http_config", Obj(HTTP_CONFIG)),
    ("leave_on_terminate", Bool),
    ("license_path", Str),
    ("limits", Obj(LIMITS)),
    ("locality", Obj(LOCALITY)),
    ("log_file", Str),
    ("log_json", Bool),
    ("log_level", Str),
    ("log_rotate_bytes", Int),
    ("log_rotate_duration", Dur),
    ("log_rotate_max_files", Int),
    ("log_sublevels", Map),
    ("max_query_time", Dur),
    ("node_id", Str),
    ("node_meta", Map),
    ("node_name", Str),
    ("peering", Obj(PEERING)),
    ("performance", Obj(PERFORMANCE)),
    ("pid_file", Str),
    ("ports", Obj(PORTS)),
    ("primary_datacenter", Str),
    ("primary_gateways", StrList),
    ("primary_gateways_interval", Dur),
    ("protocol", Int),
    ("raft_logstore", Any),
    ("raft_protocol", Int),
    ("raft_snapshot_interval", Dur),
    ("raft_snapshot_threshold", Int),
    ("raft_trailing_logs", Int),
    ("recursors", StrList),
    ("reconnect_timeout", Dur),
    ("reconnect_timeout_wan", Dur),
    ("rejoin_after_leave", Bool),
    ("retry_interval", Dur),
    ("retry_interval_wan", Dur),
    ("retry_join", StrList),
    ("retry_join_wan", StrList),
    ("retry_max", Int),
    ("retry_max_wan", Int),
    ("rpc", Any),
    ("serf_lan", Str),
    ("serf_lan_allowed_cidrs", StrList),
    ("serf_wan", Str),
    ("serf_wan_allowed_cidrs", StrList),
    ("server", Bool),
    ("server_name", Str),
    ("server_rejoin_age_max", Dur),
    ("service", OpenList),
    ("services", OpenList),
    ("session_ttl_min", Dur),
    ("skip_leave_on_interrupt", Bool),
    ("snapshot_agent", Any),
    ("syslog_facility", Str),
    ("tagged_addresses", Map),
    ("telemetry", Any),
    ("tls", Obj(TLS)),
    ("translate_wan_addrs", Bool),
    ("ui", Bool),
    ("ui_config", Obj(UI_CONFIG)),
    ("ui_content_path", Str),
    ("ui_dir", Str),
    ("unix_sockets", Obj(UNIX_SOCKETS)),
    ("use_streaming_backend", Bool),
    ("watches", Any),
    ("xds", Any),
    // Non-user values (Consul accepts them in files too).
    ("ae_interval", Dur),
    ("check_deregister_interval_min", Dur),
    ("check_reap_interval", Dur),
    ("consul", Any),
    ("revision", Str),
    ("segment_limit", Int),
    ("segment_name_limit", Int),
    ("sync_coordinate_interval_min", Dur),
    ("sync_coordinate_rate_target", Float),
    ("version", Str),
    ("version_prerelease", Str),
    ("version_metadata", Str),
    ("build_date", Any),
    // Enterprise-only keys: accepted and ignored.
    ("audit", Obj(AUDIT)),
    ("read_replica", Bool),
    ("non_voting_server", Bool),
    ("segment", Str),
    ("segments", ObjList(SEGMENT)),
    ("partition", Str),
    ("license_poll_base_time", Dur),
    ("license_poll_max_time", Dur),
    ("license_update_base_time", Dur),
    ("license_update_max_time", Dur),
    ("reporting", Any),
    // Deprecated keys, mapped to their new names by `normalize`.
    ("acl_agent_master_token", Str),
    ("acl_agent_token", Str),
    ("acl_token", Str),
    ("acl_enable_key_list_policy", Bool),
    ("acl_master_token", Str),
    ("acl_replication_token", Str),
    ("enable_acl_replication", Bool),
    ("acl_datacenter", Str),
    ("acl_default_policy", Str),
    ("acl_down_policy", Str),
    ("acl_ttl", Dur),
    ("acl_enforce_version_8", Bool),
    ("ca_file", Str),
    ("ca_path", Str),
    ("cert_file", Str),
    ("key_file", Str),
    ("tls_cipher_suites", Str),
    ("tls_min_version", Str),
    ("tls_prefer_server_cipher_suites", Bool),
    ("verify_incoming", Bool),
    ("verify_incoming_https", Bool),
    ("verify_incoming_rpc", Bool),
    ("verify_outgoing", Bool),
    ("verify_server_hostname", Bool),
    ("start_join", StrList),
    ("start_join_wan", StrList),
    ("raft_boltdb", Any),
];

/// Looks a key up case-insensitively, as Go's mapstructure does.
pub(crate) fn lookup(fields: &'static [Field], key: &str) -> Option<&'static Field> {
    fields.iter().find(|(name, _)| *name == key).or_else(|| {
        fields
            .iter()
            .find(|(name, _)| name.eq_ignore_ascii_case(key))
    })
}

/// Every duration-typed key path (`acl.token_ttl`, …) under `fields`, for validation.
pub(crate) fn duration_paths(fields: &'static [Field], prefix: &str, out: &mut Vec<String>) {
    for (name, ty) in fields {
        let path = if prefix.is_empty() {
            (*name).to_string()
        } else {
            format!("{prefix}.{name}")
        };
        match ty {
            Dur => out.push(path),
            Obj(inner) => duration_paths(inner, &path, out),
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lookup_is_case_insensitive() {
        assert_eq!(lookup(TOP, "Datacenter").map(|f| f.0), Some("datacenter"));
        assert!(lookup(TOP, "nope").is_none());
    }

    #[test]
    fn durations_listed() {
        let mut out = Vec::new();
        duration_paths(TOP, "", &mut out);
        assert!(out.contains(&"acl.token_ttl".to_string()));
        assert!(out.contains(&"check_update_interval".to_string()));
    }

    #[test]
    fn no_duplicate_keys() {
        let mut names: Vec<_> = TOP.iter().map(|f| f.0).collect();
        names.sort_unstable();
        let len = names.len();
        names.dedup();
        assert_eq!(names.len(), len);
    }
}
