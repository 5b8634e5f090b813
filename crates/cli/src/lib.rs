//! Legate's Consul-compatible command-line interface: a thin HTTP client of the agent API.
//!
//! Owns argument handling (Go `flag` syntax via `legate_config::goflag`), the command tree
//! and Consul's exact output formats. It does not run the agent: `agent` is left to the
//! binary, which gets `None` back from [`run`].
#![forbid(unsafe_code)]

mod command;
mod commands;
mod flags;
mod format;
mod http;
mod ui;

use std::io::Read;
use std::io::Write;

/// Run a CLI command. `args` excludes the program name (e.g. `["kv","get","foo"]`). Writes to
/// the given stdout/stderr and returns the process exit code. `agent` is NOT handled here (the
/// binary dispatches it) — returns `None` for it so the caller can.
pub fn run(args: &[String], out: &mut dyn Write, err: &mut dyn Write) -> Option<i32> {
    let mut stdin = std::io::stdin();
    run_with_stdin(args, out, err, &mut stdin)
}

/// Like [`run`], reading command input (`kv put KEY -`, `config write -`, …) from `stdin`.
pub fn run_with_stdin(
    args: &[String],
    out: &mut dyn Write,
    err: &mut dyn Write,
    stdin: &mut dyn Read,
) -> Option<i32> {
    let mut ui = ui::Ui::new(out, err, stdin);
    command::dispatch(args, &mut ui)
}
