//! `consul validate [-quiet] [-config-format] FILE_OR_DIRECTORY...`: loads the files the way
//! the agent would and reports whether the configuration is valid.

use legate_config::goflag::FlagSet;

use crate::flags;
use crate::ui::Ui;

/// One-line description.
pub(crate) const SYNOPSIS: &str = "Validate config files/directories";

const USAGE: &str = "Usage: consul validate [options] FILE_OR_DIRECTORY...

  Performs a thorough sanity test on Consul configuration files. For each file
  or directory given, the validate command will attempt to parse the contents
  just as the \"consul agent\" command would, and catch as many errors as can be
  detected during the parsing. Because not all errors are detectable during
  parsing, successful validation does not guarantee that the agent will
  start successfully.

  Returns 0 if the configuration is valid, or 1 if there are problems.

      $ consul validate /etc/consul.d";

fn flag_set() -> FlagSet {
    let mut fs = FlagSet::new("validate");
    fs.string(
        "config-format",
        "",
        "Config files are in this format irrespective of their extension. Must be 'hcl' or 'json'",
    )
    .bool(
        "quiet",
        false,
        "When given, a successful run will produce no output.",
    );
    fs
}

/// Help text.
pub(crate) fn help() -> String {
    flags::help_text(USAGE, Some(&flag_set()))
}

/// The agent arguments that load `paths` (`-config-dir` for directories, else `-config-file`).
pub(crate) fn agent_args(paths: &[String], format: &str) -> Vec<String> {
    let mut args = Vec::new();
    if !format.is_empty() {
        args.push(format!("-config-format={format}"));
    }
    for p in paths {
        let flag = if std::path::Path::new(p).is_dir() {
            "-config-dir"
        } else {
            "-config-file"
        };
        args.push(flag.to_string());
        args.push(p.clone());
    }
    args
}

/// Runs the command.
pub(crate) fn run(args: &[String], ui: &mut Ui<'_>) -> i32 {
    let fs = flag_set();
    let Some(f) = flags::parse(&fs, args, ui) else {
        return 1;
    };
    if f.args.is_empty() {
        ui.error("Must specify at least one config file or directory");
        return 1;
    }
    match legate_config::load(&agent_args(&f.args, &f.string("config-format"))) {
        Ok(_) => {
            if !f.bool("quiet") {
                ui.output("Configuration is valid!");
            }
            0
        }
        Err(e) => {
            ui.error(&format!("Config validation failed: {e}"));
            1
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn directories_become_config_dir() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path().to_string_lossy().into_owned();
        let file = dir.path().join("a.json").to_string_lossy().into_owned();
        assert_eq!(
            agent_args(&[d.clone(), file.clone()], "json"),
            vec![
                "-config-format=json".to_string(),
                "-config-dir".into(),
                d,
                "-config-file".into(),
                file
            ]
        );
    }

    #[test]
    fn requires_a_path() {
        let mut out = Vec::new();
        let mut err = Vec::new();
        let mut input: &[u8] = b"";
        assert_eq!(run(&[], &mut Ui::new(&mut out, &mut err, &mut input)), 1);
        assert_eq!(
            String::from_utf8(err).unwrap(),
            "Must specify at least one config file or directory\n"
        );
    }
}
