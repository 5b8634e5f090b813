//! `consul operator autopilot set-config [-cleanup-dead-servers=…] […]`: change the flags given
//! on the current autopilot configuration and write it back with check-and-set.

use legate_config::goflag::FlagSet;
use legate_config::goflag::Flags;
use serde_json::Value;
use serde_json::json;

use crate::commands::common;
use crate::flags;
use crate::ui::Ui;

/// One-line description.
pub(crate) const SYNOPSIS: &str = "Modify the current Autopilot configuration";

const USAGE: &str = "Usage: consul operator autopilot set-config [options]

  Modifies the current Autopilot configuration.";

fn flag_set() -> FlagSet {
    let mut fs = flags::api_flag_set("operator autopilot set-config");
    fs.bool(
        "cleanup-dead-servers",
        false,
        "Controls whether Consul will automatically remove dead servers when new ones are \
         successfully added. Must be one of `true|false`.",
    )
    .int(
        "max-trailing-logs",
        0,
        "Controls the maximum number of log entries that a server can trail the leader by \
         before being considered unhealthy.",
    )
    .int(
        "min-quorum",
        0,
        "Sets the minimum number of servers required in a cluster before autopilot is allowed \
         to prune dead servers.",
    )
    .duration(
        "last-contact-threshold",
        "0s",
        "Controls the maximum amount of time a server can go without contact from the leader \
         before being considered unhealthy. Must be a duration value such as `200ms`.",
    )
    .duration(
        "server-stabilization-time",
        "0s",
        "Controls the minimum amount of time a server must be stable in the 'healthy' state \
         before being added to the cluster. Only takes effect if all servers are running Raft \
         protocol version 3 or higher. Must be a duration value such as `10s`.",
    )
    .string(
        "redundancy-zone-tag",
        "",
        "(Enterprise-only) Controls the node_meta tag name used for separating servers into \
         different redundancy zones.",
    )
    .bool(
        "disable-upgrade-migration",
        false,
        "(Enterprise-only) Controls whether Consul will avoid promoting new servers until it \
         can perform a migration. Must be one of `true|false`.",
    )
    .string(
        "upgrade-version-tag",
        "",
        "(Enterprise-only) The node_meta tag to use for version info when performing upgrade \
         migrations. If left blank, the Consul version will be used.",
    );
    fs
}

/// Help text.
pub(crate) fn help() -> String {
    flags::help_text(USAGE, Some(&flag_set()))
}

/// `config` with every flag that was given applied.
pub(crate) fn merge(mut config: Value, f: &Flags) -> Result<Value, String> {
    let mut set = |key: &str, value: Value| {
        if let Some(obj) = config.as_object_mut() {
            obj.insert(key.to_string(), value);
        }
    };
    let unsigned = |name: &str| -> Result<u64, String> {
        u64::try_from(f.int(name)).map_err(|_| {
            format!(
                "invalid value {:?} for flag -{name}: value out of range",
                f.string(name)
            )
        })
    };
    for (flag, key) in [
        ("cleanup-dead-servers", "CleanupDeadServers"),
        ("disable-upgrade-migration", "DisableUpgradeMigration"),
    ] {
        if f.is_set(flag) {
            set(key, json!(f.bool(flag)));
        }
    }
    for (flag, key) in [
        ("max-trailing-logs", "MaxTrailingLogs"),
        ("min-quorum", "MinQuorum"),
    ] {
        if f.is_set(flag) {
            set(key, json!(unsigned(flag)?));
        }
    }
    for (flag, key) in [
        ("last-contact-threshold", "LastContactThreshold"),
        ("server-stabilization-time", "ServerStabilizationTime"),
    ] {
        if f.is_set(flag) {
            set(
                key,
                json!(legate_types::go_duration::format(f.duration(flag))),
            );
        }
    }
    for (flag, key) in [
        ("redundancy-zone-tag", "RedundancyZoneTag"),
        ("upgrade-version-tag", "UpgradeVersionTag"),
    ] {
        if f.is_set(flag) {
            set(key, json!(f.string(flag)));
        }
    }
    Ok(config)
}

/// Runs the command.
pub(crate) fn run(args: &[String], ui: &mut Ui<'_>) -> i32 {
    let fs = flag_set();
    let Some(f) = flags::parse(&fs, args, ui) else {
        return 1;
    };
    let Some(client) = common::client(&f, ui) else {
        return 1;
    };
    let current = match client
        .get("/v1/operator/autopilot/configuration")
        .send()
        .and_then(|r| r.json::<Value>())
    {
        Ok(c) => c,
        Err(e) => {
            ui.error(&format!("Error querying Autopilot configuration: {e}"));
            return 1;
        }
    };
    let index = current
        .get("ModifyIndex")
        .and_then(Value::as_u64)
        .unwrap_or(0);
    let updated = match merge(current, &f) {
        Ok(c) => c,
        Err(e) => {
            ui.error(&format!("Failed to parse args: {e}"));
            return 1;
        }
    };
    match client
        .put("/v1/operator/autopilot/configuration")
        .query("cas", index.to_string())
        .json(&updated)
        .send()
    {
        Ok(r) if String::from_utf8_lossy(&r.body).trim() == "true" => {
            ui.output("Configuration updated!");
            0
        }
        Ok(_) => {
            ui.output("Configuration could not be atomically updated, please try again");
            1
        }
        Err(e) => {
            ui.error(&format!("Error setting Autopilot configuration: {e}"));
            1
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_given_flags_change() {
        let current = json!({"CleanupDeadServers": true, "LastContactThreshold": "200ms",
            "MaxTrailingLogs": 250, "MinQuorum": 0, "ServerStabilizationTime": "10s",
            "RedundancyZoneTag": "", "ModifyIndex": 7});
        let f = flag_set()
            .parse(&[
                "-cleanup-dead-servers=false",
                "-server-stabilization-time=1m30s",
                "-min-quorum=3",
            ])
            .unwrap();
        let merged = merge(current, &f).unwrap();
        assert_eq!(merged["CleanupDeadServers"], false);
        assert_eq!(merged["ServerStabilizationTime"], "1m30s");
        assert_eq!(merged["MinQuorum"], 3);
        assert_eq!(merged["MaxTrailingLogs"], 250);
        assert_eq!(merged["LastContactThreshold"], "200ms");
        assert_eq!(merged["ModifyIndex"], 7);
    }

    #[test]
    fn negative_counts_are_refused() {
        let f = flag_set().parse(&["-max-trailing-logs=-1"]).unwrap();
        assert!(merge(json!({}), &f).is_err());
    }
}
