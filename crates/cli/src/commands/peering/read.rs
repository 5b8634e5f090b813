//! `consul peering read -name N [-format pretty|json]`: `GET /v1/peering/<name>`, printed as
//! Consul's block of `Label: value` lines; exit 1 when there is no such peering.

use serde_json::Value;

use crate::commands::common;
use crate::flags;
use crate::format::gojson;
use crate::ui::Ui;

/// One-line description.
pub(crate) const SYNOPSIS: &str = "Read a peering connection";

const USAGE: &str = "Usage: consul peering read [options] -name <peer name>

  Read a peering connection with the provided name.  If one is not found,
  the command will exit with a non-zero code. The result will be filtered according
  to ACL policy configuration.

  Example:

    $ consul peering read -name west-dc";

/// Help text.
pub(crate) fn help() -> String {
    flags::help_text(USAGE, Some(&super::flag_set("peering read", true, true)))
}

/// Runs the command.
pub(crate) fn run(args: &[String], ui: &mut Ui<'_>) -> i32 {
    let fs = super::flag_set("peering read", true, true);
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
    match super::read_peering(&client, &name) {
        Err(e) => {
            ui.error(&format!("Error reading peering: {e}"));
            1
        }
        Ok(None) => {
            ui.error(&format!("No peering with name {name} found."));
            1
        }
        Ok(Some(peering)) if format == "json" => {
            ui.output(&gojson::marshal(&peering));
            0
        }
        Ok(Some(peering)) => {
            ui.output(&pretty(&peering));
            0
        }
    }
}

/// Consul's `formatPeering`, including its quirk of not ending each peer server address with a
/// newline.
fn pretty(p: &Value) -> String {
    let s = |key: &str| common::field_str(p, key);
    let mut out = format!("Name:         {}\nID:           {}\n", s("Name"), s("ID"));
    if !s("Partition").is_empty() {
        out.push_str(&format!("Partition:    {}\n", s("Partition")));
    }
    if !s("DeletedAt").is_empty() {
        out.push_str(&format!("DeletedAt:    {}\n", s("DeletedAt")));
    }
    out.push_str(&format!("State:        {}\n", s("State")));
    if let Some(meta) = p["Meta"].as_object().filter(|m| !m.is_empty()) {
        out.push_str("Meta:\n");
        for (k, v) in meta {
            out.push_str(&format!("    {k}={}\n", v.as_str().unwrap_or_default()));
        }
    }
    out.push('\n');
    out.push_str(&format!("Peer ID:               {}\n", s("PeerID")));
    out.push_str(&format!("Peer Server Name:      {}\n", s("PeerServerName")));
    out.push_str(&format!(
        "Peer CA Pems:          {}\n",
        super::list_len(&p["PeerCAPems"])
    ));
    if let Some(addresses) = p["PeerServerAddresses"]
        .as_array()
        .filter(|a| !a.is_empty())
    {
        out.push_str("Peer Server Addresses:\n");
        for a in addresses {
            out.push_str(&format!("    {}", a.as_str().unwrap_or_default()));
        }
    }
    let status = &p["StreamStatus"];
    out.push('\n');
    out.push_str(&format!(
        "Imported Services: {}\n",
        super::list_len(&status["ImportedServices"])
    ));
    out.push_str(&format!(
        "Exported Services: {}\n",
        super::list_len(&status["ExportedServices"])
    ));
    out.push('\n');
    for (label, key) in [
        ("Last Heartbeat:    ", "LastHeartbeat"),
        ("Last Send:         ", "LastSend"),
        ("Last Receive:      ", "LastReceive"),
    ] {
        out.push_str(&format!("{label}{}\n", go_time(&status[key])));
    }
    out.push('\n');
    if let Some(link) = p.get("Link").filter(|l| l.is_object()) {
        out.push_str(&link_block(link));
        out.push('\n');
    }
    out.push_str(&format!(
        "Create Index: {}\nModify Index: {}\n",
        p["CreateIndex"].as_u64().unwrap_or_default(),
        p["ModifyIndex"].as_u64().unwrap_or_default()
    ));
    out
}

/// Legate's link figures (the `Link` object; Consul has none): connection, lag, last ACK and
/// NACK, traffic each way.
fn link_block(link: &Value) -> String {
    let text = |key: &str| match &link[key] {
        Value::Null => "-".to_string(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    let mut out = String::from("Link:\n");
    let rows = [
        ("Connected", text("Connected")),
        ("Connected Since", go_time(&link["ConnectedSince"])),
        ("Last Error", text("LastError")),
        (
            "Replication Lag",
            match link["ReplicationLagMs"].as_f64() {
                Some(ms) => format!("{ms:.1} ms"),
                None => "-".to_string(),
            },
        ),
        ("Last ACK", go_time(&link["LastAck"])),
        ("Last NACK", go_time(&link["LastNack"])),
        ("Last NACK Message", text("LastNackMessage")),
        ("Pending ACKs", text("PendingAcks")),
        (
            "Messages Sent/Recv",
            format!("{}/{}", text("MessagesSent"), text("MessagesReceived")),
        ),
        (
            "Bytes Sent/Recv",
            format!("{}/{}", text("BytesSent"), text("BytesReceived")),
        ),
    ];
    for (label, value) in rows {
        out.push_str(&format!("    {:<20}{value}\n", format!("{label}:")));
    }
    out
}

/// How Go's `%v` prints a `*time.Time`: `<nil>`, or `2006-01-02 15:04:05.999 +0000 UTC` for
/// the UTC times the API returns.
fn go_time(value: &Value) -> String {
    match value.as_str() {
        None => "<nil>".to_string(),
        Some(t) => match t.strip_suffix('Z') {
            Some(utc) => format!("{} +0000 UTC", utc.replacen('T', " ", 1)),
            None => t.to_string(),
        },
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn link_block_lists_legates_figures() {
        let p = json!({
            "ID": "id-1", "Name": "dc2", "State": "ACTIVE", "StreamStatus": {},
            "Link": {"Connected": true, "ConnectedSince": "2023-11-14T22:13:20Z",
                     "LastError": null, "ReplicationLagMs": 3.25, "LastAck": null,
                     "LastNack": null, "LastNackMessage": null, "PendingAcks": 0,
                     "MessagesSent": 5, "MessagesReceived": 7, "BytesSent": 100,
                     "BytesReceived": 200},
            "CreateIndex": 7, "ModifyIndex": 9
        });
        let out = pretty(&p);
        assert!(
            out.contains("Link:\n    Connected:          true\n"),
            "{out}"
        );
        assert!(
            out.contains("    Replication Lag:    3.2 ms\n")
                || out.contains("    Replication Lag:    3.3 ms\n"),
            "{out}"
        );
        assert!(out.contains("    Bytes Sent/Recv:    100/200\n"), "{out}");
        assert!(
            out.ends_with("\nCreate Index: 7\nModify Index: 9\n"),
            "{out}"
        );
    }

    #[test]
    fn pretty_matches_consuls_layout() {
        let p = json!({
            "ID": "id-1", "Name": "dc2", "Meta": {"env": "prod"}, "State": "ESTABLISHING",
            "PeerID": "pid", "PeerCAPems": ["a", "b"], "PeerServerName": "server.dc2.peering.x.consul",
            "PeerServerAddresses": ["10.0.0.1:8503"],
            "StreamStatus": {"ImportedServices": ["web"], "ExportedServices": null,
                             "LastHeartbeat": "2023-11-14T22:13:20.123Z", "LastReceive": null, "LastSend": null},
            "CreateIndex": 7, "ModifyIndex": 9
        });
        assert_eq!(
            pretty(&p),
            "Name:         dc2\nID:           id-1\nState:        ESTABLISHING\nMeta:\n    env=prod\n\n\
             Peer ID:               pid\nPeer Server Name:      server.dc2.peering.x.consul\n\
             Peer CA Pems:          2\nPeer Server Addresses:\n    10.0.0.1:8503\n\
             Imported Services: 1\nExported Services: 0\n\n\
             Last Heartbeat:    2023-11-14 22:13:20.123 +0000 UTC\nLast Send:         <nil>\n\
             Last Receive:      <nil>\n\nCreate Index: 7\nModify Index: 9\n"
        );
    }
}
