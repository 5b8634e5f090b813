//! `consul config delete (-kind K -name N | -filename F) [-cas -modify-index]`.

use legate_config::goflag::FlagSet;
use legate_config::goflag::Flags;

use super::parse_entry;
use crate::commands::common;
use crate::flags;
use crate::http::escape_path;
use crate::ui::Ui;

/// One-line description.
pub(crate) const SYNOPSIS: &str = "Delete a centralized config entry";

const USAGE: &str = "Usage: consul config delete [options] ([-kind <config kind> -name <config name>] | [-f FILENAME])

  Deletes the configuration entry specified by the kind and name.

  Example:

    $ consul config delete -kind service-defaults -name web
    $ consul config delete -filename service-defaults-web.hcl";

fn flag_set() -> FlagSet {
    let mut fs = flags::api_flag_set("config delete");
    fs.string("filename", "", "The filename of the config entry to delete")
        .string("kind", "", "The kind of configuration to delete.")
        .string("name", "", "The name of configuration to delete.")
        .bool(
            "cas",
            false,
            "Perform a Check-And-Set operation. Requires -modify-index.",
        )
        .int(
            "modify-index",
            0,
            "Unsigned integer representing the ModifyIndex of the config entry.",
        );
    fs
}

/// Help text.
pub(crate) fn help() -> String {
    flags::help_text(USAGE, Some(&flag_set()))
}

/// Consul's argument validation for `config delete`.
pub(crate) fn validate(f: &Flags) -> Result<(), &'static str> {
    let (filename, kind, name) = (f.string("filename"), f.string("kind"), f.string("name"));
    let count = [&filename, &kind, &name]
        .iter()
        .filter(|s| !s.is_empty())
        .count();
    if count >= 3 {
        return Err("filename can't be used with kind or name");
    } else if count == 0 {
        return Err("Must specify the -kind or -filename parameter");
    }
    if !filename.is_empty() {
        if count == 2 {
            return Err("filename can't be used with kind or name");
        }
    } else if kind.is_empty() {
        return Err("Must specify the -kind parameter");
    } else if name.is_empty() {
        return Err("Must specify the -name parameter");
    }
    let (cas, modify_index) = (f.bool("cas"), f.int("modify-index"));
    if cas && modify_index == 0 {
        return Err("Must specify a -modify-index greater than 0 with -cas");
    }
    if modify_index != 0 && !cas {
        return Err("Cannot specify -modify-index without -cas");
    }
    Ok(())
}

/// Runs the command.
pub(crate) fn run(args: &[String], ui: &mut Ui<'_>) -> i32 {
    let fs = flag_set();
    let Some(f) = flags::parse(&fs, args, ui) else {
        return 1;
    };
    if let Err(e) = validate(&f) {
        ui.error(e);
        return 1;
    }
    let (mut kind, mut name) = (f.string("kind"), f.string("name"));
    let filename = f.string("filename");
    if !filename.is_empty() {
        let data = match common::load_file_or_stdin(&filename, ui) {
            Ok(d) => d,
            Err(e) => {
                ui.error(&format!("Failed to load data: {e}"));
                return 1;
            }
        };
        match parse_entry(&data) {
            Ok(e) => {
                kind = e.kind;
                name = e.name;
            }
            Err(e) => {
                ui.error(&format!("Failed to decode config entry input: {e}"));
                return 1;
            }
        }
    }
    let Some(client) = common::client(&f, ui) else {
        return 1;
    };
    let mut req = client.delete(&format!(
        "/v1/config/{}/{}",
        escape_path(&kind),
        escape_path(&name)
    ));
    let cas = f.bool("cas");
    if cas {
        req = req.query("cas", f.int("modify-index").to_string());
    }
    match req.send() {
        Err(e) => {
            ui.error(&format!("Error deleting config entry {kind}/{name}: {e}"));
            1
        }
        Ok(r) if cas && String::from_utf8_lossy(&r.body).trim() != "true" => {
            ui.error(&format!("Config entry not deleted: {kind}/{name}"));
            1
        }
        Ok(_) => {
            ui.output(&format!("Config entry deleted: {kind}/{name}"));
            0
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(args: &[&str]) -> Result<(), &'static str> {
        let f = flag_set().parse(args).unwrap();
        validate(&f)
    }

    #[test]
    fn validation_matches_consul() {
        assert_eq!(
            check(&[]),
            Err("Must specify the -kind or -filename parameter")
        );
        assert_eq!(
            check(&["-kind", "x"]),
            Err("Must specify the -name parameter")
        );
        assert_eq!(
            check(&["-filename", "f", "-kind", "x"]),
            Err("filename can't be used with kind or name")
        );
        assert_eq!(
            check(&["-kind", "x", "-name", "y", "-cas"]),
            Err("Must specify a -modify-index greater than 0 with -cas")
        );
        assert_eq!(check(&["-kind", "x", "-name", "y"]), Ok(()));
    }
}
