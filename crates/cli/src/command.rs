//! The command tree and dispatcher, behaving like `mitchellh/cli` as Consul configures it:
//! nested subcommands (`kv get`), `-h`/`-help`/`--help` anywhere before `--` prints the
//! command's help to stdout (exit 0), `-v`/`-version`/`--version` before the subcommand prints
//! the version, an unknown command prints the top-level help (exit 127), and a parent command
//! run on its own prints its help and subcommands (exit 1).

use crate::commands;
use crate::ui::Ui;

/// A command's entry point: arguments after the command words.
pub(crate) type RunFn = fn(&[String], &mut Ui<'_>) -> i32;

/// One entry in the command tree.
pub(crate) struct Spec {
    /// Space-separated command words, e.g. `"kv get"`.
    pub(crate) name: &'static str,
    /// One-line description shown in help listings.
    pub(crate) synopsis: &'static str,
    /// Full help text.
    pub(crate) help: fn() -> String,
    /// Entry point; `None` for parents that only group subcommands.
    pub(crate) run: Option<RunFn>,
}

const fn leaf(
    name: &'static str,
    synopsis: &'static str,
    help: fn() -> String,
    run: RunFn,
) -> Spec {
    Spec {
        name,
        synopsis,
        help,
        run: Some(run),
    }
}

const fn parent(name: &'static str, synopsis: &'static str, help: fn() -> String) -> Spec {
    Spec {
        name,
        synopsis,
        help,
        run: None,
    }
}

fn agent_help() -> String {
    "Usage: consul agent [options]\n\n  Starts the Consul agent and runs until an interrupt is received.".to_string()
}

/// Every command Legate's CLI knows.
pub(crate) fn registry() -> Vec<Spec> {
    use commands::*;
    vec![
        parent("agent", "Runs a Consul agent", agent_help),
        parent("catalog", catalog::SYNOPSIS, catalog::help),
        leaf(
            "catalog datacenters",
            catalog::datacenters::SYNOPSIS,
            catalog::datacenters::help,
            catalog::datacenters::run,
        ),
        leaf(
            "catalog nodes",
            catalog::nodes::SYNOPSIS,
            catalog::nodes::help,
            catalog::nodes::run,
        ),
        leaf(
            "catalog services",
            catalog::services::SYNOPSIS,
            catalog::services::help,
            catalog::services::run,
        ),
        parent("health", health::SYNOPSIS, health::help),
        leaf(
            "health service",
            health::service::SYNOPSIS,
            health::service::help,
            health::service::run,
        ),
        parent("config", config::SYNOPSIS, config::help),
        leaf(
            "config delete",
            config::delete::SYNOPSIS,
            config::delete::help,
            config::delete::run,
        ),
        leaf(
            "config list",
            config::list::SYNOPSIS,
            config::list::help,
            config::list::run,
        ),
        leaf(
            "config read",
            config::read::SYNOPSIS,
            config::read::help,
            config::read::run,
        ),
        leaf(
            "config write",
            config::write::SYNOPSIS,
            config::write::help,
            config::write::run,
        ),
        leaf("event", event::SYNOPSIS, event::help, event::run),
        leaf(
            "force-leave",
            force_leave::SYNOPSIS,
            force_leave::help,
            force_leave::run,
        ),
        leaf("info", info::SYNOPSIS, info::help, info::run),
        leaf("join", join::SYNOPSIS, join::help, join::run),
        leaf("keygen", keygen::SYNOPSIS, keygen::help, keygen::run),
        leaf("keyring", keyring::SYNOPSIS, keyring::help, keyring::run),
        parent("kv", kv::SYNOPSIS, kv::help),
        leaf(
            "kv delete",
            kv::delete::SYNOPSIS,
            kv::delete::help,
            kv::delete::run,
        ),
        leaf(
            "kv export",
            kv::export::SYNOPSIS,
            kv::export::help,
            kv::export::run,
        ),
        leaf("kv get", kv::get::SYNOPSIS, kv::get::help, kv::get::run),
        leaf(
            "kv import",
            kv::import::SYNOPSIS,
            kv::import::help,
            kv::import::run,
        ),
        leaf("kv put", kv::put::SYNOPSIS, kv::put::help, kv::put::run),
        leaf("leave", leave::SYNOPSIS, leave::help, leave::run),
        leaf("lock", lock::SYNOPSIS, lock::help, lock::run),
        leaf("maint", maint::SYNOPSIS, maint::help, maint::run),
        leaf("members", members::SYNOPSIS, members::help, members::run),
        leaf("monitor", monitor::SYNOPSIS, monitor::help, monitor::run),
        parent("operator", operator::SYNOPSIS, operator::help),
        parent(
            "operator autopilot",
            operator::AUTOPILOT_SYNOPSIS,
            operator::autopilot_help,
        ),
        leaf(
            "operator autopilot get-config",
            operator::autopilot_get::SYNOPSIS,
            operator::autopilot_get::help,
            operator::autopilot_get::run,
        ),
        leaf(
            "operator autopilot set-config",
            operator::autopilot_set::SYNOPSIS,
            operator::autopilot_set::help,
            operator::autopilot_set::run,
        ),
        leaf(
            "operator autopilot state",
            operator::autopilot_state::SYNOPSIS,
            operator::autopilot_state::help,
            operator::autopilot_state::run,
        ),
        parent(
            "operator raft",
            operator::RAFT_SYNOPSIS,
            operator::raft_help,
        ),
        leaf(
            "operator raft list-peers",
            operator::list_peers::SYNOPSIS,
            operator::list_peers::help,
            operator::list_peers::run,
        ),
        leaf(
            "operator raft remove-peer",
            operator::remove_peer::SYNOPSIS,
            operator::remove_peer::help,
            operator::remove_peer::run,
        ),
        leaf(
            "operator raft transfer-leader",
            operator::transfer_leader::SYNOPSIS,
            operator::transfer_leader::help,
            operator::transfer_leader::run,
        ),
        leaf("reload", reload::SYNOPSIS, reload::help, reload::run),
        leaf("rtt", rtt::SYNOPSIS, rtt::help, rtt::run),
        parent("peering", peering::SYNOPSIS, peering::help),
        leaf(
            "peering delete",
            peering::delete::SYNOPSIS,
            peering::delete::help,
            peering::delete::run,
        ),
        leaf(
            "peering establish",
            peering::establish::SYNOPSIS,
            peering::establish::help,
            peering::establish::run,
        ),
        leaf(
            "peering exported-services",
            peering::exported_services::SYNOPSIS,
            peering::exported_services::help,
            peering::exported_services::run,
        ),
        leaf(
            "peering generate-token",
            peering::generate::SYNOPSIS,
            peering::generate::help,
            peering::generate::run,
        ),
        leaf(
            "peering list",
            peering::list::SYNOPSIS,
            peering::list::help,
            peering::list::run,
        ),
        leaf(
            "peering read",
            peering::read::SYNOPSIS,
            peering::read::help,
            peering::read::run,
        ),
        parent("services", services::SYNOPSIS, services::help),
        leaf(
            "services deregister",
            services::deregister::SYNOPSIS,
            services::deregister::help,
            services::deregister::run,
        ),
        leaf(
            "services export",
            services::export::SYNOPSIS,
            services::export::help,
            services::export::run,
        ),
        leaf(
            "services exported-services",
            services::exported_services::SYNOPSIS,
            services::exported_services::help,
            services::exported_services::run,
        ),
        leaf(
            "services register",
            services::register::SYNOPSIS,
            services::register::help,
            services::register::run,
        ),
        leaf(
            "services unexport",
            services::unexport::SYNOPSIS,
            services::unexport::help,
            services::unexport::run,
        ),
        parent("snapshot", snapshot::SYNOPSIS, snapshot::help),
        leaf(
            "snapshot restore",
            snapshot::restore::SYNOPSIS,
            snapshot::restore::help,
            snapshot::restore::run,
        ),
        leaf(
            "snapshot save",
            snapshot::save::SYNOPSIS,
            snapshot::save::help,
            snapshot::save::run,
        ),
        leaf(
            "validate",
            validate::SYNOPSIS,
            validate::help,
            validate::run,
        ),
        leaf("version", version::SYNOPSIS, version::help, version::run),
        leaf("watch", watch::SYNOPSIS, watch::help, watch::run),
    ]
}

fn is_help_flag(arg: &str) -> bool {
    matches!(arg, "-h" | "-help" | "--help")
}

fn is_version_flag(arg: &str) -> bool {
    matches!(arg, "-v" | "-version" | "--version")
}

/// What the arguments ask for, before anything runs.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Parsed {
    /// The resolved command name (`""` when none).
    pub(crate) command: String,
    /// Arguments after the command words.
    pub(crate) args: Vec<String>,
    /// A help flag was seen before `--`.
    pub(crate) help: bool,
    /// A version flag was seen before the command.
    pub(crate) version: bool,
    /// Flags other than help/version given before the command.
    pub(crate) top_flags: bool,
}

/// Splits `args` into command words and command arguments.
pub(crate) fn parse_args(args: &[String], known: &[&str]) -> Parsed {
    let mut parsed = Parsed {
        command: String::new(),
        args: Vec::new(),
        help: false,
        version: false,
        top_flags: false,
    };
    let mut i = 0;
    while i < args.len() {
        let arg = &args[i];
        if arg == "--" {
            break;
        }
        if !arg.starts_with('-') {
            break;
        }
        if is_help_flag(arg) {
            parsed.help = true;
        } else if is_version_flag(arg) {
            parsed.version = true;
        } else {
            parsed.top_flags = true;
        }
        i += 1;
    }
    if i < args.len() && args[i] != "--" {
        let mut name = args[i].clone();
        i += 1;
        while i < args.len() && !args[i].starts_with('-') {
            let candidate = format!("{name} {}", args[i]);
            if known.iter().any(|k| *k == candidate) {
                name = candidate;
                i += 1;
            } else {
                break;
            }
        }
        parsed.command = name;
    }
    parsed.args = args[i..].to_vec();
    for arg in &parsed.args {
        if arg == "--" {
            break;
        }
        if is_help_flag(arg) {
            parsed.help = true;
        }
    }
    parsed
}

/// Runs the command named by `args`; `None` for `agent`.
pub(crate) fn dispatch(args: &[String], ui: &mut Ui<'_>) -> Option<i32> {
    let specs = registry();
    let names: Vec<&str> = specs.iter().map(|s| s.name).collect();
    let parsed = parse_args(args, &names);

    if parsed.version && parsed.command.is_empty() {
        return Some(commands::version::run(&[], ui));
    }
    if parsed.command == "agent" {
        return None;
    }
    if parsed.command.is_empty() && parsed.help {
        ui.output(&top_help(&specs));
        return Some(0);
    }
    let Some(spec) = specs.iter().find(|s| s.name == parsed.command) else {
        ui.output(&top_help(&specs));
        return Some(127);
    };
    if parsed.help {
        ui.output(&command_help(spec, &specs));
        return Some(0);
    }
    if parsed.top_flags {
        ui.output(
            "Invalid flags before the subcommand. If these flags are for\n\
             the subcommand, please put them after the subcommand.\n",
        );
        ui.output(&command_help(spec, &specs));
        return Some(1);
    }
    match spec.run {
        Some(run) => Some(run(&parsed.args, ui)),
        None => {
            ui.output(&command_help(spec, &specs));
            Some(1)
        }
    }
}

/// `mitchellh/cli`'s `BasicHelpFunc("consul")` over the top-level commands.
pub(crate) fn top_help(specs: &[Spec]) -> String {
    let mut top: Vec<&Spec> = specs.iter().filter(|s| !s.name.contains(' ')).collect();
    top.sort_by_key(|s| s.name);
    let width = top.iter().map(|s| s.name.len()).max().unwrap_or(0);
    let mut out = String::from(
        "Usage: consul [--version] [--help] <command> [<args>]\n\nAvailable commands are:\n",
    );
    for s in top {
        out.push_str(&format!("    {:<width$}    {}\n", s.name, s.synopsis));
    }
    out
}

/// A command's help followed by its direct subcommands, as `mitchellh/cli` prints it.
pub(crate) fn command_help(spec: &Spec, specs: &[Spec]) -> String {
    let mut out = (spec.help)().trim().to_string();
    let prefix = format!("{} ", spec.name);
    let mut subs: Vec<(&str, &str)> = specs
        .iter()
        .filter_map(|s| {
            let rest = s.name.strip_prefix(&prefix)?;
            (!rest.contains(' ')).then_some((rest, s.synopsis))
        })
        .collect();
    subs.sort();
    if !subs.is_empty() {
        let width = subs.iter().map(|(n, _)| n.len()).max().unwrap_or(0);
        out.push_str("\n\nSubcommands:");
        for (name, synopsis) in subs {
            out.push_str(&format!("\n    {name:<width$}    {synopsis}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strs(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    fn run(args: &[&str]) -> (Option<i32>, String, String) {
        let mut out = Vec::new();
        let mut err = Vec::new();
        let mut input: &[u8] = b"";
        let code = {
            let mut ui = Ui::new(&mut out, &mut err, &mut input);
            dispatch(&strs(args), &mut ui)
        };
        (
            code,
            String::from_utf8(out).unwrap(),
            String::from_utf8(err).unwrap(),
        )
    }

    #[test]
    fn resolves_nested_commands() {
        let known = [
            "kv",
            "kv get",
            "operator",
            "operator raft",
            "operator raft list-peers",
        ];
        let p = parse_args(&strs(&["kv", "get", "-recurse", "foo"]), &known);
        assert_eq!(p.command, "kv get");
        assert_eq!(p.args, strs(&["-recurse", "foo"]));
        let p = parse_args(&strs(&["operator", "raft", "list-peers", "-stale"]), &known);
        assert_eq!(p.command, "operator raft list-peers");
        let p = parse_args(&strs(&["kv", "get", "get"]), &known);
        assert_eq!(p.args, strs(&["get"]));
    }

    #[test]
    fn help_after_double_dash_is_an_argument() {
        let p = parse_args(&strs(&["kv", "put", "k", "--", "-h"]), &["kv", "kv put"]);
        assert!(!p.help);
        let p = parse_args(&strs(&["kv", "put", "k", "-help"]), &["kv", "kv put"]);
        assert!(p.help);
    }

    #[test]
    fn agent_is_left_to_the_caller() {
        assert_eq!(run(&["agent", "-dev"]).0, None);
    }

    #[test]
    fn version_flags_print_version() {
        for flag in ["-v", "-version", "--version"] {
            let (code, out, _) = run(&[flag]);
            assert_eq!(code, Some(0));
            assert!(out.starts_with("Consul v1."), "{out}");
        }
    }

    #[test]
    fn unknown_command_prints_top_help_and_exits_127() {
        let (code, out, _) = run(&["bogus"]);
        assert_eq!(code, Some(127));
        assert!(out.starts_with("Usage: consul [--version] [--help] <command> [<args>]"));
        assert!(out.contains("\n    kv "));
        let (code, _, _) = run(&[]);
        assert_eq!(code, Some(127));
    }

    #[test]
    fn parent_command_lists_subcommands_and_exits_1() {
        let (code, out, _) = run(&["kv"]);
        assert_eq!(code, Some(1));
        assert!(out.contains("Subcommands:\n    delete    Removes data from the KV store"));
    }

    #[test]
    fn help_flag_prints_command_help() {
        let (code, out, _) = run(&["kv", "get", "-h"]);
        assert_eq!(code, Some(0));
        assert!(out.starts_with("Usage: consul kv get [options] [KEY_OR_PREFIX]"));
    }

    #[test]
    fn top_help_aligns_names() {
        let specs = registry();
        let help = top_help(&specs);
        assert!(help.contains("    force-leave    Forces a member"));
        assert!(help.contains("    kv             Interact with the key-value store\n"));
    }
}
