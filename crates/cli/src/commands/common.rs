//! Helpers several commands share: building the client with Consul's connect-error text and
//! loading command input from an argument, `@file` or `-` (stdin).

use legate_config::goflag::Flags;

use crate::http::Client;
use crate::ui::Ui;

/// Builds the agent client, printing `Error connecting to Consul agent: …` on failure.
pub(crate) fn client(flags: &Flags, ui: &mut Ui<'_>) -> Option<Client> {
    match Client::from_flags(flags) {
        Ok(c) => Some(c),
        Err(e) => {
            ui.error(&format!("Error connecting to Consul agent: {e}"));
            None
        }
    }
}

/// Consul's `LoadDataSource`: `@path` reads a file, `-` reads stdin, anything else is literal.
pub(crate) fn load_data_source(data: &str, ui: &mut Ui<'_>) -> Result<Vec<u8>, String> {
    match data.as_bytes().first() {
        None => Ok(Vec::new()),
        Some(b'@') => {
            std::fs::read(&data[1..]).map_err(|e| format!("Failed to read file: {}", io_text(&e)))
        }
        Some(b'-') if data.len() == 1 => ui
            .read_stdin()
            .map_err(|e| format!("Failed to read stdin: {e}")),
        Some(_) => Ok(data.as_bytes().to_vec()),
    }
}

/// Consul's `LoadDataSourceNoRaw`: a file path, or `-` for stdin.
pub(crate) fn load_file_or_stdin(data: &str, ui: &mut Ui<'_>) -> Result<Vec<u8>, String> {
    if data.is_empty() {
        return Err("Failed to load data: must specify a file path or '-' for stdin".to_string());
    }
    if data == "-" {
        return ui
            .read_stdin()
            .map_err(|e| format!("Failed to read stdin: {e}"));
    }
    std::fs::read(data)
        .map_err(|e| format!("Failed to read file: {}", go_path_error("open", data, &e)))
}

/// Go's `*PathError` text, e.g. `open x: no such file or directory`.
pub(crate) fn go_path_error(op: &str, path: &str, e: &std::io::Error) -> String {
    format!("{op} {path}: {}", io_text(e))
}

/// An I/O error's reason the way Go's `syscall.Errno` prints it.
pub(crate) fn io_text(e: &std::io::Error) -> String {
    match e.kind() {
        std::io::ErrorKind::NotFound => "no such file or directory".to_string(),
        std::io::ErrorKind::PermissionDenied => "permission denied".to_string(),
        _ => {
            let text = e.to_string();
            match text.find(" (os error") {
                Some(idx) => text[..idx].to_lowercase(),
                None => text,
            }
        }
    }
}

/// Parses HCL or JSON text into JSON (JSON when it starts with `{` or `[`).
pub(crate) fn parse_hcl_or_json(text: &str) -> Result<serde_json::Value, String> {
    let trimmed = text.trim_start();
    if trimmed.starts_with('{') || trimmed.starts_with('[') {
        serde_json::from_str(text).map_err(|e| e.to_string())
    } else {
        hcl::from_str(text).map_err(|e| e.to_string())
    }
}

/// Looks up `key` in a JSON object, trying the exact name, then any case-insensitive match
/// with underscores ignored (`service_id` matches `ServiceID`).
pub(crate) fn field<'v>(obj: &'v serde_json::Value, key: &str) -> Option<&'v serde_json::Value> {
    let map = obj.as_object()?;
    if let Some(v) = map.get(key) {
        return Some(v);
    }
    let norm = |s: &str| s.replace('_', "").to_lowercase();
    let want = norm(key);
    map.iter().find(|(k, _)| norm(k) == want).map(|(_, v)| v)
}

/// [`field`] as a string (empty when missing or not a string).
pub(crate) fn field_str(obj: &serde_json::Value, key: &str) -> String {
    field(obj, key)
        .and_then(|v| v.as_str())
        .unwrap_or_default()
        .to_string()
}

/// A child process for `args`: through `$SHELL -c` (default `/bin/sh`) when `shell`, else
/// executed directly, as Consul's `ExecScript`/`ExecSubprocess` do.
pub(crate) fn child_command(args: &[String], shell: bool) -> Option<std::process::Command> {
    if shell {
        let sh = std::env::var("SHELL").ok().filter(|s| !s.is_empty());
        let mut cmd = std::process::Command::new(sh.as_deref().unwrap_or("/bin/sh"));
        cmd.arg("-c").arg(args.join(" "));
        Some(cmd)
    } else {
        let (prog, rest) = args.split_first()?;
        let mut cmd = std::process::Command::new(prog);
        cmd.args(rest);
        Some(cmd)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn field_matches_case_and_underscores() {
        let v = json!({"service_id": "a", "Name": "n"});
        assert_eq!(field_str(&v, "ServiceID"), "a");
        assert_eq!(field_str(&v, "name"), "n");
        assert_eq!(field_str(&v, "Kind"), "");
    }

    #[test]
    fn parses_hcl_and_json() {
        let h = parse_hcl_or_json("Kind = \"service-defaults\"\nName = \"web\"\n").unwrap();
        assert_eq!(h, json!({"Kind": "service-defaults", "Name": "web"}));
        let j = parse_hcl_or_json(" {\"Kind\": \"x\"}").unwrap();
        assert_eq!(j, json!({"Kind": "x"}));
    }

    #[test]
    fn literal_and_file_sources() {
        let mut out = Vec::new();
        let mut err = Vec::new();
        let mut input: &[u8] = b"from-stdin";
        let mut ui = Ui::new(&mut out, &mut err, &mut input);
        assert_eq!(load_data_source("abc", &mut ui).unwrap(), b"abc");
        assert_eq!(load_data_source("-x", &mut ui).unwrap(), b"-x");
        assert_eq!(load_data_source("-", &mut ui).unwrap(), b"from-stdin");
        let missing = load_data_source("@/nonexistent/file", &mut ui).unwrap_err();
        assert_eq!(missing, "Failed to read file: no such file or directory");
    }
}
