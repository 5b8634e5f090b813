//! Health-check runners: a tokio task per registered check (TTL timers, HTTP, TCP, UDP, gRPC
//! and script probes) reporting status changes on one channel, around the pure
//! [`StatusThresholds`] counter machine. Alias checks are accepted but not run here; the
//! agent's local state drives them. Parsing definitions lives in [`crate::definition`].

mod grpc;
mod http;
mod interval;
mod output;
mod probe;
mod runners;
mod script;
mod tcp;
mod thresholds;
mod tls;
mod ttl;

pub use runners::CheckRunners;
pub use runners::CheckSource;
pub use runners::CheckUpdate;
pub use runners::MIN_INTERVAL;
pub use runners::RunnerOptions;
pub use runners::TtlError;
pub use thresholds::StatusThresholds;

#[cfg(test)]
mod tests;
