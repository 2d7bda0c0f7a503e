//! The directed river network built from the `rivers` layer.
//!
//! Every line (each part of a multi-line) is a reach flowing in its digitising
//! direction. A reach's downstream end joins the nearest point of another
//! reach within `rivers.snap_tolerance_m` (the *outlet link*); that point may
//! lie anywhere along the other reach, since tributaries end on the main
//! river's centreline, not at one of its vertices. Ends that meet another
//! reach's own downstream end (the Jinsha, Min and Chang Jiang meet at one
//! point in Yibin) prefer the reach that carries on, so two mouths are never
//! joined to each other. Positions on a reach are metres from its upstream
//! end, measured geodesically (WGS84) vertex to vertex.

use geo_types::{Geometry, LineString, Point};
use rstar::primitives::{GeomWithData, Rectangle};
use rstar::RTree;

use super::settings::RiversConfig;
use crate::analysis::geodesy::{geodesic_distance_m, UnitVec};
use crate::atlas::Layer;

/// A segment in the index: (reach, segment index).
pub(crate) type SegmentEntry = GeomWithData<Rectangle<[f64; 2]>, (u32, u32)>;

/// Below this many metres two positions or points are the same.
pub(crate) const SAME_M: f64 = 1.0;

/// One reach: a line of the `rivers` layer, flowing from its first vertex.
#[derive(Debug, Clone)]
pub struct Reach {
    /// The feature id (`#2` appended for the second part of a multi-line, …).
    pub id: String,
    pub name_en: String,
    pub name_zh: String,
    pub vertices: Vec<Point<f64>>,
    /// Metres from the upstream end to each vertex.
    pub cum_m: Vec<f64>,
    /// Configured flow velocity of this river.
    pub velocity_mps: f64,
    /// Where this reach flows into another one.
    pub outlet: Option<Link>,
}

impl Reach {
    pub fn length_m(&self) -> f64 {
        self.cum_m.last().copied().unwrap_or(0.0)
    }

    /// The point `along_m` metres from the upstream end (clamped to the reach),
    /// on the great-circle arc of its segment.
    pub fn point_at(&self, along_m: f64) -> Point<f64> {
        let n = self.vertices.len();
        if n < 2 || along_m <= 0.0 {
            return self
                .vertices
                .first()
                .copied()
                .unwrap_or(Point::new(0.0, 0.0));
        }
        if along_m >= self.length_m() {
            return self.vertices[n - 1];
        }
        let seg = self.segment_at(along_m);
        let (a, b) = (self.vertices[seg], self.vertices[seg + 1]);
        let len = self.cum_m[seg + 1] - self.cum_m[seg];
        if len <= 0.0 {
            return a;
        }
        let t = (along_m - self.cum_m[seg]) / len;
        UnitVec::from_point(a)
            .slerp(UnitVec::from_point(b), t)
            .to_point()
    }

    /// The index of the segment holding position `along_m`.
    pub fn segment_at(&self, along_m: f64) -> usize {
        let last_segment = self.vertices.len().saturating_sub(2);
        self.cum_m
            .partition_point(|&c| c <= along_m)
            .saturating_sub(1)
            .min(last_segment)
    }

    /// The vertices from position `from_m` to `to_m` (both ends interpolated).
    pub fn slice(&self, from_m: f64, to_m: f64) -> Vec<Point<f64>> {
        let mut out = vec![self.point_at(from_m)];
        let first = self.cum_m.partition_point(|&c| c <= from_m);
        for (i, &c) in self.cum_m.iter().enumerate().skip(first) {
            if c >= to_m {
                break;
            }
            out.push(self.vertices[i]);
        }
        out.push(self.point_at(to_m));
        out
    }
}

/// A reach's downstream end joined to a position on another reach.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Link {
    pub to: usize,
    /// Position on the receiving reach, metres from its upstream end.
    pub along_m: f64,
    /// Straight distance bridged between the end and that position.
    pub gap_m: f64,
}

/// A reach flowing into this one at a position.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Inflow {
    pub from: usize,
    pub along_m: f64,
    pub gap_m: f64,
}

/// A point placed on the network: the reach, the position on it, the point
/// itself and how far the original point was from it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Snap {
    pub reach: usize,
    pub along_m: f64,
    pub point: Point<f64>,
    pub distance_m: f64,
}

/// The whole network, immutable once built.
#[derive(Debug)]
pub struct RiverGraph {
    pub reaches: Vec<Reach>,
    /// Per reach, the reaches flowing into it, by position.
    pub inflows: Vec<Vec<Inflow>>,
    pub(crate) segments: RTree<SegmentEntry>,
    pub snap_tolerance_m: f64,
}

impl RiverGraph {
    /// Builds the network from the line features of a layer (empty without one).
    pub fn build(layer: Option<&Layer>, config: &RiversConfig) -> RiverGraph {
        let mut reaches = Vec::new();
        for feature in layer.map_or(&[][..], |l| l.features()) {
            let Some(schema) = layer.map(|l| &l.schema) else {
                break;
            };
            let lines: Vec<&LineString<f64>> = match &feature.geometry {
                Geometry::LineString(l) => vec![l],
                Geometry::MultiLineString(m) => m.0.iter().collect(),
                _ => Vec::new(),
            };
            let name_en = feature.text(schema, "name_en").to_string();
            let name_zh = feature.text(schema, "name_zh").to_string();
            for (part, line) in lines.into_iter().enumerate() {
                if line.0.len() < 2 {
                    continue;
                }
                let vertices: Vec<Point<f64>> = line.points().collect();
                let mut cum_m = Vec::with_capacity(vertices.len());
                let mut total = 0.0;
                cum_m.push(0.0);
                for w in vertices.windows(2) {
                    total += geodesic_distance_m(w[0], w[1]);
                    cum_m.push(total);
                }
                let id = if part == 0 {
                    feature.id.to_string()
                } else {
                    format!("{}#{}", feature.id, part + 1)
                };
                reaches.push(Reach {
                    id,
                    velocity_mps: config.velocity_for(&name_en, &name_zh),
                    name_en: name_en.clone(),
                    name_zh: name_zh.clone(),
                    vertices,
                    cum_m,
                    outlet: None,
                });
            }
        }
        let segments = RTree::bulk_load(
            reaches
                .iter()
                .enumerate()
                .flat_map(|(r, reach)| {
                    reach.vertices.windows(2).enumerate().map(move |(s, w)| {
                        let (a, b) = (w[0], w[1]);
                        GeomWithData::new(
                            Rectangle::from_corners(
                                [a.x().min(b.x()), a.y().min(b.y())],
                                [a.x().max(b.x()), a.y().max(b.y())],
                            ),
                            (r as u32, s as u32),
                        )
                    })
                })
                .collect(),
        );
        let mut graph = RiverGraph {
            inflows: vec![Vec::new(); reaches.len()],
            reaches,
            segments,
            snap_tolerance_m: config.snap_tolerance_m,
        };
        graph.link(config.snap_tolerance_m);
        graph
    }

    /// Joins every reach's downstream end to the reach it flows into.
    fn link(&mut self, tolerance_m: f64) {
        for r in 0..self.reaches.len() {
            let Some(&end) = self.reaches[r].vertices.last() else {
                continue;
            };
            let candidates = self.snap_candidates(end, tolerance_m, Some(r));
            // Prefer a reach that carries on over another reach's mouth.
            let carries_on = |s: &Snap| self.reaches[s.reach].length_m() - s.along_m >= SAME_M;
            let best = candidates
                .iter()
                .filter(|s| carries_on(s))
                .min_by(|a, b| a.distance_m.total_cmp(&b.distance_m));
            if let Some(s) = best {
                let link = Link {
                    to: s.reach,
                    along_m: s.along_m,
                    gap_m: s.distance_m,
                };
                self.reaches[r].outlet = Some(link);
                self.inflows[s.reach].push(Inflow {
                    from: r,
                    along_m: s.along_m,
                    gap_m: s.distance_m,
                });
            }
        }
        for list in &mut self.inflows {
            list.sort_by(|a, b| a.along_m.total_cmp(&b.along_m));
        }
    }

    /// The closest point of the network to `p` within `max_m`, if any.
    pub fn snap(&self, p: Point<f64>, max_m: f64) -> Option<Snap> {
        let candidates = self.snap_candidates(p, max_m, None);
        // Among equally near reaches (a confluence), the one that carries on.
        candidates.into_iter().min_by(|a, b| {
            let rank = |s: &Snap| {
                let at_mouth = self.reaches[s.reach].length_m() - s.along_m < SAME_M;
                (s.distance_m / SAME_M).floor() as i64 * 2 + i64::from(at_mouth)
            };
            rank(a)
                .cmp(&rank(b))
                .then(a.distance_m.total_cmp(&b.distance_m))
        })
    }

    /// The closest point of any reach but `skip` within `max_m` of `p`.
    pub(crate) fn snap_excluding(&self, p: Point<f64>, max_m: f64, skip: usize) -> Option<Snap> {
        self.snap_candidates(p, max_m, Some(skip))
            .into_iter()
            .min_by(|a, b| a.distance_m.total_cmp(&b.distance_m))
    }

    /// The closest point of each reach within `max_m` of `p` (one per reach).
    fn snap_candidates(&self, p: Point<f64>, max_m: f64, skip: Option<usize>) -> Vec<Snap> {
        let bbox = geo_types::Rect::new(p.0, p.0);
        let envelope = crate::analysis::geodesy::search_envelope(bbox, max_m);
        let pv = UnitVec::from_point(p);
        let mut best: Vec<Snap> = Vec::new();
        for entry in self.segments.locate_in_envelope_intersecting(&envelope) {
            let (r, s) = (entry.data.0 as usize, entry.data.1 as usize);
            if Some(r) == skip {
                continue;
            }
            let reach = &self.reaches[r];
            let (a, b) = (reach.vertices[s], reach.vertices[s + 1]);
            let foot = crate::analysis::geodesy::closest_on_arc(
                pv,
                UnitVec::from_point(a),
                UnitVec::from_point(b),
            )
            .to_point();
            let distance_m = geodesic_distance_m(p, foot);
            if distance_m > max_m {
                continue;
            }
            let along_m = (reach.cum_m[s] + geodesic_distance_m(a, foot)).min(reach.cum_m[s + 1]);
            let snap = Snap {
                reach: r,
                along_m,
                point: foot,
                distance_m,
            };
            match best.iter_mut().find(|b| b.reach == r) {
                Some(b) if b.distance_m <= distance_m => {}
                Some(b) => *b = snap,
                None => best.push(snap),
            }
        }
        best
    }
}
