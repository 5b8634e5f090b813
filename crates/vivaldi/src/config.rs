//! Tuning parameters of the Vivaldi algorithm, with Serf's defaults.
//!
//! References used in the docs below:
//! \[1\] Dabek et al., "Vivaldi: A decentralized network coordinate system", SIGCOMM 2004.
//! \[2\] Ledlie, Gardner, Seltzer, "Network Coordinates in the Wild", NSDI 2007.
//! \[3\] Lee et al., "On suitability of Euclidean embedding for host-based network
//! coordinate systems", IEEE/ACM ToN 2010.

/// The number of Euclidean dimensions of every coordinate (Serf's and
/// Consul's default, fixed here so coordinates are plain arrays).
pub const DIMENSIONALITY: usize = 8;

/// Parameters of the coordinate client.
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    /// The error of a fresh coordinate, and the upper bound on the error.
    pub vivaldi_error_max: f64,
    /// The maximum impact one observation has on the error estimate \[1\].
    pub vivaldi_ce: f64,
    /// The maximum impact one observation has on the coordinate \[1\].
    pub vivaldi_cc: f64,
    /// How many samples feed the adjustment term \[3\]; 0 disables it.
    pub adjustment_window_size: usize,
    /// The minimum height (seconds); must be positive.
    pub height_min: f64,
    /// How many RTT samples per peer the moving-median filter keeps \[2\].
    pub latency_filter_size: usize,
    /// How strongly gravity pulls coordinates back to the origin to stop the
    /// whole system drifting \[2\]; larger is weaker.
    pub gravity_rho: f64,
}

impl Default for Config {
    /// Serf's defaults.
    fn default() -> Self {
        Self {
            vivaldi_error_max: 1.5,
            vivaldi_ce: 0.25,
            vivaldi_cc: 0.25,
            adjustment_window_size: 20,
            height_min: 10.0e-6,
            latency_filter_size: 3,
            gravity_rho: 150.0,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serf_defaults() {
        let c = Config::default();
        assert_eq!(DIMENSIONALITY, 8);
        assert_eq!(c.vivaldi_error_max, 1.5);
        assert_eq!(c.vivaldi_ce, 0.25);
        assert_eq!(c.vivaldi_cc, 0.25);
        assert_eq!(c.adjustment_window_size, 20);
        assert_eq!(c.height_min, 10.0e-6);
        assert_eq!(c.latency_filter_size, 3);
        assert_eq!(c.gravity_rho, 150.0);
    }
}
