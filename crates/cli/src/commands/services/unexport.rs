//! `consul services unexport -name S -consumer-peers a,b`: remove those consumers of service
//! `S` from the `exported-services/default` config entry (the service goes when it has no
//! consumer left), with the same read-modify-CAS as [`super::export`]. Unexporting what is not
//! exported is a no-op.

use legate_config::goflag::FlagSet;
use serde_json::Value;

use super::export::Target;
use crate::commands::common;
use crate::flags;
use crate::ui::Ui;

/// One-line description.
pub(crate) const SYNOPSIS: &str = "Unexport a service from peers or admin partitions";

const USAGE: &str = "Usage: consul services unexport [options] -name <service name> -consumer-peers <other cluster name>

  Stop exporting a service to a peered cluster.

      $ consul services unexport -name=web -consumer-peers=other-cluster

  Use the -consumer-partitions flag instead of -consumer-peers to stop exporting to a different partition in the same cluster.

      $ consul services unexport -name=web -consumer-partitions=other-partition";

fn flag_set() -> FlagSet {
    let mut fs = flags::api_flag_set("services unexport");
    fs.string(
        "name",
        "",
        "(Required) Specify the name of the service you want to unexport.",
    )
    .string(
        "consumer-peers",
        "",
        "A comma-separated list of cluster peers to stop exporting the service to.",
    )
    .string(
        "consumer-partitions",
        "",
        "(Enterprise only) A comma-separated list of admin partitions to stop exporting the \
         service to.",
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
    let entry = match super::export::read_entry(&client) {
        Ok(entry) => entry,
        Err(e) => {
            ui.error(&e);
            return 1;
        }
    };
    let (entry, changed) = remove_consumers(entry, &target);
    if changed && let Err(e) = super::export::write_entry(&client, &entry) {
        ui.error(&e);
        return 1;
    }
    let (peers, partitions) = (&target.peers_flag, &target.partitions_flag);
    ui.output(&match (peers.is_empty(), partitions.is_empty()) {
        (false, false) => format!(
            "Successfully unexported service {:?} from cluster peers {peers:?} and from partitions {partitions:?}",
            target.service
        ),
        (false, true) => format!(
            "Successfully unexported service {:?} from cluster peers {peers:?}",
            target.service
        ),
        _ => format!(
            "Successfully unexported service {:?} from partitions {partitions:?}",
            target.service
        ),
    });
    0
}

/// Drop the target consumers from the target service, and the service if none is left;
/// whether anything changed.
fn remove_consumers(mut entry: Value, target: &Target) -> (Value, bool) {
    let mut changed = false;
    let drop = |c: &Value| {
        let is = |key: &str, names: &[String]| {
            common::field(c, key)
                .and_then(Value::as_str)
                .is_some_and(|n| !n.is_empty() && names.iter().any(|x| x == n))
        };
        is("Peer", &target.peers) || is("Partition", &target.partitions)
    };
    super::export::with_list(&mut entry, "Services", |services| {
        for service in services
            .iter_mut()
            .filter(|s| super::export::is_target(s, target))
        {
            super::export::with_list(service, "Consumers", |consumers| {
                let before = consumers.len();
                consumers.retain(|c| !drop(c));
                changed |= consumers.len() != before;
            });
        }
        services.retain(|s| {
            !(super::export::is_target(s, target)
                && common::field(s, "Consumers")
                    .and_then(Value::as_array)
                    .is_some_and(Vec::is_empty))
        });
    });
    (entry, changed)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

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
    fn unexport_removes_consumers_then_the_service() {
        let entry = json!({"Kind": "exported-services", "Name": "default", "Services": [
            {"Name": "web", "Consumers": [{"Peer": "a"}, {"Peer": "b"}]},
            {"Name": "db", "Consumers": [{"Peer": "a"}]}
        ]});
        let (entry, changed) = remove_consumers(entry, &target(&["a"]));
        assert!(changed);
        assert_eq!(
            entry["Services"],
            json!([{"Name": "web", "Consumers": [{"Peer": "b"}]}, {"Name": "db", "Consumers": [{"Peer": "a"}]}])
        );
        let (entry, changed) = remove_consumers(entry, &target(&["b", "zz"]));
        assert!(changed);
        assert_eq!(
            entry["Services"],
            json!([{"Name": "db", "Consumers": [{"Peer": "a"}]}])
        );
        let (_, changed) = remove_consumers(entry, &target(&["b"]));
        assert!(!changed, "nothing to remove is a no-op");
    }
}
