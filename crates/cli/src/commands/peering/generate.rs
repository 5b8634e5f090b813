//! `consul peering generate-token -name N [-meta k=v]… [-server-external-addresses a:p,…]
//! [-format pretty|json]`: `POST /v1/peering/token`; prints the token (or the JSON response).

use serde_json::Value;
use serde_json::json;

use crate::commands::common;
use crate::flags;
use crate::format::gojson;
use crate::ui::Ui;

/// One-line description.
pub(crate) const SYNOPSIS: &str = "Generate a peering token";

const USAGE: &str = "Usage: consul peering generate-token [options] -name <peer name>

  Generate a peering token. The name provided will be used locally by
  this cluster to refer to the peering connection. Re-generating a token 
  for a given name will not interrupt any active connection, but will 
  invalidate any unused token for that name.

  Example:

    $ consul peering generate-token -name west-dc

  Example using a load balancer in front of Consul servers:

    $ consul peering generate-token -name west-dc -server-external-addresses load-balancer.elb.us-west-1.amazonaws.com:8502";

fn flag_set() -> legate_config::goflag::FlagSet {
    let mut fs = super::flag_set("peering generate-token", true, true);
    fs.strings(
        "meta",
        "Metadata to associate with the peering, formatted as key=value. This flag may be \
         specified multiple times to set multiple metadata fields.",
    )
    .string(
        "server-external-addresses",
        "",
        "A list of addresses to put into the generated token, formatted as a comma-separate \
         list. Addresses are the form of <host or IP>:port. This could be used to specify load \
         balancer(s) or external IPs to reach the servers from the dialing side, and will \
         override any server addresses obtained from the \"consul\" service.",
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
    let format = f.string("format");
    if !super::check_format(&format, ui) {
        return 1;
    }
    let Some(client) = common::client(&f, ui) else {
        return 1;
    };
    let meta: serde_json::Map<String, Value> = flags::key_values(&f.strings("meta"))
        .into_iter()
        .map(|(k, v)| (k, Value::String(v)))
        .collect();
    let mut body = json!({ "PeerName": name });
    if !meta.is_empty() {
        body["Meta"] = Value::Object(meta);
    }
    let external = f.string("server-external-addresses");
    if !external.is_empty() {
        body["ServerExternalAddresses"] = json!(external.split(',').collect::<Vec<_>>());
    }
    let partition = f.string("partition");
    if !partition.is_empty() {
        body["Partition"] = json!(partition);
    }
    match client
        .post("/v1/peering/token")
        .json(&body)
        .send()
        .and_then(|r| r.json::<Value>())
    {
        Ok(response) if format == "json" => {
            ui.output(&gojson::marshal(&response));
            0
        }
        Ok(response) => {
            ui.output(response["PeeringToken"].as_str().unwrap_or_default());
            0
        }
        Err(e) => {
            ui.error(&format!("Error generating peering token for {name}: {e}"));
            1
        }
    }
}
