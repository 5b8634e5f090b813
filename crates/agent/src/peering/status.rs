//! A peering as the read API shows it once the leader's link registry is taken into account:
//! the State computed from the link ([`computed_state`]: ACTIVE while a stream is up, FAILING
//! after a failed stream or dial, else the stored state), Consul's `StreamStatus`, and one extra
//! object, `Link`, with what Consul does not show (replication lag, ACK/NACK bookkeeping,
//! traffic each way, when the stream came up). `Link` is left out when no stream was tried.

use std::time::SystemTime;

use legate_peering::api::ApiPeering;
use legate_peering::api::StreamStatus;
use legate_peerstream::TrackerSnapshot;
use legate_state::model::Peering;
use legate_state::model::PeeringState;
use serde::Serialize;
use time::OffsetDateTime;

use super::registry::LinkStatus;

/// A peering with its link, serialized as Consul's fields followed by `Link`.
#[derive(Debug, Clone, Serialize)]
pub struct PeeringView {
    /// Consul's fields.
    #[serde(flatten)]
    pub peering: ApiPeering,
    /// Legate's link details, when a stream was ever tried.
    #[serde(rename = "Link", skip_serializing_if = "Option::is_none")]
    pub link: Option<LinkView>,
}

/// The `Link` object.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct LinkView {
    /// A stream is up now.
    #[serde(rename = "Connected")]
    pub connected: bool,
    /// When the current stream came up.
    #[serde(rename = "ConnectedSince", with = "time::serde::rfc3339::option")]
    pub connected_since: Option<OffsetDateTime>,
    /// Why the last stream or dial failed.
    #[serde(rename = "LastError")]
    pub last_error: Option<String>,
    /// Our last apply time minus the exporter's commit time.
    #[serde(rename = "ReplicationLagMs")]
    pub replication_lag_ms: Option<u64>,
    /// Last ACK of one of our resources.
    #[serde(rename = "LastAck", with = "time::serde::rfc3339::option")]
    pub last_ack: Option<OffsetDateTime>,
    /// Last NACK of one of our resources.
    #[serde(rename = "LastNack", with = "time::serde::rfc3339::option")]
    pub last_nack: Option<OffsetDateTime>,
    /// The last NACK's error.
    #[serde(rename = "LastNackMessage")]
    pub last_nack_message: Option<String>,
    /// Resources sent and not yet answered.
    #[serde(rename = "PendingAcks")]
    pub pending_acks: usize,
    /// Messages sent.
    #[serde(rename = "MessagesSent")]
    pub messages_sent: u64,
    /// Messages received.
    #[serde(rename = "MessagesReceived")]
    pub messages_received: u64,
    /// Encoded bytes sent.
    #[serde(rename = "BytesSent")]
    pub bytes_sent: u64,
    /// Encoded bytes received.
    #[serde(rename = "BytesReceived")]
    pub bytes_received: u64,
}

/// The state to show for `row` given its link: a deleting or terminated row keeps its state;
/// a live stream is ACTIVE while the peer accepts what we send (a NACK newer than the last
/// ACK makes it FAILING even though the stream is up — Consul would still say ACTIVE); a link
/// whose last stream or dial failed is FAILING; otherwise the stored state.
pub fn computed_state(row: &Peering, link: Option<&TrackerSnapshot>) -> PeeringState {
    if matches!(row.state, PeeringState::Deleting | PeeringState::Terminated) {
        return row.state;
    }
    match link {
        Some(t) if t.connected && nack_outstanding(t) => PeeringState::Failing,
        Some(t) if t.connected => PeeringState::Active,
        Some(t) if t.disconnect_error.is_some() => PeeringState::Failing,
        _ => row.state,
    }
}

/// True when the peer's last answer to our resources was a NACK.
fn nack_outstanding(t: &TrackerSnapshot) -> bool {
    match (t.last_nack, t.last_ack) {
        (Some(nack), Some(ack)) => nack > ack,
        (Some(_), None) => true,
        _ => false,
    }
}

/// The API view of `row` with `link` (from the leader's registry).
pub fn peering_view(row: &Peering, link: Option<&LinkStatus>) -> PeeringView {
    let state = computed_state(row, link.map(|l| &l.tracker));
    let stream_status = link.map_or_else(StreamStatus::default, |l| StreamStatus {
        imported_services: l.imported_services.clone(),
        exported_services: l.exported_services.clone(),
        last_heartbeat: at(l.tracker.last_heartbeat_received),
        last_receive: at(l.tracker.last_receive),
        last_send: at(l.tracker.last_send),
    });
    PeeringView {
        peering: ApiPeering::new(row, Some(state), stream_status),
        link: link.map(|l| link_view(&l.tracker)),
    }
}

fn link_view(t: &TrackerSnapshot) -> LinkView {
    LinkView {
        connected: t.connected,
        connected_since: if t.connected {
            at(t.connected_at)
        } else {
            None
        },
        last_error: t.disconnect_error.clone(),
        replication_lag_ms: t
            .replication_lag
            .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX)),
        last_ack: at(t.last_ack),
        last_nack: at(t.last_nack),
        last_nack_message: t.last_nack_message.clone(),
        pending_acks: t.pending_acks,
        messages_sent: t.messages_sent,
        messages_received: t.messages_received,
        bytes_sent: t.bytes_sent,
        bytes_received: t.bytes_received,
    }
}

fn at(t: Option<SystemTime>) -> Option<OffsetDateTime> {
    t.map(OffsetDateTime::from)
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use legate_peerstream::Tracker;

    use super::*;

    fn row(state: PeeringState) -> Peering {
        Peering {
            id: "id".into(),
            name: "dc2".into(),
            state,
            ..Peering::default()
        }
    }

    #[test]
    fn state_follows_the_link() {
        let mut t = Tracker::new();
        assert_eq!(
            computed_state(&row(PeeringState::Establishing), Some(&t.snapshot())),
            PeeringState::Establishing
        );
        t.connected(SystemTime::UNIX_EPOCH);
        assert_eq!(
            computed_state(&row(PeeringState::Establishing), Some(&t.snapshot())),
            PeeringState::Active
        );
        assert_eq!(
            computed_state(&row(PeeringState::Terminated), Some(&t.snapshot())),
            PeeringState::Terminated
        );
        let later = SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(1);
        t.nacked("bad resource".into(), later);
        assert_eq!(
            computed_state(&row(PeeringState::Establishing), Some(&t.snapshot())),
            PeeringState::Failing,
            "a NACK newer than any ACK is not a healthy link"
        );
        t.acked(later + std::time::Duration::from_secs(1));
        assert_eq!(
            computed_state(&row(PeeringState::Establishing), Some(&t.snapshot())),
            PeeringState::Active
        );
        t.disconnected(Some("reset".into()), SystemTime::UNIX_EPOCH);
        assert_eq!(
            computed_state(&row(PeeringState::Pending), Some(&t.snapshot())),
            PeeringState::Failing
        );
        t.disconnected(None, SystemTime::UNIX_EPOCH);
        assert_eq!(
            computed_state(&row(PeeringState::Pending), Some(&t.snapshot())),
            PeeringState::Pending
        );
        assert_eq!(
            computed_state(&row(PeeringState::Pending), None),
            PeeringState::Pending
        );
    }

    #[test]
    fn view_without_link_is_consuls_shape() {
        let v = serde_json::to_value(peering_view(&row(PeeringState::Pending), None)).unwrap();
        assert!(v.get("Link").is_none());
        assert_eq!(v["State"], "PENDING");
        assert_eq!(
            v["StreamStatus"]["ImportedServices"],
            serde_json::Value::Null
        );
    }

    #[test]
    fn view_with_link_adds_link_and_stream_status_last() {
        let mut t = Tracker::new();
        let t0 = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        t.connected(t0);
        t.received(10, true, t0);
        t.applied(1_700_000_000_000 - 40, t0);
        let link = LinkStatus {
            tracker: t.snapshot(),
            imported_services: vec!["web".into()],
            exported_services: vec![],
        };
        let v = serde_json::to_value(peering_view(&row(PeeringState::Establishing), Some(&link)))
            .unwrap();
        assert_eq!(v["State"], "ACTIVE");
        assert_eq!(
            v["StreamStatus"]["ImportedServices"],
            serde_json::json!(["web"])
        );
        assert_eq!(v["StreamStatus"]["LastHeartbeat"], "2023-11-14T22:13:20Z");
        assert_eq!(v["Link"]["ReplicationLagMs"], 40);
        assert_eq!(v["Link"]["Connected"], true);
        let keys: Vec<&String> = v.as_object().unwrap().keys().collect();
        assert_eq!(keys.last().unwrap().as_str(), "Link");
    }
}
