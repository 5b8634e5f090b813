//! `consul maint [-enable|-disable] [-reason] [-service ID]`: toggles node or service
//! maintenance mode, or lists what is in maintenance.

use legate_config::goflag::FlagSet;
use serde_json::Value;

use crate::commands::common;
use crate::flags;
use crate::http::escape_path;
use crate::ui::Ui;

/// One-line description.
pub(crate) const SYNOPSIS: &str = "Controls node or service maintenance mode";

const USAGE: &str = "Usage: consul maint [options]

  Places a node or service into maintenance mode. During maintenance mode,
  the node or service will be excluded from all queries through the DNS
  or API interfaces, effectively taking it out of the pool of available
  nodes. This is done by registering an additional critical health check.

  When enabling maintenance mode for a node or service, you may optionally
  specify a reason string. This string will appear in the \"Notes\" field
  of the critical health check which is registered against the node or
  service. If no reason is provided, a default value will be used.

  Maintenance mode is persistent, and will be restored in the event of an
  agent restart. It is therefore required to disable maintenance mode on
  a given node or service before it will be placed back into the pool.

  By default, we operate on the node as a whole. By specifying the
  \"-service\" argument, this behavior can be changed to enable or disable
  only a specific service.

  If no arguments are given, the agent's maintenance status will be shown.
  This will return blank if nothing is currently under maintenance.";

fn flag_set() -> FlagSet {
    let mut fs = FlagSet::new("maint");
    flags::client_flags(&mut fs);
    fs.bool("enable", false, "Enable maintenance mode.")
        .bool("disable", false, "Disable maintenance mode.")
        .string("reason", "", "Text describing the maintenance reason.")
        .string(
            "service",
            "",
            "Control maintenance mode for a specific service ID.",
        );
    fs
}

/// Help text.
pub(crate) fn help() -> String {
    flags::help_text(USAGE, Some(&flag_set()))
}

/// The listing of maintenance checks (`/v1/agent/checks`) as Consul prints it.
pub(crate) fn render_status(node_name: &str, checks: &serde_json::Map<String, Value>) -> String {
    let mut ids: Vec<&String> = checks.keys().collect();
    ids.sort();
    let mut out = String::new();
    for id in ids {
        let check = &checks[id];
        let check_id = check.get("CheckID").and_then(Value::as_str).unwrap_or(id);
        let notes = check
            .get("Notes")
            .and_then(Value::as_str)
            .unwrap_or_default();
        if check_id == "_node_maintenance" {
            out.push_str(&format!(
                "Node:\n  Name:   {node_name}\n  Reason: {notes}\n\n"
            ));
        } else if check_id.starts_with("_service_maintenance:") {
            let sid = check
                .get("ServiceID")
                .and_then(Value::as_str)
                .unwrap_or_default();
            out.push_str(&format!("Service:\n  ID:     {sid}\n  Reason: {notes}\n\n"));
        }
    }
    out
}

/// Runs the command.
pub(crate) fn run(args: &[String], ui: &mut Ui<'_>) -> i32 {
    let fs = flag_set();
    let Some(f) = flags::parse(&fs, args, ui) else {
        return 1;
    };
    let (enable, disable) = (f.bool("enable"), f.bool("disable"));
    let (reason, service) = (f.string("reason"), f.string("service"));
    if enable && disable {
        ui.error("Only one of -enable or -disable may be provided");
        return 1;
    }
    if !enable && !reason.is_empty() {
        ui.error("Reason may only be provided with -enable");
        return 1;
    }
    if !enable && !disable && !service.is_empty() {
        ui.error("Service requires either -enable or -disable");
        return 1;
    }
    let Some(client) = common::client(&f, ui) else {
        return 1;
    };
    let node_name = match client.node_name() {
        Ok(n) => n,
        Err(e) => {
            ui.error(&format!("Error querying Consul agent: {e}"));
            return 1;
        }
    };
    if !enable && !disable {
        let checks: serde_json::Map<String, Value> = match client
            .get("/v1/agent/checks")
            .send()
            .and_then(|r| r.json::<Option<_>>())
        {
            Ok(c) => c.unwrap_or_default(),
            Err(e) => {
                ui.error(&format!("Error getting checks: {e}"));
                return 1;
            }
        };
        ui.write_raw(&render_status(&node_name, &checks));
        return 0;
    }
    let enable_text = if enable { "true" } else { "false" };
    let (req, what) = if service.is_empty() {
        (client.put("/v1/agent/maintenance"), "node")
    } else {
        (
            client.put(&format!(
                "/v1/agent/service/maintenance/{}",
                escape_path(&service)
            )),
            "service",
        )
    };
    let req = req
        .query("enable", enable_text)
        .query_nonempty("reason", &reason);
    let verb = if enable { "enabling" } else { "disabling" };
    if let Err(e) = req.send() {
        ui.error(&format!("Error {verb} {what} maintenance: {e}"));
        return 1;
    }
    let state = if enable { "enabled" } else { "disabled" };
    if service.is_empty() {
        ui.output(&format!("Node maintenance is now {state}"));
    } else {
        ui.output(&format!(
            "Service maintenance is now {state} for {service:?}"
        ));
    }
    0
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn lists_node_and_service_maintenance() {
        let checks = json!({
            "_node_maintenance": {"CheckID": "_node_maintenance", "Notes": "upgrade"},
            "_service_maintenance:web": {"CheckID": "_service_maintenance:web", "Notes": "", "ServiceID": "web"},
            "serfHealth": {"CheckID": "serfHealth"}
        });
        assert_eq!(
            render_status("n1", checks.as_object().unwrap()),
            "Node:\n  Name:   n1\n  Reason: upgrade\n\nService:\n  ID:     web\n  Reason: \n\n"
        );
    }

    #[test]
    fn conflicting_flags() {
        let mut out = Vec::new();
        let mut err = Vec::new();
        let mut input: &[u8] = b"";
        let args = vec!["-enable".to_string(), "-disable".to_string()];
        assert_eq!(run(&args, &mut Ui::new(&mut out, &mut err, &mut input)), 1);
        assert_eq!(
            String::from_utf8(err).unwrap(),
            "Only one of -enable or -disable may be provided\n"
        );
    }
}
