//! `consul catalog nodes [-service] [-detailed] [-node-meta] [-near] [-filter]`: a columnized
//! table `Node ID Address DC` (detailed adds `TaggedAddresses Meta` and the full ID).

use legate_config::goflag::FlagSet;
use serde_json::Value;

use super::map_to_kv;
use super::node_meta_query;
use crate::commands::common;
use crate::flags;
use crate::format::columnize;
use crate::http::escape_path;
use crate::ui::Ui;

/// One-line description.
pub(crate) const SYNOPSIS: &str = "Lists all nodes in the given datacenter";

const USAGE: &str = "Usage: consul catalog nodes [options]

  Retrieves the list nodes registered in a given datacenter. By default, the
  datacenter of the local agent is queried.

  To retrieve the list of nodes:

      $ consul catalog nodes

  To print detailed information including full node IDs, tagged addresses, and
  metadata information:

      $ consul catalog nodes -detailed

  To list nodes which are running a particular service:

      $ consul catalog nodes -service=web

  To filter by node metadata:

      $ consul catalog nodes -node-meta=\"foo=bar\"

  To sort nodes by estimated round-trip time from node-web:

      $ consul catalog nodes -near=node-web

  For a full list of options and examples, please see the Consul documentation.";

fn flag_set() -> FlagSet {
    let mut fs = flags::api_flag_set("catalog nodes");
    fs.string("filter", "", "Filter to use with the request")
        .bool(
            "detailed",
            false,
            "Output detailed information about the nodes including their addresses and metadata.",
        )
        .string(
            "near",
            "",
            "Node name to sort the node list by estimated round-trip time.",
        )
        .strings(
            "node-meta",
            "Metadata to filter nodes with the given `key=value` pairs.",
        )
        .string("service", "", "Service `id or name` to filter nodes.");
    fs
}

/// Help text.
pub(crate) fn help() -> String {
    flags::help_text(USAGE, Some(&flag_set()))
}

fn text(v: &Value, key: &str) -> String {
    v.get(key)
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string()
}

/// The table for `nodes` (catalog node objects).
pub(crate) fn render(nodes: &[Value], detailed: bool) -> String {
    let mut lines = Vec::with_capacity(nodes.len() + 1);
    if detailed {
        lines.push(columnize::row(&[
            "Node",
            "ID",
            "Address",
            "DC",
            "TaggedAddresses",
            "Meta",
        ]));
    } else {
        lines.push(columnize::row(&["Node", "ID", "Address", "DC"]));
    }
    for node in nodes {
        let id = text(node, "ID");
        if detailed {
            lines.push(columnize::row(&[
                text(node, "Node"),
                id,
                text(node, "Address"),
                text(node, "Datacenter"),
                map_to_kv(node.get("TaggedAddresses"), ", "),
                map_to_kv(node.get("Meta"), ", "),
            ]));
        } else {
            let short = match id.find('-') {
                Some(idx) if idx > 0 => id[..idx].to_string(),
                _ => id,
            };
            lines.push(columnize::row(&[
                text(node, "Node"),
                short,
                text(node, "Address"),
                text(node, "Datacenter"),
            ]));
        }
    }
    columnize::format(&lines)
}

/// Maps a `catalog/service` entry to the node fields the table shows.
fn service_entry_to_node(entry: &Value) -> Value {
    serde_json::json!({
        "ID": entry.get("ID").cloned().unwrap_or(Value::Null),
        "Node": entry.get("Node").cloned().unwrap_or(Value::Null),
        "Address": entry.get("Address").cloned().unwrap_or(Value::Null),
        "Datacenter": entry.get("Datacenter").cloned().unwrap_or(Value::Null),
        "TaggedAddresses": entry.get("TaggedAddresses").cloned().unwrap_or(Value::Null),
        "Meta": entry.get("NodeMeta").cloned().unwrap_or(Value::Null),
    })
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
    let mut filter = f.string("filter");
    if !filter.is_empty() {
        match common::load_data_source(&filter, ui) {
            Ok(d) => filter = String::from_utf8_lossy(&d).into_owned(),
            Err(e) => {
                ui.error(&format!("Could not process filter argument: {e}"));
                return 1;
            }
        }
    }
    let service = f.string("service");
    let meta = f.strings("node-meta");
    let nodes: Vec<Value> = if service.is_empty() {
        let req = client
            .get("/v1/catalog/nodes")
            .query_nonempty("near", &f.string("near"))
            .query_nonempty("filter", &filter);
        match node_meta_query(req, &meta)
            .send()
            .and_then(|r| r.json::<Option<Vec<Value>>>())
        {
            Ok(n) => n.unwrap_or_default(),
            Err(e) => {
                ui.error(&format!("Error listing nodes: {e}"));
                return 1;
            }
        }
    } else {
        let req = client
            .get(&format!("/v1/catalog/service/{}", escape_path(&service)))
            .query_nonempty("near", &f.string("near"))
            .query_nonempty("filter", &filter);
        match node_meta_query(req, &meta)
            .send()
            .and_then(|r| r.json::<Option<Vec<Value>>>())
        {
            Ok(s) => s
                .unwrap_or_default()
                .iter()
                .map(service_entry_to_node)
                .collect(),
            Err(e) => {
                ui.error(&format!("Error listing nodes for service: {e}"));
                return 1;
            }
        }
    };
    if nodes.is_empty() {
        ui.error("No nodes match the given query - try expanding your search.");
        return 0;
    }
    ui.output(&render(&nodes, f.bool("detailed")));
    0
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn short_table_truncates_id() {
        let nodes = vec![json!({
            "ID": "6e5f1c2a-1111-2222-3333-444455556666",
            "Node": "node1",
            "Address": "127.0.0.1",
            "Datacenter": "dc1"
        })];
        assert_eq!(
            render(&nodes, false),
            "Node   ID        Address    DC\nnode1  6e5f1c2a  127.0.0.1  dc1"
        );
    }

    #[test]
    fn detailed_table_lists_tagged_addresses_and_meta() {
        let nodes = vec![json!({
            "ID": "abc-def",
            "Node": "n",
            "Address": "10.0.0.1",
            "Datacenter": "dc1",
            "TaggedAddresses": {"wan": "1.2.3.4", "lan": "10.0.0.1"},
            "Meta": {"consul-network-segment": ""}
        })];
        let out = render(&nodes, true);
        assert!(out.starts_with("Node  ID       Address   DC   TaggedAddresses"));
        assert!(out.ends_with("lan=10.0.0.1, wan=1.2.3.4  consul-network-segment="));
    }
}
