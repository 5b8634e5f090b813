//! `consul operator raft list-peers [-stale]`: the Raft configuration joined with autopilot
//! health, as Consul's table `Node ID Address State Voter RaftProtocol Commit Index Trails
//! Leader By`.

use std::collections::HashMap;

use legate_config::goflag::FlagSet;
use serde_json::Value;

use crate::commands::common;
use crate::flags;
use crate::format::columnize;
use crate::ui::Ui;

/// One-line description.
pub(crate) const SYNOPSIS: &str = "Display the current Raft peer configuration";

const USAGE: &str = "Usage: consul operator raft list-peers [options]

  Displays the current Raft peer configuration.";

fn flag_set() -> FlagSet {
    flags::api_flag_set("operator raft list-peers")
}

/// Help text.
pub(crate) fn help() -> String {
    flags::help_text(USAGE, Some(&flag_set()))
}

fn text(v: &Value, key: &str) -> String {
    v.get(key)
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string()
}

/// The table for a `/v1/operator/raft/configuration` body and the autopilot health servers
/// (`LastIndex` by `ID`).
pub(crate) fn render(config: &Value, health: &HashMap<String, u64>) -> String {
    let servers = config
        .get("Servers")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let is_leader = |s: &Value| s.get("Leader").and_then(Value::as_bool).unwrap_or(false);
    let leader_index = servers
        .iter()
        .find(|s| is_leader(s))
        .and_then(|s| health.get(&text(s, "ID")).copied())
        .unwrap_or(0);
    let mut lines = vec![columnize::row(&[
        "Node",
        "ID",
        "Address",
        "State",
        "Voter",
        "RaftProtocol",
        "Commit Index",
        "Trails Leader By",
    ])];
    for s in &servers {
        let mut protocol = text(s, "ProtocolVersion");
        if protocol.is_empty() {
            protocol = "<=1".to_string();
        }
        let leader = is_leader(s);
        let state = if leader { "leader" } else { "follower" };
        let voter = s
            .get("Voter")
            .and_then(Value::as_bool)
            .unwrap_or(false)
            .to_string();
        let mut row = vec![
            text(s, "Node"),
            text(s, "ID"),
            text(s, "Address"),
            state.to_string(),
            voter,
            protocol,
        ];
        match health.get(&text(s, "ID")) {
            Some(&last) => {
                let trails = leader_index.wrapping_sub(last);
                let trails_text = if leader {
                    "_".to_string()
                } else if trails <= 1 {
                    format!("{trails} Commit")
                } else {
                    format!("{trails} Commits")
                };
                row.push(last.to_string());
                row.push(trails_text);
            }
            None => row.push("_".to_string()),
        }
        lines.push(columnize::row(&row));
    }
    columnize::format(&lines)
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
    let config: Value = match client
        .get("/v1/operator/raft/configuration")
        .allow_stale()
        .send()
        .and_then(|r| r.json())
    {
        Ok(c) => c,
        Err(e) => {
            ui.error(&format!(
                "Error getting peers: Failed to retrieve raft configuration: {e}"
            ));
            return 1;
        }
    };
    // Autopilot health only adds the commit columns; an agent without it still lists peers.
    let mut health = HashMap::new();
    if let Ok(h) = client
        .get("/v1/operator/autopilot/health")
        .allow_stale()
        .send()
        .and_then(|r| r.json::<Value>())
    {
        for s in h
            .get("Servers")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            if let Some(idx) = s.get("LastIndex").and_then(Value::as_u64) {
                health.insert(text(s, "ID"), idx);
            }
        }
    }
    ui.output(&render(&config, &health));
    0
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn table_with_health() {
        let config = json!({"Servers": [
            {"ID": "id1", "Node": "n1", "Address": "127.0.0.1:8300", "Leader": true, "Voter": true, "ProtocolVersion": "3"},
            {"ID": "id2", "Node": "n2", "Address": "127.0.0.2:8300", "Leader": false, "Voter": true, "ProtocolVersion": "3"}
        ]});
        let mut health = HashMap::new();
        health.insert("id1".to_string(), 20);
        health.insert("id2".to_string(), 18);
        assert_eq!(
            render(&config, &health),
            "Node  ID   Address         State     Voter  RaftProtocol  Commit Index  Trails Leader By\n\
             n1    id1  127.0.0.1:8300  leader    true   3             20            _\n\
             n2    id2  127.0.0.2:8300  follower  true   3             18            2 Commits"
        );
    }

    #[test]
    fn table_without_health() {
        let config = json!({"Servers": [{"ID": "a", "Node": "n", "Address": "x:1", "Leader": true, "Voter": false}]});
        let out = render(&config, &HashMap::new());
        assert!(
            out.ends_with("n     a   x:1      leader  false  <=1           _"),
            "{out}"
        );
    }
}
