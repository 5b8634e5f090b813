//! Consul's `StatusHandler` as a pure state machine: consecutive-result counters that decide
//! which raw results of an interval check are reported (`success_before_passing`,
//! `failures_before_warning`, `failures_before_critical`). No I/O, no clock.

use legate_state::model::health;

/// Counter state for one check. Counters start at their thresholds, so the first result is
/// reported at once.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StatusThresholds {
    success_before_passing: u32,
    failures_before_warning: u32,
    failures_before_critical: u32,
    successes: u32,
    failures: u32,
}

impl StatusThresholds {
    /// Builds the counters. `failures_before_warning == 0` means "same as critical", which is
    /// how the Consul agent defaults it.
    pub fn new(
        success_before_passing: u32,
        failures_before_warning: u32,
        failures_before_critical: u32,
    ) -> Self {
        let failures_before_warning = if failures_before_warning == 0 {
            failures_before_critical
        } else {
            failures_before_warning
        };
        StatusThresholds {
            success_before_passing,
            failures_before_warning,
            failures_before_critical,
            successes: success_before_passing,
            failures: failures_before_critical,
        }
    }

    /// Feeds one raw result; returns the status to report, or `None` to keep the current one.
    /// Passing and warning count as successes; critical counts as a failure and is softened
    /// to warning between the warning and critical thresholds.
    pub fn observe(&mut self, raw: &'static str) -> Option<&'static str> {
        if raw == health::PASSING || raw == health::WARNING {
            self.successes = self.successes.saturating_add(1);
            self.failures = 0;
            (self.successes >= self.success_before_passing).then_some(raw)
        } else {
            self.failures = self.failures.saturating_add(1);
            self.successes = 0;
            if self.failures >= self.failures_before_critical {
                Some(raw)
            } else if self.failures >= self.failures_before_warning {
                Some(health::WARNING)
            } else {
                None
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use legate_state::model::health::CRITICAL;
    use legate_state::model::health::PASSING;
    use legate_state::model::health::WARNING;

    use super::*;

    fn feed(t: &mut StatusThresholds, raws: &[&'static str]) -> Vec<Option<&'static str>> {
        raws.iter().map(|r| t.observe(r)).collect()
    }

    #[test]
    fn no_thresholds_reports_everything() {
        let mut t = StatusThresholds::new(0, 0, 0);
        assert_eq!(
            feed(&mut t, &[PASSING, CRITICAL, WARNING, CRITICAL]),
            [Some(PASSING), Some(CRITICAL), Some(WARNING), Some(CRITICAL)]
        );
    }

    #[test]
    fn first_result_is_reported_immediately() {
        let mut t = StatusThresholds::new(3, 0, 3);
        assert_eq!(t.observe(PASSING), Some(PASSING));
        let mut t = StatusThresholds::new(3, 0, 3);
        assert_eq!(t.observe(CRITICAL), Some(CRITICAL));
    }

    #[test]
    fn success_before_passing_needs_consecutive_successes() {
        let mut t = StatusThresholds::new(2, 0, 0);
        assert_eq!(
            feed(
                &mut t,
                &[
                    CRITICAL, PASSING, PASSING, PASSING, CRITICAL, PASSING, WARNING
                ]
            ),
            [
                Some(CRITICAL),
                None,
                Some(PASSING),
                Some(PASSING),
                Some(CRITICAL),
                None,
                Some(WARNING)
            ]
        );
    }

    #[test]
    fn failures_before_critical_needs_consecutive_failures() {
        let mut t = StatusThresholds::new(0, 0, 3);
        assert_eq!(
            feed(
                &mut t,
                &[
                    PASSING, CRITICAL, CRITICAL, PASSING, CRITICAL, CRITICAL, CRITICAL
                ]
            ),
            [
                Some(PASSING),
                None,
                None,
                Some(PASSING),
                None,
                None,
                Some(CRITICAL)
            ]
        );
    }

    #[test]
    fn failures_before_warning_softens_to_warning() {
        let mut t = StatusThresholds::new(0, 1, 3);
        assert_eq!(
            feed(&mut t, &[PASSING, CRITICAL, CRITICAL, CRITICAL, CRITICAL]),
            [
                Some(PASSING),
                Some(WARNING),
                Some(WARNING),
                Some(CRITICAL),
                Some(CRITICAL)
            ]
        );
    }
}
