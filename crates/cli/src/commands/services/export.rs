//! `consul services export -name S -consumer-peers a,b`: add the peers as consumers of service
//! `S` in the `exported-services` config entry named `default` — read, modify, write back with
//! check-and-set, so a concurrent change is reported rather than lost. Exporting again is a
//! no-op. `services unexport` ([`super::unexport`]) reuses the read and the write.

use legate_config::goflag::FlagSet;
use serde_json::Value;
use serde_json::json;

use crate::commands::common;
use crate::flags;
use crate::http::Client;
use crate::ui::Ui;

/// One-line description.
pub(crate) const SYNOPSIS: &str = "Export a service from one peer or admin partition to another";

const USAGE: &str = "Usage: consul services export [options] -name <service name> -consumer-peers <other cluster name>

  Export a service to a peered cluster.

      $ consul services export -name=web -consumer-peers=other-cluster

  Use the -consumer-partitions flag instead of -consumer-peers to export to a different partition in the same cluster.

      $ consul services export -name=web -consumer-partitions=other-partition

  Additional flags and more advanced use cases are detailed below.";

fn flag_set() -> FlagSet {
    let mut fs = flags::api_flag_set("services export");
    fs.string(
        "name",
        "",
        "(Required) Specify the name of the service you want to export.",
    )
    .string(
        "consumer-peers",
        "",
        "(Required) A comma-separated list of cluster peers to export the service to. In Consul \
         Enterprise, this flag is optional if -consumer-partitions is specified.",
    )
    .string(
        "consumer-partitions",
        "",
        "(Enterprise only) A comma-separated list of admin partitions within the same \
         datacenter to export the service to. This flag is optional if -consumer-peers is \
         specified.",
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
    let Some(target) = Target::from_flags(&f, ui) else {
        return 1;
    };
    let Some(client) = common::client(&f, ui) else {
        return 1;
    };
    let entry = match read_entry(&client) {
        Ok(entry) => entry,
        Err(e) => {
            ui.error(&e);
            return 1;
        }
    };
    let entry = add_consumers(entry, &target);
    if let Err(e) = write_entry(&client, &entry) {
        ui.error(&e);
        return 1;
    }
    let (peers, partitions) = (&target.peers_flag, &target.partitions_flag);
    ui.output(&match (peers.is_empty(), partitions.is_empty()) {
        (false, false) => format!(
            "Successfully exported service {:?} to cluster peers {peers:?} and to partitions {partitions:?}",
            target.service
        ),
        (false, true) => format!(
            "Successfully exported service {:?} to cluster peers {peers:?}",
            target.service
        ),
        _ => format!(
            "Successfully exported service {:?} to partitions {partitions:?}",
            target.service
        ),
    });
    0
}

/// The service and consumers named by the flags.
pub(crate) struct Target {
    /// `-name`.
    pub(crate) service: String,
    /// `-namespace` (empty in CE).
    pub(crate) namespace: String,
    /// `-consumer-peers`, split.
    pub(crate) peers: Vec<String>,
    /// `-consumer-partitions`, split.
    pub(crate) partitions: Vec<String>,
    /// `-consumer-peers` as given.
    pub(crate) peers_flag: String,
    /// `-consumer-partitions` as given.
    pub(crate) partitions_flag: String,
}

impl Target {
    /// Validate the flags with Consul's texts (printed on failure).
    pub(crate) fn from_flags(f: &legate_config::goflag::Flags, ui: &mut Ui<'_>) -> Option<Target> {
        let service = f.string("name");
        if service.is_empty() {
            ui.error("Missing the required -name flag");
            return None;
        }
        let (peers_flag, partitions_flag) =
            (f.string("consumer-peers"), f.string("consumer-partitions"));
        if peers_flag.is_empty() && partitions_flag.is_empty() {
            ui.error("Missing the required -consumer-peers or -consumer-partitions flag");
            return None;
        }
        let split = |list: &str, what: &str, ui: &mut Ui<'_>| -> Option<Vec<String>> {
            if list.is_empty() {
                return Some(Vec::new());
            }
            let items: Vec<String> = list.split(',').map(str::to_string).collect();
            if items.iter().any(String::is_empty) {
                ui.error(&format!("Invalid {what} \"\""));
                return None;
            }
            Some(items)
        };
        let peers = split(&peers_flag, "peer", ui)?;
        let partitions = split(&partitions_flag, "partition", ui)?;
        Some(Target {
            service,
            namespace: f.string("namespace"),
            peers,
            partitions,
            peers_flag,
            partitions_flag,
        })
    }
}

/// The `exported-services/default` entry, or a new empty one (ModifyIndex 0) when none exists.
pub(crate) fn read_entry(client: &Client) -> Result<Value, String> {
    match client
        .get("/v1/config/exported-services/default")
        .send_optional()
    {
        Ok(Some(r)) => r
            .json::<Value>()
            .map_err(|e| format!("Error reading config entry exported-services/default: {e}")),
        Ok(None) => Ok(json!({"Kind": "exported-services", "Name": "default", "Services": []})),
        Err(e) => Err(format!(
            "Error reading config entry exported-services/default: {e}"
        )),
    }
}

/// Write `entry` back only if nobody changed it since it was read (`?cas=<ModifyIndex>`).
pub(crate) fn write_entry(client: &Client, entry: &Value) -> Result<(), String> {
    let index = entry["ModifyIndex"].as_u64().unwrap_or(0);
    let written = client
        .put("/v1/config")
        .query("cas", index.to_string())
        .json(entry)
        .send()
        .and_then(|r| r.json::<bool>())
        .map_err(|e| format!("Error writing config entry: {e}"))?;
    if !written {
        return Err("Config entry was changed during update. Please try again".to_string());
    }
    Ok(())
}

/// Add each target consumer the service lacks (adding the service when absent).
pub(crate) fn add_consumers(mut entry: Value, target: &Target) -> Value {
    let wanted: Vec<(&str, &String)> = target
        .peers
        .iter()
        .map(|p| ("Peer", p))
        .chain(target.partitions.iter().map(|p| ("Partition", p)))
        .collect();
    with_list(&mut entry, "Services", |services| {
        match services.iter_mut().find(|s| is_target(s, target)) {
            Some(service) => with_list(service, "Consumers", |consumers| {
                for (key, name) in &wanted {
                    let present = consumers.iter().any(|c| {
                        common::field(c, key).and_then(Value::as_str) == Some(name.as_str())
                    });
                    if !present {
                        consumers.push(json!({ *key: name }));
                    }
                }
            }),
            None => {
                let consumers: Vec<Value> = wanted
                    .iter()
                    .map(|(key, name)| json!({ *key: name }))
                    .collect();
                let mut service = json!({ "Name": target.service, "Consumers": consumers });
                if !target.namespace.is_empty() {
                    service["Namespace"] = json!(target.namespace);
                }
                services.push(service);
            }
        }
    });
    entry
}

/// Whether an entry's service is the target (same name and namespace).
pub(crate) fn is_target(service: &Value, target: &Target) -> bool {
    common::field_str(service, "Name") == target.service
        && common::field_str(service, "Namespace") == target.namespace
}

/// Run `f` on the list `value[key]` (empty when missing or `null`) and store it back; a
/// non-object `value` is left alone.
pub(crate) fn with_list(value: &mut Value, key: &str, f: impl FnOnce(&mut Vec<Value>)) {
    let Some(object) = value.as_object_mut() else {
        return;
    };
    let mut list = match object.remove(key) {
        Some(Value::Array(list)) => list,
        _ => Vec::new(),
    };
    f(&mut list);
    object.insert(key.to_string(), Value::Array(list));
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target(peers: &[&str]) -> Target {
        Target {
            service: "web".into(),
            namespace: String::new(),
            peers: peers.iter().map(|s| s.to_string()).collect(),
            partitions: Vec::new(),
            peers_flag: peers.join(","),
            partitions_flag: String::new(),
        }
    }

    #[test]
    fn export_adds_missing_consumers_only() {
        let entry = json!({"Kind": "exported-services", "Name": "default", "Services": null});
        let once = add_consumers(entry, &target(&["a", "b"]));
        assert_eq!(
            once["Services"],
            json!([{"Name": "web", "Consumers": [{"Peer": "a"}, {"Peer": "b"}]}])
        );
        let twice = add_consumers(once.clone(), &target(&["b", "c"]));
        assert_eq!(
            twice["Services"][0]["Consumers"],
            json!([{"Peer": "a"}, {"Peer": "b"}, {"Peer": "c"}])
        );
        assert_eq!(add_consumers(twice.clone(), &target(&["a"])), twice);
    }
}
