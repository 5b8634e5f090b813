//! `consul info`: the agent's `Stats` from `/v1/agent/self`, sections and keys sorted.

use legate_config::goflag::FlagSet;
use serde_json::Value;

use crate::commands::common;
use crate::flags;
use crate::ui::Ui;

/// One-line description.
pub(crate) const SYNOPSIS: &str = "Provides debugging information for operators.";

const USAGE: &str = "Usage: consul info [options]

  Provides debugging information for operators";

fn flag_set() -> FlagSet {
    let mut fs = FlagSet::new("info");
    flags::client_flags(&mut fs);
    fs
}

/// Help text.
pub(crate) fn help() -> String {
    flags::help_text(USAGE, Some(&flag_set()))
}

fn go_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Renders the `Stats` object as Consul prints it; `Err` names an invalid section.
pub(crate) fn render(stats: &serde_json::Map<String, Value>) -> Result<String, String> {
    let mut keys: Vec<&String> = stats.keys().collect();
    keys.sort();
    let mut out = String::new();
    for key in keys {
        out.push_str(&format!("{key}:\n"));
        let Some(sub) = stats[key].as_object() else {
            return Err(format!("Got invalid subkey in stats: {}", stats[key]));
        };
        let mut subkeys: Vec<&String> = sub.keys().collect();
        subkeys.sort();
        for sk in subkeys {
            out.push_str(&format!("\t{sk} = {}\n", go_text(&sub[sk])));
        }
    }
    Ok(out)
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
    let me: Value = match client.get("/v1/agent/self").send().and_then(|r| r.json()) {
        Ok(v) => v,
        Err(e) => {
            ui.error(&format!("Error querying agent: {e}"));
            return 1;
        }
    };
    let Some(stats) = me.get("Stats").and_then(Value::as_object) else {
        ui.error(&format!("Agent response did not contain 'Stats' key: {me}"));
        return 1;
    };
    match render(stats) {
        Ok(text) => {
            ui.write_raw(&text);
            0
        }
        Err(e) => {
            ui.error(&e);
            1
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn sections_and_keys_are_sorted() {
        let v =
            json!({"raft": {"state": "Leader", "applied_index": "5"}, "agent": {"checks": "0"}});
        let out = render(v.as_object().unwrap()).unwrap();
        assert_eq!(
            out,
            "agent:\n\tchecks = 0\nraft:\n\tapplied_index = 5\n\tstate = Leader\n"
        );
    }
}
