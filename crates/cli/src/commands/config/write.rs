//! `consul config write [-cas -modify-index] FILE|-`.

use legate_config::goflag::FlagSet;

use super::parse_entry;
use crate::commands::common;
use crate::flags;
use crate::ui::Ui;

/// One-line description.
pub(crate) const SYNOPSIS: &str = "Create or update a centralized config entry";

const USAGE: &str = "Usage: consul config write [options] <configuration>

  Request a config entry to be created or updated. The configuration
  argument is either a file path or '-' to indicate that the config
  should be read from stdin. The data should be either in HCL or
  JSON form.

  Example (from file):

    $ consul config write web.service.hcl

  Example (from stdin):

    $ consul config write -";

fn flag_set() -> FlagSet {
    let mut fs = flags::api_flag_set("config write");
    fs.bool(
        "cas",
        false,
        "Perform a Check-And-Set operation. Requires -modify-index.",
    )
    .int(
        "modify-index",
        0,
        "Unsigned integer representing the ModifyIndex of the config entry.",
    );
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
    let [source] = f.args.as_slice() else {
        ui.error(
            "Must provide exactly one positional argument to specify the config entry to write",
        );
        return 1;
    };
    let data = match common::load_file_or_stdin(source, ui) {
        Ok(d) => d,
        Err(e) => {
            ui.error(&format!("Failed to load data: {e}"));
            return 1;
        }
    };
    let entry = match parse_entry(&data) {
        Ok(e) => e,
        Err(e) => {
            ui.error(&format!("Failed to decode config entry input: {e}"));
            return 1;
        }
    };
    let Some(client) = common::client(&f, ui) else {
        return 1;
    };
    let mut req = client.put("/v1/config");
    if f.bool("cas") {
        req = req.query("cas", f.int("modify-index").to_string());
    }
    let (kind, name) = (&entry.kind, &entry.name);
    match req.json(&entry.body).send() {
        Err(e) => {
            ui.error(&format!("Error writing config entry {kind}/{name}: {e}"));
            1
        }
        Ok(r) if String::from_utf8_lossy(&r.body).trim() == "false" => {
            ui.error(&format!("Config entry not updated: {kind}/{name}"));
            1
        }
        Ok(_) => {
            ui.output(&format!("Config entry written: {kind}/{name}"));
            0
        }
    }
}
