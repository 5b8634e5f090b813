//! `consul rtt [-wan] node1 [node2]`: the estimated round-trip time between two nodes from
//! their LAN network coordinates (`/v1/coordinate/nodes`). The second node defaults to the
//! agent's own. WAN coordinates need a WAN pool, which Legate does not have yet.

use std::collections::BTreeMap;

use legate_config::goflag::FlagSet;
use legate_vivaldi::Coordinate;
use serde::Deserialize;

use crate::commands::common;
use crate::flags;
use crate::ui::Ui;

/// One-line description.
pub(crate) const SYNOPSIS: &str = "Estimates network round trip time between nodes";

const USAGE: &str = "Usage: consul rtt [options] node1 [node2]

  Estimates the round trip time between two nodes using Consul's network
  coordinate model of the cluster.

  At least one node name is required. If the second node name isn't given, it
  is set to the agent's node name. Note that these are node names as known to
  Consul as the \"consul members\" command would show, not IP addresses.

  By default, the two nodes are assumed to be nodes in the local datacenter
  and the LAN coordinates are used. If the -wan option is given, then the WAN
  coordinates are used, and the node names must be suffixed by a period and
  the datacenter (eg. \"myserver.dc1\").

  It is not possible to measure between LAN coordinates and WAN coordinates
  because they are maintained by independent Serf gossip areas, so they are
  not compatible.";

fn flag_set() -> FlagSet {
    let mut fs = FlagSet::new("rtt");
    fs.bool(
        "wan",
        false,
        "Use WAN coordinates instead of LAN coordinates.",
    );
    flags::client_flags(&mut fs);
    fs
}

/// Help text.
pub(crate) fn help() -> String {
    flags::help_text(USAGE, Some(&flag_set()))
}

/// One entry of `/v1/coordinate/nodes`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Entry {
    node: String,
    #[serde(default)]
    segment: String,
    coord: Option<Coordinate>,
}

/// Runs the command.
pub(crate) fn run(args: &[String], ui: &mut Ui<'_>) -> i32 {
    let fs = flag_set();
    let Some(f) = flags::parse(&fs, args, ui) else {
        return 1;
    };
    let mut nodes = f.args.clone();
    if nodes.is_empty() || nodes.len() > 2 {
        ui.error("One or two node names must be specified");
        ui.error("");
        ui.error(&help());
        return 1;
    }
    if f.bool("wan") {
        ui.error("WAN coordinates are not supported yet: this Legate datacenter has no WAN gossip pool; use LAN node names without -wan");
        return 1;
    }
    let Some(client) = common::client(&f, ui) else {
        return 1;
    };
    if nodes.len() < 2 {
        match client.node_name() {
            Ok(name) => nodes.push(name),
            Err(e) => {
                ui.error(&format!("Unable to look up agent info: {e}"));
                return 1;
            }
        }
    }
    let entries: Vec<Entry> = match client
        .get("/v1/coordinate/nodes")
        .send()
        .and_then(|r| r.json())
    {
        Ok(entries) => entries,
        Err(e) => {
            ui.error(&format!("Error getting coordinates: {e}"));
            return 1;
        }
    };
    match estimate(&entries, &nodes[0], &nodes[1]) {
        Ok(ms) => {
            ui.output(&format!(
                "Estimated {} <-> {} rtt: {ms:.3} ms (using LAN coordinates)",
                nodes[0], nodes[1]
            ));
            0
        }
        Err(missing) => {
            ui.error(&format!("Could not find a coordinate for node {missing:?}"));
            1
        }
    }
}

/// The estimated RTT in milliseconds between `a` and `b` from coordinates in a common
/// segment; `Err` names the node lacking one.
fn estimate(entries: &[Entry], a: &str, b: &str) -> Result<f64, String> {
    let by_segment = |node: &str| -> BTreeMap<&str, &Coordinate> {
        entries
            .iter()
            .filter(|e| e.node.eq_ignore_ascii_case(node))
            .filter_map(|e| e.coord.as_ref().map(|c| (e.segment.as_str(), c)))
            .collect()
    };
    let (ca, cb) = (by_segment(a), by_segment(b));
    let common = ca
        .iter()
        .find_map(|(segment, coord)| cb.get(segment).map(|other| (*coord, *other)));
    match common {
        Some((x, y)) => Ok(x.distance_to(y).as_secs_f64() * 1000.0),
        None if ca.is_empty() => Err(a.to_string()),
        None => Err(b.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entries() -> Vec<Entry> {
        let text = r#"[
            {"Node": "n1", "Segment": "", "Coord": {"Vec": [0,0,0,0,0,0,0,0], "Error": 1.5, "Adjustment": 0, "Height": 0.00001}},
            {"Node": "N2", "Segment": "", "Coord": {"Vec": [0.123,0,0,0,0,0,0,0], "Error": 1.5, "Adjustment": 0, "Height": 0.00001}},
            {"Node": "n3", "Segment": "alpha", "Coord": {"Vec": [0,0,0,0,0,0,0,0], "Error": 1.5, "Adjustment": 0, "Height": 0.00001}}
        ]"#;
        serde_json::from_str(text).unwrap()
    }

    #[test]
    fn estimates_between_known_nodes_case_insensitively() {
        let ms = estimate(&entries(), "n1", "n2").unwrap();
        assert_eq!(format!("{ms:.3}"), "123.020");
        assert_eq!(
            format!("{:.3}", estimate(&entries(), "n1", "n1").unwrap()),
            "0.020"
        );
    }

    #[test]
    fn names_the_node_without_a_coordinate() {
        assert_eq!(estimate(&entries(), "ghost", "n1"), Err("ghost".into()));
        assert_eq!(estimate(&entries(), "n1", "ghost"), Err("ghost".into()));
        // Coordinates in different segments are not comparable.
        assert_eq!(estimate(&entries(), "n1", "n3"), Err("n3".into()));
    }

    #[test]
    fn argument_errors() {
        let mut out = Vec::new();
        let mut err = Vec::new();
        let mut stdin: &[u8] = &[];
        let mut ui = Ui::new(&mut out, &mut err, &mut stdin);
        assert_eq!(run(&[], &mut ui), 1);
        assert_eq!(run(&["-wan".into(), "a.dc1".into()], &mut ui), 1);
        let err = String::from_utf8(err).unwrap();
        assert!(
            err.starts_with("One or two node names must be specified"),
            "{err}"
        );
        assert!(
            err.contains("WAN coordinates are not supported yet"),
            "{err}"
        );
    }
}
