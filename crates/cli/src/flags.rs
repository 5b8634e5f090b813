//! Flag plumbing shared by every command: Consul's common HTTP API flags, and parsing with
//! Go's error reporting (`flag provided but not defined: -x`, then `Usage:` and the defaults on
//! stderr, exit 1).

use legate_config::goflag::FlagError;
use legate_config::goflag::FlagSet;
use legate_config::goflag::Flags;

use crate::ui::Ui;

/// Adds Consul's client HTTP flags (`-http-addr`, `-token`, TLS files…).
pub(crate) fn client_flags(fs: &mut FlagSet) {
    fs.string(
        "http-addr",
        "",
        "The `address` and port of the Consul HTTP agent. The value can be an IP address or DNS \
         address, but it must also include the port. This can also be specified via the \
         CONSUL_HTTP_ADDR environment variable. The default value is http://127.0.0.1:8500.",
    )
    .string(
        "token",
        "",
        "ACL token to use in the request. This can also be specified via the CONSUL_HTTP_TOKEN \
         environment variable.",
    )
    .string(
        "token-file",
        "",
        "File containing the ACL token to use in the request instead of one specified via the \
         -token argument or CONSUL_HTTP_TOKEN environment variable.",
    )
    .string(
        "ca-file",
        "",
        "Path to a CA file to use for TLS when communicating with Consul.",
    )
    .string(
        "ca-path",
        "",
        "Path to a directory of CA certificates to use for TLS.",
    )
    .string(
        "client-cert",
        "",
        "Path to a client cert file to use for TLS.",
    )
    .string(
        "client-key",
        "",
        "Path to a client key file to use for TLS.",
    )
    .string(
        "tls-server-name",
        "",
        "The server name to use as the SNI host when connecting via TLS.",
    );
}

/// Adds Consul's server HTTP flags (`-datacenter`, `-stale`).
pub(crate) fn server_flags(fs: &mut FlagSet) {
    fs.string(
        "datacenter",
        "",
        "Name of the datacenter to query. If unspecified, this will default to the datacenter \
         of the queried agent.",
    )
    .bool(
        "stale",
        false,
        "Permit any Consul server (non-leader) to respond to this request.",
    );
}

/// Adds the enterprise tenancy flags, accepted and ignored in CE.
pub(crate) fn tenancy_flags(fs: &mut FlagSet) {
    fs.string("namespace", "", "Specifies the namespace (Enterprise).")
        .string(
            "partition",
            "",
            "Specifies the admin partition (Enterprise).",
        );
}

/// A flag set with the client and server HTTP flags already defined.
pub(crate) fn api_flag_set(command: &str) -> FlagSet {
    let mut fs = FlagSet::new(command);
    client_flags(&mut fs);
    server_flags(&mut fs);
    tenancy_flags(&mut fs);
    fs
}

/// Parses `args`; on error prints Go's message and usage to stderr and returns `None`.
pub(crate) fn parse(fs: &FlagSet, args: &[String], ui: &mut Ui<'_>) -> Option<Flags> {
    match fs.parse(args) {
        Ok(flags) => Some(flags),
        Err(FlagError::Help) => {
            ui.write_err_raw(&format!("Usage:\n{}", fs.usage()));
            None
        }
        Err(e) => {
            ui.write_err_raw(&format!("{e}\nUsage:\n{}", fs.usage()));
            None
        }
    }
}

/// Consul's help text for a command: its usage paragraph followed by the flag listing.
pub(crate) fn help_text(usage: &str, fs: Option<&FlagSet>) -> String {
    let mut out = usage.trim().to_string();
    if let Some(fs) = fs {
        let listing = fs.usage();
        if !listing.is_empty() {
            out.push_str("\n\nOptions:\n\n");
            out.push_str(listing.trim_end());
        }
    }
    out
}

/// Parses a repeatable `key=value` flag list (Consul's `FlagMapValue`).
pub(crate) fn key_values(values: &[String]) -> Vec<(String, String)> {
    values
        .iter()
        .map(|v| match v.split_once('=') {
            Some((k, val)) => (k.to_string(), val.to_string()),
            None => (v.clone(), String::new()),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run_parse(args: &[&str]) -> (Option<Flags>, String) {
        let fs = api_flag_set("test");
        let mut out = Vec::new();
        let mut err = Vec::new();
        let mut input: &[u8] = b"";
        let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
        let got = parse(&fs, &args, &mut Ui::new(&mut out, &mut err, &mut input));
        (got, String::from_utf8(err).unwrap())
    }

    #[test]
    fn accepts_both_value_styles() {
        let (flags, _) = run_parse(&["-http-addr", "127.0.0.1:1", "--token=abc", "rest"]);
        let flags = flags.unwrap();
        assert_eq!(flags.string("http-addr"), "127.0.0.1:1");
        assert_eq!(flags.string("token"), "abc");
        assert_eq!(flags.args, vec!["rest"]);
    }

    #[test]
    fn unknown_flag_prints_go_error_and_usage() {
        let (flags, err) = run_parse(&["-nope"]);
        assert!(flags.is_none());
        assert!(err.starts_with("flag provided but not defined: -nope\nUsage:\n"));
        assert!(err.contains("-http-addr"));
    }

    #[test]
    fn key_values_split_on_first_equals() {
        let got = key_values(&["a=b=c".to_string(), "x".to_string()]);
        assert_eq!(
            got,
            vec![("a".into(), "b=c".into()), ("x".into(), String::new())]
        );
    }
}
