//! The loop shared by interval checks: a short random stagger, then probe, filter through the
//! thresholds, report, wait one interval, repeat — until cancelled.

use std::time::Duration;

use rand::Rng;

use super::probe::Probe;
use super::runners::Emitter;
use super::thresholds::StatusThresholds;

/// Upper bound of the random delay before the first run. Consul staggers over the whole
/// interval; a short cap gets fresh checks to a real status quickly.
const MAX_INITIAL_STAGGER: Duration = Duration::from_millis(250);

pub(crate) async fn run_interval(
    probe: Probe,
    interval: Duration,
    mut thresholds: StatusThresholds,
    emitter: Emitter,
) {
    let token = emitter.token().clone();
    let cap = interval.min(MAX_INITIAL_STAGGER);
    let stagger = Duration::from_nanos(
        rand::rng().random_range(0..=u64::try_from(cap.as_nanos()).unwrap_or(0)),
    );
    tokio::select! {
        () = token.cancelled() => return,
        () = tokio::time::sleep(stagger) => {}
    }
    loop {
        let result = tokio::select! {
            () = token.cancelled() => return,
            r = probe.check() => r,
        };
        if let Some(status) = thresholds.observe(result.status) {
            emitter.emit(status, result.output);
        }
        tokio::select! {
            () = token.cancelled() => return,
            () = tokio::time::sleep(interval) => {}
        }
    }
}
