//! Connect CA bootstrap, run by the leader: when Connect is enabled and the state store holds
//! no CA yet, pick the cluster ID (`connect.ca_config.cluster_id`, else a new UUID), generate
//! the built-in provider's root and write roots and configuration through Raft — only if the
//! CA is still unwritten, so a second leader (or a leader racing an old one) never replaces
//! the root. [`bootstrap_command`] is the pure decision; [`on_leadership`] runs it.

use std::collections::BTreeMap;
use std::time::Duration;

use legate_config::ConnectConfig;
use legate_connect::ClusterId;
use legate_connect::RootCa;
use legate_connect::TrustDomain;
use legate_state::Table;
use legate_state::command::Command;
use legate_state::command::CommandResult;
use legate_state::connect_ca::CaConfig;
use legate_state::connect_ca::CaRoot;
use legate_state::connect_ca::CaState;
use serde_json::Value;
use serde_json::json;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::agent::Agent;

/// Consul's default provider settings, before `connect.ca_config` is merged in.
const DEFAULT_CONFIG: [(&str, &str); 3] = [
    ("IntermediateCertTTL", "8760h"),
    ("LeafCertTTL", "72h"),
    ("RootCertTTL", "87600h"),
];

/// `connect.ca_config` keys (snake case, as written in agent config) and the names Consul
/// shows them under in the CA configuration.
const CONFIG_KEYS: [(&str, &str); 9] = [
    ("leaf_cert_ttl", "LeafCertTTL"),
    ("root_cert_ttl", "RootCertTTL"),
    ("intermediate_cert_ttl", "IntermediateCertTTL"),
    ("private_key_type", "PrivateKeyType"),
    ("private_key_bits", "PrivateKeyBits"),
    ("csr_max_per_second", "CSRMaxPerSecond"),
    ("csr_max_concurrent", "CSRMaxConcurrent"),
    ("rotation_period", "RotationPeriod"),
    ("skip_validate", "SkipValidate"),
];

/// Ensure the CA exists while this server leads; failures are logged and retried on the next
/// leader pass.
pub async fn on_leadership(agent: &Agent) {
    if let Err(err) = ensure_root(agent).await {
        tracing::warn!(target: "agent.leader.connect", error = %err, "failed to initialize the Connect CA");
    }
}

/// Create the CA if Connect is enabled and none exists. Returns whether this call wrote it.
pub async fn ensure_root(agent: &Agent) -> Result<bool, String> {
    let config = agent.config();
    if !config.server || !config.connect.enabled {
        return Ok(false);
    }
    let server = agent.server();
    if server.store().view().table_index(Table::ConnectCa) != 0 {
        return Ok(false);
    }
    // A new leader may not have applied the previous leader's entries yet.
    server.read_barrier().await.map_err(|e| e.to_string())?;
    let view = server.store().view();
    let Some(command) = bootstrap_command(
        &view.ca_state(),
        view.table_index(Table::ConnectCa),
        &config.connect,
        OffsetDateTime::now_utc(),
    )?
    else {
        return Ok(false);
    };
    match server.write(command).await.map_err(|e| e.to_string())? {
        CommandResult::Bool(true) => {
            let state = server.store().view().ca_state();
            if let (Some(cfg), Some(root)) = (state.config.as_ref(), state.active_root()) {
                tracing::info!(target: "agent.leader.connect",
                    "initialized primary datacenter CA with provider: provider=consul trust_domain={} root_id={}",
                    cfg.trust_domain(), root.id);
            }
            Ok(true)
        }
        CommandResult::Bool(false) => Ok(false),
        other => Err(format!("CA bootstrap rejected: {other:?}")),
    }
}

/// The write that bootstraps the CA, or `None` when `state` already has one. `index` is the
/// CA table's index the write is conditional on.
pub fn bootstrap_command(
    state: &CaState,
    index: u64,
    connect: &ConnectConfig,
    now: OffsetDateTime,
) -> Result<Option<Command>, String> {
    if state.config.is_some() || !state.roots.is_empty() {
        return Ok(None);
    }
    let cluster_id = match &connect.cluster_id {
        Some(id) => ClusterId::parse(id).map_err(|e| e.to_string())?,
        None => ClusterId::generate(),
    };
    let config = provider_config(&connect.ca_config);
    let ttl = config
        .get("RootCertTTL")
        .and_then(Value::as_str)
        .and_then(|s| legate_types::go_duration::parse(s).ok())
        .filter(|d| *d > Duration::ZERO)
        .unwrap_or(legate_connect::ROOT_CERT_TTL);
    let trust_domain = TrustDomain::from_cluster_id(cluster_id.as_str());
    let root = RootCa::generate_with_ttl(&trust_domain, now, ttl).map_err(|e| e.to_string())?;
    Ok(Some(Command::CaSet {
        config: CaConfig {
            cluster_id: cluster_id.to_string(),
            provider: "consul".to_string(),
            config,
            ..CaConfig::default()
        },
        roots: vec![ca_root(&root)],
        cas: Some(index),
    }))
}

/// Consul's provider settings: the defaults overlaid with `connect.ca_config` (keys in
/// Consul's CamelCase; `cluster_id` stays out, as Consul keeps it apart).
fn provider_config(ca_config: &Value) -> BTreeMap<String, Value> {
    let mut out: BTreeMap<String, Value> = DEFAULT_CONFIG
        .iter()
        .map(|(k, v)| ((*k).to_string(), json!(v)))
        .collect();
    if let Some(given) = ca_config.as_object() {
        for (key, value) in given {
            let name = CONFIG_KEYS
                .iter()
                .find(|(snake, camel)| key == snake || key == camel)
                .map(|(_, camel)| (*camel).to_string());
            if let Some(name) = name {
                out.insert(name, value.clone());
            }
        }
    }
    out
}

/// The state store record of a generated root.
fn ca_root(root: &RootCa) -> CaRoot {
    CaRoot {
        id: root.id().to_string(),
        name: root.name().to_string(),
        serial_number: root.serial_number(),
        signing_key_id: root.signing_key_id().to_string(),
        external_trust_domain: String::new(),
        not_before: rfc3339(root.not_before()),
        not_after: rfc3339(root.not_after()),
        root_cert: root.cert_pem().to_string(),
        intermediate_certs: Vec::new(),
        private_key: root.private_key_pem().to_string(),
        active: true,
        private_key_type: root.private_key_type().to_string(),
        private_key_bits: root.private_key_bits(),
        ..CaRoot::default()
    }
}

/// Go's `time.Time` JSON form for a UTC instant with whole seconds: `2018-05-25T21:39:23Z`.
fn rfc3339(t: OffsetDateTime) -> String {
    t.format(&Rfc3339).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use time::macros::datetime;

    use super::*;

    fn connect(cluster_id: Option<&str>, ca_config: Value) -> ConnectConfig {
        ConnectConfig {
            enabled: true,
            ca_provider: None,
            ca_config,
            cluster_id: cluster_id.map(str::to_string),
        }
    }

    #[test]
    fn bootstraps_with_the_configured_cluster_id() {
        let now = datetime!(2026-03-04 05:06:07 UTC);
        let id = "7f42f496-fbc7-8692-05ed-334aa5340c1e";
        let cmd = bootstrap_command(&CaState::default(), 0, &connect(Some(id), json!({})), now)
            .unwrap()
            .unwrap();
        let Command::CaSet { config, roots, cas } = cmd else {
            panic!("not a CaSet");
        };
        assert_eq!(cas, Some(0));
        assert_eq!(config.cluster_id, id);
        assert_eq!(config.provider, "consul");
        assert_eq!(
            serde_json::to_value(&config.config).unwrap(),
            json!({"IntermediateCertTTL": "8760h", "LeafCertTTL": "72h", "RootCertTTL": "87600h"})
        );
        let root = &roots[0];
        assert!(root.active);
        assert_eq!(root.name, "Consul CA Primary Cert");
        assert_eq!(root.not_before, "2026-03-04T05:06:07Z");
        assert_eq!(root.not_after, "2036-03-01T05:06:07Z");
        assert!(root.private_key.contains("PRIVATE KEY"));
        let parsed = RootCa::from_pems(&root.root_cert, &root.private_key).unwrap();
        assert_eq!(parsed.id(), root.id);
        assert_eq!(
            parsed.trust_domain().unwrap().as_str(),
            format!("{id}.consul")
        );
    }

    #[test]
    fn generates_a_cluster_id_and_merges_ca_config() {
        let cfg = json!({"leaf_cert_ttl": "24h", "RootCertTTL": "1h", "cluster_id": "x"});
        let cmd = bootstrap_command(
            &CaState::default(),
            0,
            &connect(None, cfg),
            OffsetDateTime::now_utc(),
        )
        .unwrap()
        .unwrap();
        let Command::CaSet { config, roots, .. } = cmd else {
            panic!("not a CaSet");
        };
        assert!(ClusterId::parse(&config.cluster_id).is_ok());
        assert_eq!(config.config["LeafCertTTL"], json!("24h"));
        assert_eq!(config.config["RootCertTTL"], json!("1h"));
        assert!(!config.config.contains_key("cluster_id"));
        let root = RootCa::from_pems(&roots[0].root_cert, &roots[0].private_key).unwrap();
        assert_eq!(
            root.not_after() - root.not_before(),
            Duration::from_secs(3600)
        );
    }

    #[test]
    fn nothing_to_do_when_a_ca_exists_and_bad_ids_fail() {
        let existing = CaState {
            config: Some(CaConfig::default()),
            roots: vec![],
        };
        let now = OffsetDateTime::now_utc();
        assert_eq!(
            bootstrap_command(&existing, 4, &connect(None, json!({})), now).unwrap(),
            None
        );
        let err = bootstrap_command(
            &CaState::default(),
            0,
            &connect(Some("nope"), json!({})),
            now,
        )
        .unwrap_err();
        assert!(err.contains("not a valid UUID"), "{err}");
    }
}
