//! The `legate` binary (also installable as `consul`): `agent` runs an agent; every other
//! command is the Consul-compatible CLI. Behaviour never depends on the program's name.
#![forbid(unsafe_code)]

use std::process::ExitCode;

mod run_agent;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("agent") {
        return run_agent::run(&args[1..]);
    }
    let mut out = std::io::stdout();
    let mut err = std::io::stderr();
    match legate_cli::run(&args, &mut out, &mut err) {
        Some(code) => ExitCode::from(u8::try_from(code).unwrap_or(1)),
        None => run_agent::run(&args[1..]),
    }
}
