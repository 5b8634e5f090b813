//! `consul kv export [PREFIX]`: the entries under a prefix as a tab-indented JSON array of
//! `{"key","flags","value"}` objects (value base64), the format `kv import` reads.

use base64::Engine;
use legate_config::goflag::FlagSet;
use serde::Deserialize;
use serde::Serialize;

use super::KvPair;
use super::kv_path;
use super::trim_key;
use crate::commands::common;
use crate::flags;
use crate::format::gojson;
use crate::ui::Ui;

/// One-line description.
pub(crate) const SYNOPSIS: &str = "Exports a tree from the KV store as JSON";

const USAGE: &str = "Usage: consul kv export [KEY_OR_PREFIX]

  Retrieves key-value pairs for the given prefix from Consul's key-value store,
  and writes a JSON representation to stdout. This can be used with the command
  \"consul kv import\" to move entire trees between Consul clusters.

      $ consul kv export vault

  For a full list of options and examples, please see the Consul documentation.";

/// One exported entry (Consul's `impexp.Entry`).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub(crate) struct Entry {
    /// The key.
    pub(crate) key: String,
    /// Opaque user flags.
    #[serde(default)]
    pub(crate) flags: u64,
    /// Base64 value.
    #[serde(default)]
    pub(crate) value: String,
    /// Enterprise namespace (omitted when empty).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub(crate) namespace: String,
    /// Enterprise partition (omitted when empty).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub(crate) partition: String,
}

impl Entry {
    /// Converts an agent KV entry.
    pub(crate) fn from_pair(pair: &KvPair) -> Self {
        Entry {
            key: pair.key.clone(),
            flags: pair.flags,
            value: base64::engine::general_purpose::STANDARD.encode(pair.value_bytes()),
            namespace: String::new(),
            partition: String::new(),
        }
    }
}

/// The export document for `pairs`, exactly as Consul prints it.
pub(crate) fn render(pairs: &[KvPair]) -> String {
    let entries: Vec<Entry> = pairs.iter().map(Entry::from_pair).collect();
    gojson::marshal_indent(&entries, "\t")
}

fn flag_set() -> FlagSet {
    flags::api_flag_set("kv export")
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
    let key = match f.args.as_slice() {
        [] => String::new(),
        [k] => trim_key(k).to_string(),
        more => {
            ui.error(&format!(
                "Too many arguments (expected 1, got {})",
                more.len()
            ));
            return 1;
        }
    };
    let Some(client) = common::client(&f, ui) else {
        return 1;
    };
    let resp = client
        .get(&kv_path(&key))
        .query("recurse", "")
        .allow_stale()
        .send_optional();
    let pairs: Vec<KvPair> = match resp.and_then(|r| r.map(|r| r.json()).transpose()) {
        Ok(v) => v.unwrap_or_default(),
        Err(e) => {
            ui.error(&format!("Error querying Consul agent: {e}"));
            return 1;
        }
    };
    ui.output(&render(&pairs));
    0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn export_matches_consul_layout() {
        let pairs = vec![
            KvPair {
                key: "a".into(),
                flags: 0,
                value: Some("MQ==".into()),
                ..KvPair::default()
            },
            KvPair {
                key: "b<c".into(),
                flags: 42,
                value: None,
                ..KvPair::default()
            },
        ];
        assert_eq!(
            render(&pairs),
            "[\n\t{\n\t\t\"key\": \"a\",\n\t\t\"flags\": 0,\n\t\t\"value\": \"MQ==\"\n\t},\n\t{\n\t\t\
             \"key\": \"b\\u003cc\",\n\t\t\"flags\": 42,\n\t\t\"value\": \"\"\n\t}\n]"
        );
    }

    #[test]
    fn empty_export_is_an_empty_array() {
        assert_eq!(render(&[]), "[]");
    }
}
