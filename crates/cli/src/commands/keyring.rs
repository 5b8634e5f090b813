//! `consul keyring -list | -list-primary | -install KEY | -use KEY | -remove KEY` (with
//! `-relay-factor` and `-local-only`): the gossip keyring of every member, through
//! `/v1/operator/keyring`, printed as Consul prints it (one block per pool, each key with
//! `[members having it/members]`).

use std::collections::BTreeMap;

use legate_config::goflag::FlagSet;
use serde::Deserialize;

use crate::commands::common;
use crate::flags;
use crate::ui::Ui;

/// One-line description.
pub(crate) const SYNOPSIS: &str = "Manages gossip layer encryption keys";

const USAGE: &str = "Usage: consul keyring [options]

  Manages encryption keys used for gossip messages. Gossip encryption is
  optional. When enabled, this command may be used to examine active encryption
  keys in the cluster, add new keys, and remove old ones. When combined, this
  functionality provides the ability to perform key rotation cluster-wide,
  without disrupting the cluster.

  All operations performed by this command can only be run against server nodes,
  and affect both the LAN and WAN keyrings in lock-step.

  All variations of the keyring command return 0 if all nodes reply and there
  are no errors. If any node fails to reply or reports failure, the exit code
  will be 1.";

const PATH: &str = "/v1/operator/keyring";

fn flag_set() -> FlagSet {
    let mut fs = FlagSet::new("keyring");
    fs.string(
        "install",
        "",
        "Install a new encryption key. This will broadcast the new key to all members in the \
         cluster.",
    )
    .string(
        "use",
        "",
        "Change the primary encryption key, which is used to encrypt messages. The key must \
         already be installed before this operation can succeed.",
    )
    .string(
        "remove",
        "",
        "Remove the given key from the cluster. This operation may only be performed on keys \
         which are not currently the primary key.",
    )
    .bool(
        "list",
        false,
        "List all keys currently in use within the cluster.",
    )
    .bool(
        "list-primary",
        false,
        "List all primary keys currently in use within the cluster.",
    )
    .int(
        "relay-factor",
        0,
        "Setting this to a non-zero value will cause nodes to relay their response to the \
         operation through this many randomly-chosen other nodes in the cluster. The maximum \
         allowed value is 5.",
    )
    .bool(
        "local-only",
        false,
        "Setting this to true will force the keyring query to only hit local servers (no WAN \
         traffic). This flag can only be set for list queries.",
    );
    flags::client_flags(&mut fs);
    fs
}

/// Help text.
pub(crate) fn help() -> String {
    flags::help_text(USAGE, Some(&flag_set()))
}

/// One pool's answer to a list.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub(crate) struct PoolKeys {
    #[serde(rename = "WAN")]
    wan: bool,
    datacenter: String,
    segment: String,
    partition: String,
    messages: BTreeMap<String, String>,
    keys: BTreeMap<String, u64>,
    primary_keys: BTreeMap<String, u64>,
    num_nodes: u64,
}

/// The requested action.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Action {
    List { primary: bool },
    Install(String),
    Use(String),
    Remove(String),
}

/// Picks the single action among the flags, or Consul's error text.
fn action(
    list: bool,
    list_primary: bool,
    install: String,
    use_key: String,
    remove: String,
) -> Result<Action, &'static str> {
    let mut found = Vec::new();
    if list {
        found.push(Action::List { primary: false });
    }
    if list_primary {
        found.push(Action::List { primary: true });
    }
    for (key, make) in [
        (install, Action::Install as fn(String) -> Action),
        (use_key, Action::Use),
        (remove, Action::Remove),
    ] {
        if !key.is_empty() {
            found.push(make(key));
        }
    }
    match found.len() {
        0 => Err(""),
        1 => found.pop().ok_or(""),
        _ => Err("Only a single action is allowed"),
    }
}

/// Runs the command.
pub(crate) fn run(args: &[String], ui: &mut Ui<'_>) -> i32 {
    let fs = flag_set();
    let Some(f) = flags::parse(&fs, args, ui) else {
        return 1;
    };
    let action = match action(
        f.bool("list"),
        f.bool("list-primary"),
        f.string("install"),
        f.string("use"),
        f.string("remove"),
    ) {
        Ok(action) => action,
        Err("") => {
            ui.error(&help());
            return 1;
        }
        Err(e) => {
            ui.error(e);
            return 1;
        }
    };
    let relay = f.int("relay-factor");
    if !(0..=5).contains(&relay) {
        ui.error("Error parsing relay factor: Relay factor must be in range: [0, 5]");
        return 1;
    }
    let local = f.bool("local-only");
    if local && action != (Action::List { primary: false }) {
        ui.error("Error validating local-only: local-only can only be set for list requests");
        return 1;
    }
    let Some(client) = common::client(&f, ui) else {
        return 1;
    };
    let relay = relay.to_string();
    let (info, result) = match action {
        Action::List { primary } => {
            ui.output(if primary {
                "==> Gathering installed primary encryption keys..."
            } else {
                "==> Gathering installed encryption keys..."
            });
            let mut req = with_relay(client.get(PATH), &relay);
            if local {
                req = req.query("local-only", "true");
            }
            match req.send().and_then(|r| r.json::<Vec<PoolKeys>>()) {
                Ok(pools) => {
                    for pool in &pools {
                        let keys = if primary {
                            &pool.primary_keys
                        } else {
                            &pool.keys
                        };
                        ui.output(&format_pool(pool, keys));
                    }
                    return 0;
                }
                Err(e) => ("", Err(e)),
            }
        }
        Action::Install(key) => (
            "==> Installing new gossip encryption key...",
            with_relay(client.post(PATH), &relay)
                .json(&serde_json::json!({ "Key": key }))
                .send(),
        ),
        Action::Use(key) => (
            "==> Changing primary gossip encryption key...",
            with_relay(client.put(PATH), &relay)
                .json(&serde_json::json!({ "Key": key }))
                .send(),
        ),
        Action::Remove(key) => (
            "==> Removing gossip encryption key...",
            with_relay(client.delete(PATH), &relay)
                .json(&serde_json::json!({ "Key": key }))
                .send(),
        ),
    };
    if !info.is_empty() {
        ui.output(info);
    }
    match result {
        Ok(_) => 0,
        Err(e) => {
            ui.error(&format!("error: {e}"));
            1
        }
    }
}

/// Adds `?relay-factor` when it is not the default.
fn with_relay<'a>(req: crate::http::Request<'a>, relay: &str) -> crate::http::Request<'a> {
    if relay == "0" {
        req
    } else {
        req.query("relay-factor", relay)
    }
}

/// One pool's block: a blank line, `dc1 (LAN):`, failure messages, then each key with
/// `[count/members]`.
fn format_pool(pool: &PoolKeys, keys: &BTreeMap<String, u64>) -> String {
    let mut out = String::from("\n");
    out.push_str(&if pool.wan {
        "WAN".to_string()
    } else {
        format!("{} (LAN)", pool.datacenter)
    });
    if !pool.segment.is_empty() {
        out.push_str(&format!(" [{}]", pool.segment));
    } else if !pool.partition.is_empty() && pool.partition != "default" {
        out.push_str(&format!(" [partition: {}]", pool.partition));
    }
    out.push_str(":\n");
    for (from, msg) in &pool.messages {
        out.push_str(&format!("  ===> {from}: {msg}\n"));
    }
    for (key, count) in keys {
        out.push_str(&format!("  {key} [{count}/{}]\n", pool.num_nodes));
    }
    out.trim_end_matches('\n').to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pool(json: &str) -> PoolKeys {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn one_action_at_a_time() {
        let none = || String::new();
        assert_eq!(
            action(true, false, none(), none(), none()),
            Ok(Action::List { primary: false })
        );
        assert_eq!(
            action(false, false, none(), "k".into(), none()),
            Ok(Action::Use("k".into()))
        );
        assert_eq!(action(false, false, none(), none(), none()), Err(""));
        assert_eq!(
            action(true, false, "k".into(), none(), none()),
            Err("Only a single action is allowed")
        );
        assert_eq!(
            action(true, true, none(), none(), none()),
            Err("Only a single action is allowed")
        );
    }

    #[test]
    fn pool_blocks_read_like_consul() {
        let p = pool(
            r#"{"WAN":false,"Datacenter":"dc1","Segment":"","Keys":{"b=":3,"a=":2},"PrimaryKeys":{"b=":3},"NumNodes":3}"#,
        );
        assert_eq!(
            format_pool(&p, &p.keys),
            "\ndc1 (LAN):\n  a= [2/3]\n  b= [3/3]"
        );
        assert_eq!(format_pool(&p, &p.primary_keys), "\ndc1 (LAN):\n  b= [3/3]");
        let p = pool(
            r#"{"WAN":true,"Datacenter":"dc1","Segment":"","Messages":{"n1":"boom"},"Keys":{},"NumNodes":1}"#,
        );
        assert_eq!(format_pool(&p, &p.keys), "\nWAN:\n  ===> n1: boom");
    }
}
