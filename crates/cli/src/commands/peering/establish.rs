//! `consul peering establish -name N -peering-token T [-meta k=v]…`:
//! `POST /v1/peering/establish`, which returns once the secret exchange with the acceptor
//! succeeded.

use serde_json::Value;
use serde_json::json;

use crate::commands::common;
use crate::flags;
use crate::ui::Ui;

/// One-line description.
pub(crate) const SYNOPSIS: &str = "Establish a peering connection";

const USAGE: &str =
    "Usage: consul peering establish [options] -name <peer name> -peering-token <token>

  Establish a peering connection. The name provided will be used locally by
  this cluster to refer to the peering connection. The peering token can 
  only be used once to establish the connection.

  Example:

    $ consul peering establish -name west-dc -peering-token <token>";

fn flag_set() -> legate_config::goflag::FlagSet {
    let mut fs = super::flag_set("peering establish", true, false);
    fs.string(
        "peering-token",
        "",
        "(Required) The peering token from the accepting cluster.",
    )
    .strings(
        "meta",
        "Metadata to associate with the peering, formatted as key=value. This flag may be \
         specified multiple times to set multiple meta fields.",
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
    let Some(name) = super::required_name(f.string("name"), ui) else {
        return 1;
    };
    let token = f.string("peering-token");
    if token.is_empty() {
        ui.error("Missing the required -peering-token flag");
        return 1;
    }
    let Some(client) = common::client(&f, ui) else {
        return 1;
    };
    let meta: serde_json::Map<String, Value> = flags::key_values(&f.strings("meta"))
        .into_iter()
        .map(|(k, v)| (k, Value::String(v)))
        .collect();
    let mut body = json!({ "PeerName": name, "PeeringToken": token });
    if !meta.is_empty() {
        body["Meta"] = Value::Object(meta);
    }
    let partition = f.string("partition");
    if !partition.is_empty() {
        body["Partition"] = json!(partition);
    }
    match client.post("/v1/peering/establish").json(&body).send() {
        Ok(_) => {
            ui.output(&format!(
                "Successfully established peering connection with {name}"
            ));
            0
        }
        Err(e) => {
            ui.error(&format!("Error establishing peering for {name}: {e}"));
            1
        }
    }
}
