//! `consul snapshot save [-stale] [-append-filename …] FILE`: streams `/v1/snapshot` to
//! `FILE.unverified` (mode 0600), checks it, then renames it into place.

use std::io::Write;

use legate_config::goflag::FlagSet;
use serde_json::Value;

use crate::commands::common;
use crate::flags;
use crate::http::Client;
use crate::ui::Ui;

/// One-line description.
pub(crate) const SYNOPSIS: &str = "Saves snapshot of Consul server state";

const USAGE: &str = "Usage: consul snapshot save [options] FILE

  Retrieves an atomic, point-in-time snapshot of the state of the Consul servers
  which includes key/value entries, service catalog, prepared queries, sessions,
  and ACLs.

  If ACLs are enabled, a management token must be supplied in order to perform
  snapshot operations.

  To create a snapshot from the leader server and save it to \"backup.snap\":

    $ consul snapshot save backup.snap

  To create a potentially stale snapshot from any available server (useful if no
  leader is available):

    $ consul snapshot save -stale backup.snap

  For a full list of options and examples, please see the Consul documentation.";

fn flag_set() -> FlagSet {
    let mut fs = flags::api_flag_set("snapshot save");
    fs.string(
        "append-filename",
        "",
        "Append filename flag takes values version, dc, node and status (comma separated).",
    );
    fs
}

/// Help text.
pub(crate) fn help() -> String {
    flags::help_text(USAGE, Some(&flag_set()))
}

/// Inserts `-<version>`, `-<dc>`, `-<node>`, `-leader|-follower` before the extension.
pub(crate) fn append_to_filename(file: &str, wanted: &[&str], agent_self: &Value) -> String {
    let (stem, ext) = match file.rfind('.') {
        Some(idx) if !file[idx..].contains('/') => (&file[..idx], &file[idx..]),
        _ => (file, ""),
    };
    let mut stem = stem.to_string();
    let config = |k: &str| {
        agent_self
            .pointer(&format!("/Config/{k}"))
            .and_then(Value::as_str)
    };
    for (flag, key) in [
        ("version", "Version"),
        ("dc", "Datacenter"),
        ("node", "NodeName"),
    ] {
        if wanted.contains(&flag)
            && let Some(v) = config(key)
        {
            stem.push('-');
            stem.push_str(v);
        }
    }
    if wanted.contains(&"status")
        && let Some(leader) = agent_self
            .pointer("/Stats/consul/leader")
            .and_then(Value::as_str)
    {
        stem.push_str(if leader == "true" {
            "-leader"
        } else {
            "-follower"
        });
    }
    format!("{stem}{ext}")
}

fn write_unverified(path: &str, mut resp: reqwest::blocking::Response) -> std::io::Result<u64> {
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut file = opts.open(path)?;
    let n = resp.copy_to(&mut file).map_err(std::io::Error::other)?;
    file.flush()?;
    file.sync_all()?;
    Ok(n)
}

fn save(client: &Client, file: &str, ui: &mut Ui<'_>) -> i32 {
    let resp = match client.get("/v1/snapshot").allow_stale().send_streaming() {
        Ok(r) => r,
        Err(e) => {
            ui.error(&format!("Error saving snapshot: {e}"));
            return 1;
        }
    };
    let index: u64 = resp
        .headers()
        .get("X-Consul-Index")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    let unverified = format!("{file}.unverified");
    let written = match write_unverified(&unverified, resp) {
        Ok(n) => n,
        Err(e) => {
            let _ = std::fs::remove_file(&unverified);
            ui.error(&format!("Error writing unverified snapshot file: {e}"));
            return 1;
        }
    };
    if written == 0 {
        let _ = std::fs::remove_file(&unverified);
        ui.error("Error verifying snapshot file: snapshot is empty");
        return 1;
    }
    if let Err(e) = std::fs::rename(&unverified, file) {
        let _ = std::fs::remove_file(&unverified);
        ui.error(&format!("Error renaming {unverified:?} to {file:?}: {e}"));
        return 1;
    }
    ui.output(&format!("Saved and verified snapshot to index {index}"));
    0
}

/// Runs the command.
pub(crate) fn run(args: &[String], ui: &mut Ui<'_>) -> i32 {
    let fs = flag_set();
    let Some(f) = flags::parse(&fs, args, ui) else {
        return 1;
    };
    let mut file = match f.args.as_slice() {
        [] => {
            ui.error("Missing FILE argument");
            return 1;
        }
        [file] => file.clone(),
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
    let append = f.string("append-filename");
    if !append.is_empty() {
        let me: Value = match client.get("/v1/agent/self").send().and_then(|r| r.json()) {
            Ok(v) => v,
            Err(e) => {
                ui.error(&format!(
                    "Error connecting to Consul agent and fetching datacenter/version: {e}"
                ));
                return 1;
            }
        };
        let wanted: Vec<&str> = append.split(',').collect();
        file = append_to_filename(&file, &wanted, &me);
    }
    save(&client, &file, ui)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn appends_before_extension() {
        let me = json!({"Config": {"Version": "1.21.0", "Datacenter": "dc1", "NodeName": "n1"},
                        "Stats": {"consul": {"leader": "true"}}});
        assert_eq!(
            append_to_filename("backup.snap", &["version", "dc", "node", "status"], &me),
            "backup-1.21.0-dc1-n1-leader.snap"
        );
        assert_eq!(
            append_to_filename("dir.x/backup", &["dc"], &me),
            "dir.x/backup-dc1"
        );
    }
}
