//! The k nearest features of each requested layer to a point, ranked by
//! geodesic distance (WGS84, metres), exactly — not by the R-tree's degrees.
//!
//! A best-first walk of the layer's R-tree: nodes and entries wait in a
//! priority queue keyed by a lower bound of their distance from the origin on
//! the sphere ([`BoxBound`], haversine form, no trigonometry per box). The
//! nearest-bounded item is taken next: a node is opened (its children queued),
//! an entry is measured exactly (Karney's geodesic for points, [`Shape`] for
//! lines and polygons). Once `k` features are measured, nothing whose bound
//! exceeds what the k-th distance allows on the sphere
//! ([`max_hav_within`]) can beat it, and the walk stops: Karney's geodesic runs
//! for little more than `k` features and only the boxes around the origin are
//! opened, however sparse the layer is there.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use geo_types::{Geometry, Point};
use rstar::{ParentNode, RTreeNode, RTreeObject};

use super::bound::{max_hav_within, BoxBound};
use super::distance::{Closest, Shape};
use super::filter::LayerQuery;
use super::geodesy::{geodesic_bearing_deg, geodesic_distance_bearing};
use super::hit::{Hit, Ranking};
use crate::atlas::IndexEntry;
use crate::model::{Feature, GeometryKind};

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

/// The exact distance from the origin to a feature, with its closest point
/// and, for a point, the bearing to it (one inverse geodesic for both).
fn measure(origin: Point<f64>, feature: &Feature) -> (Closest, Option<Option<f64>>) {
    match &feature.geometry {
        Geometry::Point(p) => {
            let (distance_m, bearing) = geodesic_distance_bearing(origin, *p);
            (
                Closest {
                    distance_m,
                    point: *p,
                },
                Some(bearing),
            )
        }
        g => (Shape::new(g).closest_to(origin), None),
    }
}

/// An item waiting in the walk: a node to open or an entry to measure.
enum Item<'a> {
    Node(&'a ParentNode<IndexEntry>),
    Entry(&'a IndexEntry),
}

/// An item and the lower bound of its distance (haversine form).
struct Queued<'a> {
    bound: f64,
    item: Item<'a>,
}

impl PartialEq for Queued<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.bound.total_cmp(&other.bound).is_eq()
    }
}

impl Eq for Queued<'_> {}

impl PartialOrd for Queued<'_> {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Queued<'_> {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.bound.total_cmp(&other.bound)
    }
}

/// The `k` nearest matching features of one layer, nearest first.
pub fn nearest_in_layer(lq: &LayerQuery, query: &NearestQuery) -> Vec<Hit> {
    let k = query.k;
    if k == 0 || query.max_distance_m.is_nan() || query.max_distance_m < 0.0 {
        return Vec::new();
    }
    let layer = &lq.layer;
    let features = layer.features();
    let origin = query.origin;
    let bounds = BoxBound::new(origin, layer.schema.geometry != GeometryKind::Point);
    let child = |node: &'_ RTreeNode<IndexEntry>| -> f64 {
        let e = node.envelope();
        bounds.to_box(e.lower(), e.upper())
    };

    // The best k so far; the top of the heap is the current k-th.
    let mut best: BinaryHeap<Found> = BinaryHeap::with_capacity(k.min(64) + 1);
    // Nothing with a larger bound can be within reach (the cap, then the k-th).
    let mut reach = max_hav_within(query.max_distance_m);
    let mut queue: BinaryHeap<Reverse<Queued<'_>>> = BinaryHeap::with_capacity(64);
    queue.push(Reverse(Queued {
        bound: 0.0,
        item: Item::Node(layer.rtree().root()),
    }));
    while let Some(Reverse(next)) = queue.pop() {
        if next.bound > reach {
            break; // every later item is at least as far
        }
        match next.item {
            Item::Node(node) => {
                for c in node.children() {
                    let bound = child(c);
                    if bound > reach {
                        continue;
                    }
                    let item = match c {
                        RTreeNode::Leaf(entry) => Item::Entry(entry),
                        RTreeNode::Parent(parent) => Item::Node(parent),
                    };
                    queue.push(Reverse(Queued { bound, item }));
                }
            }
            Item::Entry(entry) => {
                let position = entry.data;
                let Some(feature) = features.get(position as usize) else {
                    continue;
                };
                if !lq.matches(feature) {
                    continue;
                }
                let (closest, bearing) = measure(origin, feature);
                let found = Found {
                    closest,
                    bearing,
                    fid: feature.fid,
                    position,
                };
                if closest.distance_m > query.max_distance_m
                    || (best.len() == k && best.peek().is_some_and(|kth| found >= *kth))
                {
                    continue;
                }
                best.push(found);
                if best.len() > k {
                    best.pop();
                }
                if best.len() == k {
                    if let Some(kth) = best.peek() {
                        reach = reach.min(max_hav_within(kth.closest.distance_m));
                    }
                }
            }
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
                    bearing_deg: match found.bearing {
                        _ if c.distance_m <= 0.0 => None,
                        Some(known) => known,
                        None => geodesic_bearing_deg(origin, c.point),
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
    /// The bearing when measuring gave it (points), else computed at the end.
    bearing: Option<Option<f64>>,
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
