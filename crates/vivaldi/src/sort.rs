//! Ordering results by estimated round-trip time from an origin node, as
//! Consul does for `?near=`.

use crate::coordinate::{Coordinate, compute_distance};

/// Stably sorts `items` by estimated RTT from `origin`; items whose
/// coordinate is unknown (`coord_of` returns `None`) go last, in their
/// original order.
pub fn sort_by_distance<T, F>(origin: &Coordinate, items: &mut [T], coord_of: F)
where
    F: Fn(&T) -> Option<&Coordinate>,
{
    items.sort_by(|a, b| {
        let da = compute_distance(Some(origin), coord_of(a));
        let db = compute_distance(Some(origin), coord_of(b));
        da.total_cmp(&db)
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(secs: f64) -> Coordinate {
        let mut c = Coordinate::default();
        c.vec[0] = secs;
        c.height = 0.0;
        c
    }

    #[test]
    fn nearest_first_unknown_last_stable() {
        let origin = at(0.0);
        let mut nodes = vec![
            ("none-1", None),
            ("far", Some(at(0.009))),
            ("near", Some(at(-0.002))),
            ("none-2", None),
            ("mid-a", Some(at(0.005))),
            ("mid-b", Some(at(-0.005))),
        ];
        sort_by_distance(&origin, &mut nodes, |n| n.1.as_ref());
        let names: Vec<&str> = nodes.iter().map(|n| n.0).collect();
        assert_eq!(names, ["near", "mid-a", "mid-b", "far", "none-1", "none-2"]);
    }
}
