//! Stream liveness with the clock passed in: send a heartbeat every `interval`, declare the
//! peer dead after `timeout` without receiving one.

use std::time::Duration;
use std::time::SystemTime;

/// What the stream should do about heartbeats right now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HeartbeatAction {
    /// Send a heartbeat now (the clock already counts it as sent).
    Send,
    /// No heartbeat from the peer for the whole timeout: close the stream.
    Dead,
    /// Nothing to do before `until`.
    Wait {
        /// When to poll again.
        until: SystemTime,
    },
}

/// Heartbeat schedule of one stream.
#[derive(Debug, Clone)]
pub struct HeartbeatClock {
    interval: Duration,
    timeout: Duration,
    last_sent: SystemTime,
    last_received: SystemTime,
}

impl HeartbeatClock {
    /// A clock for a stream that started at `now`: the first heartbeat is due one interval
    /// later, and the peer has `timeout` from now to send its first.
    pub fn new(interval: Duration, timeout: Duration, now: SystemTime) -> HeartbeatClock {
        HeartbeatClock {
            interval,
            timeout,
            last_sent: now,
            last_received: now,
        }
    }

    /// The peer's heartbeat arrived at `now`.
    pub fn received(&mut self, now: SystemTime) {
        self.last_received = self.last_received.max(now);
    }

    /// What to do at `now`. Returns `Send` at most once per interval.
    pub fn poll(&mut self, now: SystemTime) -> HeartbeatAction {
        let dead_at = self.last_received + self.timeout;
        if now >= dead_at {
            return HeartbeatAction::Dead;
        }
        let send_at = self.last_sent + self.interval;
        if now >= send_at {
            self.last_sent = now;
            return HeartbeatAction::Send;
        }
        HeartbeatAction::Wait {
            until: send_at.min(dead_at),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(secs: u64) -> SystemTime {
        SystemTime::UNIX_EPOCH + Duration::from_secs(secs)
    }

    fn clock() -> HeartbeatClock {
        HeartbeatClock::new(Duration::from_secs(15), Duration::from_secs(120), at(1000))
    }

    #[test]
    fn waits_until_the_first_interval() {
        let mut c = clock();
        assert_eq!(c.poll(at(1000)), HeartbeatAction::Wait { until: at(1015) });
        assert_eq!(c.poll(at(1014)), HeartbeatAction::Wait { until: at(1015) });
    }

    #[test]
    fn sends_once_per_interval() {
        let mut c = clock();
        assert_eq!(c.poll(at(1015)), HeartbeatAction::Send);
        assert_eq!(c.poll(at(1015)), HeartbeatAction::Wait { until: at(1030) });
        // A late poll sends once and schedules from the send time.
        assert_eq!(c.poll(at(1047)), HeartbeatAction::Send);
        assert_eq!(c.poll(at(1050)), HeartbeatAction::Wait { until: at(1062) });
    }

    #[test]
    fn dead_after_timeout_without_receipt() {
        let mut c = clock();
        assert_eq!(c.poll(at(1119)), HeartbeatAction::Send);
        assert_eq!(c.poll(at(1120)), HeartbeatAction::Dead);
    }

    #[test]
    fn receipt_pushes_the_deadline() {
        let mut c = clock();
        c.received(at(1100));
        assert_eq!(c.poll(at(1120)), HeartbeatAction::Send);
        assert_eq!(c.poll(at(1219)), HeartbeatAction::Send);
        assert_eq!(c.poll(at(1220)), HeartbeatAction::Dead);
    }

    #[test]
    fn wait_is_bounded_by_the_deadline() {
        let mut c = HeartbeatClock::new(Duration::from_secs(60), Duration::from_secs(30), at(0));
        assert_eq!(c.poll(at(10)), HeartbeatAction::Wait { until: at(30) });
    }

    #[test]
    fn receipt_in_the_past_does_not_move_the_deadline_back() {
        let mut c = clock();
        c.received(at(1100));
        c.received(at(1050));
        assert_eq!(c.poll(at(1200)), HeartbeatAction::Send);
        assert_eq!(c.poll(at(1210)), HeartbeatAction::Wait { until: at(1215) });
        assert_eq!(c.poll(at(1220)), HeartbeatAction::Dead);
    }
}
