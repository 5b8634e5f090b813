//! `consul config list -kind K [-filter]`: entry names, one per line.

use legate_config::goflag::FlagSet;
use serde_json::Value;

use crate::commands::common;
use crate::flags;
use crate::http::escape_path;
use crate::ui::Ui;

/// One-line description.
pub(crate) const SYNOPSIS: &str = "List centralized config entries of a given kind";

const USAGE: &str = "Usage: consul config list [options] -kind <config kind>

  Lists all of the config entries for a given kind. The -kind parameter
  is required.

  Example:

    $ consul config list -kind service-defaults";

fn flag_set() -> FlagSet {
    let mut fs = flags::api_flag_set("config list");
    fs.string("kind", "", "The kind of configurations to list.")
        .string("filter", "", "Filter to use with the request.");
    fs
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
    let kind = f.string("kind");
    if kind.is_empty() {
        ui.error("Must specify the -kind parameter");
        return 1;
    }
    let Some(client) = common::client(&f, ui) else {
        return 1;
    };
    let req = client
        .get(&format!("/v1/config/{}", escape_path(&kind)))
        .query_nonempty("filter", &f.string("filter"))
        .allow_stale();
    match req.send().and_then(|r| r.json::<Option<Vec<Value>>>()) {
        Ok(entries) => {
            for e in entries.unwrap_or_default() {
                ui.output(&common::field_str(&e, "Name"));
            }
            0
        }
        Err(e) => {
            ui.error(&format!(
                "Error listing config entries for kind {kind:?}: {e}"
            ));
            1
        }
    }
}
