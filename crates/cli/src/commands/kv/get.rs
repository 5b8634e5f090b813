//! `consul kv get [-recurse|-keys] [-detailed] [-base64] [-separator] KEY_OR_PREFIX`.

use base64::Engine;
use legate_config::goflag::FlagSet;

use super::KvPair;
use super::kv_path;
use super::trim_key;
use crate::commands::common;
use crate::flags;
use crate::format::tabwriter;
use crate::ui::Ui;

/// One-line description.
pub(crate) const SYNOPSIS: &str = "Retrieves or lists data from the KV store";

const USAGE: &str = "Usage: consul kv get [options] [KEY_OR_PREFIX]

  Retrieves the value from Consul's key-value store at the given key name. If no
  key exists with that name, an error is returned. If a key exists with that
  name but has no data, nothing is returned. If the name or prefix is omitted,
  it defaults to \"\" which is the root of the key-value store.

  To retrieve the value for the key named \"foo\" in the key-value store:

      $ consul kv get foo

  To view detailed information about the key, specify the \"-detailed\" flag:

      $ consul kv get -detailed foo

  To treat the path as a prefix and list all keys which start with the given
  prefix, specify the \"-recurse\" flag:

      $ consul kv get -recurse foo

  To just list the keys which start with the specified prefix, use the \"-keys\"
  option instead:

      $ consul kv get -keys foo

  For a full list of options and examples, please see the Consul documentation.";

fn flag_set() -> FlagSet {
    let mut fs = flags::api_flag_set("kv get");
    fs.bool(
        "base64",
        false,
        "Base64 encode the value. The default value is false.",
    )
    .bool(
        "detailed",
        false,
        "Provide additional metadata about the key in addition to the value such as the \
             ModifyIndex and any flags that may have been set on the key.",
    )
    .bool(
        "keys",
        false,
        "List keys which start with the given prefix, but not their values.",
    )
    .bool(
        "recurse",
        false,
        "Recursively look at all keys prefixed with the given path.",
    )
    .string(
        "separator",
        "/",
        "String to use as a separator between keys. Only used with -keys.",
    );
    fs
}

/// Help text.
pub(crate) fn help() -> String {
    flags::help_text(USAGE, Some(&flag_set()))
}

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// Consul's `-detailed` rendering of one entry (no trailing newline).
pub(crate) fn pretty_pair(pair: &KvPair, base64_value: bool) -> String {
    let session = match pair.session.as_deref() {
        None | Some("") => "-",
        Some(s) => s,
    };
    let value = if base64_value {
        b64(&pair.value_bytes())
    } else {
        String::from_utf8_lossy(&pair.value_bytes()).into_owned()
    };
    let text = format!(
        "CreateIndex\t{}\nFlags\t{}\nKey\t{}\nLockIndex\t{}\nModifyIndex\t{}\nSession\t{}\nValue\t{}",
        pair.create_index, pair.flags, pair.key, pair.lock_index, pair.modify_index, session, value
    );
    tabwriter::format(&text, 6)
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
    let (recurse, keys, detailed, base64_value) = (
        f.bool("recurse"),
        f.bool("keys"),
        f.bool("detailed"),
        f.bool("base64"),
    );
    if key.is_empty() && !(recurse || keys) {
        ui.error("Error! Missing KEY argument");
        return 1;
    }
    let Some(client) = common::client(&f, ui) else {
        return 1;
    };
    let path = kv_path(&key);
    if keys {
        let resp = client
            .get(&path)
            .query("keys", "")
            .query_nonempty("separator", &f.string("separator"))
            .allow_stale()
            .send_optional();
        let list: Vec<String> = match resp.and_then(|r| r.map(|r| r.json()).transpose()) {
            Ok(v) => v.unwrap_or_default(),
            Err(e) => {
                ui.error(&format!("Error querying Consul agent: {e}"));
                return 1;
            }
        };
        for k in list {
            ui.output(&k);
        }
        return 0;
    }
    if recurse {
        let resp = client
            .get(&path)
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
        for (i, pair) in pairs.iter().enumerate() {
            if detailed {
                ui.output(&pretty_pair(pair, base64_value));
                if i + 1 < pairs.len() {
                    ui.output("");
                }
            } else if base64_value {
                ui.output(&format!("{}:{}", pair.key, b64(&pair.value_bytes())));
            } else {
                ui.output(&format!(
                    "{}:{}",
                    pair.key,
                    String::from_utf8_lossy(&pair.value_bytes())
                ));
            }
        }
        return 0;
    }
    let resp = client.get(&path).allow_stale().send_optional();
    let pairs: Option<Vec<KvPair>> = match resp.and_then(|r| r.map(|r| r.json()).transpose()) {
        Ok(v) => v,
        Err(e) => {
            ui.error(&format!("Error querying Consul agent: {e}"));
            return 1;
        }
    };
    let Some(pair) = pairs.and_then(|p| p.into_iter().next()) else {
        ui.error(&format!("Error! No key exists at: {key}"));
        return 1;
    };
    if detailed {
        ui.output(&pretty_pair(&pair, base64_value));
    } else {
        ui.output(&String::from_utf8_lossy(&pair.value_bytes()));
    }
    0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detailed_output_matches_consul() {
        let pair = KvPair {
            key: "foo".into(),
            create_index: 12,
            modify_index: 13,
            lock_index: 0,
            flags: 0,
            value: Some("YmFy".into()),
            session: None,
        };
        assert_eq!(
            pretty_pair(&pair, false),
            "CreateIndex      12\nFlags            0\nKey              foo\nLockIndex        0\n\
             ModifyIndex      13\nSession          -\nValue            bar"
        );
        assert!(pretty_pair(&pair, true).ends_with("Value            YmFy"));
    }

    #[test]
    fn missing_key_argument_is_an_error() {
        let mut out = Vec::new();
        let mut err = Vec::new();
        let mut input: &[u8] = b"";
        let code = run(&[], &mut Ui::new(&mut out, &mut err, &mut input));
        assert_eq!(code, 1);
        assert_eq!(
            String::from_utf8(err).unwrap(),
            "Error! Missing KEY argument\n"
        );
    }
}
