//! `?near=<node>`: results ordered by estimated round-trip time from a node, using the LAN
//! coordinates in the catalog (Consul's `sortNodesByDistanceFrom`). `near=_agent` means the
//! agent that received the request: the forwarding middleware names it in the query before
//! any handler runs or the request is forwarded. Without a coordinate for the source node
//! nothing is sorted; results without a coordinate keep their order after the others.

use std::collections::HashMap;

use axum::extract::Request;
use http::Uri;
use legate_state::StateView;
use legate_vivaldi::Coordinate;

use super::query::QueryOptions;

/// The `near` value meaning "this agent".
const AGENT: &str = "_agent";

/// `items` sorted by estimated RTT from the `?near=` node, nearest first, reading each item's
/// node name with `node_of`; unchanged without `?near=`.
pub(super) fn sorted<T>(
    view: &StateView,
    opts: &QueryOptions,
    items: Vec<T>,
    node_of: impl Fn(&T) -> &str,
) -> Vec<T> {
    let near = opts
        .params
        .get("near")
        .filter(|n| !n.is_empty() && *n != AGENT);
    sort(view, near, items, node_of)
}

/// `items` sorted by estimated RTT from node `near`, nearest first (stable; items without a
/// coordinate last), reading each item's node name with `node_of`. The source node's own
/// items come first: its RTT to itself is zero, although Vivaldi's height and adjustment
/// terms can estimate a neighbour closer than the node itself.
fn sort<T>(
    view: &StateView,
    near: Option<&str>,
    items: Vec<T>,
    node_of: impl Fn(&T) -> &str,
) -> Vec<T> {
    let Some(near) = near else {
        return items;
    };
    let coords = lan_coordinates(view);
    let Some(origin) = coords.get(&near.to_lowercase()) else {
        return items;
    };
    let (mut out, others): (Vec<T>, Vec<T>) = items
        .into_iter()
        .partition(|item| node_of(item).eq_ignore_ascii_case(near));
    let mut keyed: Vec<(Option<&Coordinate>, T)> = others
        .into_iter()
        .map(|item| (coords.get(&node_of(&item).to_lowercase()), item))
        .collect();
    legate_vivaldi::sort_by_distance(origin, &mut keyed, |(coord, _)| *coord);
    out.extend(keyed.into_iter().map(|(_, item)| item));
    out
}

/// Default-segment coordinates by lowercased node name (node names match case-insensitively).
fn lan_coordinates(view: &StateView) -> HashMap<String, Coordinate> {
    view.coordinates()
        .into_iter()
        .filter(|c| c.segment.is_empty())
        .filter_map(|c| {
            let coord: Coordinate = serde_json::from_value(c.coord).ok()?;
            coord.is_valid().then(|| (c.node.to_lowercase(), coord))
        })
        .collect()
}

/// Rewrites `near=_agent` in `request`'s query to `near=<agent_node>`.
pub(super) fn resolve_agent(mut request: Request, agent_node: &str) -> Request {
    let Some(pq) = request.uri().path_and_query() else {
        return request;
    };
    let Some(rewritten) = resolve_agent_in(pq.as_str(), agent_node) else {
        return request;
    };
    let mut parts = request.uri().clone().into_parts();
    if let Ok(pq) = rewritten.parse() {
        parts.path_and_query = Some(pq);
        if let Ok(uri) = Uri::from_parts(parts) {
            *request.uri_mut() = uri;
        }
    }
    request
}

/// The path and query with `near=_agent` replaced, or `None` when it has none.
fn resolve_agent_in(path_and_query: &str, agent_node: &str) -> Option<String> {
    let (path, query) = path_and_query.split_once('?')?;
    if !query.split('&').any(|p| p == "near=_agent") {
        return None;
    }
    let named = format!("near={}", encode_component(agent_node));
    let query: Vec<&str> = query
        .split('&')
        .map(|p| {
            if p == "near=_agent" {
                named.as_str()
            } else {
                p
            }
        })
        .collect();
    Some(format!("{path}?{}", query.join("&")))
}

fn encode_component(text: &str) -> String {
    form_urlencoded::byte_serialize(text.as_bytes()).collect()
}

#[cfg(test)]
mod tests {
    use legate_state::Store;
    use legate_state::command::Command;
    use legate_state::command::RegisterRequest;
    use legate_state::model::Coordinate as Stored;
    use legate_state::model::Node;

    use super::*;
    use crate::http::query::Params;

    fn at(x: f64) -> serde_json::Value {
        let mut c = Coordinate::default();
        c.vec[0] = x;
        serde_json::to_value(c).unwrap()
    }

    /// A store with nodes a..e; a at 0, b at 30 ms, c at 10 ms, d at 20 ms, e without one.
    fn view() -> StateView {
        let store = Store::new();
        let mut index = 0;
        let mut apply = |command: Command| {
            index += 1;
            store.apply(index, command);
        };
        for name in ["a", "b", "c", "d", "e"] {
            apply(Command::Register(RegisterRequest {
                node: Node {
                    node: name.into(),
                    address: "127.0.0.1".into(),
                    ..Node::default()
                },
                skip_node_update: false,
                service: None,
                checks: Vec::new(),
            }));
        }
        let coords = [("a", 0.0), ("B", 0.030), ("c", 0.010), ("d", 0.020)]
            .into_iter()
            .map(|(node, x)| Stored {
                node: node.into(),
                segment: String::new(),
                coord: at(x),
                modify_index: 0,
            })
            .collect();
        apply(Command::CoordinateBatch(coords));
        store.view()
    }

    fn sorted_from(near: Option<&str>) -> Vec<&'static str> {
        sort(&view(), near, vec!["e", "b", "a", "d", "c"], |n| n)
    }

    #[test]
    fn nearest_first_and_unknown_last() {
        assert_eq!(sorted_from(Some("a")), ["a", "c", "d", "b", "e"]);
        assert_eq!(sorted_from(Some("B")), ["b", "d", "c", "a", "e"]);
    }

    #[test]
    fn the_source_node_comes_first_even_when_a_neighbour_estimates_closer() {
        let store = Store::new();
        for (i, name) in ["a", "b"].into_iter().enumerate() {
            store.apply(
                i as u64 + 1,
                Command::Register(RegisterRequest {
                    node: Node {
                        node: name.into(),
                        address: "127.0.0.1".into(),
                        ..Node::default()
                    },
                    skip_node_update: false,
                    service: None,
                    checks: Vec::new(),
                }),
            );
        }
        let a = Coordinate {
            height: 0.010,
            ..Default::default()
        };
        let mut b = Coordinate::default();
        b.vec[0] = 0.001;
        let stored = |node: &str, c: &Coordinate| Stored {
            node: node.into(),
            segment: String::new(),
            coord: serde_json::to_value(c).unwrap(),
            modify_index: 0,
        };
        store.apply(
            3,
            Command::CoordinateBatch(vec![stored("a", &a), stored("b", &b)]),
        );
        // a-a is 20 ms by the formula, a-b about 11 ms; a still comes first.
        assert!(a.distance_to(&b) < a.distance_to(&a));
        assert_eq!(
            sort(&store.view(), Some("A"), vec!["b", "a"], |n| n),
            ["a", "b"]
        );
    }

    #[test]
    fn no_source_or_unknown_source_keeps_the_order() {
        assert_eq!(sorted_from(None), ["e", "b", "a", "d", "c"]);
        assert_eq!(sorted_from(Some("e")), ["e", "b", "a", "d", "c"]);
        assert_eq!(sorted_from(Some("ghost")), ["e", "b", "a", "d", "c"]);
    }

    #[test]
    fn sorted_reads_the_near_parameter() {
        let opts = |q: &str| QueryOptions::parse(Params::parse(Some(q)), "dc1").unwrap();
        let nodes = || vec!["e", "b", "a", "d", "c"];
        let view = view();
        assert_eq!(
            sorted(&view, &opts("near=c"), nodes(), |n| n),
            ["c", "a", "d", "b", "e"]
        );
        for unsorted in ["near=", "near=_agent", "stale"] {
            assert_eq!(sorted(&view, &opts(unsorted), nodes(), |n| n), nodes());
        }
    }

    #[test]
    fn the_agent_is_named_in_the_query() {
        let rewrite = |pq: &str| {
            let request = Request::builder()
                .uri(pq)
                .body(axum::body::Body::empty())
                .unwrap();
            resolve_agent(request, "c 1").uri().to_string()
        };
        assert_eq!(
            rewrite("/v1/catalog/nodes?near=_agent&stale"),
            "/v1/catalog/nodes?near=c+1&stale"
        );
        assert_eq!(
            rewrite("/v1/catalog/nodes?near=s1"),
            "/v1/catalog/nodes?near=s1"
        );
        assert_eq!(rewrite("/v1/catalog/nodes"), "/v1/catalog/nodes");
    }
}
