//! `consul snapshot restore FILE`: uploads a snapshot to `PUT /v1/snapshot`.

use legate_config::goflag::FlagSet;

use crate::commands::common;
use crate::flags;
use crate::ui::Ui;

/// One-line description.
pub(crate) const SYNOPSIS: &str = "Restores snapshot of Consul server state";

const USAGE: &str = "Usage: consul snapshot restore [options] FILE

  Restores an atomic, point-in-time snapshot of the state of the Consul servers
  which includes key/value entries, service catalog, prepared queries, sessions,
  and ACLs.

  Restores involve a potentially dangerous low-level Raft operation that is not
  designed to handle server failures during a restore. This command is primarily
  intended to be used when recovering from a disaster, restoring into a fresh
  cluster of Consul servers.

  If ACLs are enabled, a management token must be supplied in order to perform
  snapshot operations.

  To restore a snapshot from the file \"backup.snap\":

    $ consul snapshot restore backup.snap

  For a full list of options and examples, please see the Consul documentation.";

fn flag_set() -> FlagSet {
    flags::api_flag_set("snapshot restore")
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
    let file = match f.args.as_slice() {
        [] => {
            ui.error("Missing FILE argument");
            return 1;
        }
        [file] => file.clone(),
        more => {
            ui.error(&format!(
                "Too many arguments (expected 1, got {})",
                more.len()
            ));
            return 1;
        }
    };
    let Some(client) = common::client(&f, ui) else {
        return 1;
    };
    let handle = match std::fs::File::open(&file) {
        Ok(h) => h,
        Err(e) => {
            ui.error(&format!(
                "Error opening snapshot file: {}",
                common::go_path_error("open", &file, &e)
            ));
            return 1;
        }
    };
    match client.put("/v1/snapshot").reader(handle).send() {
        Ok(_) => {
            ui.output("Restored snapshot");
            0
        }
        Err(e) => {
            ui.error(&format!("Error restoring snapshot: {e}"));
            1
        }
    }
}
