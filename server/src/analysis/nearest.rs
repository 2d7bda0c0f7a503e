//! The k nearest features of each requested layer to a point, ranked by
//! geodesic distance (WGS84, metres), exactly — not by the R-tree's degrees.
//!
//! Two passes per layer:
//! 1. *Seed*: walk the R-tree's own nearest-neighbour order (planar degrees,
//!    which is not the geodesic order) until `k` matching features are found;
//!    the largest of their distances (for points a sphere upper bound, no
//!    ellipsoid needed), `r`, is an upper bound for the true k-th nearest
//!    geodesic distance (capped at `max_distance_m`).
//! 2. *Exact*: every feature within `r` of the origin has its bounding box
//!    inside the conservative envelope of radius `r`
//!    ([`search_envelope`](super::geodesy::search_envelope)). Each candidate
//!    gets a cheap lower bound (points: the sphere distance shrunk by the
//!    ellipsoid's slack; other shapes: 0); candidates are measured exactly in
//!    increasing lower-bound order until the next lower bound exceeds the
//!    current k-th distance, so Karney's geodesic runs for little more than
//!    `k` points.
//!
//! Since at least `k` features lie within `r` (or `r` is the distance cap), the
//! k nearest are all among the candidates of pass 2, whatever latitude.

use std::collections::BinaryHeap;

use geo_types::{Geometry, Point, Rect};

use super::distance::{Closest, Shape};
use super::filter::LayerQuery;
use super::geodesy::{
    geodesic_bearing_deg, geodesic_distance_m, search_envelope, sphere_lower_bound_m,
    sphere_upper_bound_m, UnitVec,
};
use super::hit::{Hit, Ranking};
use crate::model::Feature;

/// A nearest-features query around one point.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct NearestQuery {
    pub origin: Point<f64>,
    /// Results per layer.
    pub k: usize,
    /// Geodesic search radius, metres.
    pub max_distance_m: f64,
}

/// The `k` nearest features of every layer, all sorted by distance (a feature's
/// `rank` is its place within its own layer).
pub fn nearest(layers: &[LayerQuery], query: &NearestQuery) -> Vec<Hit> {
    let mut hits: Vec<Hit> = layers
        .iter()
        .flat_map(|lq| nearest_in_layer(lq, query))
        .collect();
    Hit::sort(&mut hits);
    hits
}

/// The exact distance from the origin to a feature, with its closest point.
fn measure(origin: Point<f64>, feature: &Feature) -> Closest {
    match &feature.geometry {
        Geometry::Point(p) => Closest {
            distance_m: geodesic_distance_m(origin, *p),
            point: *p,
        },
        g => Shape::new(g).closest_to(origin),
    }
}

/// The `k` nearest matching features of one layer, nearest first.
pub fn nearest_in_layer(lq: &LayerQuery, query: &NearestQuery) -> Vec<Hit> {
    let k = query.k;
    if k == 0 {
        return Vec::new();
    }
    let layer = &lq.layer;
    let features = layer.features();
    let origin = query.origin;
    let ov = UnitVec::from_point(origin);
    let sphere_angle = |p: &Point<f64>| ov.angle(UnitVec::from_point(*p));

    // Pass 1: an upper bound for the k-th nearest geodesic distance.
    let mut seeds = 0;
    let mut radius_m: f64 = 0.0;
    for entry in layer
        .rtree()
        .nearest_neighbor_iter(&[origin.x(), origin.y()])
    {
        if seeds == k {
            break;
        }
        let Some(feature) = features.get(entry.data as usize) else {
            continue;
        };
        if !lq.matches(feature) {
            continue;
        }
        let upper = match &feature.geometry {
            Geometry::Point(p) => sphere_upper_bound_m(sphere_angle(p)),
            _ => measure(origin, feature).distance_m,
        };
        radius_m = radius_m.max(upper);
        seeds += 1;
    }
    if seeds < k {
        radius_m = query.max_distance_m; // fewer matching features than k
    }
    let radius_m = radius_m.min(query.max_distance_m);

    // Pass 2: candidates in increasing lower-bound order, measured until
    // none can beat the k-th.
    let envelope = search_envelope(Rect::new(origin.0, origin.0), radius_m);
    let mut candidates: Vec<(f64, u32)> = layer
        .rtree()
        .locate_in_envelope_intersecting(&envelope)
        .filter_map(|entry| {
            let feature = features.get(entry.data as usize)?;
            if !lq.matches(feature) {
                return None;
            }
            let lower = match &feature.geometry {
                Geometry::Point(p) => sphere_lower_bound_m(sphere_angle(p)),
                _ => 0.0,
            };
            (lower <= radius_m).then_some((lower, entry.data))
        })
        .collect();
    candidates.sort_unstable_by(|a, b| a.0.total_cmp(&b.0));
    // The best k so far; the top of the heap is the current k-th.
    let mut best: BinaryHeap<Found> = BinaryHeap::with_capacity(k.min(candidates.len()) + 1);
    for (lower, position) in candidates {
        let bound = match best.peek() {
            Some(kth) if best.len() == k => kth.closest.distance_m,
            _ => radius_m,
        };
        if lower > bound {
            break;
        }
        let Some(feature) = features.get(position as usize) else {
            continue;
        };
        let closest = measure(origin, feature);
        if closest.distance_m > bound {
            continue;
        }
        best.push(Found {
            closest,
            fid: feature.fid,
            position,
        });
        if best.len() > k {
            best.pop();
        }
    }
    best.into_sorted_vec()
        .into_iter()
        .enumerate()
        .map(|(i, found)| {
            let c = found.closest;
            Hit {
                layer: layer.clone(),
                position: found.position,
                distance_m: c.distance_m,
                ranking: Some(Ranking {
                    bearing_deg: if c.distance_m > 0.0 {
                        geodesic_bearing_deg(origin, c.point)
                    } else {
                        None
                    },
                    rank: i + 1,
                }),
            }
        })
        .collect()
}

/// A measured candidate, ordered by distance then `fid`.
#[derive(Debug, Clone, Copy)]
struct Found {
    closest: Closest,
    fid: i64,
    position: u32,
}

impl Found {
    fn key(&self) -> (f64, i64) {
        (self.closest.distance_m, self.fid)
    }
}

impl PartialEq for Found {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other).is_eq()
    }
}

impl Eq for Found {}

impl PartialOrd for Found {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Found {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        let (a, b) = (self.key(), other.key());
        a.0.total_cmp(&b.0).then(a.1.cmp(&b.1))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use geo_types::point;
    use rand::{Rng, SeedableRng};

    fn layer_of(points: &[(f64, f64)]) -> LayerQuery {
        crate::analysis::test_support::points_layer("rural_sites", points)
    }

    fn brute_force(points: &[(f64, f64)], origin: Point<f64>, k: usize, max_m: f64) -> Vec<String> {
        let mut all: Vec<(f64, usize)> = points
            .iter()
            .enumerate()
            .map(|(i, &(x, y))| {
                (
                    super::super::geodesy::geodesic_distance_m(origin, point!(x: x, y: y)),
                    i,
                )
            })
            .filter(|(d, _)| *d <= max_m)
            .collect();
        all.sort_by(|a, b| a.0.total_cmp(&b.0));
        all.into_iter()
            .take(k)
            .map(|(_, i)| format!("p{i}"))
            .collect()
    }

    /// At high latitude a degree of longitude is short, so the R-tree's planar
    /// order differs from the geodesic one; the result must still be exact.
    #[test]
    fn matches_brute_force_at_every_latitude() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(7);
        for lat in [0.0, 28.8, 60.0, 80.0] {
            let points: Vec<(f64, f64)> = (0..400)
                .map(|_| {
                    (
                        104.0 + rng.gen_range(-1.0..1.0),
                        lat + rng.gen_range(-0.5..0.5),
                    )
                })
                .collect();
            let lq = layer_of(&points);
            for _ in 0..10 {
                let origin =
                    point!(x: 104.0 + rng.gen_range(-1.0..1.0), y: lat + rng.gen_range(-0.5..0.5));
                for (k, max_m) in [
                    (1, 100_000.0),
                    (7, 100_000.0),
                    (25, 20_000.0),
                    (1000, 100_000.0),
                ] {
                    let q = NearestQuery {
                        origin,
                        k,
                        max_distance_m: max_m,
                    };
                    let got: Vec<String> = nearest_in_layer(&lq, &q)
                        .iter()
                        .filter_map(|h| h.feature().map(|f| f.id.to_string()))
                        .collect();
                    assert_eq!(
                        got,
                        brute_force(&points, origin, k, max_m),
                        "lat {lat} k {k}"
                    );
                }
            }
        }
    }

    #[test]
    fn ranks_bearings_and_the_distance_cap() {
        let lq = layer_of(&[(104.6, 28.8), (104.6, 28.81), (104.62, 28.8), (105.6, 28.8)]);
        let q = NearestQuery {
            origin: point!(x: 104.6, y: 28.8),
            k: 10,
            max_distance_m: 5_000.0,
        };
        let hits = nearest_in_layer(&lq, &q);
        assert_eq!(hits.len(), 3, "the far point is beyond 5 km");
        let r: Vec<_> = hits.iter().filter_map(|h| h.ranking).collect();
        assert_eq!(r.iter().map(|r| r.rank).collect::<Vec<_>>(), [1, 2, 3]);
        assert_eq!(hits[0].distance_m, 0.0);
        assert_eq!(r[0].bearing_deg, None);
        assert!(
            r[1].bearing_deg
                .is_some_and(|b| !(0.1..=359.9).contains(&b)),
            "north: {:?}",
            r[1]
        );
        assert!(
            r[2].bearing_deg.is_some_and(|b| (b - 90.0).abs() < 0.1),
            "east: {:?}",
            r[2]
        );
    }
}
