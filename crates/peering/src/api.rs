//! The HTTP API shape of a peering (`GET /v1/peering/:name`, `GET /v1/peerings`): Consul's
//! field names and order, its omit-when-empty rules, RFC 3339 times, and the `StreamStatus`
//! computed on read (lists `null` and times `null` when no stream was ever seen, as Go writes
//! nil slices and nil time pointers). Internal fields of the stored row (manual server
//! addresses) are not part of it.

use std::collections::BTreeMap;

use legate_state::model::Peering;
use legate_state::model::PeeringRemote;
use legate_state::model::PeeringState;
use serde::Deserialize;
use serde::Deserializer;
use serde::Serialize;
use serde::Serializer;
use time::OffsetDateTime;

/// A peering as the HTTP API returns it.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ApiPeering {
    #[serde(rename = "ID")]
    pub id: String,
    #[serde(rename = "Name")]
    pub name: String,
    #[serde(
        rename = "Partition",
        default,
        skip_serializing_if = "String::is_empty"
    )]
    pub partition: String,
    #[serde(
        rename = "DeletedAt",
        default,
        with = "time::serde::rfc3339::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub deleted_at: Option<OffsetDateTime>,
    #[serde(rename = "Meta", default, skip_serializing_if = "BTreeMap::is_empty")]
    pub meta: BTreeMap<String, String>,
    #[serde(rename = "State")]
    pub state: PeeringState,
    #[serde(rename = "PeerID", default, skip_serializing_if = "String::is_empty")]
    pub peer_id: String,
    #[serde(rename = "PeerCAPems", default, skip_serializing_if = "Vec::is_empty")]
    pub peer_ca_pems: Vec<String>,
    #[serde(
        rename = "PeerServerName",
        default,
        skip_serializing_if = "String::is_empty"
    )]
    pub peer_server_name: String,
    #[serde(
        rename = "PeerServerAddresses",
        default,
        skip_serializing_if = "Vec::is_empty"
    )]
    pub peer_server_addresses: Vec<String>,
    #[serde(rename = "StreamStatus", default)]
    pub stream_status: StreamStatus,
    #[serde(rename = "CreateIndex")]
    pub create_index: u64,
    #[serde(rename = "ModifyIndex")]
    pub modify_index: u64,
    #[serde(rename = "Remote", default)]
    pub remote: PeeringRemote,
}

/// What the leader knows about a peering's stream.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StreamStatus {
    /// Services imported from the peer (`null` when none).
    #[serde(
        rename = "ImportedServices",
        default,
        deserialize_with = "null_as_empty",
        serialize_with = "empty_as_null"
    )]
    pub imported_services: Vec<String>,
    /// Services exported to the peer (`null` when none).
    #[serde(
        rename = "ExportedServices",
        default,
        deserialize_with = "null_as_empty",
        serialize_with = "empty_as_null"
    )]
    pub exported_services: Vec<String>,
    /// When the last heartbeat was received.
    #[serde(
        rename = "LastHeartbeat",
        default,
        with = "time::serde::rfc3339::option"
    )]
    pub last_heartbeat: Option<OffsetDateTime>,
    /// When anything was last received.
    #[serde(rename = "LastReceive", default, with = "time::serde::rfc3339::option")]
    pub last_receive: Option<OffsetDateTime>,
    /// When anything was last sent.
    #[serde(rename = "LastSend", default, with = "time::serde::rfc3339::option")]
    pub last_send: Option<OffsetDateTime>,
}

impl ApiPeering {
    /// The API form of a stored row with the stream status computed for it. `state` overrides
    /// the stored state when the stream tracker knows better (ACTIVE, FAILING).
    pub fn new(row: &Peering, state: Option<PeeringState>, stream_status: StreamStatus) -> Self {
        ApiPeering {
            id: row.id.clone(),
            name: row.name.clone(),
            partition: row.partition.clone(),
            deleted_at: row.deleted_at_ms.and_then(time_from_ms),
            meta: row.meta.clone(),
            state: state.unwrap_or(row.state),
            peer_id: row.peer_id.clone(),
            peer_ca_pems: row.peer_ca_pems.clone(),
            peer_server_name: row.peer_server_name.clone(),
            peer_server_addresses: row.peer_server_addresses.clone(),
            stream_status,
            create_index: row.create_index,
            modify_index: row.modify_index,
            remote: row.remote.clone(),
        }
    }
}

/// A Unix-milliseconds instant as a UTC time (`None` if out of range).
pub fn time_from_ms(ms: u64) -> Option<OffsetDateTime> {
    let nanos = i128::from(ms).checked_mul(1_000_000)?;
    OffsetDateTime::from_unix_timestamp_nanos(nanos).ok()
}

fn null_as_empty<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    Ok(Option::<Vec<String>>::deserialize(d)?.unwrap_or_default())
}

fn empty_as_null<S: Serializer>(v: &[String], s: S) -> Result<S::Ok, S::Error> {
    if v.is_empty() {
        s.serialize_none()
    } else {
        v.serialize(s)
    }
}

#[cfg(test)]
mod tests {
    use legate_state::model::Locality;
    use serde_json::json;

    use super::*;

    fn row() -> Peering {
        Peering {
            id: "9e650110-ac74-4c5a-a6a8-9348b2bed4e9".into(),
            name: "cluster-02".into(),
            state: PeeringState::Pending,
            manual_server_addresses: vec!["hidden:1".into()],
            create_index: 89,
            modify_index: 89,
            ..Peering::default()
        }
    }

    #[test]
    fn acceptor_row_omits_empty_fields_and_nulls_the_stream_status() {
        let got =
            serde_json::to_value(ApiPeering::new(&row(), None, StreamStatus::default())).unwrap();
        assert_eq!(
            got,
            json!({
                "ID": "9e650110-ac74-4c5a-a6a8-9348b2bed4e9",
                "Name": "cluster-02",
                "State": "PENDING",
                "StreamStatus": {
                    "ImportedServices": null,
                    "ExportedServices": null,
                    "LastHeartbeat": null,
                    "LastReceive": null,
                    "LastSend": null
                },
                "CreateIndex": 89,
                "ModifyIndex": 89,
                "Remote": { "Partition": "", "Datacenter": "" }
            })
        );
        let text =
            serde_json::to_string(&ApiPeering::new(&row(), None, StreamStatus::default())).unwrap();
        let keys = [
            "\"ID\"",
            "\"Name\"",
            "\"State\"",
            "\"StreamStatus\"",
            "\"CreateIndex\"",
            "\"ModifyIndex\"",
            "\"Remote\"",
        ];
        let positions: Vec<usize> = keys.iter().map(|k| text.find(k).unwrap()).collect();
        assert!(
            positions.windows(2).all(|w| w[0] < w[1]),
            "field order: {text}"
        );
        assert!(!text.contains("hidden"));
    }

    #[test]
    fn dialer_row_shows_everything_with_rfc3339_times() {
        let mut r = row();
        r.state = PeeringState::Deleting;
        r.deleted_at_ms = Some(1_700_000_000_123);
        r.meta.insert("env".into(), "prod".into());
        r.peer_id = "remote".into();
        r.peer_ca_pems = vec!["pem\n".into()];
        r.peer_server_name = "server.dc1.peering.x.consul".into();
        r.peer_server_addresses = vec!["10.0.0.1:8503".into()];
        r.remote = PeeringRemote {
            partition: "default".into(),
            datacenter: "dc1".into(),
            locality: Some(Locality {
                region: "us-east-1".into(),
                zone: "a".into(),
            }),
        };
        let status = StreamStatus {
            imported_services: vec!["web".into()],
            last_send: time_from_ms(1_700_000_000_000),
            ..StreamStatus::default()
        };
        let api = ApiPeering::new(&r, Some(PeeringState::Failing), status);
        let got = serde_json::to_value(&api).unwrap();
        assert_eq!(got["DeletedAt"], "2023-11-14T22:13:20.123Z");
        assert_eq!(got["State"], "FAILING");
        assert_eq!(got["Meta"], json!({ "env": "prod" }));
        assert_eq!(got["PeerServerAddresses"], json!(["10.0.0.1:8503"]));
        assert_eq!(got["StreamStatus"]["ImportedServices"], json!(["web"]));
        assert_eq!(got["StreamStatus"]["ExportedServices"], json!(null));
        assert_eq!(got["StreamStatus"]["LastSend"], "2023-11-14T22:13:20Z");
        assert_eq!(
            got["Remote"]["Locality"],
            json!({ "Region": "us-east-1", "Zone": "a" })
        );
        // The API form reads back (a CLI decodes it).
        let back: ApiPeering = serde_json::from_value(got).unwrap();
        assert_eq!(back, api);
    }

    #[test]
    fn time_conversion_is_total() {
        assert!(time_from_ms(0).is_some());
        assert!(time_from_ms(u64::MAX).is_none());
    }
}
