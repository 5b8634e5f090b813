//! `consul reload`: asks the agent to reload its configuration files.

use legate_config::goflag::FlagSet;

use crate::commands::common;
use crate::flags;
use crate::ui::Ui;

/// One-line description.
pub(crate) const SYNOPSIS: &str = "Triggers the agent to reload configuration files";

const USAGE: &str = "Usage: consul reload [options]

  Causes the agent to reload configurations. This can be used instead
  of sending the SIGHUP signal to the agent.";

fn flag_set() -> FlagSet {
    let mut fs = FlagSet::new("reload");
    flags::client_flags(&mut fs);
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
    match client.put("/v1/agent/reload").send() {
        Ok(_) => {
            ui.output("Configuration reload triggered");
            0
        }
        Err(e) => {
            ui.error(&format!("Error reloading: {e}"));
            1
        }
    }
}
