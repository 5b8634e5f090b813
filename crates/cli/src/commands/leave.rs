//! `consul leave`: asks the agent to leave the cluster gracefully and shut down.

use legate_config::goflag::FlagSet;

use crate::commands::common;
use crate::flags;
use crate::ui::Ui;

/// One-line description.
pub(crate) const SYNOPSIS: &str = "Gracefully leaves the Consul cluster and shuts down";

const USAGE: &str = "Usage: consul leave [options]

  Causes the agent to gracefully leave the Consul cluster and shutdown.";

fn flag_set() -> FlagSet {
    flags::api_flag_set("leave")
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
            "Error found unexpected args: [{}]",
            f.args.join(" ")
        ));
        ui.output(&help());
        return 1;
    }
    let Some(client) = common::client(&f, ui) else {
        return 1;
    };
    match client.put("/v1/agent/leave").send() {
        Ok(_) => {
            ui.output("Graceful leave complete");
            0
        }
        Err(e) => {
            ui.error(&format!("Error leaving: {e}"));
            1
        }
    }
}
