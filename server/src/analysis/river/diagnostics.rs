//! What the network builder made of the `rivers` layer, for
//! `GET /api/analysis/rivers/diagnostics` and the start-up log: the links
//! (with the gaps they bridge), the downstream ends joined to nothing (the
//! network's mouths, or gaps wider than the snapping tolerance) with the
//! nearest other reach, the heads (sources), and any cycle.

use serde::Serialize;

use super::graph::{RiverGraph, SAME_M};
use crate::analysis::hit::round_to;

/// Unconnected ends farther than this multiple of the tolerance are not
/// searched for a nearest reach (they are mouths, not near misses).
const NEAR_MISS_FACTOR: f64 = 20.0;

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Diagnostics {
    pub rivers_version: u64,
    pub snap_tolerance_m: f64,
    pub reaches: usize,
    pub links: Vec<LinkReport>,
    pub unconnected_ends: Vec<EndReport>,
    pub heads: Vec<EndReport>,
    /// Reach ids on a cycle of outlet links (empty for a sound network).
    pub cycles: Vec<String>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct LinkReport {
    pub from: String,
    pub to: String,
    pub gap_m: f64,
    /// Where on the receiving reach, metres from its upstream end.
    pub at_along_m: f64,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct EndReport {
    pub reach: String,
    pub name_en: String,
    pub name_zh: String,
    /// `[lon, lat]`.
    pub point: [f64; 2],
    /// The nearest other reach within 20 × the tolerance, and how far.
    pub nearest_reach: Option<String>,
    pub nearest_m: Option<f64>,
}

impl RiverGraph {
    /// The diagnostics of this network.
    pub fn diagnostics(&self, rivers_version: u64) -> Diagnostics {
        let links = self
            .reaches
            .iter()
            .filter_map(|r| {
                let link = r.outlet?;
                Some(LinkReport {
                    from: r.id.clone(),
                    to: self.reaches[link.to].id.clone(),
                    gap_m: round_to(link.gap_m, 2),
                    at_along_m: round_to(link.along_m, 2),
                })
            })
            .collect();
        let report = |i: usize, upstream_end: bool| {
            let r = &self.reaches[i];
            let p = if upstream_end {
                r.vertices.first()
            } else {
                r.vertices.last()
            }
            .copied()
            .unwrap_or_default();
            let nearest = self
                .snap_excluding(p, self.snap_tolerance_m * NEAR_MISS_FACTOR, i)
                .map(|s| (self.reaches[s.reach].id.clone(), round_to(s.distance_m, 2)));
            EndReport {
                reach: r.id.clone(),
                name_en: r.name_en.clone(),
                name_zh: r.name_zh.clone(),
                point: [p.x(), p.y()],
                nearest_reach: nearest.as_ref().map(|n| n.0.clone()),
                nearest_m: nearest.map(|n| n.1),
            }
        };
        let unconnected_ends = (0..self.reaches.len())
            .filter(|&i| self.reaches[i].outlet.is_none())
            .map(|i| report(i, false))
            .collect();
        let heads = (0..self.reaches.len())
            .filter(|&i| !self.inflows[i].iter().any(|f| f.along_m < SAME_M))
            .map(|i| report(i, true))
            .collect();
        Diagnostics {
            rivers_version,
            snap_tolerance_m: self.snap_tolerance_m,
            reaches: self.reaches.len(),
            links,
            unconnected_ends,
            heads,
            cycles: self.cycles(),
        }
    }

    /// Reaches whose chain of outlet links comes back to themselves.
    fn cycles(&self) -> Vec<String> {
        let n = self.reaches.len();
        (0..n)
            .filter(|&start| {
                let mut at = start;
                for _ in 0..n {
                    match self.reaches[at].outlet {
                        Some(link) if link.to == start => return true,
                        Some(link) => at = link.to,
                        None => return false,
                    }
                }
                false
            })
            .map(|i| self.reaches[i].id.clone())
            .collect()
    }
}
