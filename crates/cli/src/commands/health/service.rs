//! `legate health service [-peer] [-passing] [-tag] [-filter] [-format] SERVICE`: one row per
//! instance (`Node Address ServiceID Port Status Checks`) from `/v1/health/service/:s`, the
//! status being the worst of the instance's checks as Consul aggregates it.

use legate_config::goflag::FlagSet;
use serde_json::Value;

use crate::commands::common;
use crate::flags;
use crate::format::columnize;
use crate::format::gojson;
use crate::http::escape_path;
use crate::ui::Ui;

/// One-line description.
pub(crate) const SYNOPSIS: &str = "Lists the instances of a service with their health";

const USAGE: &str = "Usage: legate health service [options] SERVICE

  Lists every instance of SERVICE with its node, address, port, overall health
  status (the worst of its checks) and each check's status.

  To show a service imported from a cluster peer:

      $ legate health service -peer dc2 web

  To show only instances whose checks are all passing:

      $ legate health service -passing web";

fn flag_set() -> FlagSet {
    let mut fs = flags::api_flag_set("health service");
    fs.string(
        "peer",
        "",
        "Name of the cluster peer the service is imported from.",
    )
    .bool(
        "passing",
        false,
        "Only list instances whose checks all pass.",
    )
    .string("tag", "", "Only list instances with this tag.")
    .string("filter", "", "Filter to use with the request")
    .string("format", "pretty", "Output format: pretty or json.");
    fs
}

/// Help text.
pub(crate) fn help() -> String {
    flags::help_text(USAGE, Some(&flag_set()))
}

/// Consul's aggregation: maintenance and critical beat warning, which beats passing.
fn worst(statuses: &[&str]) -> &'static str {
    let rank = |s: &str| match s {
        "critical" | "maintenance" => 3,
        "warning" => 2,
        "passing" => 1,
        _ => 0,
    };
    match statuses.iter().map(|s| rank(s)).max().unwrap_or(1) {
        3 => "critical",
        2 => "warning",
        _ => "passing",
    }
}

fn text<'v>(v: &'v Value, key: &str) -> &'v str {
    v.get(key).and_then(Value::as_str).unwrap_or_default()
}

/// The table for the `/v1/health/service` answer `entries`.
pub(crate) fn render(entries: &[Value]) -> String {
    let mut lines = vec![columnize::row(&[
        "Node",
        "Address",
        "ServiceID",
        "Port",
        "Status",
        "Checks",
    ])];
    for entry in entries {
        let node = entry.get("Node").unwrap_or(&Value::Null);
        let service = entry.get("Service").unwrap_or(&Value::Null);
        let checks: Vec<&Value> = entry
            .get("Checks")
            .and_then(Value::as_array)
            .map(|c| c.iter().collect())
            .unwrap_or_default();
        let statuses: Vec<&str> = checks.iter().map(|c| text(c, "Status")).collect();
        let address = match text(service, "Address") {
            "" => text(node, "Address"),
            a => a,
        };
        let port = service.get("Port").and_then(Value::as_u64).unwrap_or(0);
        let check_list = checks
            .iter()
            .map(|c| format!("{}={}", text(c, "CheckID"), text(c, "Status")))
            .collect::<Vec<_>>()
            .join(",");
        lines.push(columnize::row(&[
            text(node, "Node"),
            address,
            text(service, "ID"),
            &port.to_string(),
            worst(&statuses),
            &check_list,
        ]));
    }
    columnize::format(&lines)
}

/// Runs the command.
pub(crate) fn run(args: &[String], ui: &mut Ui<'_>) -> i32 {
    let fs = flag_set();
    let Some(f) = flags::parse(&fs, args, ui) else {
        return 1;
    };
    let [service] = f.args.as_slice() else {
        ui.error(&format!(
            "This command takes one argument: SERVICE (got {})",
            f.args.len()
        ));
        return 1;
    };
    let format = f.string("format");
    if format != "pretty" && format != "json" {
        ui.error(&format!(
            "Invalid format {format:?}: must be pretty or json"
        ));
        return 1;
    }
    let Some(client) = common::client(&f, ui) else {
        return 1;
    };
    let mut req = client
        .get(&format!("/v1/health/service/{}", escape_path(service)))
        .query_nonempty("peer", &f.string("peer"))
        .query_nonempty("tag", &f.string("tag"))
        .query_nonempty("filter", &f.string("filter"));
    if f.bool("passing") {
        req = req.query("passing", "1");
    }
    let entries: Vec<Value> = match req.send().and_then(|r| r.json::<Option<Vec<Value>>>()) {
        Ok(entries) => entries.unwrap_or_default(),
        Err(e) => {
            ui.error(&format!("Error listing service health: {e}"));
            return 1;
        }
    };
    if format == "json" {
        ui.output(&gojson::marshal_indent(&entries, "    "));
        return 0;
    }
    if entries.is_empty() {
        ui.error(&format!("No instances of service {service:?} found"));
        return 1;
    }
    ui.output(&render(&entries));
    0
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn status_is_the_worst_check() {
        assert_eq!(worst(&["passing", "warning"]), "warning");
        assert_eq!(worst(&["passing", "maintenance"]), "critical");
        assert_eq!(worst(&["critical", "warning"]), "critical");
        assert_eq!(worst(&[]), "passing");
    }

    #[test]
    fn table_has_one_row_per_instance() {
        let entries = vec![json!({
            "Node": {"Node": "n1", "Address": "10.0.0.1"},
            "Service": {"ID": "web-1", "Service": "web", "Address": "", "Port": 8080},
            "Checks": [
                {"CheckID": "web-1:overall-check", "Status": "critical"}
            ]
        })];
        let out = render(&entries);
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(lines.len(), 2);
        assert!(lines[0].starts_with("Node"));
        assert!(lines[1].contains("n1"));
        assert!(lines[1].contains("10.0.0.1"));
        assert!(lines[1].contains("8080"));
        assert!(lines[1].contains("critical"));
        assert!(lines[1].contains("web-1:overall-check=critical"));
    }
}
