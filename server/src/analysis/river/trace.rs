//! Tracing along the network: downstream from a point (one path, following
//! outlet links, with travel times) and upstream (every reach that drains to
//! the point, a tree). Both stop at a maximum along-river distance; links
//! bridge their gap as a straight piece of the path, counted in the distance.
//! A reach is entered at most once, so a malformed network with a cycle still
//! ends.

use geo_types::{Coord, LineString, MultiLineString};

use super::graph::{RiverGraph, Snap, SAME_M};

/// Upstream pieces shorter than this (a point at a river's head) are left out.
const MIN_PIECE_M: f64 = 0.01;

/// A stretch of one reach on a traced path.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Piece {
    pub reach: usize,
    /// Positions on the reach (metres from its upstream end), `from_m ≤ to_m`.
    pub from_m: f64,
    pub to_m: f64,
    /// Along-river distance from the traced point to this piece's end nearest
    /// to it (downstream: `from_m`; upstream: `to_m`).
    pub along_m: f64,
    /// Downstream only: expected travel time from the traced point to `from_m`.
    pub time_s: f64,
    /// Flow velocity used on this piece.
    pub velocity_mps: f64,
}

/// A downstream trace.
#[derive(Debug, Clone, PartialEq)]
pub struct Downstream {
    pub pieces: Vec<Piece>,
    /// Along-river length of the path, metres.
    pub length_m: f64,
    /// Expected travel time to the end of the path, seconds.
    pub time_s: f64,
    /// Whether the path stops at the end of the network before `max_m`.
    pub reached_outlet: bool,
}

impl Downstream {
    /// Along-river distance and expected travel time to a position on a piece.
    pub fn at(&self, piece: usize, position_m: f64) -> (f64, f64) {
        let p = &self.pieces[piece];
        let d = (position_m - p.from_m).max(0.0);
        (p.along_m + d, p.time_s + d / p.velocity_mps)
    }
}

/// An upstream trace: the reaches draining to the point.
#[derive(Debug, Clone, PartialEq)]
pub struct Upstream {
    pub pieces: Vec<Piece>,
    /// Total length of the traced reaches, metres.
    pub length_m: f64,
}

impl Upstream {
    /// Along-river distance from a position on a piece down to the traced point.
    pub fn at(&self, piece: usize, position_m: f64) -> f64 {
        let p = &self.pieces[piece];
        p.along_m + (p.to_m - position_m).max(0.0)
    }
}

impl RiverGraph {
    /// The path downstream of `start` for at most `max_m` metres; every piece
    /// flows at `velocity_mps` when given, else at its river's velocity.
    pub fn downstream(&self, start: &Snap, max_m: f64, velocity_mps: Option<f64>) -> Downstream {
        let mut pieces = Vec::new();
        let mut seen = vec![false; self.reaches.len()];
        let (mut reach, mut position) = (start.reach, start.along_m);
        let (mut along, mut time) = (0.0_f64, 0.0_f64);
        let mut reached_outlet = false;
        loop {
            seen[reach] = true;
            let r = &self.reaches[reach];
            let v = velocity_mps.unwrap_or(r.velocity_mps);
            let take = (r.length_m() - position).min(max_m - along).max(0.0);
            pieces.push(Piece {
                reach,
                from_m: position,
                to_m: position + take,
                along_m: along,
                time_s: time,
                velocity_mps: v,
            });
            along += take;
            time += take / v;
            if along >= max_m {
                break;
            }
            match r.outlet {
                Some(link) if !seen[link.to] && along + link.gap_m < max_m => {
                    along += link.gap_m;
                    time += link.gap_m / v;
                    reach = link.to;
                    position = link.along_m;
                }
                Some(link) if !seen[link.to] => {
                    // The limit falls inside the gap.
                    time += (max_m - along) / v;
                    along = max_m;
                    break;
                }
                _ => {
                    reached_outlet = true;
                    break;
                }
            }
        }
        Downstream {
            pieces,
            length_m: along,
            time_s: time,
            reached_outlet,
        }
    }

    /// The reaches upstream of `start` within `max_m` metres along the river.
    pub fn upstream(&self, start: &Snap, max_m: f64) -> Upstream {
        let mut pieces = Vec::new();
        let mut seen = vec![false; self.reaches.len()];
        let mut stack = vec![(start.reach, start.along_m, 0.0_f64)];
        let mut length_m = 0.0;
        while let Some((reach, to_m, along)) = stack.pop() {
            if seen[reach] {
                continue;
            }
            seen[reach] = true;
            let r = &self.reaches[reach];
            let from_m = (to_m - (max_m - along)).max(0.0);
            if to_m - from_m > MIN_PIECE_M {
                pieces.push(Piece {
                    reach,
                    from_m,
                    to_m,
                    along_m: along,
                    time_s: 0.0,
                    velocity_mps: r.velocity_mps,
                });
                length_m += to_m - from_m;
            }
            for inflow in &self.inflows[reach] {
                if inflow.along_m > to_m + SAME_M || inflow.along_m < from_m {
                    continue;
                }
                let at = along + (to_m - inflow.along_m).max(0.0) + inflow.gap_m;
                if at < max_m {
                    let upper = self.reaches[inflow.from].length_m();
                    stack.push((inflow.from, upper, at));
                }
            }
        }
        Upstream { pieces, length_m }
    }

    /// The along-river distance from `from` down to `to`, if `to` lies
    /// downstream of `from` within `max_m`.
    pub fn downstream_distance(&self, from: &Snap, to: &Snap, max_m: f64) -> Option<f64> {
        let mut seen = vec![false; self.reaches.len()];
        let (mut reach, mut position, mut along) = (from.reach, from.along_m, 0.0);
        loop {
            if reach == to.reach && to.along_m + SAME_M >= position {
                let d = along + (to.along_m - position).max(0.0);
                return (d <= max_m).then_some(d);
            }
            seen[reach] = true;
            let r = &self.reaches[reach];
            along += r.length_m() - position;
            let link = r.outlet?;
            along += link.gap_m;
            if along > max_m || seen[link.to] {
                return None;
            }
            reach = link.to;
            position = link.along_m;
        }
    }

    /// The coordinates of one piece, upstream to downstream.
    pub fn piece_coords(&self, piece: &Piece) -> Vec<Coord<f64>> {
        self.reaches[piece.reach]
            .slice(piece.from_m, piece.to_m)
            .into_iter()
            .map(|p| p.0)
            .collect()
    }

    /// A downstream path as one line (gaps bridged by straight pieces).
    pub fn downstream_line(&self, trace: &Downstream) -> LineString<f64> {
        let mut coords: Vec<Coord<f64>> = Vec::new();
        for piece in &trace.pieces {
            for c in self.piece_coords(piece) {
                if coords.last() != Some(&c) {
                    coords.push(c);
                }
            }
        }
        if coords.len() == 1 {
            coords.push(coords[0]);
        }
        LineString(coords)
    }

    /// The reaches of an upstream trace, each flowing toward the point.
    pub fn upstream_lines(&self, trace: &Upstream) -> MultiLineString<f64> {
        MultiLineString(
            trace
                .pieces
                .iter()
                .map(|p| LineString(self.piece_coords(p)))
                .collect(),
        )
    }
}
