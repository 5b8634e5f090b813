//! `consul watch -type T [...] [child...]`: blocking queries on one view of the catalog or KV.
//! Without a child the first result is printed as 4-space-indented JSON and the command ends;
//! with one, the child runs (JSON on stdin, `CONSUL_INDEX` set) on every change.

use std::io::Write;
use std::process::Stdio;
use std::time::Duration;

use legate_config::goflag::FlagSet;
use legate_config::goflag::Flags;
use serde_json::Value;

use crate::commands::common;
use crate::commands::kv::kv_path;
use crate::flags;
use crate::format::gojson;
use crate::http::ApiError;
use crate::http::Client;
use crate::http::escape_path;
use crate::ui::Ui;

/// One-line description.
pub(crate) const SYNOPSIS: &str = "Watch for changes in Consul";

const USAGE: &str = "Usage: consul watch [options] [child...]

  Watches for changes in a given data view from Consul. If a child process
  is specified, it will be invoked with the latest results on changes. Otherwise,
  the latest values are dumped to stdout and the watch terminates.

  Providing the watch type is required, and other parameters may be required
  or supported depending on the watch type.";

fn flag_set() -> FlagSet {
    let mut fs = flags::api_flag_set("watch");
    fs.string(
        "type",
        "",
        "Specifies the watch type. One of key, keyprefix, services, nodes, service, checks, or event.",
    )
    .string("key", "", "Specifies the key to watch. Only for 'key' type.")
    .string("prefix", "", "Specifies the key prefix to watch. Only for 'keyprefix' type.")
    .string("service", "", "Specifies the service to watch.")
    .string("tag", "", "Specifies the service tag to filter on. Optional for 'service' type.")
    .string("passingonly", "", "Specifies if only hosts passing all checks are displayed.")
    .bool("shell", true, "Use a shell to run the command.")
    .string("state", "", "Specifies the states to watch. Optional for 'checks' type.")
    .string("name", "", "Specifies an event name to watch. Only for 'event' type.");
    fs
}

/// Help text.
pub(crate) fn help() -> String {
    flags::help_text(USAGE, Some(&flag_set()))
}

/// What one watch type queries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Plan {
    /// Escaped request path.
    pub(crate) path: String,
    /// Query parameters besides `index`.
    pub(crate) query: Vec<(String, String)>,
    /// A 404 means "no data" (`null`) rather than an error.
    pub(crate) not_found_is_null: bool,
    /// Take the first element of the returned list (single key).
    pub(crate) first_only: bool,
}

fn parse_go_bool(v: &str) -> Option<bool> {
    match v {
        "1" | "t" | "T" | "true" | "TRUE" | "True" => Some(true),
        "0" | "f" | "F" | "false" | "FALSE" | "False" => Some(false),
        _ => None,
    }
}

/// Builds the query plan for the watch flags; errors are Consul's watch-parse messages.
pub(crate) fn plan(f: &Flags) -> Result<Plan, String> {
    let kind = f.string("type");
    let mut p = Plan {
        path: String::new(),
        query: Vec::new(),
        not_found_is_null: false,
        first_only: false,
    };
    match kind.as_str() {
        "key" => {
            let key = f.string("key");
            if key.is_empty() {
                return Err("Must specify a single key to watch".into());
            }
            p.path = kv_path(&key);
            p.not_found_is_null = true;
            p.first_only = true;
        }
        "keyprefix" => {
            let prefix = f.string("prefix");
            if prefix.is_empty() {
                return Err("Must specify a single prefix to watch".into());
            }
            p.path = kv_path(&prefix);
            p.query.push(("recurse".into(), String::new()));
            p.not_found_is_null = true;
        }
        "services" => p.path = "/v1/catalog/services".into(),
        "nodes" => p.path = "/v1/catalog/nodes".into(),
        "service" => {
            let service = f.string("service");
            if service.is_empty() {
                return Err("Must specify a single service to watch".into());
            }
            p.path = format!("/v1/health/service/{}", escape_path(&service));
            let tag = f.string("tag");
            if !tag.is_empty() {
                p.query.push(("tag".into(), tag));
            }
            let passing = f.string("passingonly");
            if !passing.is_empty() {
                match parse_go_bool(&passing) {
                    Some(true) => p.query.push(("passing".into(), "1".into())),
                    Some(false) => {}
                    None => {
                        return Err(format!(
                            "Failed to parse passingonly flag: strconv.ParseBool: parsing {passing:?}: invalid syntax"
                        ));
                    }
                }
            }
        }
        "checks" => {
            let (service, state) = (f.string("service"), f.string("state"));
            if !service.is_empty() && !state.is_empty() {
                return Err("Cannot specify service and state".into());
            }
            p.path = if service.is_empty() {
                let state = if state.is_empty() {
                    "any".to_string()
                } else {
                    state
                };
                format!("/v1/health/state/{}", escape_path(&state))
            } else {
                format!("/v1/health/checks/{}", escape_path(&service))
            };
        }
        "event" => {
            p.path = "/v1/event/list".into();
            let name = f.string("name");
            if !name.is_empty() {
                p.query.push(("name".into(), name));
            }
        }
        other => return Err(format!("Unsupported watch type: {other}")),
    }
    if f.bool("stale") {
        p.query.push(("stale".into(), String::new()));
    }
    Ok(p)
}

/// One blocking fetch: the result and its index.
fn fetch(client: &Client, p: &Plan, index: u64) -> Result<(u64, Value), ApiError> {
    let mut req = client.get(&p.path);
    for (k, v) in &p.query {
        req = req.query(k, v.clone());
    }
    if index > 0 {
        req = req.query("index", index.to_string());
    }
    let resp = if p.not_found_is_null {
        match req.send_optional()? {
            Some(r) => r,
            None => return Ok((0, Value::Null)),
        }
    } else {
        req.send()?
    };
    let idx = resp.index.unwrap_or(0);
    let mut value: Value = resp.json()?;
    if p.first_only {
        value = value
            .as_array()
            .and_then(|a| a.first().cloned())
            .unwrap_or(Value::Null);
    }
    Ok((idx, value))
}

fn run_handler(args: &[String], shell: bool, index: u64, data: &Value) -> Result<(), String> {
    let Some(mut cmd) = common::child_command(args, shell) else {
        return Err("Error executing handler: no command".to_string());
    };
    cmd.env("CONSUL_INDEX", index.to_string())
        .stdin(Stdio::piped());
    let mut child = cmd
        .spawn()
        .map_err(|e| format!("Error starting handler: {e}"))?;
    let mut payload = gojson::marshal(data);
    payload.push('\n');
    if let Some(mut stdin) = child.stdin.take() {
        let _ = stdin.write_all(payload.as_bytes());
    }
    let status = child
        .wait()
        .map_err(|e| format!("Error executing handler: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!(
            "Error executing handler: exit status {}",
            status.code().unwrap_or(-1)
        ))
    }
}

/// Runs the command.
pub(crate) fn run(args: &[String], ui: &mut Ui<'_>) -> i32 {
    let fs = flag_set();
    let Some(f) = flags::parse(&fs, args, ui) else {
        return 1;
    };
    if f.string("type").is_empty() {
        ui.error("Watch type must be specified");
        ui.error("");
        ui.error(&help());
        return 1;
    }
    let p = match plan(&f) {
        Ok(p) => p,
        Err(e) => {
            ui.error(&e);
            return 1;
        }
    };
    let Some(client) = common::client(&f, ui) else {
        return 1;
    };
    if let Err(e) = client.node_name() {
        ui.error(&format!("Error querying Consul agent: {e}"));
        return 1;
    }
    let mut last_index = 0u64;
    let mut last_result: Option<Value> = None;
    let mut failures = 0u32;
    loop {
        let (index, data) = match fetch(&client, &p, last_index) {
            Ok(r) => {
                failures = 0;
                r
            }
            Err(e) => {
                failures += 1;
                let wait = (5 * failures).min(20);
                ui.error(&format!(
                    "Watch (type: {}) errored: {e}, retry in {wait}s",
                    f.string("type")
                ));
                std::thread::sleep(Duration::from_secs(u64::from(wait)));
                continue;
            }
        };
        let unchanged_index = last_result.is_some() && index == last_index && index != 0;
        let unchanged_value = last_result.as_ref() == Some(&data);
        last_index = if index < last_index { 0 } else { index };
        if unchanged_index || unchanged_value {
            continue;
        }
        last_result = Some(data.clone());
        if f.args.is_empty() {
            ui.output(&gojson::marshal_indent(&data, "    "));
            return 0;
        }
        if let Err(e) = run_handler(&f.args, f.bool("shell"), index, &data) {
            ui.error(&e);
            return 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan_for(args: &[&str]) -> Result<Plan, String> {
        plan(&flag_set().parse(args).unwrap())
    }

    #[test]
    fn key_watch_plan() {
        let p = plan_for(&["-type=key", "-key=/foo/bar"]).unwrap();
        assert_eq!(p.path, "/v1/kv/foo/bar");
        assert!(p.first_only && p.not_found_is_null);
    }

    #[test]
    fn service_and_checks_plans() {
        let p = plan_for(&[
            "-type=service",
            "-service=web",
            "-tag=v1",
            "-passingonly=true",
        ])
        .unwrap();
        assert_eq!(p.path, "/v1/health/service/web");
        assert_eq!(
            p.query,
            vec![
                ("tag".to_string(), "v1".to_string()),
                ("passing".to_string(), "1".to_string())
            ]
        );
        assert_eq!(
            plan_for(&["-type=checks"]).unwrap().path,
            "/v1/health/state/any"
        );
        assert_eq!(
            plan_for(&["-type=checks", "-service=a", "-state=critical"]).unwrap_err(),
            "Cannot specify service and state"
        );
    }

    #[test]
    fn plan_errors() {
        assert_eq!(
            plan_for(&["-type=key"]).unwrap_err(),
            "Must specify a single key to watch"
        );
        assert_eq!(
            plan_for(&["-type=bogus"]).unwrap_err(),
            "Unsupported watch type: bogus"
        );
    }
}
