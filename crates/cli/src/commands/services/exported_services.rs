//! `consul services exported-services [-format pretty|json] [-consumerPeer P]
//! [-consumerPartition Q]`: `GET /v1/exported-services` as a `Service  Consumer` table, one row
//! per consumer (`Peer: p` / `Partition: q`).

use legate_config::goflag::FlagSet;
use serde_json::Value;

use crate::commands::common;
use crate::flags;
use crate::format::columnize;
use crate::format::gojson;
use crate::ui::Ui;

/// One-line description.
pub(crate) const SYNOPSIS: &str = "Lists exported services";

const USAGE: &str = "Usage: consul services exported-services [options]

  Lists all the exported services and their consumers. Wildcards and sameness groups(Enterprise) are expanded.

  Example:

    $ consul services exported-services";

fn flag_set() -> FlagSet {
    let mut fs = flags::api_flag_set("services exported-services");
    fs.string(
        "format",
        "pretty",
        "Output format {pretty|json} (default: pretty)",
    )
    .string(
        "consumerPeer",
        "",
        "If provided, output is filtered to only services which have the consumer peer",
    )
    .string(
        "consumerPartition",
        "",
        "If provided, output is filtered to only services which have the consumer partition",
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
    let format = f.string("format");
    if format != "pretty" && format != "json" {
        ui.error("Invalid format, valid formats are {pretty|json}");
        return 1;
    }
    let Some(client) = common::client(&f, ui) else {
        return 1;
    };
    let services = match client
        .get("/v1/exported-services")
        .query_nonempty("partition", &f.string("partition"))
        .send()
        .and_then(|r| r.json::<Option<Vec<Value>>>())
    {
        Ok(s) => s.unwrap_or_default(),
        Err(e) => {
            ui.error(&format!("Error reading exported services: {e}"));
            return 1;
        }
    };
    let services = filter(
        services,
        &f.string("consumerPeer"),
        &f.string("consumerPartition"),
    );
    if services.is_empty() {
        ui.output("No exported services found");
        return 0;
    }
    if format == "json" {
        ui.output(&gojson::marshal_indent(&services, "    "));
    } else {
        ui.output(&table(&services));
    }
    0
}

/// Consul's filter: with a consumer peer or partition given, keep only services exported to
/// it, showing only that consumer.
fn filter(services: Vec<Value>, peer: &str, partition: &str) -> Vec<Value> {
    if peer.is_empty() && partition.is_empty() {
        return services;
    }
    let has = |s: &Value, key: &str, want: &str| {
        !want.is_empty()
            && s["Consumers"][key]
                .as_array()
                .is_some_and(|l| l.iter().any(|v| v.as_str() == Some(want)))
    };
    services
        .into_iter()
        .filter_map(|s| {
            let (by_partition, by_peer) =
                (has(&s, "Partitions", partition), has(&s, "Peers", peer));
            if !by_partition && !by_peer {
                return None;
            }
            let mut consumers = serde_json::Map::new();
            if by_peer {
                consumers.insert("Peers".into(), serde_json::json!([peer]));
            }
            if by_partition {
                consumers.insert("Partitions".into(), serde_json::json!([partition]));
            }
            let mut out = s;
            out["Consumers"] = Value::Object(consumers);
            Some(out)
        })
        .collect()
}

fn table(services: &[Value]) -> String {
    let mut lines = vec![columnize::row(&["Service", "Consumer"])];
    for s in services {
        let name = common::field_str(s, "Service");
        let list = |key: &str| -> Vec<String> {
            s["Consumers"][key]
                .as_array()
                .map(|l| {
                    l.iter()
                        .filter_map(Value::as_str)
                        .map(str::to_string)
                        .collect()
                })
                .unwrap_or_default()
        };
        for peer in list("Peers") {
            lines.push(columnize::row(&[name.clone(), format!("Peer: {peer}")]));
        }
        for partition in list("Partitions") {
            lines.push(columnize::row(&[
                name.clone(),
                format!("Partition: {partition}"),
            ]));
        }
    }
    columnize::format(&lines)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn table_and_filter() {
        let services = vec![
            json!({"Service": "api", "Consumers": {"Peers": ["a", "b"]}}),
            json!({"Service": "web", "Consumers": {"Peers": ["b"]}}),
        ];
        assert_eq!(
            table(&services),
            "Service  Consumer\napi      Peer: a\napi      Peer: b\nweb      Peer: b"
        );
        let only_a = filter(services.clone(), "a", "");
        assert_eq!(
            only_a,
            vec![json!({"Service": "api", "Consumers": {"Peers": ["a"]}})]
        );
        assert_eq!(filter(services.clone(), "", "").len(), 2);
        assert!(filter(services, "zz", "").is_empty());
    }
}
