//! `consul join [-wan] ADDRESS...`: asks the agent to join the given members.

use legate_config::goflag::FlagSet;

use crate::commands::common;
use crate::flags;
use crate::http::escape_path;
use crate::ui::Ui;

/// One-line description.
pub(crate) const SYNOPSIS: &str = "Tell Consul agent to join cluster";

const USAGE: &str = "Usage: consul join [options] address ...

  Tells a running Consul agent (with \"consul agent\") to join the cluster
  by specifying at least one existing member.";

fn flag_set() -> FlagSet {
    let mut fs = FlagSet::new("join");
    flags::client_flags(&mut fs);
    fs.bool(
        "wan",
        false,
        "Joins a server to another server in the WAN pool.",
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
    if f.args.is_empty() {
        ui.error("At least one address to join must be specified.");
        ui.error("");
        ui.error(&help());
        return 1;
    }
    let Some(client) = common::client(&f, ui) else {
        return 1;
    };
    let mut joins = 0;
    for addr in &f.args {
        let mut req = client.put(&format!("/v1/agent/join/{}", escape_path(addr)));
        if f.bool("wan") {
            req = req.query("wan", "1");
        }
        match req.send() {
            Ok(_) => joins += 1,
            Err(e) => ui.error(&format!("Error joining address '{addr}': {e}")),
        }
    }
    if joins == 0 {
        ui.error("Failed to join any nodes.");
        return 1;
    }
    ui.output(&format!(
        "Successfully joined cluster by contacting {joins} nodes."
    ));
    0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requires_an_address() {
        let mut out = Vec::new();
        let mut err = Vec::new();
        let mut input: &[u8] = b"";
        assert_eq!(run(&[], &mut Ui::new(&mut out, &mut err, &mut input)), 1);
        assert!(
            String::from_utf8(err).unwrap().starts_with(
                "At least one address to join must be specified.\n\nUsage: consul join"
            )
        );
    }
}
