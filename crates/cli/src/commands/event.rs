//! `consul event -name NAME [-node RE] [-service RE] [-tag RE] [PAYLOAD]`: fires a user event.

use legate_config::goflag::FlagSet;
use serde_json::Value;

use crate::commands::common;
use crate::flags;
use crate::http::escape_path;
use crate::ui::Ui;

/// One-line description.
pub(crate) const SYNOPSIS: &str = "Fire a new event";

const USAGE: &str = "Usage: consul event [options] [payload]

  Dispatches a custom user event across a datacenter. An event must provide
  a name, but a payload is optional. Events support filtering using
  regular expressions on node name, service, and tag definitions.";

fn flag_set() -> FlagSet {
    let mut fs = flags::api_flag_set("event");
    fs.string("name", "", "Name of the event.")
        .string("node", "", "Regular expression to filter on node names.")
        .string(
            "service",
            "",
            "Regular expression to filter on service instances.",
        )
        .string(
            "tag",
            "",
            "Regular expression to filter on service tags. Must be used with -service.",
        );
    fs
}

/// Help text.
pub(crate) fn help() -> String {
    flags::help_text(USAGE, Some(&flag_set()))
}

/// Checks the filters the way Consul does before firing.
pub(crate) fn validate(name: &str, node: &str, service: &str, tag: &str) -> Result<(), String> {
    if name.is_empty() {
        return Err("Event name must be specified".to_string());
    }
    for (what, re) in [("node", node), ("service", service), ("tag", tag)] {
        if !re.is_empty()
            && let Err(e) = regex::Regex::new(re)
        {
            return Err(format!("Failed to compile {what} filter regexp: {e}"));
        }
    }
    if !tag.is_empty() && service.is_empty() {
        return Err("Cannot provide tag filter without service filter.".to_string());
    }
    Ok(())
}

/// Runs the command.
pub(crate) fn run(args: &[String], ui: &mut Ui<'_>) -> i32 {
    let fs = flag_set();
    let Some(f) = flags::parse(&fs, args, ui) else {
        return 1;
    };
    let (name, node, service, tag) = (
        f.string("name"),
        f.string("node"),
        f.string("service"),
        f.string("tag"),
    );
    if let Err(e) = validate(&name, &node, &service, &tag) {
        ui.error(&e);
        return 1;
    }
    let payload = match f.args.as_slice() {
        [] => None,
        [p] => Some(p.clone().into_bytes()),
        _ => {
            ui.error("Too many command line arguments.");
            ui.error(&help());
            return 1;
        }
    };
    let Some(client) = common::client(&f, ui) else {
        return 1;
    };
    if let Err(e) = client.node_name() {
        ui.error(&format!("Error querying Consul agent: {e}"));
        return 1;
    }
    let mut req = client
        .put(&format!("/v1/event/fire/{}", escape_path(&name)))
        .query_nonempty("node", &node)
        .query_nonempty("service", &service)
        .query_nonempty("tag", &tag);
    if let Some(p) = payload {
        req = req.bytes(p);
    }
    match req.send().and_then(|r| r.json::<Value>()) {
        Ok(ev) => {
            let id = ev.get("ID").and_then(Value::as_str).unwrap_or_default();
            ui.output(&format!("Event ID: {id}"));
            0
        }
        Err(e) => {
            ui.error(&format!("Error firing event: {e}"));
            1
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validation_messages() {
        assert_eq!(
            validate("", "", "", ""),
            Err("Event name must be specified".into())
        );
        assert_eq!(
            validate("deploy", "", "", "v1"),
            Err("Cannot provide tag filter without service filter.".into())
        );
        assert!(
            validate("deploy", "(", "", "")
                .unwrap_err()
                .starts_with("Failed to compile node filter regexp")
        );
        assert_eq!(validate("deploy", "web.*", "api", "v1"), Ok(()));
    }
}
