//! `consul version [-format=pretty|json]`: the Consul version Legate implements, in Consul's
//! human and JSON layouts, plus a line naming Legate's own version in the human form.

use legate_config::goflag::FlagSet;
use legate_types::version;
use serde::Serialize;

use crate::flags;
use crate::format::gojson;
use crate::ui::Ui;

/// One-line description.
pub(crate) const SYNOPSIS: &str = "Prints the Consul version";

const USAGE: &str = "Usage: consul version [options]";

/// Git revision baked in at build time, if any.
const REVISION: &str = match option_env!("LEGATE_GIT_SHA") {
    Some(s) => s,
    None => "",
};

/// Build date (RFC 3339) baked in at build time, else the Consul release date.
const BUILD_DATE: &str = match option_env!("LEGATE_BUILD_DATE") {
    Some(s) => s,
    None => "2025-05-06T00:00:00Z",
};

/// RPC protocol range, as `version -format=json` reports it.
#[derive(Debug, Serialize, PartialEq, Eq)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct RpcInfo {
    default: u8,
    min: u8,
    max: u8,
}

/// The object `version -format=json` prints.
#[derive(Debug, Serialize, PartialEq, Eq)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct VersionInfo {
    version: String,
    revision: String,
    prerelease: String,
    build_date: String,
    #[serde(rename = "RPC")]
    rpc: RpcInfo,
}

impl VersionInfo {
    /// The version Legate reports.
    pub(crate) fn current() -> Self {
        VersionInfo {
            version: version::CONSUL_VERSION.to_string(),
            revision: REVISION.to_string(),
            prerelease: version::PRERELEASE.to_string(),
            build_date: BUILD_DATE.to_string(),
            rpc: RpcInfo {
                default: version::PROTOCOL_DEFAULT,
                min: version::PROTOCOL_MIN,
                max: version::PROTOCOL_MAX,
            },
        }
    }

    /// Consul's pretty format (ends with a newline).
    pub(crate) fn pretty(&self) -> String {
        let mut out = format!("Consul v{}", self.version);
        if !self.prerelease.is_empty() {
            out.push('-');
            out.push_str(&self.prerelease);
        }
        out.push('\n');
        if !self.revision.is_empty() {
            out.push_str(&format!("Revision {}\n", self.revision));
        }
        out.push_str(&format!("Build Date {}\n", self.build_date));
        let supplement = if self.rpc.default < self.rpc.max {
            format!(
                " (agent will automatically use protocol >{} when speaking to compatible agents)",
                self.rpc.default
            )
        } else {
            String::new()
        };
        out.push_str(&format!(
            "Protocol {} spoken by default, understands {} to {}{}\n",
            self.rpc.default, self.rpc.min, self.rpc.max, supplement
        ));
        out.push_str(&format!(
            "Legate v{} (Consul-compatible)\n",
            version::LEGATE_VERSION
        ));
        out
    }

    /// Consul's JSON format: indented with three spaces, no trailing newline.
    pub(crate) fn json(&self) -> String {
        gojson::marshal_indent(self, "   ")
    }
}

fn flag_set() -> FlagSet {
    let mut fs = FlagSet::new("version");
    fs.string("format", "pretty", "Output format {pretty|json}");
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
    let info = VersionInfo::current();
    match f.string("format").as_str() {
        "pretty" => ui.output(&info.pretty()),
        "json" => ui.output(&info.json()),
        other => {
            ui.error(&format!("Unknown format: {other}"));
            return 1;
        }
    }
    0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_matches_consul_layout() {
        let info = VersionInfo {
            version: "1.21.0".into(),
            revision: "abc".into(),
            prerelease: String::new(),
            build_date: "2025-05-06T00:00:00Z".into(),
            rpc: RpcInfo {
                default: 2,
                min: 2,
                max: 3,
            },
        };
        assert_eq!(
            info.json(),
            "{\n   \"Version\": \"1.21.0\",\n   \"Revision\": \"abc\",\n   \"Prerelease\": \"\",\n   \
             \"BuildDate\": \"2025-05-06T00:00:00Z\",\n   \"RPC\": {\n      \"Default\": 2,\n      \
             \"Min\": 2,\n      \"Max\": 3\n   }\n}"
        );
    }

    #[test]
    fn pretty_first_line_and_protocol_line() {
        let text = VersionInfo::current().pretty();
        let mut lines = text.lines();
        assert_eq!(lines.next(), Some("Consul v1.21.0"));
        assert!(text.contains(
            "Protocol 2 spoken by default, understands 2 to 3 (agent will automatically use \
             protocol >2 when speaking to compatible agents)\n"
        ));
        assert!(text.contains("Legate v"));
    }

    #[test]
    fn json_version_parses() {
        let v: serde_json::Value = serde_json::from_str(&VersionInfo::current().json()).unwrap();
        assert_eq!(v["Version"], "1.21.0");
        assert_eq!(v["RPC"]["Max"], 3);
    }
}
