//! `consul monitor [-log-level] [-log-json]`: streams the agent's logs from
//! `/v1/agent/monitor`, one line at a time, until the agent closes the stream.

use std::io::BufRead;
use std::io::BufReader;

use legate_config::goflag::FlagSet;

use crate::commands::common;
use crate::flags;
use crate::ui::Ui;

/// One-line description.
pub(crate) const SYNOPSIS: &str = "Stream logs from a Consul agent";

const USAGE: &str = "Usage: consul monitor [options]

  Shows recent log messages of a Consul agent, and attaches to the agent,
  outputting log messages as they occur in real time. The monitor lets you
  listen for log levels that may be filtered out of the Consul agent. For
  example your agent may only be logging at INFO level, but with the monitor
  you can see the DEBUG level logs.";

fn flag_set() -> FlagSet {
    let mut fs = FlagSet::new("monitor");
    flags::client_flags(&mut fs);
    fs.string("log-level", "INFO", "Log level of the agent.")
        .bool("log-json", false, "Output logs in JSON format.");
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
    let mut req = client
        .get("/v1/agent/monitor")
        .query("loglevel", f.string("log-level"));
    if f.bool("log-json") {
        req = req.query("logjson", "true");
    }
    let resp = match req.send_streaming() {
        Ok(r) => r,
        Err(e) => {
            ui.error(&format!("Error starting monitor: {e}"));
            return 1;
        }
    };
    let reader = BufReader::new(resp);
    for line in reader.lines() {
        match line {
            Ok(l) => ui.output(&l),
            Err(_) => break,
        }
    }
    ui.output("");
    ui.output("Remote side ended the monitor! This usually means that the\nremote side has exited or crashed.");
    1
}
