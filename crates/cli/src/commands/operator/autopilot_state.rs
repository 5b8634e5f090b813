//! `consul operator autopilot state [-format pretty|json]`: print autopilot's view of the
//! servers.

use legate_config::goflag::FlagSet;
use serde_json::Value;

use crate::commands::common;
use crate::flags;
use crate::ui::Ui;

/// One-line description.
pub(crate) const SYNOPSIS: &str = "Display the current Autopilot state";

const USAGE: &str = "Usage: consul operator autopilot state [options]

  Displays the current Autopilot state.";

fn flag_set() -> FlagSet {
    let mut fs = flags::api_flag_set("operator autopilot state");
    fs.string("format", "pretty", "Output format {pretty|json}");
    fs
}

/// Help text.
pub(crate) fn help() -> String {
    flags::help_text(USAGE, Some(&flag_set()))
}

fn text(v: &Value, key: &str) -> String {
    match v.get(key) {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Null) | None => String::new(),
        Some(other) => other.to_string(),
    }
}

fn server(buf: &mut String, id: &str, s: &Value) {
    buf.push_str(&format!("   {id}\n"));
    for (label, key) in [
        ("Name:            ", "Name"),
        ("Address:         ", "Address"),
        ("Version:         ", "Version"),
        ("Status:          ", "Status"),
        ("Node Type:       ", "NodeType"),
        ("Node Status:     ", "NodeStatus"),
        ("Healthy:         ", "Healthy"),
        ("Last Contact:    ", "LastContact"),
        ("Last Term:       ", "LastTerm"),
        ("Last Index:      ", "LastIndex"),
    ] {
        buf.push_str(&format!("      {label}{}\n", text(s, key)));
    }
    if s.get("ReadReplica").and_then(Value::as_bool) == Some(true) {
        buf.push_str("      Read Replica:    true\n");
    }
    if let Some(meta) = s.get("Meta").and_then(Value::as_object)
        && !meta.is_empty()
    {
        buf.push_str("      Meta\n");
        let mut entries: Vec<(&String, &Value)> = meta.iter().collect();
        entries.sort_by_key(|(k, _)| *k);
        for (k, v) in entries {
            let v = v.as_str().map_or_else(|| v.to_string(), str::to_string);
            buf.push_str(&format!("         {k:?}: {v:?}\n"));
        }
    }
}

/// Consul's pretty format of a `/v1/operator/autopilot/state` body.
pub(crate) fn pretty(state: &Value) -> String {
    let mut buf = String::new();
    buf.push_str(&format!(
        "Healthy:                      {}\n",
        text(state, "Healthy")
    ));
    buf.push_str(&format!(
        "Failure Tolerance:            {}\n",
        text(state, "FailureTolerance")
    ));
    buf.push_str(&format!(
        "Optimistic Failure Tolerance: {}\n",
        text(state, "OptimisticFailureTolerance")
    ));
    buf.push_str(&format!(
        "Leader:                       {}\n",
        text(state, "Leader")
    ));
    buf.push_str("Voters:\n");
    for v in state
        .get("Voters")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        buf.push_str(&format!("   {}\n", v.as_str().unwrap_or_default()));
    }
    buf.push_str("Servers:\n");
    if let Some(servers) = state.get("Servers").and_then(Value::as_object) {
        let mut ids: Vec<&String> = servers.keys().collect();
        ids.sort();
        for id in ids {
            server(&mut buf, id, &servers[id.as_str()]);
        }
    }
    buf
}

/// Runs the command.
pub(crate) fn run(args: &[String], ui: &mut Ui<'_>) -> i32 {
    let fs = flag_set();
    let Some(f) = flags::parse(&fs, args, ui) else {
        return 1;
    };
    let format = f.string("format");
    if format != "pretty" && format != "json" {
        ui.error(&format!("Error: Unknown format: {format}"));
        return 1;
    }
    let Some(client) = common::client(&f, ui) else {
        return 1;
    };
    let state = match client
        .get("/v1/operator/autopilot/state")
        .send()
        .and_then(|r| r.json::<Value>())
    {
        Ok(s) => s,
        Err(e) => {
            ui.error(&format!("Error reading Autopilot state: {e}"));
            return 1;
        }
    };
    if format == "json" {
        match serde_json::to_string_pretty(&state) {
            Ok(text) => ui.output(&text),
            Err(e) => {
                ui.error(&format!("Error formatting state: {e}"));
                return 1;
            }
        }
    } else {
        ui.output(pretty(&state).trim_end());
    }
    0
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn pretty_matches_consul_layout() {
        let state = json!({"Healthy": true, "FailureTolerance": 1,
            "OptimisticFailureTolerance": 1, "Leader": "a", "Voters": ["a", "b"],
            "Servers": {"b": {"Name": "n2", "Address": "127.0.0.1:2", "Version": "1.21.0",
                "Status": "voter", "NodeType": "voter", "NodeStatus": "alive", "Healthy": true,
                "LastContact": "2ms", "LastTerm": 3, "LastIndex": 41, "Meta": {"k": "v"}},
              "a": {"Name": "n1", "Address": "127.0.0.1:1", "Version": "1.21.0",
                "Status": "leader", "NodeType": "voter", "NodeStatus": "alive", "Healthy": true,
                "LastContact": "0s", "LastTerm": 3, "LastIndex": 42}}});
        let expected = "Healthy:                      true
Failure Tolerance:            1
Optimistic Failure Tolerance: 1
Leader:                       a
Voters:
   a
   b
Servers:
   a
      Name:            n1
      Address:         127.0.0.1:1
      Version:         1.21.0
      Status:          leader
      Node Type:       voter
      Node Status:     alive
      Healthy:         true
      Last Contact:    0s
      Last Term:       3
      Last Index:      42
   b
      Name:            n2
      Address:         127.0.0.1:2
      Version:         1.21.0
      Status:          voter
      Node Type:       voter
      Node Status:     alive
      Healthy:         true
      Last Contact:    2ms
      Last Term:       3
      Last Index:      41
      Meta
         \"k\": \"v\"
";
        assert_eq!(pretty(&state), expected);
    }
}
