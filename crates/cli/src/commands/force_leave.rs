//! `consul force-leave [-prune] [-wan] NODE`: forces a member into the `left` state.

use legate_config::goflag::FlagSet;

use crate::commands::common;
use crate::flags;
use crate::http::escape_path;
use crate::ui::Ui;

/// One-line description.
pub(crate) const SYNOPSIS: &str = "Forces a member of the cluster to enter the \"left\" state";

const USAGE: &str = "Usage: consul force-leave [options] name

  Forces a member of a Consul cluster to enter the \"left\" state. Note
  that if the member is still actually alive, it will eventually rejoin
  the cluster. This command is most useful for cleaning out \"failed\" nodes
  that are never coming back. If you do not force leave a failed node,
  Consul will attempt to reconnect to those failed nodes for some period of
  time before eventually reaping them.";

fn flag_set() -> FlagSet {
    let mut fs = flags::api_flag_set("force-leave");
    fs.bool("prune", false, "Remove agent forcibly from list of members")
        .bool(
            "wan",
            false,
            "Exclusively leave the agent from the WAN serf pool.",
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
    let [node] = f.args.as_slice() else {
        ui.error("A single node name must be specified to force leave.");
        ui.error("");
        ui.error(&help());
        return 1;
    };
    let Some(client) = common::client(&f, ui) else {
        return 1;
    };
    let mut req = client.put(&format!("/v1/agent/force-leave/{}", escape_path(node)));
    if f.bool("prune") {
        req = req.query("prune", "1");
    }
    if f.bool("wan") {
        req = req.query("wan", "1");
    }
    match req.send() {
        Ok(_) => 0,
        Err(e) => {
            ui.error(&format!("Error force leaving: {e}"));
            1
        }
    }
}
