//! The features within a corridor of a traced path, with where along the
//! river each one is reached.
//!
//! Per piece and segment: R-tree candidates from the segment's envelope grown
//! by the corridor, then the exact geodesic distance to the segment (a
//! great-circle arc). A point is reached where it projects onto the river; a
//! line or polygon where the river comes closest to it, taken as the
//! projection of the feature's point nearest the segment's upstream end, so a
//! zone the river crosses is reached where the river enters it. A feature
//! near several pieces keeps its smallest distance (then the earliest reach).

use std::collections::HashMap;

use geo::BoundingRect;
use geo_types::{Geometry, Line, Point};

use super::graph::RiverGraph;
use super::trace::Piece;
use crate::analysis::distance::Shape;
use crate::analysis::filter::LayerQuery;
use crate::analysis::geodesy::{closest_on_arc, geodesic_distance_m, search_envelope, UnitVec};
use crate::analysis::hit::Hit;

/// A feature found along a path: the hit (distance to the path) and where on
/// the path it is reached (piece index, position on that piece's reach).
#[derive(Debug, Clone)]
pub struct AlongHit {
    pub hit: Hit,
    pub piece: usize,
    pub position_m: f64,
}

/// Every feature of `layers` within `corridor_m` of the pieces.
pub fn features_along(
    graph: &RiverGraph,
    pieces: &[Piece],
    layers: &[LayerQuery],
    corridor_m: f64,
) -> Vec<AlongHit> {
    let mut best: HashMap<(usize, u32), AlongHit> = HashMap::new();
    for (pi, piece) in pieces.iter().enumerate() {
        let reach = &graph.reaches[piece.reach];
        if piece.to_m - piece.from_m <= 0.0 {
            continue;
        }
        let coords = reach.slice(piece.from_m, piece.to_m);
        let mut offset = piece.from_m;
        for w in coords.windows(2) {
            let (a, b) = (w[0], w[1]);
            let seg_len = geodesic_distance_m(a, b);
            let bbox = Line::new(a.0, b.0).bounding_rect();
            let envelope = search_envelope(bbox, corridor_m);
            for (li, lq) in layers.iter().enumerate() {
                let features = lq.layer.features();
                for entry in lq.layer.rtree().locate_in_envelope_intersecting(&envelope) {
                    let Some(feature) = features.get(entry.data as usize) else {
                        continue;
                    };
                    if !lq.matches(feature) {
                        continue;
                    }
                    let Some((distance_m, from_a_m)) = measure(&feature.geometry, a, b) else {
                        continue;
                    };
                    if distance_m > corridor_m {
                        continue;
                    }
                    let position_m = offset + from_a_m.min(seg_len);
                    let candidate = AlongHit {
                        hit: Hit {
                            layer: lq.layer.clone(),
                            position: entry.data,
                            distance_m,
                            ranking: None,
                        },
                        piece: pi,
                        position_m,
                    };
                    best.entry((li, entry.data))
                        .and_modify(|kept| {
                            if distance_m < kept.hit.distance_m - 0.01 {
                                *kept = candidate.clone();
                            }
                        })
                        .or_insert(candidate);
                }
            }
            offset += seg_len;
        }
    }
    let mut hits: Vec<AlongHit> = best.into_values().collect();
    hits.sort_by(|x, y| {
        x.hit
            .layer
            .id()
            .cmp(y.hit.layer.id())
            .then(x.hit.position.cmp(&y.hit.position))
    });
    hits
}

/// Distance from a feature to the arc `a`–`b`, and how far from `a` along the
/// arc the feature is reached.
fn measure(geometry: &Geometry<f64>, a: Point<f64>, b: Point<f64>) -> Option<(f64, f64)> {
    let (av, bv) = (UnitVec::from_point(a), UnitVec::from_point(b));
    let project = |p: Point<f64>| {
        let foot = closest_on_arc(UnitVec::from_point(p), av, bv).to_point();
        (geodesic_distance_m(p, foot), geodesic_distance_m(a, foot))
    };
    match geometry {
        Geometry::Point(p) => Some(project(*p)),
        g => {
            let shape = Shape::new(g);
            let segment = Geometry::Line(Line::new(a.0, b.0));
            let distance_m = shape.distance_to(&Shape::new(&segment));
            if !distance_m.is_finite() {
                return None;
            }
            let nearest = shape.closest_to(a).point;
            Some((distance_m, project(nearest).1))
        }
    }
}
