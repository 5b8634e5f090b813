//! A pure parser for Go's `flag` package syntax, which every `consul` command uses.
//!
//! Rules (as Go's `flag.FlagSet.Parse`): one or two dashes; `-name=value` or `-name value`;
//! boolean flags never consume the next argument (`-name=false` is allowed); parsing stops at
//! the first non-flag argument (a lone `-` counts as one) or after `--`; `-h`/`-help` give
//! [`FlagError::Help`] unless defined. A flag may be given several times: scalars keep the
//! last value, `strings` flags collect every value.

use std::collections::BTreeMap;
use std::time::Duration;

use legate_types::go_duration;

/// The kind of value a flag takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    String,
    Bool,
    Int,
    Duration,
    Strings,
}

/// One defined flag.
#[derive(Debug, Clone)]
struct FlagDef {
    kind: Kind,
    default: String,
    usage: String,
}

/// A set of flag definitions for one command, parsed with Go's rules.
#[derive(Debug, Clone)]
pub struct FlagSet {
    command: String,
    flags: BTreeMap<String, FlagDef>,
}

/// An error from [`FlagSet::parse`]; `Display` matches Go's wording.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum FlagError {
    /// `-h`, `-help` or `--help` was given (and not defined as a flag).
    #[error("flag: help requested")]
    Help,
    /// The flag is not defined (or the argument is malformed, e.g. `---x`, `-=x`).
    #[error("flag provided but not defined: -{0}")]
    Unknown(String),
    /// A non-boolean flag was the last argument, with no value.
    #[error("flag needs an argument: -{0}")]
    MissingValue(String),
    /// The value does not parse for the flag's type.
    #[error("invalid value {value:?} for flag -{name}: {reason}")]
    BadValue {
        /// The flag name, without dashes.
        name: String,
        /// The value as given.
        value: String,
        /// Go's reason text, e.g. `parse error` or `value out of range`.
        reason: String,
    },
}

/// The result of parsing: flags given on the command line plus the positional remainder.
#[derive(Debug, Clone)]
pub struct Flags {
    /// Positional arguments left after the flags (after `--` or the first non-flag).
    pub args: Vec<String>,
    defs: BTreeMap<String, FlagDef>,
    /// Every `(name, value)` in command-line order; bools are stored as `true`/`false`.
    occurrences: Vec<(String, String)>,
}

impl FlagSet {
    /// An empty flag set for `command` (used in messages only).
    pub fn new(command: &str) -> Self {
        FlagSet {
            command: command.to_string(),
            flags: BTreeMap::new(),
        }
    }

    /// The command name given to [`FlagSet::new`].
    pub fn command(&self) -> &str {
        &self.command
    }

    fn define(&mut self, name: &str, kind: Kind, default: &str, usage: &str) -> &mut Self {
        self.flags.insert(
            name.to_string(),
            FlagDef {
                kind,
                default: default.to_string(),
                usage: usage.to_string(),
            },
        );
        self
    }

    /// Defines a string flag.
    pub fn string(&mut self, name: &str, default: &str, usage: &str) -> &mut Self {
        self.define(name, Kind::String, default, usage)
    }

    /// Defines a boolean flag; it never consumes the next argument.
    pub fn bool(&mut self, name: &str, default: bool, usage: &str) -> &mut Self {
        self.define(
            name,
            Kind::Bool,
            if default { "true" } else { "false" },
            usage,
        )
    }

    /// Defines an integer flag (Go `strconv.ParseInt(s, 0, 64)` syntax: `0x`, `0o`, `0b`, `_`).
    pub fn int(&mut self, name: &str, default: i64, usage: &str) -> &mut Self {
        self.define(name, Kind::Int, &default.to_string(), usage)
    }

    /// Defines a Go-duration flag; `default` is a Go duration string such as `"10s"`.
    pub fn duration(&mut self, name: &str, default: &str, usage: &str) -> &mut Self {
        self.define(name, Kind::Duration, default, usage)
    }

    /// Defines a repeatable string flag that collects every value given.
    pub fn strings(&mut self, name: &str, usage: &str) -> &mut Self {
        self.define(name, Kind::Strings, "", usage)
    }

    /// Parses `args` (without the command words) with Go's rules.
    pub fn parse<S: AsRef<str>>(&self, args: &[S]) -> Result<Flags, FlagError> {
        let mut occurrences = Vec::new();
        let mut i = 0;
        while i < args.len() {
            let arg = args[i].as_ref();
            let bytes = arg.as_bytes();
            if bytes.len() < 2 || bytes[0] != b'-' {
                break;
            }
            let dashes = if bytes[1] == b'-' { 2 } else { 1 };
            if dashes == 2 && bytes.len() == 2 {
                i += 1;
                break;
            }
            let body = &arg[dashes..];
            if body.is_empty() || body.starts_with('-') || body.starts_with('=') {
                return Err(FlagError::Unknown(body.to_string()));
            }
            i += 1;
            let (name, inline) = match body.split_once('=') {
                Some((n, v)) => (n, Some(v)),
                None => (body, None),
            };
            let Some(def) = self.flags.get(name) else {
                if name == "h" || name == "help" {
                    return Err(FlagError::Help);
                }
                return Err(FlagError::Unknown(name.to_string()));
            };
            let value = match (def.kind, inline) {
                (Kind::Bool, None) => "true".to_string(),
                (_, Some(v)) => v.to_string(),
                (_, None) => match args.get(i) {
                    Some(next) => {
                        i += 1;
                        next.as_ref().to_string()
                    }
                    None => return Err(FlagError::MissingValue(name.to_string())),
                },
            };
            let value = check_value(name, def.kind, value)?;
            occurrences.push((name.to_string(), value));
        }
        Ok(Flags {
            args: args[i..].iter().map(|a| a.as_ref().to_string()).collect(),
            defs: self.flags.clone(),
            occurrences,
        })
    }

    /// Go's `PrintDefaults` listing: `  -name type\n    \tusage (default x)`, sorted by name.
    pub fn usage(&self) -> String {
        let mut out = String::new();
        for (name, def) in &self.flags {
            out.push_str("  -");
            out.push_str(name);
            let (type_name, usage) = unquote_usage(def);
            if !type_name.is_empty() {
                out.push(' ');
                out.push_str(&type_name);
            }
            if name.len() <= 1 {
                out.push('\t');
            } else {
                out.push_str("\n    \t");
            }
            out.push_str(&usage.replace('\n', "\n    \t"));
            if !is_zero_default(def) {
                match def.kind {
                    Kind::String => out.push_str(&format!(" (default {:?})", def.default)),
                    _ => out.push_str(&format!(" (default {})", def.default)),
                }
            }
            out.push('\n');
        }
        out
    }
}

/// Validates (and for bools normalises) one value against the flag's type.
fn check_value(name: &str, kind: Kind, value: String) -> Result<String, FlagError> {
    let bad = |reason: &str| FlagError::BadValue {
        name: name.to_string(),
        value: value.clone(),
        reason: reason.to_string(),
    };
    match kind {
        Kind::String | Kind::Strings => Ok(value),
        Kind::Bool => match parse_go_bool(&value) {
            Some(b) => Ok(b.to_string()),
            None => Err(bad("parse error")),
        },
        Kind::Int => match parse_go_int(&value) {
            Ok(_) => Ok(value),
            Err(reason) => Err(bad(reason)),
        },
        Kind::Duration => match go_duration::parse(&value) {
            Ok(_) => Ok(value),
            Err(_) => Err(bad("parse error")),
        },
    }
}

/// Go's `strconv.ParseBool`.
fn parse_go_bool(s: &str) -> Option<bool> {
    match s {
        "1" | "t" | "T" | "TRUE" | "true" | "True" => Some(true),
        "0" | "f" | "F" | "FALSE" | "false" | "False" => Some(false),
        _ => None,
    }
}

/// Go's `strconv.ParseInt(s, 0, 64)`; the error is Go's reason text.
fn parse_go_int(s: &str) -> Result<i64, &'static str> {
    const PARSE: &str = "parse error";
    let (neg, body) = match s.as_bytes().first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    let lower = body.to_ascii_lowercase();
    let (radix, digits, prefixed) = if let Some(d) = lower.strip_prefix("0x") {
        (16, d, true)
    } else if let Some(d) = lower.strip_prefix("0o") {
        (8, d, true)
    } else if let Some(d) = lower.strip_prefix("0b") {
        (2, d, true)
    } else if lower.len() > 1 && lower.starts_with('0') {
        (8, &lower[1..], true)
    } else {
        (10, lower.as_str(), false)
    };
    if digits.is_empty() {
        return Err(PARSE);
    }
    // Go's `underscoreOK`: `_` only between digits, or right after a 0x/0o/0b prefix.
    if lower.contains('_') {
        let check = if prefixed && radix != 8 || lower.starts_with("0o") {
            &lower[2..]
        } else {
            lower.as_str()
        };
        let leading_ok = !check.starts_with('_') || check.len() < lower.len();
        if !leading_ok || check.ends_with('_') || check.contains("__") {
            return Err(PARSE);
        }
    }
    let mut magnitude: u128 = 0;
    for c in digits.chars().filter(|c| *c != '_') {
        let d = c.to_digit(radix).ok_or(PARSE)?;
        magnitude = magnitude * u128::from(radix) + u128::from(d);
        if magnitude > u128::from(u64::MAX) + 1 {
            return Err("value out of range");
        }
    }
    let limit = if neg {
        u128::from(i64::MAX as u64) + 1
    } else {
        u128::from(i64::MAX as u64)
    };
    if magnitude > limit {
        return Err("value out of range");
    }
    let v = magnitude as i128;
    Ok((if neg { -v } else { v }) as i64)
}

/// Go's `flag.UnquoteUsage`: a back-quoted word in the usage names the value.
fn unquote_usage(def: &FlagDef) -> (String, String) {
    if let Some(start) = def.usage.find('`')
        && let Some(len) = def.usage[start + 1..].find('`')
    {
        let name = &def.usage[start + 1..start + 1 + len];
        let usage = format!(
            "{}{}{}",
            &def.usage[..start],
            name,
            &def.usage[start + 2 + len..]
        );
        return (name.to_string(), usage);
    }
    let name = match def.kind {
        Kind::Bool => "",
        Kind::Duration => "duration",
        Kind::Int => "int",
        Kind::String => "string",
        Kind::Strings => "value",
    };
    (name.to_string(), def.usage.clone())
}

fn is_zero_default(def: &FlagDef) -> bool {
    match def.kind {
        Kind::Bool => def.default == "false",
        Kind::Int => def.default == "0",
        Kind::String | Kind::Strings => def.default.is_empty(),
        Kind::Duration => matches!(go_duration::parse(&def.default), Ok(d) if d.is_zero()),
    }
}

impl Flags {
    fn last(&self, name: &str) -> Option<&str> {
        self.occurrences
            .iter()
            .rev()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    fn value_or_default(&self, name: &str) -> Option<&str> {
        self.last(name)
            .or_else(|| self.defs.get(name).map(|d| d.default.as_str()))
    }

    /// The last value given, else the default (empty for undefined flags).
    pub fn string(&self, name: &str) -> String {
        self.value_or_default(name).unwrap_or_default().to_string()
    }

    /// The last value given on the command line, `None` when the flag was not set.
    pub fn opt_string(&self, name: &str) -> Option<String> {
        self.last(name).map(str::to_string)
    }

    /// The boolean value (or default; `false` for undefined flags).
    pub fn bool(&self, name: &str) -> bool {
        self.value_or_default(name)
            .and_then(parse_go_bool)
            .unwrap_or(false)
    }

    /// The integer value (or default; 0 for undefined flags).
    pub fn int(&self, name: &str) -> i64 {
        self.value_or_default(name)
            .and_then(|v| parse_go_int(v).ok())
            .unwrap_or(0)
    }

    /// The duration value (or default; zero for undefined flags or a malformed default).
    pub fn duration(&self, name: &str) -> Duration {
        self.value_or_default(name)
            .and_then(|v| go_duration::parse(v).ok())
            .unwrap_or(Duration::ZERO)
    }

    /// Every value given for `name`, in command-line order.
    pub fn strings(&self, name: &str) -> Vec<String> {
        self.occurrences
            .iter()
            .filter(|(n, _)| n == name)
            .map(|(_, v)| v.clone())
            .collect()
    }

    /// Whether `name` appeared on the command line.
    pub fn is_set(&self, name: &str) -> bool {
        self.occurrences.iter().any(|(n, _)| n == name)
    }

    /// Flag names in command-line order, one entry per occurrence (repeats included).
    pub fn set_order(&self) -> Vec<String> {
        self.occurrences.iter().map(|(n, _)| n.clone()).collect()
    }

    /// Every `(name, value)` pair in command-line order; bool values are `true`/`false`.
    pub fn occurrences(&self) -> &[(String, String)] {
        &self.occurrences
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn set() -> FlagSet {
        let mut fs = FlagSet::new("agent");
        fs.string("node", "", "Name of this node")
            .string("datacenter", "dc1", "Datacenter")
            .bool("dev", false, "Dev mode")
            .bool("ui", true, "UI")
            .int("port", 8500, "Port")
            .duration("wait", "10s", "Wait `time`")
            .strings("config-file", "Config file");
        fs
    }

    #[test]
    fn both_forms_and_dashes() {
        let f = set()
            .parse(&["-node=a", "--datacenter", "dc2", "-port", "9", "--dev"])
            .unwrap();
        assert_eq!(f.string("node"), "a");
        assert_eq!(f.string("datacenter"), "dc2");
        assert_eq!(f.int("port"), 9);
        assert!(f.bool("dev"));
        assert!(f.args.is_empty());
    }

    #[test]
    fn defaults_and_opt_string() {
        let f = set().parse::<&str>(&[]).unwrap();
        assert_eq!(f.string("datacenter"), "dc1");
        assert_eq!(f.opt_string("datacenter"), None);
        assert!(f.bool("ui"));
        assert!(!f.bool("dev"));
        assert_eq!(f.int("port"), 8500);
        assert_eq!(f.duration("wait"), Duration::from_secs(10));
        assert!(!f.is_set("node"));
        assert_eq!(f.string("nonexistent"), "");
    }

    #[test]
    fn bool_never_consumes_next() {
        let f = set().parse(&["-dev", "false", "-node=x"]).unwrap();
        assert!(f.bool("dev"));
        assert_eq!(f.args, vec!["false", "-node=x"]);
        let f = set().parse(&["-ui=false", "-dev=1"]).unwrap();
        assert!(!f.bool("ui"));
        assert!(f.bool("dev"));
    }

    #[test]
    fn stops_at_first_non_flag_and_double_dash() {
        let f = set().parse(&["-dev", "pos", "-node", "x"]).unwrap();
        assert_eq!(f.args, vec!["pos", "-node", "x"]);
        let f = set().parse(&["-dev", "--", "-node", "x"]).unwrap();
        assert_eq!(f.args, vec!["-node", "x"]);
        let f = set().parse(&["-", "-dev"]).unwrap();
        assert_eq!(f.args, vec!["-", "-dev"]);
    }

    #[test]
    fn value_may_start_with_dash() {
        let f = set().parse(&["-node", "-dev"]).unwrap();
        assert_eq!(f.string("node"), "-dev");
        assert!(!f.bool("dev"));
    }

    #[test]
    fn help() {
        for h in ["-h", "-help", "--help", "--h"] {
            assert_eq!(set().parse(&[h]).unwrap_err(), FlagError::Help);
        }
    }

    #[test]
    fn error_texts() {
        let e = set().parse(&["-x"]).unwrap_err();
        assert_eq!(e.to_string(), "flag provided but not defined: -x");
        let e = set().parse(&["-node"]).unwrap_err();
        assert_eq!(e.to_string(), "flag needs an argument: -node");
        let e = set().parse(&["-port", "abc"]).unwrap_err();
        assert_eq!(
            e.to_string(),
            "invalid value \"abc\" for flag -port: parse error"
        );
        let e = set().parse(&["-port=99999999999999999999"]).unwrap_err();
        assert!(e.to_string().ends_with("value out of range"));
        let e = set().parse(&["-dev=maybe"]).unwrap_err();
        assert!(matches!(e, FlagError::BadValue { .. }));
        let e = set().parse(&["-wait=5"]).unwrap_err();
        assert!(matches!(e, FlagError::BadValue { .. }));
        assert!(matches!(
            set().parse(&["---x"]).unwrap_err(),
            FlagError::Unknown(_)
        ));
    }

    #[test]
    fn repeatable_and_order() {
        let f = set()
            .parse(&[
                "-config-file=a",
                "-node",
                "n",
                "-config-file",
                "b",
                "-node=m",
            ])
            .unwrap();
        assert_eq!(f.strings("config-file"), vec!["a", "b"]);
        assert_eq!(f.string("node"), "m");
        assert_eq!(
            f.set_order(),
            vec!["config-file", "node", "config-file", "node"]
        );
        assert_eq!(f.occurrences()[2], ("config-file".into(), "b".into()));
    }

    #[test]
    fn empty_value_allowed() {
        let f = set().parse(&["-node=", "-datacenter", ""]).unwrap();
        assert_eq!(f.opt_string("node"), Some(String::new()));
        assert_eq!(f.string("datacenter"), "");
    }

    #[test]
    fn go_ints() {
        assert_eq!(parse_go_int("0x1f"), Ok(31));
        assert_eq!(parse_go_int("-0b101"), Ok(-5));
        assert_eq!(parse_go_int("017"), Ok(15));
        assert_eq!(parse_go_int("0o17"), Ok(15));
        assert_eq!(parse_go_int("1_000"), Ok(1000));
        assert_eq!(parse_go_int("0_17"), Ok(15));
        assert_eq!(parse_go_int("0x_1f"), Ok(31));
        assert_eq!(parse_go_int("_1"), Err("parse error"));
        assert_eq!(parse_go_int("1__0"), Err("parse error"));
        assert_eq!(parse_go_int("10_"), Err("parse error"));
        assert_eq!(parse_go_int("0x1_000"), Ok(4096));
        assert_eq!(parse_go_int("-9223372036854775808"), Ok(i64::MIN));
        assert_eq!(
            parse_go_int("9223372036854775808"),
            Err("value out of range")
        );
        assert_eq!(parse_go_int(""), Err("parse error"));
        assert_eq!(parse_go_int("-"), Err("parse error"));
        assert_eq!(parse_go_int("-1"), Ok(-1));
    }

    #[test]
    fn usage_listing() {
        let u = set().usage();
        let expected = "  -config-file value\n    \tConfig file\n\
                        \x20 -datacenter string\n    \tDatacenter (default \"dc1\")\n\
                        \x20 -dev\n    \tDev mode\n\
                        \x20 -node string\n    \tName of this node\n\
                        \x20 -port int\n    \tPort (default 8500)\n\
                        \x20 -ui\n    \tUI (default true)\n\
                        \x20 -wait time\n    \tWait time (default 10s)\n";
        assert_eq!(u, expected);
    }

    #[derive(Debug, Clone)]
    enum Given {
        Node(String),
        Dev(bool),
        Port(i64),
        File(String),
    }

    fn given() -> impl Strategy<Value = Given> {
        prop_oneof![
            "[ -~]{0,12}".prop_map(Given::Node),
            any::<bool>().prop_map(Given::Dev),
            any::<i64>().prop_map(Given::Port),
            "[ -~]{0,12}".prop_map(Given::File),
        ]
    }

    proptest! {
        #[test]
        fn rendered_flags_parse_back(
            items in proptest::collection::vec((given(), any::<bool>(), any::<bool>()), 0..8),
            rest in proptest::collection::vec("[a-z][a-z0-9]{0,5}", 0..3),
        ) {
            let mut argv: Vec<String> = Vec::new();
            for (g, separate, two_dashes) in &items {
                let dash = if *two_dashes { "--" } else { "-" };
                let (name, value) = match g {
                    Given::Node(v) => ("node", v.clone()),
                    Given::Dev(b) => ("dev", b.to_string()),
                    Given::Port(p) => ("port", p.to_string()),
                    Given::File(v) => ("config-file", v.clone()),
                };
                // Bool flags only take `=value`; everything else may use a separate arg.
                if *separate && name != "dev" {
                    argv.push(format!("{dash}{name}"));
                    argv.push(value);
                } else {
                    argv.push(format!("{dash}{name}={value}"));
                }
            }
            argv.extend(rest.iter().cloned());
            let f = set().parse(&argv).unwrap();
            prop_assert_eq!(&f.args, &rest);
            let mut files = Vec::new();
            for (g, _, _) in &items {
                if let Given::File(v) = g { files.push(v.clone()); }
            }
            prop_assert_eq!(f.strings("config-file"), files);
            if let Some(Given::Node(v)) = items.iter().rev().map(|i| &i.0).find(|g| matches!(g, Given::Node(_))) {
                prop_assert_eq!(f.string("node"), v.clone());
            }
            if let Some(Given::Port(p)) = items.iter().rev().map(|i| &i.0).find(|g| matches!(g, Given::Port(_))) {
                prop_assert_eq!(f.int("port"), *p);
            }
            if let Some(Given::Dev(b)) = items.iter().rev().map(|i| &i.0).find(|g| matches!(g, Given::Dev(_))) {
                prop_assert_eq!(f.bool("dev"), *b);
            }
        }

        #[test]
        fn never_panics(argv in proptest::collection::vec("[ -~]{0,10}", 0..6)) {
            let _ = set().parse(&argv);
        }
    }
}
