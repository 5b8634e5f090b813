//! `consul services deregister [-id ID] [FILE...]`.

use legate_config::goflag::FlagSet;

use super::services_from_files;
use crate::commands::common;
use crate::flags;
use crate::http::escape_path;
use crate::ui::Ui;

/// One-line description.
pub(crate) const SYNOPSIS: &str = "Deregister services with the local agent";

const USAGE: &str = "Usage: consul services deregister [options] [FILE...]

  Deregister one or more services that were previously registered with
  the local agent.

      $ consul services deregister web.json db.json

  The -id flag may be used to deregister a single service by ID:

      $ consul services deregister -id=web

  Services are deregistered from the local agent catalog. This command must
  be run against the same agent where the service was registered.";

fn flag_set() -> FlagSet {
    let mut fs = flags::api_flag_set("services deregister");
    fs.string(
        "id",
        "",
        "ID to delete. This must not be set if arguments are given.",
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
    let id_flag = f.string("id");
    if f.args.is_empty() && id_flag.is_empty() {
        ui.error("Service deregistration requires at least one argument or -id.");
        return 1;
    } else if !f.args.is_empty() && !id_flag.is_empty() {
        ui.error("Service deregistration requires arguments or -id, not both.");
        return 1;
    }
    let ids: Vec<(String, String)> = if f.args.is_empty() {
        vec![(id_flag.clone(), String::new())]
    } else {
        match services_from_files(&f.args) {
            Ok(svcs) => svcs
                .iter()
                .map(|s| (common::field_str(s, "ID"), common::field_str(s, "Name")))
                .collect(),
            Err(e) => {
                ui.error(&format!("Error: {e}"));
                return 1;
            }
        }
    };
    let Some(client) = common::client(&f, ui) else {
        return 1;
    };
    for (id, name) in ids {
        let id = if id.is_empty() { name.clone() } else { id };
        if id.is_empty() {
            continue;
        }
        let path = format!("/v1/agent/service/deregister/{}", escape_path(&id));
        if let Err(e) = client.put(&path).send() {
            ui.error(&format!("Error registering service {name:?}: {e}"));
            return 1;
        }
        ui.output(&format!("Deregistered service: {id}"));
    }
    0
}
