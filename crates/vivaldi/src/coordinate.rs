//! A network coordinate: a Euclidean vector plus height, error and
//! adjustment, in seconds, serialised as Consul's `Coord` JSON object.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::config::{Config, DIMENSIONALITY};
use crate::rng::SplitMix;

/// Below this distance (seconds) two coordinates are considered coincident.
pub(crate) const ZERO_THRESHOLD: f64 = 1.0e-6;

/// A Vivaldi network coordinate. All distances are in seconds.
///
/// JSON: `{"Vec": [..8 numbers..], "Error": .., "Adjustment": .., "Height": ..}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Coordinate {
    /// The Euclidean part of the coordinate.
    pub vec: [f64; DIMENSIONALITY],
    /// The confidence in the coordinate (dimensionless, lower is better).
    pub error: f64,
    /// A distance offset learnt from recent observations.
    pub adjustment: f64,
    /// A distance offset modelling the node's access link; always positive.
    pub height: f64,
}

impl Coordinate {
    /// A coordinate at the origin with the config's initial error and height.
    pub fn new(config: &Config) -> Self {
        Self {
            vec: [0.0; DIMENSIONALITY],
            error: config.vivaldi_error_max,
            adjustment: 0.0,
            height: config.height_min,
        }
    }

    /// True when no component is NaN or infinite.
    pub fn is_valid(&self) -> bool {
        self.vec.iter().all(|c| c.is_finite())
            && self.error.is_finite()
            && self.adjustment.is_finite()
            && self.height.is_finite()
    }

    /// The estimated round-trip time to `other` (Serf's `DistanceTo`): the
    /// Euclidean distance plus both heights plus both adjustments, unless the
    /// adjustments would make it non-positive.
    pub fn distance_to(&self, other: &Coordinate) -> Duration {
        secs_to_duration(self.distance_secs(other))
    }

    /// [`Coordinate::distance_to`] in (unrounded) seconds.
    pub fn distance_secs(&self, other: &Coordinate) -> f64 {
        let raw = self.raw_distance_to(other);
        let adjusted = raw + self.adjustment + other.adjustment;
        if adjusted > 0.0 { adjusted } else { raw }
    }

    /// The distance without adjustments, in seconds.
    pub(crate) fn raw_distance_to(&self, other: &Coordinate) -> f64 {
        magnitude(&diff(&self.vec, &other.vec)) + self.height + other.height
    }

    /// Moves this coordinate by `force` seconds away from `other` (towards it
    /// when negative), scaling the height in proportion.
    pub(crate) fn apply_force(
        &self,
        height_min: f64,
        force: f64,
        other: &Coordinate,
        rng: &mut SplitMix,
    ) -> Coordinate {
        let (unit, mag) = unit_vector_at(&self.vec, &other.vec, rng);
        let mut out = self.clone();
        for (c, u) in out.vec.iter_mut().zip(unit) {
            *c += u * force;
        }
        if mag > ZERO_THRESHOLD {
            out.height = ((out.height + other.height) * force / mag + out.height).max(height_min);
        }
        out
    }
}

impl Default for Coordinate {
    /// [`Coordinate::new`] with Serf's default config.
    fn default() -> Self {
        Self::new(&Config::default())
    }
}

/// Consul's `ComputeDistance`: the distance in seconds, or +∞ when either
/// coordinate is unknown.
pub fn compute_distance(a: Option<&Coordinate>, b: Option<&Coordinate>) -> f64 {
    match (a, b) {
        (Some(a), Some(b)) => a.distance_secs(b),
        _ => f64::INFINITY,
    }
}

/// The estimated round-trip time between two coordinates (see
/// [`Coordinate::distance_to`]).
pub fn distance_to(a: &Coordinate, b: &Coordinate) -> Duration {
    a.distance_to(b)
}

/// Seconds to a duration, truncating to whole nanoseconds like Go's
/// `time.Duration(secs * 1e9)`; NaN and negatives become zero, overflow
/// saturates.
fn secs_to_duration(secs: f64) -> Duration {
    // `as` saturates and maps NaN to 0, which is the behaviour wanted here.
    Duration::from_nanos((secs * 1.0e9) as u64)
}

type Vector = [f64; DIMENSIONALITY];

fn diff(a: &Vector, b: &Vector) -> Vector {
    std::array::from_fn(|i| a[i] - b[i])
}

fn magnitude(v: &Vector) -> f64 {
    v.iter().map(|c| c * c).sum::<f64>().sqrt()
}

/// The unit vector pointing from `b` to `a` (the way `a` moves when repelled
/// by `b`) and the distance between them. Coincident points get a random
/// direction and a distance of zero.
fn unit_vector_at(a: &Vector, b: &Vector, rng: &mut SplitMix) -> (Vector, f64) {
    let d = diff(a, b);
    let mag = magnitude(&d);
    if mag > ZERO_THRESHOLD {
        return (d.map(|c| c / mag), mag);
    }
    let r: Vector = std::array::from_fn(|_| rng.next_f64() - 0.5);
    let rmag = magnitude(&r);
    if rmag > ZERO_THRESHOLD {
        return (r.map(|c| c / rmag), 0.0);
    }
    let mut axis = [0.0; DIMENSIONALITY];
    axis[0] = 1.0;
    (axis, 0.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Consul's test helper: a coordinate `rtt` seconds out on the first axis.
    fn at(secs: f64) -> Coordinate {
        let mut c = Coordinate::default();
        c.vec[0] = secs;
        c.height = 0.0;
        c
    }

    fn assert_near(a: f64, b: f64) {
        assert!((a - b).abs() < 1e-9, "{a} != {b}");
    }

    #[test]
    fn default_coordinates_are_two_heights_apart() {
        let a = Coordinate::default();
        let d = distance_to(&a, &a.clone());
        assert_near(a.distance_secs(&a), 20.0e-6);
        let ns = d.as_nanos();
        assert!((19_999..=20_000).contains(&ns), "{ns}");
    }

    #[test]
    fn distance_includes_heights_and_adjustments() {
        let mut a = at(0.0);
        let mut b = at(0.0);
        b.vec[1] = 0.003;
        b.vec[2] = 0.004;
        assert_near(a.distance_secs(&b), 0.005);
        a.height = 0.001;
        b.height = 0.002;
        assert_near(a.distance_secs(&b), 0.008);
        a.adjustment = 0.0005;
        b.adjustment = -0.0015;
        assert_near(a.distance_secs(&b), 0.007);
        assert_near(a.distance_to(&b).as_secs_f64(), 0.007);
    }

    #[test]
    fn non_positive_adjusted_distance_falls_back_to_raw() {
        let a = at(0.0);
        let mut b = at(0.002);
        b.adjustment = -0.005;
        assert_near(a.distance_secs(&b), 0.002);
    }

    #[test]
    fn compute_distance_is_infinite_without_coordinates() {
        let a = at(0.1);
        assert_eq!(compute_distance(None, Some(&a)), f64::INFINITY);
        assert_eq!(compute_distance(Some(&a), None), f64::INFINITY);
        assert_near(compute_distance(Some(&a), Some(&at(0.3))), 0.2);
    }

    #[test]
    fn validity() {
        assert!(Coordinate::default().is_valid());
        for bad in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
            let mut c = Coordinate::default();
            c.vec[3] = bad;
            assert!(!c.is_valid());
            let d = Coordinate::default;
            assert!(!Coordinate { error: bad, ..d() }.is_valid());
            assert!(
                !Coordinate {
                    adjustment: bad,
                    ..d()
                }
                .is_valid()
            );
            assert!(!Coordinate { height: bad, ..d() }.is_valid());
        }
    }

    #[test]
    fn apply_force_moves_along_the_axis_and_scales_height() {
        let mut rng = SplitMix::new(0);
        let mut a = at(0.0);
        a.height = 0.001;
        let mut b = at(0.01);
        b.height = 0.001;
        let pushed = a.apply_force(1e-6, 0.002, &b, &mut rng);
        assert_near(pushed.vec[0], -0.002);
        // height grows by (h_a + h_b) * force / distance
        assert_near(pushed.height, 0.001 + 0.002 * 0.002 / 0.01);
        let pulled = a.apply_force(1e-6, -1.0, &b, &mut rng);
        assert_eq!(pulled.height, 1e-6);
    }

    #[test]
    fn coincident_coordinates_get_a_random_unit_direction() {
        let mut rng = SplitMix::new(42);
        let a = at(0.0);
        let moved = a.apply_force(1e-6, 0.5, &a.clone(), &mut rng);
        assert_near(magnitude(&moved.vec), 0.5);
        assert_eq!(moved.height, a.height);
    }

    #[test]
    fn json_shape_matches_consul() {
        let json = serde_json::to_value(Coordinate::default()).unwrap();
        assert_eq!(
            json,
            serde_json::json!({
                "Vec": [0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0],
                "Error": 1.5,
                "Adjustment": 0.0,
                "Height": 1.0e-5,
            })
        );
        let consul =
            r#"{"Vec":[0.1,0,0,0,0,0,0,-0.2],"Error":0.3,"Adjustment":-0.0001,"Height":0.00002}"#;
        let c: Coordinate = serde_json::from_str(consul).unwrap();
        assert_eq!(c.vec[0], 0.1);
        assert_eq!(c.vec[7], -0.2);
        assert_eq!(c.error, 0.3);
        assert_eq!(c.adjustment, -0.0001);
        assert_eq!(c.height, 0.00002);
    }

    #[test]
    fn json_with_wrong_dimensionality_is_rejected() {
        let short = r#"{"Vec":[0,0,0,0],"Error":1.5,"Adjustment":0,"Height":0.00001}"#;
        assert!(serde_json::from_str::<Coordinate>(short).is_err());
    }

    proptest::proptest! {
        #[test]
        fn json_round_trips(
            vec in proptest::array::uniform8(-10.0f64..10.0),
            error in 0.0f64..1.5,
            adjustment in -1.0f64..1.0,
            height in 1e-5f64..1.0,
        ) {
            let c = Coordinate { vec, error, adjustment, height };
            let text = serde_json::to_string(&c).unwrap();
            let back: Coordinate = serde_json::from_str(&text).unwrap();
            let close = |x: f64, y: f64| (x - y).abs() <= 1e-12 * x.abs().max(1.0);
            proptest::prop_assert!(back.vec.iter().zip(c.vec).all(|(x, y)| close(*x, y)));
            proptest::prop_assert!(close(back.error, c.error));
            proptest::prop_assert!(close(back.adjustment, c.adjustment));
            proptest::prop_assert!(close(back.height, c.height));
        }
    }
}
