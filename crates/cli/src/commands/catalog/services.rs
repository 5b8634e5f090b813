//! `consul catalog services [-node] [-tags] [-node-meta]`: service names, sorted, optionally
//! with their tags in a tab-aligned column.

use std::collections::BTreeMap;

use legate_config::goflag::FlagSet;
use serde_json::Value;

use super::node_meta_query;
use crate::commands::common;
use crate::flags;
use crate::format::tabwriter;
use crate::http::escape_path;
use crate::ui::Ui;

/// One-line description.
pub(crate) const SYNOPSIS: &str = "Lists all registered services in a datacenter";

const USAGE: &str = "Usage: consul catalog services [options]

  Retrieves the list services registered in a given datacenter. By default, the
  datacenter of the local agent is queried.

  To retrieve the list of services:

      $ consul catalog services

  To include the services' tags in the output:

      $ consul catalog services -tags

  To list services which run on a particular node:

      $ consul catalog services -node=web

  To list the services imported from a cluster peer:

      $ consul catalog services -peer=dc2

  To filter services on node metadata:

      $ consul catalog services -node-meta=\"foo=bar\"

  For a full list of options and examples, please see the Consul documentation.";

fn flag_set() -> FlagSet {
    let mut fs = flags::api_flag_set("catalog services");
    fs.string("node", "", "Node `id or name` for which to list services.")
        .strings(
            "node-meta",
            "Metadata to filter nodes with the given `key=value` pairs.",
        )
        .bool(
            "tags",
            false,
            "Display each service's tags as a comma-separated list beside each service entry.",
        )
        .string("filter", "", "Filter to use with the request")
        .string("peer", "", "Specifies the name of peer to query.");
    fs
}

/// Help text.
pub(crate) fn help() -> String {
    flags::help_text(USAGE, Some(&flag_set()))
}

/// The listing for `services` (name → tags), as Consul prints it.
pub(crate) fn render(services: &BTreeMap<String, Vec<String>>, tags: bool) -> String {
    if !tags {
        return services.keys().cloned().collect::<Vec<_>>().join("\n");
    }
    let mut text = String::new();
    for (name, t) in services {
        let mut t = t.clone();
        t.sort();
        text.push_str(&format!("{name}\t{}\n", t.join(",")));
    }
    tabwriter::format(&text, 6).trim().to_string()
}

fn tags_of(v: &Value) -> Vec<String> {
    v.as_array()
        .map(|a| {
            a.iter()
                .filter_map(|t| t.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

/// Runs the command.
pub(crate) fn run(args: &[String], ui: &mut Ui<'_>) -> i32 {
    let fs = flag_set();
    let Some(f) = flags::parse(&fs, args, ui) else {
        return 1;
    };
    if !f.args.is_empty() {
        ui.error(&format!(
            "Too many arguments (expected 0, got {})",
            f.args.len()
        ));
        return 1;
    }
    let Some(client) = common::client(&f, ui) else {
        return 1;
    };
    let node = f.string("node");
    let meta = f.strings("node-meta");
    let mut services: BTreeMap<String, Vec<String>> = BTreeMap::new();
    if !node.is_empty() {
        let req = client
            .get(&format!("/v1/catalog/node/{}", escape_path(&node)))
            .query_nonempty("peer", &f.string("peer"));
        let resp = node_meta_query(req, &meta).send_optional();
        let body: Option<Value> = match resp.and_then(|r| r.map(|r| r.json()).transpose()) {
            Ok(v) => v,
            Err(e) => {
                ui.error(&format!("Error listing services for node: {e}"));
                return 1;
            }
        };
        if let Some(map) = body
            .as_ref()
            .and_then(|b| b.get("Services"))
            .and_then(Value::as_object)
        {
            for svc in map.values() {
                let name = svc
                    .get("Service")
                    .and_then(Value::as_str)
                    .unwrap_or_default();
                services
                    .entry(name.to_string())
                    .or_default()
                    .extend(tags_of(svc.get("Tags").unwrap_or(&Value::Null)));
            }
        }
    } else {
        let req = client
            .get("/v1/catalog/services")
            .query_nonempty("filter", &f.string("filter"))
            .query_nonempty("peer", &f.string("peer"));
        match node_meta_query(req, &meta)
            .send()
            .and_then(|r| r.json::<Option<BTreeMap<String, Value>>>())
        {
            Ok(map) => {
                for (name, tags) in map.unwrap_or_default() {
                    services.insert(name, tags_of(&tags));
                }
            }
            Err(e) => {
                ui.error(&format!("Error listing services: {e}"));
                return 1;
            }
        }
    }
    if services.is_empty() {
        ui.error("No services match the given query - try expanding your search.");
        return 0;
    }
    ui.output(&render(&services, f.bool("tags")));
    0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> BTreeMap<String, Vec<String>> {
        let mut m = BTreeMap::new();
        m.insert("consul".to_string(), vec![]);
        m.insert(
            "redis".to_string(),
            vec!["v2".to_string(), "primary".to_string()],
        );
        m
    }

    #[test]
    fn plain_listing_is_sorted_names() {
        assert_eq!(render(&sample(), false), "consul\nredis");
    }

    #[test]
    fn tags_listing_is_aligned_and_sorted() {
        assert_eq!(
            render(&sample(), true),
            "consul      \nredis       primary,v2"
        );
    }
}
