//! `consul kv delete [-recurse] [-cas -modify-index] KEY_OR_PREFIX`.

use legate_config::goflag::FlagSet;

use super::kv_path;
use super::trim_key;
use crate::commands::common;
use crate::flags;
use crate::ui::Ui;

/// One-line description.
pub(crate) const SYNOPSIS: &str = "Removes data from the KV store";

const USAGE: &str = "Usage: consul kv delete [options] KEY_OR_PREFIX

  Removes the value from Consul's key-value store at the given path. If no
  key exists at the path, no action is taken.

  To delete the value for the key named \"foo\" in the key-value store:

      $ consul kv delete foo

  To delete all keys which start with \"foo\", specify the -recurse option:

      $ consul kv delete -recurse foo

  This will delete the keys named \"foo\", \"food\", and \"foo/bar/zip\" if they
  existed.";

fn flag_set() -> FlagSet {
    let mut fs = flags::api_flag_set("kv delete");
    fs.bool(
        "cas",
        false,
        "Perform a Check-And-Set operation. Requires -modify-index.",
    )
    .int(
        "modify-index",
        0,
        "Unsigned integer representing the ModifyIndex of the key. Used with -cas.",
    )
    .bool(
        "recurse",
        false,
        "Recursively delete all keys with the path.",
    );
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
    let (cas, recurse, modify_index) = (f.bool("cas"), f.bool("recurse"), f.int("modify-index"));
    if key.is_empty() && !recurse {
        ui.error("Error! Missing KEY argument");
        return 1;
    }
    if cas && modify_index == 0 {
        ui.error(
            "Cannot delete a key that does not exist. Provide a -modify-index greater than than 0.",
        );
        return 1;
    }
    if modify_index != 0 && !cas {
        ui.error("Cannot specify -modify-index without -cas!");
        return 1;
    }
    if recurse && cas {
        ui.error("Cannot specify both -cas and -recurse!");
        return 1;
    }
    let Some(client) = common::client(&f, ui) else {
        return 1;
    };
    let path = kv_path(&key);
    if recurse {
        return match client.delete(&path).query("recurse", "").send() {
            Ok(_) => {
                ui.output(&format!("Success! Deleted keys with prefix: {key}"));
                0
            }
            Err(e) => {
                ui.error(&format!("Error! Did not delete prefix {key}: {e}"));
                1
            }
        };
    }
    if cas {
        return match client
            .delete(&path)
            .query("cas", modify_index.to_string())
            .send()
        {
            Ok(r) if String::from_utf8_lossy(&r.body).trim() == "true" => {
                ui.output(&format!("Success! Deleted key: {key}"));
                0
            }
            Ok(_) => {
                ui.error(&format!("Error! Did not delete key {key}: CAS failed"));
                1
            }
            Err(e) => {
                ui.error(&format!("Error! Did not delete key {key}: {e}"));
                1
            }
        };
    }
    match client.delete(&path).send() {
        Ok(_) => {
            ui.output(&format!("Success! Deleted key: {key}"));
            0
        }
        Err(e) => {
            ui.error(&format!("Error deleting key {key}: {e}"));
            1
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run_args(args: &[&str]) -> (i32, String) {
        let mut out = Vec::new();
        let mut err = Vec::new();
        let mut input: &[u8] = b"";
        let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
        let code = run(&args, &mut Ui::new(&mut out, &mut err, &mut input));
        (code, String::from_utf8(err).unwrap())
    }

    #[test]
    fn flag_combinations_are_checked() {
        assert_eq!(run_args(&[]).1, "Error! Missing KEY argument\n");
        assert_eq!(
            run_args(&["-modify-index=3", "k"]).1,
            "Cannot specify -modify-index without -cas!\n"
        );
        assert_eq!(
            run_args(&["-cas", "-modify-index=3", "-recurse", "k"]).1,
            "Cannot specify both -cas and -recurse!\n"
        );
        assert_eq!(
            run_args(&["a", "b"]).1,
            "Too many arguments (expected 1, got 2)\n"
        );
    }
}
