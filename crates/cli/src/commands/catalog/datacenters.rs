//! `consul catalog datacenters`: one datacenter name per line.

use legate_config::goflag::FlagSet;

use crate::commands::common;
use crate::flags;
use crate::ui::Ui;

/// One-line description.
pub(crate) const SYNOPSIS: &str = "Lists all known datacenters";

const USAGE: &str = "Usage: consul catalog datacenters [options]

  Retrieves the list of all known datacenters. This datacenters are sorted in
  ascending order based on the estimated median round trip time from the servers
  in this datacenter to the servers in the other datacenters.

  To retrieve the list of datacenters:

      $ consul catalog datacenters

  For a full list of options and examples, please see the Consul documentation.";

fn flag_set() -> FlagSet {
    flags::api_flag_set("catalog datacenters")
}

/// Help text.
pub(crate) fn help() -> String {
    flags::help_text(USAGE, Some(&flag_set()))
}

/// Runs the command.
pub(crate) fn run(args: &[String], ui: &mut Ui<'_>) -> i32 {
    let fs = flag_set();
    let Some(f) = flags::parse(&fs, args, ui) else {
        return 1;
    };
    if !f.args.is_empty() {
        ui.error(&format!(
            "Too many arguments (expected 0, got {})",
            f.args.len()
        ));
        return 1;
    }
    let Some(client) = common::client(&f, ui) else {
        return 1;
    };
    match client
        .get("/v1/catalog/datacenters")
        .send()
        .and_then(|r| r.json::<Vec<String>>())
    {
        Ok(dcs) => {
            for dc in dcs {
                ui.output(&dc);
            }
        }
        Err(e) => ui.error(&format!("Error listing datacenters: {e}")),
    }
    0
}
