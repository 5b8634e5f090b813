//! Loading the agent configuration as `consul agent` does: built-in defaults, dev-mode
//! defaults, list-valued flags, config files and directories in command-line order,
//! scalar flags, then `-hcl` fragments — each normalised, then merged in that order.

use std::path::{Path, PathBuf};

use serde_json::{Map, Value, json};

use crate::error::ConfigError;
use crate::flags::{agent_flags, flag_fragments};
use crate::hcl1;
use crate::merge::merge;
use crate::normalize::normalize;
use crate::runtime::{RuntimeConfig, build};

/// Loads and validates the configuration from the arguments after the word `agent`.
pub fn load(args: &[String]) -> Result<RuntimeConfig, ConfigError> {
    let flags = agent_flags().parse(args)?;
    if !flags.args.is_empty() {
        return Err(ConfigError::Invalid(format!(
            "Unexpected extra arguments: [{}]",
            flags.args.join(" ")
        )));
    }
    let format = flags.string("config-format");
    let format = match format.as_str() {
        "" => None,
        "json" | "hcl" => Some(format),
        _ => return Err(ConfigError::BadFormat),
    };
    let dev = flags.bool("dev");

    let mut merged = defaults();
    if dev {
        merge(&mut merged, dev_defaults());
    }
    let (lists, values) = flag_fragments(&flags);
    merge(&mut merged, lists);

    let mut sources = Vec::new();
    for (name, path) in flags.occurrences() {
        if name != "config-file" && name != "config-dir" {
            continue;
        }
        for (file, fmt) in files_for(Path::new(path), format.as_deref())? {
            let text = std::fs::read_to_string(&file).map_err(|e| ConfigError::Open {
                path: file.clone(),
                source: e,
            })?;
            let parsed = parse_source(&file.display().to_string(), &text, &fmt)?;
            merge(&mut merged, parsed);
            sources.push(file);
        }
    }

    merge(&mut merged, values);
    for (i, fragment) in flags.strings("hcl").iter().enumerate() {
        let parsed = parse_source(&format!("flags-{i}.hcl"), fragment, "hcl")?;
        merge(&mut merged, parsed);
    }
    build(merged, dev, sources, args.to_vec())
}

impl RuntimeConfig {
    /// Re-reads the same files with the same flags (`consul reload`, SIGHUP).
    pub fn reload(&self) -> Result<RuntimeConfig, ConfigError> {
        load(&self.args)
    }
}

/// Parses and normalises one source's text; an empty (or blank) source is no config.
fn parse_source(name: &str, text: &str, format: &str) -> Result<Map<String, Value>, ConfigError> {
    if text.trim().is_empty() {
        return Ok(Map::new());
    }
    let err = |message: String| ConfigError::Parse {
        source_name: name.to_string(),
        message,
    };
    let raw = if format == "hcl" {
        hcl1::parse(text).map_err(err)?
    } else {
        serde_json::from_str::<Value>(text).map_err(|e| err(e.to_string()))?
    };
    normalize(raw).map_err(err)
}

/// The files one `-config-file`/`-config-dir` argument names, with their formats.
fn files_for(path: &Path, forced: Option<&str>) -> Result<Vec<(PathBuf, String)>, ConfigError> {
    let meta = std::fs::metadata(path).map_err(|e| ConfigError::Open {
        path: path.to_path_buf(),
        source: e,
    })?;
    if !meta.is_dir() {
        return match format_of(path, forced) {
            Some(f) => Ok(vec![(path.to_path_buf(), f)]),
            None => Err(ConfigError::UnknownExtension(path.to_path_buf())),
        };
    }
    let entries = std::fs::read_dir(path).map_err(|e| ConfigError::Open {
        path: path.to_path_buf(),
        source: e,
    })?;
    let mut names: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
    names.sort_by(|a, b| a.file_name().cmp(&b.file_name()));
    let mut out = Vec::new();
    for file in names {
        // Follows symlinks; sub-directories are not read.
        if std::fs::metadata(&file).map(|m| m.is_dir()).unwrap_or(true) {
            continue;
        }
        if let Some(f) = format_of(&file, forced) {
            out.push((file, f));
        }
    }
    Ok(out)
}

fn format_of(path: &Path, forced: Option<&str>) -> Option<String> {
    if let Some(f) = forced {
        return Some(f.to_string());
    }
    let name = path.to_string_lossy();
    if name.ends_with(".json") {
        Some("json".into())
    } else if name.ends_with(".hcl") {
        Some("hcl".into())
    } else {
        None
    }
}

/// Consul's built-in defaults (the parts Legate uses).
fn defaults() -> Map<String, Value> {
    to_map(json!({
        "acl": {"token_ttl": "30s", "policy_ttl": "30s", "default_policy": "allow",
                "down_policy": "extend-cache"},
        "bind_addr": "0.0.0.0",
        "bootstrap": false,
        "bootstrap_expect": 0,
        "client_addr": "127.0.0.1",
        "datacenter": "dc1",
        "disable_host_node_id": true,
        "domain": "consul.",
        "log_level": "INFO",
        "raft_protocol": 3,
        "server": false,
        "performance": {"raft_multiplier": 5},
        "ports": {"dns": 8600, "http": 8500, "https": -1, "grpc": -1, "serf_lan": 8301,
                  "serf_wan": 8302, "server": 8300},
        "connect": {"enabled": true},
        "peering": {"enabled": true}
    }))
}

/// Consul's dev-mode defaults, merged right after [`defaults`].
fn dev_defaults() -> Map<String, Value> {
    to_map(json!({
        "bind_addr": "127.0.0.1",
        "bootstrap": true,
        "disable_anonymous_signature": true,
        "disable_keyring_file": true,
        "enable_debug": true,
        "ui_config": {"enabled": true},
        "log_level": "DEBUG",
        "server": true,
        "connect": {"enabled": true},
        "peering": {"enabled": true},
        "performance": {"raft_multiplier": 1},
        "ports": {"grpc": 8502}
    }))
}

fn to_map(v: Value) -> Map<String, Value> {
    match v {
        Value::Object(m) => m,
        _ => Map::new(),
    }
}
