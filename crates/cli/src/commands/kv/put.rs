//! `consul kv put [-cas -modify-index] [-flags] [-acquire|-release -session] [-base64] KEY [DATA]`.

use base64::Engine;
use legate_config::goflag::FlagSet;

use super::kv_path;
use crate::commands::common;
use crate::flags;
use crate::ui::Ui;

/// One-line description.
pub(crate) const SYNOPSIS: &str = "Sets or updates data in the KV store";

const USAGE: &str = "Usage: consul kv put [options] KEY [DATA]

  Writes the data to the given path in the key-value store. The data can be of
  any type.

      $ consul kv put config/redis/maxconns 5

  The data can also be consumed from a file on disk by prefixing with the \"@\"
  symbol. For example:

      $ consul kv put config/program/license @license.lic

  Or it can be read from stdin using the \"-\" symbol:

      $ echo \"abcd1234\" | consul kv put config/program/license -

  The DATA argument itself is optional. If omitted, this will create an empty
  key-value pair at the specified path:

      $ consul kv put webapp/beta/active

  If the -base64 flag is specified, the data will be treated as base 64
  encoded.

  To perform a Check-And-Set operation, specify the -cas flag with the
  appropriate -modify-index flag corresponding to the key you want to perform
  the CAS operation on:

      $ consul kv put -cas -modify-index=844 config/redis/maxconns 5

  Additional flags and more advanced use cases are detailed below.";

fn flag_set() -> FlagSet {
    let mut fs = flags::api_flag_set("kv put");
    fs.bool(
        "cas",
        false,
        "Perform a Check-And-Set operation. Requires -modify-index.",
    )
    .int(
        "flags",
        0,
        "Unsigned integer value to assign to this key-value pair.",
    )
    .bool("base64", false, "Treat the data as base 64 encoded.")
    .int(
        "modify-index",
        0,
        "Unsigned integer representing the ModifyIndex of the key. Used with -cas.",
    )
    .string(
        "session",
        "",
        "User-defined identifer for this session as a string.",
    )
    .bool(
        "acquire",
        false,
        "Obtain a lock on the key. Requires -session.",
    )
    .bool(
        "release",
        false,
        "Forfeit the lock on the key at the given path.",
    );
    fs
}

/// Help text.
pub(crate) fn help() -> String {
    flags::help_text(USAGE, Some(&flag_set()))
}

/// Resolves KEY and DATA from the positional arguments (Consul's `dataFromArgs`).
fn data_from_args(args: &[String], ui: &mut Ui<'_>) -> Result<(String, Vec<u8>), String> {
    match args {
        [] => Err("Missing KEY argument".to_string()),
        [key] => Ok((key.clone(), Vec::new())),
        [key, data] => Ok((key.clone(), common::load_data_source(data, ui)?)),
        more => Err(format!(
            "Too many arguments (expected 1 or 2, got {})",
            more.len()
        )),
    }
}

fn parse_bool_body(body: &[u8]) -> bool {
    String::from_utf8_lossy(body).trim() == "true"
}

/// Runs the command.
pub(crate) fn run(args: &[String], ui: &mut Ui<'_>) -> i32 {
    let fs = flag_set();
    let Some(f) = flags::parse(&fs, args, ui) else {
        return 1;
    };
    let (key, mut data) = match data_from_args(&f.args, ui) {
        Ok(v) => v,
        Err(e) => {
            ui.error(&format!("Error! {e}"));
            return 1;
        }
    };
    if f.bool("base64") {
        match base64::engine::general_purpose::STANDARD.decode(&data) {
            Ok(d) => data = d,
            Err(e) => {
                ui.error(&format!("Error! Cannot base 64 decode data: {e}"));
                return 1;
            }
        }
    }
    let session = f.string("session");
    let (cas, acquire, release) = (f.bool("cas"), f.bool("acquire"), f.bool("release"));
    if (acquire || release) && session.is_empty() {
        ui.error("Error! Missing -session (required with -acquire and -release)");
        return 1;
    }
    let modify_index = f.int("modify-index");
    if cas && modify_index == 0 {
        ui.error("Must specify -modify-index with -cas!");
        return 1;
    }
    let Some(client) = common::client(&f, ui) else {
        return 1;
    };
    let mut req = client.put(&kv_path(&key));
    let kv_flags = f.int("flags");
    if kv_flags != 0 {
        req = req.query("flags", kv_flags.to_string());
    }
    let req = if cas {
        req.query("cas", modify_index.to_string())
    } else if acquire {
        req.query("acquire", session.clone())
    } else if release {
        req.query("release", session.clone())
    } else {
        req
    };
    let result = req.bytes(data).send();
    match (cas, acquire, release) {
        (true, _, _) => match result {
            Err(e) => {
                ui.error(&format!("Error! Did not write to {key}: {e}"));
                1
            }
            Ok(r) if !parse_bool_body(&r.body) => {
                ui.error(&format!("Error! Did not write to {key}: CAS failed"));
                1
            }
            Ok(_) => {
                ui.output(&format!("Success! Data written to: {key}"));
                0
            }
        },
        (_, true, _) => match result {
            Err(e) => {
                ui.error(&format!("Error! Failed writing data: {e}"));
                1
            }
            Ok(r) if !parse_bool_body(&r.body) => {
                ui.error("Error! Did not acquire lock");
                1
            }
            Ok(_) => {
                ui.output(&format!("Success! Lock acquired on: {key}"));
                0
            }
        },
        (_, _, true) => match result {
            Err(_) => {
                ui.error(&format!("Error! Failed writing data: {key}"));
                1
            }
            Ok(r) if !parse_bool_body(&r.body) => {
                ui.error("Error! Did not release lock");
                1
            }
            Ok(_) => {
                ui.output(&format!("Success! Lock released on: {key}"));
                0
            }
        },
        _ => match result {
            Err(e) => {
                ui.error(&format!("Error! Failed writing data: {e}"));
                1
            }
            Ok(_) => {
                ui.output(&format!("Success! Data written to: {key}"));
                0
            }
        },
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
    fn validates_arguments_before_connecting() {
        assert_eq!(run_args(&[]), (1, "Error! Missing KEY argument\n".into()));
        assert_eq!(
            run_args(&["a", "b", "c"]),
            (
                1,
                "Error! Too many arguments (expected 1 or 2, got 3)\n".into()
            )
        );
        assert_eq!(
            run_args(&["-acquire", "k"]),
            (
                1,
                "Error! Missing -session (required with -acquire and -release)\n".into()
            )
        );
        assert_eq!(
            run_args(&["-cas", "k", "v"]),
            (1, "Must specify -modify-index with -cas!\n".into())
        );
    }

    #[test]
    fn stdin_and_literal_data() {
        let mut out = Vec::new();
        let mut err = Vec::new();
        let mut input: &[u8] = b"piped";
        let mut ui = Ui::new(&mut out, &mut err, &mut input);
        let got = data_from_args(&["k".into(), "-".into()], &mut ui).unwrap();
        assert_eq!(got, ("k".to_string(), b"piped".to_vec()));
        let got = data_from_args(&["k".into()], &mut ui).unwrap();
        assert_eq!(got.1, Vec::<u8>::new());
    }
}
