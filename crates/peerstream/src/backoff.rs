//! The dialer's reconnect policy, as pure values: which address to try next ([`AddressRing`])
//! and how long to wait after a failure ([`next_backoff`]).

use std::time::Duration;

/// What kind of failure the dialer is backing off from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum FailureKind {
    /// The far end is not (or no longer) the leader (`FailedPrecondition`): a new leader is
    /// usually moments away, so retry fast.
    NotLeader,
    /// The far end is overloaded (`ResourceExhausted`).
    Overloaded,
    /// Anything else: unreachable, TLS failure, stream broken.
    Other,
}

/// Fast retries after `NotLeader`: this long for the first [`FAST_TRIES`] attempts.
const FAST_RETRY: Duration = Duration::from_millis(8);
const FAST_TRIES: u32 = 5;
/// Cap of the `NotLeader` backoff, and the fixed `Overloaded` backoff.
const NOT_LEADER_CAP: Duration = Duration::from_millis(8192);
/// Cap of the general backoff.
const OTHER_CAP: Duration = Duration::from_secs(64);

/// How long to wait before the next dial, after `attempt` consecutive failures (counting the
/// one just seen, so the first failure is attempt 1):
/// - `NotLeader`: 8 ms for 5 attempts, then doubling (16 ms, 32 ms, …) up to 8.192 s;
/// - `Overloaded`: 8.192 s;
/// - `Other`: 2^attempt s, up to 64 s.
pub fn next_backoff(kind: FailureKind, attempt: u32) -> Duration {
    match kind {
        FailureKind::NotLeader => {
            if attempt <= FAST_TRIES {
                FAST_RETRY
            } else {
                let doublings = (attempt - FAST_TRIES).min(16);
                FAST_RETRY
                    .saturating_mul(1 << doublings)
                    .min(NOT_LEADER_CAP)
            }
        }
        FailureKind::Overloaded => NOT_LEADER_CAP,
        FailureKind::Other => Duration::from_secs(1u64 << attempt.min(7)).min(OTHER_CAP),
    }
}

/// The addresses of a peer's servers, tried in turn.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AddressRing {
    addrs: Vec<String>,
    next: usize,
}

impl AddressRing {
    /// A ring over `addrs` (`host:port`), starting at the first.
    pub fn new(addrs: Vec<String>) -> AddressRing {
        AddressRing { addrs, next: 0 }
    }

    /// Whether there is nothing to dial.
    pub fn is_empty(&self) -> bool {
        self.addrs.is_empty()
    }

    /// Number of addresses.
    pub fn len(&self) -> usize {
        self.addrs.len()
    }

    /// The address to try now, if any.
    pub fn current(&self) -> Option<&str> {
        self.addrs.get(self.next).map(String::as_str)
    }

    /// Move on to the following address (after a failure), wrapping around.
    pub fn advance(&mut self) {
        if !self.addrs.is_empty() {
            self.next = (self.next + 1) % self.addrs.len();
        }
    }

    /// One full turn of the ring from the current address.
    pub fn one_turn(&self) -> Vec<String> {
        let n = self.addrs.len();
        (0..n)
            .filter_map(|i| self.addrs.get((self.next + i) % n).cloned())
            .collect()
    }

    /// Make `addr` the current address (after success or a leader redirect): an address in
    /// the ring becomes current, an unknown one is added in front of the current one.
    pub fn prefer(&mut self, addr: &str) {
        if let Some(i) = self.addrs.iter().position(|a| a == addr) {
            self.next = i;
        } else {
            self.addrs.insert(self.next, addr.to_string());
        }
    }

    /// Replace the addresses (the peering row changed), keeping the current address current
    /// when it is still there.
    pub fn replace(&mut self, addrs: Vec<String>) {
        let current = self.current().map(str::to_string);
        self.addrs = addrs;
        self.next = 0;
        if let Some(i) = current.and_then(|c| self.addrs.iter().position(|a| *a == c)) {
            self.next = i;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    #[test]
    fn not_leader_is_fast_then_doubles_to_a_cap() {
        let got: Vec<Duration> = (1..=17)
            .map(|n| next_backoff(FailureKind::NotLeader, n))
            .collect();
        assert_eq!(
            got,
            vec![
                ms(8),
                ms(8),
                ms(8),
                ms(8),
                ms(8),
                ms(16),
                ms(32),
                ms(64),
                ms(128),
                ms(256),
                ms(512),
                ms(1024),
                ms(2048),
                ms(4096),
                ms(8192),
                ms(8192),
                ms(8192)
            ]
        );
        assert_eq!(next_backoff(FailureKind::NotLeader, 0), ms(8));
        assert_eq!(next_backoff(FailureKind::NotLeader, u32::MAX), ms(8192));
    }

    #[test]
    fn other_failures_double_in_seconds_to_64() {
        let got: Vec<u64> = (0..=9)
            .map(|n| next_backoff(FailureKind::Other, n).as_secs())
            .collect();
        assert_eq!(got, vec![1, 2, 4, 8, 16, 32, 64, 64, 64, 64]);
        assert_eq!(next_backoff(FailureKind::Other, u32::MAX).as_secs(), 64);
    }

    #[test]
    fn overloaded_waits_8192_ms() {
        for n in [0, 1, 5, 100] {
            assert_eq!(next_backoff(FailureKind::Overloaded, n), ms(8192));
        }
    }

    fn ring(addrs: &[&str]) -> AddressRing {
        AddressRing::new(addrs.iter().map(|s| s.to_string()).collect())
    }

    #[test]
    fn ring_cycles() {
        let mut r = ring(&["a", "b", "c"]);
        let mut seen = Vec::new();
        for _ in 0..5 {
            seen.push(r.current().unwrap().to_string());
            r.advance();
        }
        assert_eq!(seen, ["a", "b", "c", "a", "b"]);
        assert_eq!(r.one_turn(), ["c", "a", "b"]);
        assert_eq!(r.len(), 3);
    }

    #[test]
    fn empty_ring_has_no_current() {
        let mut r = ring(&[]);
        r.advance();
        assert!(r.is_empty());
        assert_eq!(r.current(), None);
        assert!(r.one_turn().is_empty());
    }

    #[test]
    fn prefer_moves_to_known_or_inserts_unknown() {
        let mut r = ring(&["a", "b", "c"]);
        r.prefer("c");
        assert_eq!(r.current(), Some("c"));
        r.prefer("leader:8503");
        assert_eq!(r.current(), Some("leader:8503"));
        assert_eq!(r.one_turn(), ["leader:8503", "c", "a", "b"]);
    }

    #[test]
    fn replace_keeps_current_when_still_present() {
        let mut r = ring(&["a", "b", "c"]);
        r.advance();
        r.replace(vec!["x".into(), "b".into()]);
        assert_eq!(r.current(), Some("b"));
        r.replace(vec!["y".into()]);
        assert_eq!(r.current(), Some("y"));
    }
}
