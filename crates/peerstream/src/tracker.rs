//! What one peering's streams have done, for the peering read API and metrics. A [`Tracker`]
//! lives as long as the peering (it outlives reconnects); the session updates it as messages
//! come and go, and the agent serializes a [`TrackerSnapshot`].

use std::time::Duration;
use std::time::SystemTime;

use serde::Serialize;

/// Counters and last-event times of one peering's streams.
#[derive(Debug, Clone, Default)]
pub struct Tracker {
    snap: TrackerSnapshot,
}

/// A copy of a tracker's state at one moment. Times are wall-clock.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct TrackerSnapshot {
    /// A stream is up now.
    pub connected: bool,
    /// No stream was ever up.
    pub never_connected: bool,
    /// When the current (or last) stream came up.
    pub connected_at: Option<SystemTime>,
    /// When the last stream went down.
    pub disconnected_at: Option<SystemTime>,
    /// Why the last stream went down, if it failed.
    pub disconnect_error: Option<String>,
    /// Last heartbeat received.
    pub last_heartbeat_received: Option<SystemTime>,
    /// Last heartbeat sent.
    pub last_heartbeat_sent: Option<SystemTime>,
    /// Last message of any kind received.
    pub last_receive: Option<SystemTime>,
    /// Last message of any kind sent.
    pub last_send: Option<SystemTime>,
    /// Last complete resource received and accepted.
    pub last_receive_resource: Option<SystemTime>,
    /// Last receive error and its message.
    pub last_receive_error: Option<(SystemTime, String)>,
    /// Last send error and its message.
    pub last_send_error: Option<(SystemTime, String)>,
    /// Last ACK received from the peer for one of our resources.
    pub last_ack: Option<SystemTime>,
    /// Last NACK received from the peer.
    pub last_nack: Option<SystemTime>,
    /// The last NACK's error message.
    pub last_nack_message: Option<String>,
    /// Resources sent and neither ACKed nor NACKed yet.
    pub pending_acks: usize,
    /// Messages sent.
    pub messages_sent: u64,
    /// Messages received.
    pub messages_received: u64,
    /// Encoded bytes sent.
    pub bytes_sent: u64,
    /// Encoded bytes received.
    pub bytes_received: u64,
    /// Resources applied by our importer.
    pub resources_applied: u64,
    /// When our importer last applied a resource.
    pub last_applied: Option<SystemTime>,
    /// Our last apply time minus the exporter's commit time for that resource (0 when the
    /// clocks are skewed the other way).
    pub replication_lag: Option<Duration>,
}

impl Tracker {
    /// A tracker for a peering that has never connected.
    pub fn new() -> Tracker {
        Tracker {
            snap: TrackerSnapshot {
                never_connected: true,
                ..TrackerSnapshot::default()
            },
        }
    }

    /// A copy of the current state.
    pub fn snapshot(&self) -> TrackerSnapshot {
        self.snap.clone()
    }

    /// A stream came up.
    pub fn connected(&mut self, now: SystemTime) {
        let s = &mut self.snap;
        s.connected = true;
        s.never_connected = false;
        s.connected_at = Some(now);
        s.disconnect_error = None;
        s.pending_acks = 0;
    }

    /// The stream went down, with the error when it failed.
    pub fn disconnected(&mut self, error: Option<String>, now: SystemTime) {
        let s = &mut self.snap;
        s.connected = false;
        s.disconnected_at = Some(now);
        s.disconnect_error = error;
        s.pending_acks = 0;
    }

    /// A message of `bytes` encoded bytes was sent.
    pub fn sent(&mut self, bytes: usize, heartbeat: bool, now: SystemTime) {
        let s = &mut self.snap;
        s.messages_sent += 1;
        s.bytes_sent += bytes as u64;
        s.last_send = Some(now);
        if heartbeat {
            s.last_heartbeat_sent = Some(now);
        }
    }

    /// A send failed.
    pub fn send_failed(&mut self, error: String, now: SystemTime) {
        self.snap.last_send_error = Some((now, error));
    }

    /// A message of `bytes` encoded bytes was received.
    pub fn received(&mut self, bytes: usize, heartbeat: bool, now: SystemTime) {
        let s = &mut self.snap;
        s.messages_received += 1;
        s.bytes_received += bytes as u64;
        s.last_receive = Some(now);
        if heartbeat {
            s.last_heartbeat_received = Some(now);
        }
    }

    /// A received message or resource was refused.
    pub fn receive_failed(&mut self, error: String, now: SystemTime) {
        self.snap.last_receive_error = Some((now, error));
    }

    /// A complete resource was received and accepted for import.
    pub fn resource_received(&mut self, now: SystemTime) {
        self.snap.last_receive_resource = Some(now);
    }

    /// The number of resources awaiting the peer's ACK changed.
    pub fn set_pending_acks(&mut self, n: usize) {
        self.snap.pending_acks = n;
    }

    /// The peer ACKed one of our resources.
    pub fn acked(&mut self, now: SystemTime) {
        self.snap.last_ack = Some(now);
    }

    /// The peer NACKed one of our resources.
    pub fn nacked(&mut self, message: String, now: SystemTime) {
        self.snap.last_nack = Some(now);
        self.snap.last_nack_message = Some(message);
    }

    /// Our importer applied a resource the exporter committed at `exporter_commit_unix_ms`.
    pub fn applied(&mut self, exporter_commit_unix_ms: i64, applied_at: SystemTime) {
        let s = &mut self.snap;
        s.resources_applied += 1;
        s.last_applied = Some(applied_at);
        let applied_ms = match applied_at.duration_since(SystemTime::UNIX_EPOCH) {
            Ok(d) => i64::try_from(d.as_millis()).unwrap_or(i64::MAX),
            Err(_) => 0,
        };
        let lag_ms = applied_ms.saturating_sub(exporter_commit_unix_ms).max(0);
        s.replication_lag = Some(Duration::from_millis(lag_ms.unsigned_abs()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(ms: u64) -> SystemTime {
        SystemTime::UNIX_EPOCH + Duration::from_millis(ms)
    }

    #[test]
    fn new_tracker_never_connected() {
        let s = Tracker::new().snapshot();
        assert!(s.never_connected);
        assert!(!s.connected);
        assert_eq!(s.messages_sent, 0);
    }

    #[test]
    fn connect_and_disconnect() {
        let mut t = Tracker::new();
        t.connected(at(10));
        t.set_pending_acks(3);
        let s = t.snapshot();
        assert!(s.connected && !s.never_connected);
        assert_eq!(s.connected_at, Some(at(10)));
        t.disconnected(Some("heartbeat timeout".into()), at(20));
        let s = t.snapshot();
        assert!(!s.connected && !s.never_connected);
        assert_eq!(s.disconnected_at, Some(at(20)));
        assert_eq!(s.disconnect_error.as_deref(), Some("heartbeat timeout"));
        assert_eq!(s.pending_acks, 0);
        t.connected(at(30));
        assert_eq!(t.snapshot().disconnect_error, None);
        assert_eq!(t.snapshot().disconnected_at, Some(at(20)));
    }

    #[test]
    fn counts_each_way() {
        let mut t = Tracker::new();
        t.sent(100, false, at(1));
        t.sent(5, true, at(2));
        t.received(7, true, at(3));
        t.received(1000, false, at(4));
        let s = t.snapshot();
        assert_eq!((s.messages_sent, s.bytes_sent), (2, 105));
        assert_eq!((s.messages_received, s.bytes_received), (2, 1007));
        assert_eq!(s.last_send, Some(at(2)));
        assert_eq!(s.last_heartbeat_sent, Some(at(2)));
        assert_eq!(s.last_receive, Some(at(4)));
        assert_eq!(s.last_heartbeat_received, Some(at(3)));
    }

    #[test]
    fn acks_nacks_and_errors() {
        let mut t = Tracker::new();
        t.acked(at(1));
        t.nacked("bad json".into(), at(2));
        t.send_failed("broken pipe".into(), at(3));
        t.receive_failed("bad part".into(), at(4));
        t.resource_received(at(5));
        let s = t.snapshot();
        assert_eq!(s.last_ack, Some(at(1)));
        assert_eq!(s.last_nack, Some(at(2)));
        assert_eq!(s.last_nack_message.as_deref(), Some("bad json"));
        assert_eq!(s.last_send_error, Some((at(3), "broken pipe".into())));
        assert_eq!(s.last_receive_error, Some((at(4), "bad part".into())));
        assert_eq!(s.last_receive_resource, Some(at(5)));
    }

    #[test]
    fn lag_is_apply_minus_commit_and_never_negative() {
        let mut t = Tracker::new();
        t.applied(1_000, at(1_250));
        assert_eq!(
            t.snapshot().replication_lag,
            Some(Duration::from_millis(250))
        );
        t.applied(2_000, at(1_900));
        let s = t.snapshot();
        assert_eq!(s.replication_lag, Some(Duration::ZERO));
        assert_eq!(s.resources_applied, 2);
        assert_eq!(s.last_applied, Some(at(1_900)));
    }
}
