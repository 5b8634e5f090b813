//! Errors of the coordinate client.

use std::time::Duration;

/// Why a coordinate update or configuration was rejected.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A coordinate holds NaN or an infinity.
    #[error("coordinate is invalid (NaN or infinite component)")]
    InvalidCoordinate,
    /// A round-trip time outside `0..=10s`.
    #[error("round trip time {0:?} is not in the valid range 0..=10s")]
    RttOutOfRange(Duration),
    /// A configuration value the algorithm cannot work with.
    #[error("invalid coordinate config: {0}")]
    InvalidConfig(&'static str),
}
