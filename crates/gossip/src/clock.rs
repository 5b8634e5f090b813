//! Lamport clocks, with serf's rules: `increment` returns the new time and
//! `witness(t)` moves the clock to `t + 1` when `t` is not behind it.

/// A Lamport clock.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LamportClock(u64);

impl LamportClock {
    /// The current time.
    pub fn time(self) -> u64 {
        self.0
    }

    /// Advances the clock and returns the new time.
    pub fn increment(&mut self) -> u64 {
        self.0 = self.0.saturating_add(1);
        self.0
    }

    /// Observes a remote time: afterwards the clock is strictly ahead of it.
    pub fn witness(&mut self, other: u64) {
        if other >= self.0 {
            self.0 = other.saturating_add(1);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn increment_returns_new_time() {
        let mut c = LamportClock::default();
        assert_eq!(c.increment(), 1);
        assert_eq!(c.increment(), 2);
        assert_eq!(c.time(), 2);
    }

    #[test]
    fn witness_moves_past_remote_time_only_forward() {
        let mut c = LamportClock::default();
        c.witness(10);
        assert_eq!(c.time(), 11);
        c.witness(11);
        assert_eq!(c.time(), 12);
        c.witness(3);
        assert_eq!(c.time(), 12);
        c.witness(u64::MAX);
        assert_eq!(c.time(), u64::MAX);
    }
}
