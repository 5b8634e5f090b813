//! `consul peering …`: cluster peering management (`/v1/peering/*`, `/v1/peerings`):
//! generate-token, establish, list, read, delete and exported-services, with Consul's flags and
//! texts. Shared here: the `-format` rule and reading one peering (404 → `None`).

pub(crate) mod delete;
pub(crate) mod establish;
pub(crate) mod exported_services;
pub(crate) mod generate;
pub(crate) mod list;
pub(crate) mod read;

use legate_config::goflag::FlagSet;
use serde_json::Value;

use crate::flags;
use crate::http::ApiError;
use crate::http::Client;
use crate::http::escape_path;
use crate::ui::Ui;

/// One-line description.
pub(crate) const SYNOPSIS: &str = "Create and manage peering connections between Consul clusters";

/// `-format pretty` (default) or `-format json`.
const FORMATS: [&str; 2] = ["json", "pretty"];

/// Help text.
pub(crate) fn help() -> String {
    "Usage: consul peering <subcommand> [options] [args]\n\n  \
     This command has subcommands for interacting with Cluster Peering \n  \
     connections. Here are some simple examples, and more detailed\n  \
     examples are available in the subcommands or the documentation.\n\n  \
     Generate a peering token:\n\n    $ consul peering generate-token -name west-dc\n\n  \
     Establish a peering connection:\n\n    $ consul peering establish -name east-dc -peering-token <token>\n\n  \
     List all the local peering connections:\n\n    $ consul peering list\n\n  \
     Print the status of a peering connection:\n\n    $ consul peering read -name west-dc\n\n  \
     Delete and close a peering connection:\n\n    $ consul peering delete -name west-dc\n\n  \
     For more examples, ask for subcommand help or view the documentation."
        .to_string()
}

/// A flag set with the HTTP flags, `-name` when `with_name`, and `-format` when `with_format`.
fn flag_set(command: &str, with_name: bool, with_format: bool) -> FlagSet {
    let mut fs = flags::api_flag_set(command);
    if with_name {
        fs.string(
            "name",
            "",
            "(Required) The local name assigned to the peer cluster.",
        );
    }
    if with_format {
        fs.string(
            "format",
            "pretty",
            "Output format {json|pretty} (default: pretty)",
        );
    }
    fs
}

/// Prints Consul's error and returns false unless `format` is supported.
fn check_format(format: &str, ui: &mut Ui<'_>) -> bool {
    if FORMATS.contains(&format) {
        return true;
    }
    ui.error("Invalid format, valid formats are {json|pretty}");
    false
}

/// `-name`, or Consul's error when it is missing.
fn required_name(name: String, ui: &mut Ui<'_>) -> Option<String> {
    if name.is_empty() {
        ui.error("Missing the required -name flag");
        return None;
    }
    Some(name)
}

/// `GET /v1/peering/<name>`: the peering, `None` when there is none.
fn read_peering(client: &Client, name: &str) -> Result<Option<Value>, ApiError> {
    client
        .get(&format!("/v1/peering/{}", escape_path(name)))
        .send_optional()?
        .map(|r| r.json::<Value>())
        .transpose()
}

/// Length of a JSON list field (`null` or absent: 0).
fn list_len(value: &Value) -> usize {
    value.as_array().map_or(0, Vec::len)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ui_run<T>(f: impl FnOnce(&mut Ui<'_>) -> T) -> (T, String) {
        let (mut out, mut err) = (Vec::new(), Vec::new());
        let mut input: &[u8] = b"";
        let got = f(&mut Ui::new(&mut out, &mut err, &mut input));
        (got, String::from_utf8(err).unwrap())
    }

    #[test]
    fn formats_and_names_are_checked_with_consuls_texts() {
        assert!(ui_run(|ui| check_format("json", ui)).0);
        let (ok, err) = ui_run(|ui| check_format("yaml", ui));
        assert!(!ok);
        assert_eq!(err, "Invalid format, valid formats are {json|pretty}\n");
        let (name, err) = ui_run(|ui| required_name(String::new(), ui));
        assert_eq!(name, None);
        assert_eq!(err, "Missing the required -name flag\n");
        assert_eq!(list_len(&Value::Null), 0);
        assert_eq!(list_len(&serde_json::json!(["a", "b"])), 2);
    }
}
