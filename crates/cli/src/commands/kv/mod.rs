//! `consul kv …`: the key-value store commands, plus the KV entry type and key handling they
//! share.

pub(crate) mod delete;
pub(crate) mod export;
pub(crate) mod get;
pub(crate) mod import;
pub(crate) mod put;

use base64::Engine;
use serde::Deserialize;

use crate::http::escape_path;

/// One-line description.
pub(crate) const SYNOPSIS: &str = "Interact with the key-value store";

/// Help text.
pub(crate) fn help() -> String {
    "Usage: consul kv <subcommand> [options] [args]\n\n  \
     This command has subcommands for interacting with Consul's key-value\n  \
     store. Here are some simple examples, and more detailed examples are\n  \
     available in the subcommands or the documentation.\n\n  \
     Create or update the key named \"redis/config/connections\" with the value \"5\":\n\n      \
     $ consul kv put redis/config/connections 5\n\n  \
     Read this value back:\n\n      \
     $ consul kv get redis/config/connections\n\n  \
     Or get detailed key information:\n\n      \
     $ consul kv get -detailed redis/config/connections\n\n  \
     Finally, delete the key:\n\n      \
     $ consul kv delete redis/config/connections\n\n  \
     For more examples, ask for subcommand help or view the documentation."
        .to_string()
}

/// A KV entry as the agent returns it.
#[derive(Debug, Clone, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct KvPair {
    /// The key.
    pub(crate) key: String,
    /// Raft index of creation.
    #[serde(default)]
    pub(crate) create_index: u64,
    /// Raft index of the last change.
    #[serde(default)]
    pub(crate) modify_index: u64,
    /// Number of times the key was locked.
    #[serde(default)]
    pub(crate) lock_index: u64,
    /// Opaque user flags.
    #[serde(default)]
    pub(crate) flags: u64,
    /// Base64 value (`null` for no value).
    #[serde(default)]
    pub(crate) value: Option<String>,
    /// Holding session, if any.
    #[serde(default)]
    pub(crate) session: Option<String>,
}

impl KvPair {
    /// The decoded value bytes (empty for `null` or undecodable values).
    pub(crate) fn value_bytes(&self) -> Vec<u8> {
        self.value
            .as_deref()
            .and_then(|v| base64::engine::general_purpose::STANDARD.decode(v).ok())
            .unwrap_or_default()
    }
}

/// Strips one leading `/` from a key, as every `consul kv` command does.
pub(crate) fn trim_key(key: &str) -> &str {
    key.strip_prefix('/').unwrap_or(key)
}

/// The escaped `/v1/kv/<key>` path.
pub(crate) fn kv_path(key: &str) -> String {
    format!("/v1/kv/{}", escape_path(trim_key(key)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_agent_entry() {
        let pair: KvPair = serde_json::from_str(
            r#"{"Key":"foo","CreateIndex":5,"ModifyIndex":6,"LockIndex":0,"Flags":3,"Value":"YmFy"}"#,
        )
        .unwrap();
        assert_eq!(pair.value_bytes(), b"bar");
        assert_eq!(pair.flags, 3);
        let null: KvPair = serde_json::from_str(r#"{"Key":"n","Value":null}"#).unwrap();
        assert!(null.value_bytes().is_empty());
    }

    #[test]
    fn paths_strip_one_slash_and_escape() {
        assert_eq!(kv_path("/a b"), "/v1/kv/a%20b");
        assert_eq!(kv_path("x/y"), "/v1/kv/x/y");
    }
}
