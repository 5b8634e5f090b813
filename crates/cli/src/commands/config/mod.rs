//! `consul config …`: centralized configuration entries (`/v1/config`).

pub(crate) mod delete;
pub(crate) mod list;
pub(crate) mod read;
pub(crate) mod write;

use serde_json::Value;

use crate::commands::common;

/// One-line description.
pub(crate) const SYNOPSIS: &str = "Interact with Consul's Centralized Configurations";

/// Help text.
pub(crate) fn help() -> String {
    "Usage: consul config <subcommand> [options] [args]\n\n  \
     This command has subcommands for interacting with Consul's centralized\n  \
     configuration system. Here are some simple examples, and more detailed\n  \
     examples are available in the subcommands or the documentation.\n\n  \
     Write a config:\n\n    $ consul config write web.serviceconf.hcl\n\n  \
     Read a config:\n\n    $ consul config read -kind service-defaults -name web\n\n  \
     List all configs for a type:\n\n    $ consul config list -kind service-defaults\n\n  \
     Delete a config:\n\n    $ consul config delete -kind service-defaults -name web\n\n  \
     For more examples, ask for subcommand help or view the documentation."
        .to_string()
}

/// A decoded config entry: its JSON body plus the kind and name it names.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Entry {
    /// The entry, with top-level `kind`/`name` spelled `Kind`/`Name`.
    pub(crate) body: Value,
    /// `Kind`.
    pub(crate) kind: String,
    /// `Name`.
    pub(crate) name: String,
}

/// Consul's `ParseConfigEntry`: HCL or JSON with a top-level `Kind`/`kind` string.
pub(crate) fn parse_entry(data: &[u8]) -> Result<Entry, String> {
    let text = String::from_utf8_lossy(data);
    let mut body = common::parse_hcl_or_json(&text)
        .map_err(|e| format!("Failed to decode config entry input: {e}"))?;
    let Some(obj) = body.as_object_mut() else {
        return Err("Failed to decode config entry input: expected an object".to_string());
    };
    for (lower, upper) in [("kind", "Kind"), ("name", "Name")] {
        if !obj.contains_key(upper)
            && let Some(v) = obj.remove(lower)
        {
            obj.insert(upper.to_string(), v);
        }
    }
    let kind = match obj.get("Kind") {
        None => return Err("Payload does not contain a kind/Kind key at the top level".to_string()),
        Some(Value::String(k)) => k.clone(),
        Some(_) => return Err("Kind value in payload is not a string".to_string()),
    };
    let name = obj
        .get("Name")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    Ok(Entry { body, kind, name })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn parses_hcl_entry_and_normalises_kind_name() {
        let e = parse_entry(b"kind = \"service-defaults\"\nname = \"web\"\nProtocol = \"http\"\n")
            .unwrap();
        assert_eq!(e.kind, "service-defaults");
        assert_eq!(e.name, "web");
        assert_eq!(
            e.body,
            json!({"Kind": "service-defaults", "Name": "web", "Protocol": "http"})
        );
    }

    #[test]
    fn missing_or_bad_kind() {
        assert_eq!(
            parse_entry(br#"{"Name": "x"}"#).unwrap_err(),
            "Payload does not contain a kind/Kind key at the top level"
        );
        assert_eq!(
            parse_entry(br#"{"Kind": 3}"#).unwrap_err(),
            "Kind value in payload is not a string"
        );
    }
}
