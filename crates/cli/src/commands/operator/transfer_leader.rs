//! `consul operator raft transfer-leader [-id=<id>]`: hand Raft leadership to another server.

use legate_config::goflag::FlagSet;
use serde_json::Value;

use crate::commands::common;
use crate::flags;
use crate::ui::Ui;

/// One-line description.
pub(crate) const SYNOPSIS: &str = "Transfer raft leadership to another node";

const USAGE: &str = "Usage: consul operator raft transfer-leader [options]

  Transfer raft leadership to another node.";

fn flag_set() -> FlagSet {
    let mut fs = flags::api_flag_set("operator raft transfer-leader");
    fs.string("id", "", "The ID of the node to transfer leadership to.");
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
    let Some(client) = common::client(&f, ui) else {
        return 1;
    };
    let reply = client
        .post("/v1/operator/raft/transfer-leader")
        .query_nonempty("id", &f.string("id"))
        .send()
        .and_then(|r| r.json::<Value>());
    match reply {
        Ok(v) if v.get("Success").and_then(Value::as_bool) == Some(true) => {
            ui.output("Success");
            0
        }
        Ok(_) => {
            ui.error("Error transfering leadership: Failed to transfer leadership");
            1
        }
        Err(e) => {
            ui.error(&format!(
                "Error transfering leadership: Failed to transfer leadership {e}"
            ));
            1
        }
    }
}
