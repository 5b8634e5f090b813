//! `consul config read -kind K -name N`: the entry as 4-space-indented JSON.

use legate_config::goflag::FlagSet;
use serde_json::Value;

use crate::commands::common;
use crate::flags;
use crate::format::gojson;
use crate::http::escape_path;
use crate::ui::Ui;

/// One-line description.
pub(crate) const SYNOPSIS: &str = "Read a centralized config entry";

const USAGE: &str = "Usage: consul config read [options] -kind <config kind> -name <config name>

  Reads the config entry specified by the given kind and name and outputs its
  JSON representation.

  Example:

    $ consul config read -kind proxy-defaults -name global";

fn flag_set() -> FlagSet {
    let mut fs = flags::api_flag_set("config read");
    fs.string("kind", "", "The kind of configuration to read.")
        .string("name", "", "The name of configuration to read.");
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
    let (kind, name) = (f.string("kind"), f.string("name"));
    if kind.is_empty() {
        ui.error("Must specify the -kind parameter");
        return 1;
    }
    if name.is_empty() {
        ui.error("Must specify the -name parameter");
        return 1;
    }
    let Some(client) = common::client(&f, ui) else {
        return 1;
    };
    let path = format!("/v1/config/{}/{}", escape_path(&kind), escape_path(&name));
    match client
        .get(&path)
        .allow_stale()
        .send()
        .and_then(|r| r.json::<Value>())
    {
        Ok(entry) => {
            ui.output(&gojson::marshal_indent(&entry, "    "));
            0
        }
        Err(e) => {
            ui.error(&format!(
                "Error reading config entry {kind:?} / {name:?}: {e}"
            ));
            1
        }
    }
}
