//! The autopilot configuration as the API and the config file spell it: Consul's JSON body of
//! `/v1/operator/autopilot/configuration` both ways, the agent config's `autopilot { … }` block
//! that seeds it, and [`ensure`], which has the leader store that seed the first time.

use std::time::Duration;

use legate_state::autopilot::AutopilotConfig;
use legate_state::command::Command;
use legate_state::command::CommandResult;
use serde_json::Value;
use serde_json::json;

use crate::agent::Agent;
use crate::server::ServerError;

/// Consul's JSON for `config` (durations as Go duration strings).
pub fn to_json(config: &AutopilotConfig) -> Value {
    json!({
        "CleanupDeadServers": config.cleanup_dead_servers,
        "LastContactThreshold": legate_types::go_duration::format(config.last_contact_threshold),
        "MaxTrailingLogs": config.max_trailing_logs,
        "MinQuorum": config.min_quorum,
        "ServerStabilizationTime": legate_types::go_duration::format(config.server_stabilization_time),
        "RedundancyZoneTag": config.redundancy_zone_tag,
        "DisableUpgradeMigration": config.disable_upgrade_migration,
        "UpgradeVersionTag": config.upgrade_version_tag,
        "CreateIndex": config.create_index,
        "ModifyIndex": config.modify_index,
    })
}

/// Decode a PUT body: keys case-insensitive, durations as Go strings or nanoseconds; absent
/// keys take Go's zero value, as Consul's decoding into a fresh struct does.
pub fn from_json(value: &Value) -> Result<AutopilotConfig, String> {
    let Value::Object(map) = value else {
        return Err("expected a JSON object".to_string());
    };
    let get = |name: &str| {
        map.iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v)
            .filter(|v| !v.is_null())
    };
    let boolean = |name: &str| match get(name) {
        None => Ok(false),
        Some(Value::Bool(b)) => Ok(*b),
        Some(other) => Err(format!("{name}: expected a bool, got {other}")),
    };
    let number = |name: &str| match get(name) {
        None => Ok(0),
        Some(v) => v
            .as_u64()
            .ok_or_else(|| format!("{name}: expected a non-negative integer, got {v}")),
    };
    let string = |name: &str| match get(name) {
        None => Ok(String::new()),
        Some(Value::String(s)) => Ok(s.clone()),
        Some(other) => Err(format!("{name}: expected a string, got {other}")),
    };
    let duration = |name: &str| match get(name) {
        None => Ok(Duration::ZERO),
        Some(v) => duration_value(v).map_err(|_| format!("{name}: invalid duration {v}")),
    };
    Ok(AutopilotConfig {
        cleanup_dead_servers: boolean("CleanupDeadServers")?,
        last_contact_threshold: duration("LastContactThreshold")?,
        max_trailing_logs: number("MaxTrailingLogs")?,
        min_quorum: number("MinQuorum")?,
        server_stabilization_time: duration("ServerStabilizationTime")?,
        redundancy_zone_tag: string("RedundancyZoneTag")?,
        disable_upgrade_migration: boolean("DisableUpgradeMigration")?,
        upgrade_version_tag: string("UpgradeVersionTag")?,
        create_index: 0,
        modify_index: 0,
    })
}

/// A duration given as a Go string (`"10s"`) or as nanoseconds.
fn duration_value(v: &Value) -> Result<Duration, ()> {
    match v {
        Value::String(s) => legate_types::go_duration::parse(s).map_err(|_| ()),
        Value::Number(n) => n.as_u64().map(Duration::from_nanos).ok_or(()),
        _ => Err(()),
    }
}

/// The configuration the agent config's `autopilot` block asks for (Consul's defaults for
/// every key it leaves out). `raw` is the merged canonical config map.
pub fn from_agent_config(raw: &Value) -> AutopilotConfig {
    let mut config = AutopilotConfig::default();
    let Some(block) = raw.get("autopilot").and_then(Value::as_object) else {
        return config;
    };
    let get = |key: &str| block.get(key).filter(|v| !v.is_null());
    if let Some(v) = get("cleanup_dead_servers").and_then(Value::as_bool) {
        config.cleanup_dead_servers = v;
    }
    if let Some(v) = get("last_contact_threshold").and_then(|v| duration_value(v).ok()) {
        config.last_contact_threshold = v;
    }
    if let Some(v) = get("max_trailing_logs").and_then(Value::as_u64) {
        config.max_trailing_logs = v;
    }
    if let Some(v) = get("min_quorum").and_then(Value::as_u64) {
        config.min_quorum = v;
    }
    if let Some(v) = get("server_stabilization_time").and_then(|v| duration_value(v).ok()) {
        config.server_stabilization_time = v;
    }
    if let Some(v) = get("redundancy_zone_tag").and_then(Value::as_str) {
        config.redundancy_zone_tag = v.to_string();
    }
    if let Some(v) = get("disable_upgrade_migration").and_then(Value::as_bool) {
        config.disable_upgrade_migration = v;
    }
    if let Some(v) = get("upgrade_version_tag").and_then(Value::as_str) {
        config.upgrade_version_tag = v.to_string();
    }
    config
}

/// The stored configuration; when there is none yet, store the agent config's (only if still
/// absent, so racing leaders agree) and return what was stored.
pub async fn ensure(agent: &Agent) -> Result<AutopilotConfig, ServerError> {
    let server = agent.server();
    if let Some(config) = server.store().view().autopilot_config() {
        return Ok(config);
    }
    let seed = from_agent_config(&agent.config().raw);
    let result = server
        .write(Command::AutopilotSet {
            config: seed,
            cas: Some(0),
        })
        .await?;
    if let CommandResult::Rejected(message) = result {
        return Err(ServerError::Internal(message));
    }
    server
        .store()
        .view()
        .autopilot_config()
        .ok_or_else(|| ServerError::Internal("autopilot config not initialized yet".to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_match_consul() {
        let json = to_json(&AutopilotConfig::default());
        assert_eq!(json["CleanupDeadServers"], true);
        assert_eq!(json["LastContactThreshold"], "200ms");
        assert_eq!(json["MaxTrailingLogs"], 250);
        assert_eq!(json["MinQuorum"], 0);
        assert_eq!(json["ServerStabilizationTime"], "10s");
        assert_eq!(json["RedundancyZoneTag"], "");
        assert_eq!(json["DisableUpgradeMigration"], false);
        assert_eq!(json["UpgradeVersionTag"], "");
    }

    #[test]
    fn body_decodes_case_insensitively() {
        let c = from_json(&json!({"cleanupdeadservers": true,
            "LastContactThreshold": "1s", "MaxTrailingLogs": 10,
            "ServerStabilizationTime": 5_000_000_000u64, "MinQuorum": null}))
        .unwrap();
        assert!(c.cleanup_dead_servers);
        assert_eq!(c.last_contact_threshold, Duration::from_secs(1));
        assert_eq!(c.max_trailing_logs, 10);
        assert_eq!(c.min_quorum, 0);
        assert_eq!(c.server_stabilization_time, Duration::from_secs(5));
        assert!(from_json(&json!({"LastContactThreshold": "soon"})).is_err());
        assert!(from_json(&json!({"MaxTrailingLogs": -1})).is_err());
        assert!(from_json(&json!({"CleanupDeadServers": "yes"})).is_err());
        assert!(from_json(&json!([1])).is_err());
    }

    #[test]
    fn json_round_trips() {
        let c = AutopilotConfig {
            cleanup_dead_servers: false,
            last_contact_threshold: Duration::from_millis(1500),
            max_trailing_logs: 7,
            min_quorum: 3,
            server_stabilization_time: Duration::from_secs(90),
            redundancy_zone_tag: "zone".into(),
            disable_upgrade_migration: true,
            upgrade_version_tag: "v".into(),
            create_index: 0,
            modify_index: 0,
        };
        assert_eq!(from_json(&to_json(&c)).unwrap(), c);
    }

    #[test]
    fn agent_config_block_seeds_the_value() {
        assert_eq!(from_agent_config(&json!({})), AutopilotConfig::default());
        let c = from_agent_config(&json!({"autopilot": {
            "cleanup_dead_servers": false, "last_contact_threshold": "1s",
            "max_trailing_logs": 9, "min_quorum": 3, "server_stabilization_time": "2s",
            "redundancy_zone_tag": "az", "disable_upgrade_migration": true,
            "upgrade_version_tag": "build"}}));
        assert!(!c.cleanup_dead_servers);
        assert_eq!(c.last_contact_threshold, Duration::from_secs(1));
        assert_eq!(c.max_trailing_logs, 9);
        assert_eq!(c.min_quorum, 3);
        assert_eq!(c.server_stabilization_time, Duration::from_secs(2));
        assert_eq!(c.redundancy_zone_tag, "az");
        assert!(c.disable_upgrade_migration);
        assert_eq!(c.upgrade_version_tag, "build");
        let partial = from_agent_config(&json!({"autopilot": {"min_quorum": 5}}));
        assert_eq!(partial.min_quorum, 5);
        assert_eq!(partial.max_trailing_logs, 250);
    }

    #[test]
    fn hcl_block_reaches_the_seed() {
        let args: Vec<String> = [
            "-dev",
            "-hcl",
            "autopilot {\n server_stabilization_time = \"2s\"\n cleanup_dead_servers = false\n}",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        let config = legate_config::load(&args).unwrap();
        let seed = from_agent_config(&config.raw);
        assert_eq!(seed.server_stabilization_time, Duration::from_secs(2));
        assert!(!seed.cleanup_dead_servers);
    }
}
