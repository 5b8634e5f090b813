//! `consul operator autopilot get-config`: print the autopilot configuration.

use legate_config::goflag::FlagSet;
use serde_json::Value;

use crate::commands::common;
use crate::flags;
use crate::ui::Ui;

/// One-line description.
pub(crate) const SYNOPSIS: &str = "Display the current Autopilot configuration";

const USAGE: &str = "Usage: consul operator autopilot get-config [options]

  Displays the current Autopilot configuration.";

fn flag_set() -> FlagSet {
    flags::api_flag_set("operator autopilot get-config")
}

/// Help text.
pub(crate) fn help() -> String {
    flags::help_text(USAGE, Some(&flag_set()))
}

/// Consul's `Key = value` lines for a configuration body.
pub(crate) fn render(config: &Value) -> String {
    let text = |k: &str| config.get(k).and_then(Value::as_str).unwrap_or_default();
    let raw = |k: &str| config.get(k).map_or_else(String::new, Value::to_string);
    [
        format!("CleanupDeadServers = {}", raw("CleanupDeadServers")),
        format!("LastContactThreshold = {}", text("LastContactThreshold")),
        format!("MaxTrailingLogs = {}", raw("MaxTrailingLogs")),
        format!("MinQuorum = {}", raw("MinQuorum")),
        format!(
            "ServerStabilizationTime = {}",
            text("ServerStabilizationTime")
        ),
        format!("RedundancyZoneTag = {:?}", text("RedundancyZoneTag")),
        format!(
            "DisableUpgradeMigration = {}",
            raw("DisableUpgradeMigration")
        ),
        format!("UpgradeVersionTag = {:?}", text("UpgradeVersionTag")),
    ]
    .join("\n")
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
    match client
        .get("/v1/operator/autopilot/configuration")
        .send()
        .and_then(|r| r.json::<Value>())
    {
        Ok(config) => {
            ui.output(&render(&config));
            0
        }
        Err(e) => {
            ui.error(&format!("Error querying Autopilot configuration: {e}"));
            1
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn consul_lines() {
        let config = json!({"CleanupDeadServers": true, "LastContactThreshold": "200ms",
            "MaxTrailingLogs": 250, "MinQuorum": 0, "ServerStabilizationTime": "10s",
            "RedundancyZoneTag": "", "DisableUpgradeMigration": false, "UpgradeVersionTag": ""});
        assert_eq!(
            render(&config),
            "CleanupDeadServers = true\nLastContactThreshold = 200ms\nMaxTrailingLogs = 250\n\
             MinQuorum = 0\nServerStabilizationTime = 10s\nRedundancyZoneTag = \"\"\n\
             DisableUpgradeMigration = false\nUpgradeVersionTag = \"\""
        );
    }
}
