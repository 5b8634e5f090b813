//! `consul catalog …`: read-only views of the catalog.

pub(crate) mod datacenters;
pub(crate) mod nodes;
pub(crate) mod services;

/// One-line description.
pub(crate) const SYNOPSIS: &str = "Interact with the catalog";

/// Help text.
pub(crate) fn help() -> String {
    "Usage: consul catalog <subcommand> [options] [args]\n\n  \
     This command has subcommands for interacting with Consul's catalog. The\n  \
     catalog should not be confused with the agent, although the APIs and\n  \
     responses may be similar.\n\n  \
     List all datacenters:\n\n      $ consul catalog datacenters\n\n  \
     List all nodes:\n\n      $ consul catalog nodes\n\n  \
     List all services:\n\n      $ consul catalog services\n\n  \
     For more examples, ask for subcommand help or view the documentation."
        .to_string()
}

/// Consul's `mapToKV`: `k=v` pairs sorted by key, joined with `joiner`.
pub(crate) fn map_to_kv(map: Option<&serde_json::Value>, joiner: &str) -> String {
    let Some(obj) = map.and_then(|m| m.as_object()) else {
        return String::new();
    };
    let mut pairs: Vec<(&String, String)> = obj
        .iter()
        .map(|(k, v)| {
            let text = match v {
                serde_json::Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            (k, text)
        })
        .collect();
    pairs.sort();
    pairs
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join(joiner)
}

/// Adds `node-meta=key:value` query pairs from repeated `-node-meta key=value` flags.
pub(crate) fn node_meta_query<'c>(
    mut req: crate::http::Request<'c>,
    values: &[String],
) -> crate::http::Request<'c> {
    for (k, v) in crate::flags::key_values(values) {
        req = req.query("node-meta", format!("{k}:{v}"));
    }
    req
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn map_to_kv_sorts_keys() {
        let m = json!({"wan": "10.0.0.1", "lan": "127.0.0.1"});
        assert_eq!(map_to_kv(Some(&m), ", "), "lan=127.0.0.1, wan=10.0.0.1");
        assert_eq!(map_to_kv(None, ", "), "");
    }
}
