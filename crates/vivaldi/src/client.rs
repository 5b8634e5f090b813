//! The coordinate client: holds this node's coordinate and refines it from
//! RTT observations to peers (Vivaldi, with Serf's latency filter,
//! adjustment window and gravity).

use std::collections::{HashMap, VecDeque};
use std::time::Duration;

use crate::config::Config;
use crate::coordinate::{Coordinate, ZERO_THRESHOLD};
use crate::error::Error;
use crate::rng::SplitMix;

/// RTT observations above this are rejected.
pub const MAX_RTT: Duration = Duration::from_secs(10);

/// Counters of notable client events.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Stats {
    /// How many times the coordinate became invalid and was reset.
    pub resets: u64,
    /// How many observations had a zero RTT (coarse clocks).
    pub zero_rtts: u64,
}

/// Maintains one node's network coordinate. Not thread-safe by itself: wrap
/// it in a lock when shared.
#[derive(Debug, Clone)]
pub struct Client {
    config: Config,
    coord: Coordinate,
    origin: Coordinate,
    adjustment_index: usize,
    adjustment_samples: Vec<f64>,
    latency_samples: HashMap<String, VecDeque<f64>>,
    stats: Stats,
    rng: SplitMix,
}

impl Client {
    /// A client at the origin. Rejects configs the algorithm cannot use.
    pub fn new(config: Config) -> Result<Self, Error> {
        Self::with_seed(config, 0x5EED_F00D)
    }

    /// Like [`Client::new`], seeding the generator used to separate
    /// coincident coordinates.
    pub fn with_seed(config: Config, seed: u64) -> Result<Self, Error> {
        if config.latency_filter_size == 0 {
            return Err(Error::InvalidConfig("latency_filter_size must be > 0"));
        }
        if !(config.height_min.is_finite() && config.height_min > 0.0) {
            return Err(Error::InvalidConfig("height_min must be positive"));
        }
        if !(config.gravity_rho.is_finite() && config.gravity_rho > 0.0) {
            return Err(Error::InvalidConfig("gravity_rho must be positive"));
        }
        if !config.vivaldi_error_max.is_finite() {
            return Err(Error::InvalidConfig("vivaldi_error_max must be finite"));
        }
        Ok(Self {
            coord: Coordinate::new(&config),
            origin: Coordinate::new(&config),
            adjustment_index: 0,
            adjustment_samples: vec![0.0; config.adjustment_window_size],
            latency_samples: HashMap::new(),
            stats: Stats::default(),
            rng: SplitMix::new(seed),
            config,
        })
    }

    /// The current coordinate.
    pub fn coordinate(&self) -> &Coordinate {
        &self.coord
    }

    /// Forces the coordinate to a known value (e.g. one restored from disk).
    pub fn set_coordinate(&mut self, coord: Coordinate) -> Result<(), Error> {
        if !coord.is_valid() {
            return Err(Error::InvalidCoordinate);
        }
        self.coord = coord;
        Ok(())
    }

    /// Drops the latency samples kept for `node` (when it leaves).
    pub fn forget_node(&mut self, node: &str) {
        self.latency_samples.remove(node);
    }

    /// Event counters.
    pub fn stats(&self) -> Stats {
        self.stats
    }

    /// The estimated RTT from this client's coordinate to `other`.
    pub fn distance_to(&self, other: &Coordinate) -> Duration {
        self.coord.distance_to(other)
    }

    /// Folds in one observation: `rtt` to `node`, whose coordinate is
    /// `other`. Returns the updated coordinate.
    pub fn update(
        &mut self,
        node: &str,
        other: &Coordinate,
        rtt: Duration,
    ) -> Result<Coordinate, Error> {
        if !other.is_valid() {
            return Err(Error::InvalidCoordinate);
        }
        if rtt > MAX_RTT {
            return Err(Error::RttOutOfRange(rtt));
        }
        if rtt.is_zero() {
            self.stats.zero_rtts += 1;
        }
        let rtt_secs = self.latency_filter(node, rtt.as_secs_f64());
        self.update_vivaldi(other, rtt_secs);
        self.update_adjustment(other, rtt_secs);
        self.update_gravity();
        if !self.coord.is_valid() {
            self.stats.resets += 1;
            self.coord = Coordinate::new(&self.config);
        }
        Ok(self.coord.clone())
    }

    /// Adds a sample for `node` and returns the moving median of its most
    /// recent samples.
    fn latency_filter(&mut self, node: &str, rtt_secs: f64) -> f64 {
        let size = self.config.latency_filter_size;
        let samples = self.latency_samples.entry(node.to_owned()).or_default();
        samples.push_back(rtt_secs);
        while samples.len() > size {
            samples.pop_front();
        }
        let mut sorted: Vec<f64> = samples.iter().copied().collect();
        sorted.sort_by(f64::total_cmp);
        sorted[sorted.len() / 2]
    }

    /// The Vivaldi spring step: update the error estimate, then move along
    /// the line to `other` in proportion to the prediction error.
    fn update_vivaldi(&mut self, other: &Coordinate, rtt_secs: f64) {
        let rtt = rtt_secs.max(ZERO_THRESHOLD);
        let dist = self.coord.distance_secs(other);
        let wrongness = (dist - rtt).abs() / rtt;
        let total_error = (self.coord.error + other.error).max(ZERO_THRESHOLD);
        let weight = self.coord.error / total_error;
        let ce = self.config.vivaldi_ce * weight;
        self.coord.error =
            (ce * wrongness + self.coord.error * (1.0 - ce)).min(self.config.vivaldi_error_max);
        let force = self.config.vivaldi_cc * weight * (rtt - dist);
        self.coord = self
            .coord
            .apply_force(self.config.height_min, force, other, &mut self.rng);
    }

    /// Records how far off the raw distance was and sets the adjustment to
    /// half the mean of the window.
    fn update_adjustment(&mut self, other: &Coordinate, rtt_secs: f64) {
        let window = self.adjustment_samples.len();
        if window == 0 {
            return;
        }
        self.adjustment_samples[self.adjustment_index] =
            rtt_secs - self.coord.raw_distance_to(other);
        self.adjustment_index = (self.adjustment_index + 1) % window;
        let sum: f64 = self.adjustment_samples.iter().sum();
        self.coord.adjustment = sum / (2.0 * window as f64);
    }

    /// Pulls the coordinate slightly towards the origin, more the further out
    /// it is, to stop the whole system drifting.
    fn update_gravity(&mut self) {
        let dist = self.origin.distance_secs(&self.coord);
        let force = -(dist / self.config.gravity_rho).powi(2);
        self.coord =
            self.coord
                .apply_force(self.config.height_min, force, &self.origin, &mut self.rng);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn client() -> Client {
        Client::new(Config::default()).unwrap()
    }

    fn at(secs: f64) -> Coordinate {
        let mut c = Coordinate::default();
        c.vec[0] = secs;
        c.height = 0.0;
        c
    }

    #[test]
    fn rejects_invalid_peer_coordinates() {
        let mut c = client();
        for bad in [f64::NAN, f64::INFINITY] {
            let mut other = Coordinate::default();
            other.vec[0] = bad;
            let err = c.update("n", &other, Duration::from_millis(5));
            assert_eq!(err, Err(Error::InvalidCoordinate));
            let other = Coordinate {
                height: bad,
                ..Coordinate::default()
            };
            assert_eq!(
                c.update("n", &other, Duration::from_millis(5)),
                Err(Error::InvalidCoordinate)
            );
            assert_eq!(c.set_coordinate(other), Err(Error::InvalidCoordinate));
        }
        assert_eq!(c.coordinate(), &Coordinate::default());
    }

    #[test]
    fn rejects_out_of_range_rtt() {
        let mut c = client();
        let rtt = Duration::from_secs(11);
        assert_eq!(
            c.update("n", &Coordinate::default(), rtt),
            Err(Error::RttOutOfRange(rtt))
        );
        assert!(c.update("n", &Coordinate::default(), MAX_RTT).is_ok());
    }

    #[test]
    fn zero_rtt_is_counted_not_rejected() {
        let mut c = client();
        assert!(
            c.update("n", &Coordinate::default(), Duration::ZERO)
                .is_ok()
        );
        assert_eq!(c.stats().zero_rtts, 1);
        assert!(c.coordinate().is_valid());
    }

    #[test]
    fn rejects_unusable_configs() {
        let bad = Config {
            latency_filter_size: 0,
            ..Config::default()
        };
        assert!(matches!(Client::new(bad), Err(Error::InvalidConfig(_))));
        let bad = Config {
            height_min: 0.0,
            ..Config::default()
        };
        assert!(matches!(Client::new(bad), Err(Error::InvalidConfig(_))));
    }

    #[test]
    fn latency_filter_is_a_moving_median() {
        let mut c = client();
        assert_eq!(c.latency_filter("a", 0.201), 0.201);
        assert_eq!(c.latency_filter("a", 0.200), 0.201);
        assert_eq!(c.latency_filter("a", 0.207), 0.201);
        // The window is three samples: 0.201 drops out.
        assert_eq!(c.latency_filter("a", 0.300), 0.207);
        assert_eq!(c.latency_filter("a", 0.300), 0.300);
        // Other nodes have their own window.
        assert_eq!(c.latency_filter("b", 0.050), 0.050);
        c.forget_node("a");
        assert_eq!(c.latency_filter("a", 0.010), 0.010);
    }

    #[test]
    fn update_moves_away_from_a_too_close_peer() {
        let mut c = client();
        let other = at(0.0);
        let first = c.update("n", &other, Duration::from_millis(100)).unwrap();
        assert!(first.vec.iter().map(|x| x * x).sum::<f64>().sqrt() > 0.0);
        assert!(first.error < Config::default().vivaldi_error_max);
        for _ in 0..50 {
            c.update("n", &other, Duration::from_millis(100)).unwrap();
        }
        let est = c.distance_to(&other).as_secs_f64();
        assert!((est - 0.1).abs() < 0.01, "estimated {est}");
    }

    #[test]
    fn adjustment_is_half_the_mean_residual() {
        let config = Config {
            adjustment_window_size: 2,
            ..Config::default()
        };
        let mut c = Client::new(config).unwrap();
        c.update_adjustment(&at(0.0), 0.5 + c.coordinate().raw_distance_to(&at(0.0)));
        assert!((c.coordinate().adjustment - 0.125).abs() < 1e-12);
        let config = Config {
            adjustment_window_size: 0,
            ..Config::default()
        };
        let mut off = Client::new(config).unwrap();
        off.update_adjustment(&at(0.0), 0.5);
        assert_eq!(off.coordinate().adjustment, 0.0);
    }

    #[test]
    fn gravity_pulls_towards_the_origin() {
        let mut c = client();
        c.set_coordinate(at(300.0)).unwrap();
        c.update_gravity();
        let x = c.coordinate().vec[0];
        // force = -(300 / 150)^2 = -4
        assert!((x - 296.0).abs() < 1e-6, "{x}");
    }

    #[test]
    fn runaway_coordinate_is_reset() {
        let mut c = client();
        let far = at(f64::MAX);
        let out = c.update("far", &far, Duration::from_millis(10)).unwrap();
        assert_eq!(c.stats().resets, 1);
        assert_eq!(out, Coordinate::default());
    }
}
