//! `consul peering exported-services -name N [-format pretty|json]`: the services exported to
//! one peer, from the peering's `StreamStatus.ExportedServices` (one name per line in CE).

use serde_json::Value;

use crate::commands::common;
use crate::flags;
use crate::format::gojson;
use crate::ui::Ui;

/// One-line description.
pub(crate) const SYNOPSIS: &str = "Lists exported services to a peer";

const USAGE: &str = "Usage: consul peering exported-services [options] -name <peer name>

  Lists services exported to the peer with the provided name. If the peer is not found,
  the command exits with a non-zero code. The result is filtered according
  to ACL policy configuration.

  Example:

    $ consul peering exported-services -name west-dc";

/// Help text.
pub(crate) fn help() -> String {
    flags::help_text(
        USAGE,
        Some(&super::flag_set("peering exported-services", true, true)),
    )
}

/// Runs the command.
pub(crate) fn run(args: &[String], ui: &mut Ui<'_>) -> i32 {
    let fs = super::flag_set("peering exported-services", true, true);
    let Some(f) = flags::parse(&fs, args, ui) else {
        return 1;
    };
    let Some(name) = super::required_name(f.string("name"), ui) else {
        return 1;
    };
    let format = f.string("format");
    if !super::check_format(&format, ui) {
        return 1;
    }
    let Some(client) = common::client(&f, ui) else {
        return 1;
    };
    let peering = match super::read_peering(&client, &name) {
        Err(e) => {
            ui.error(&format!("Error reading peering: {e}"));
            return 1;
        }
        Ok(None) => {
            ui.error(&format!("No peering with name {name} found."));
            return 1;
        }
        Ok(Some(p)) => p,
    };
    let services: Vec<String> = peering["StreamStatus"]["ExportedServices"]
        .as_array()
        .map(|l| {
            l.iter()
                .filter_map(Value::as_str)
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default();
    if format == "json" {
        // Consul's `ServiceID` objects; in CE only the name is set.
        let ids: Vec<Value> = services
            .iter()
            .map(|s| serde_json::json!({ "ID": s }))
            .collect();
        ui.output(&gojson::marshal(&ids));
    } else {
        ui.output(&services.join("\n"));
    }
    0
}
