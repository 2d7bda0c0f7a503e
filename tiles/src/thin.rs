//! Deterministic thinning of dense points, and the per-layer feature cap.
//!
//! # The rule
//! 1. Every point (a single-point feature, already snapped to the tile grid) falls
//!    in a square cell of `2^k` pixels. Cells are aligned to the tile's origin, so
//!    they nest across zoom levels, and while the cell size divides the buffer
//!    (16, 32, 64 px with the default 64 px buffer) a point near an edge falls in
//!    the same cell, with the same neighbours, in both tiles that show it: the two
//!    tiles keep the same points there (when they thin at the same level).
//! 2. In each cell the `per_cell` points with the lowest *rank* are kept; the rank
//!    is a hash (SplitMix64) of the feature id, ties broken by the id. So the kept
//!    set depends only on the ids and positions, never on the input order, and the
//!    kept points are an unbiased sample of each cell (not, say, the oldest ids).
//!    Only cells holding more than `per_cell` points lose any: the densest places
//!    are thinned first, isolated points always stay.
//! 3. `k` starts at `log2(cell_px)` where thinning is in force at the zoom
//!    ([`crate::PointThinning`]), else at 0 (identical pixels only) when the layer
//!    is over its feature cap. While the points kept would exceed the cap (minus
//!    the layer's non-point features), `k` grows by one: the grid coarsens until
//!    the tile fits, still showing where points are, at a coarser resolution.
//! 4. Each kept point stands for its cell's points: the cell's count is shared
//!    among the kept ones (lowest rank first gets any remainder), so the counts of
//!    a tile add up to its input points. Where thinning is configured for the zoom
//!    ([`crate::PointThinning::count_property`], `point_count` by default), the
//!    builder writes this count on every single-point feature of the layer; when
//!    only the cap thinned the points, no count is written.
//! 5. If the layer is still over its cap (non-point features, or `per_cell` above
//!    the cap), features are kept by size — polygon area, line length, points last —
//!    then by rank.

use crate::hash::mix64;
use crate::rules::PointThinning;
use crate::simplify::GridPoint;

/// Grid coordinates are offset by this so that they are non-negative; a power of
/// two, so cells stay aligned to the tile origin at every level.
const ORIGIN: i64 = 1 << 15;
/// Bits per axis in the Morton code; level 16 is a single cell.
const BITS: u32 = 16;

/// One feature of a layer as thinning sees it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Candidate {
    pub fid: u64,
    /// The position of a single-point feature; `None` for other geometries.
    pub point: Option<GridPoint>,
    /// Area (polygons) or length (lines) in pixels, for the cap.
    pub size: f64,
}

/// The candidates kept (by position in the input slice) and how many input
/// points each stands for.
#[derive(Debug, Default, Clone, PartialEq)]
pub(crate) struct Selection {
    pub kept: Vec<(usize, u64)>,
    /// Whether the points were thinned (so the count property is written).
    pub thinned: bool,
}

/// Selects the candidates that go into the tile (see the module docs) into
/// `sel`, whose buffer is reused.
pub(crate) fn select(
    candidates: &[Candidate],
    thinning: Option<&PointThinning>,
    max_features: Option<usize>,
    sel: &mut Selection,
) {
    let point_count = candidates.iter().filter(|c| c.point.is_some()).count();
    let others = candidates.len() - point_count;
    let point_budget = max_features.map(|m| m.saturating_sub(others));
    let over_budget = point_budget.is_some_and(|b| point_count > b);

    sel.kept.clear();
    sel.thinned = false;
    if thinning.is_none() && !over_budget {
        sel.kept.extend((0..candidates.len()).map(|i| (i, 1)));
    } else {
        let start = thinning.map_or(0, |t| ceil_log2(t.cell_px));
        let per_cell = thinning.map_or(1, |t| t.per_cell.max(1)) as usize;
        thin_points(candidates, start, per_cell, point_budget, &mut sel.kept);
        sel.kept.extend(
            candidates
                .iter()
                .enumerate()
                .filter(|(_, c)| c.point.is_none())
                .map(|(i, _)| (i, 1)),
        );
        sel.thinned = true;
    }
    if let Some(max) = max_features {
        if sel.kept.len() > max {
            sel.kept.sort_by(|&(a, _), &(b, _)| {
                let (a, b) = (&candidates[a], &candidates[b]);
                b.size
                    .total_cmp(&a.size)
                    .then_with(|| (mix64(a.fid), a.fid).cmp(&(mix64(b.fid), b.fid)))
            });
            sel.kept.truncate(max);
        }
    }
}

pub(crate) fn ceil_log2(v: u32) -> u32 {
    if v <= 1 {
        0
    } else {
        (32 - (v - 1).leading_zeros()).min(BITS)
    }
}

/// A point ready for grid thinning: sorted by cell (Morton order), then rank.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct Entry {
    morton: u64,
    rank: u64,
    fid: u64,
    index: usize,
}

fn thin_points(
    candidates: &[Candidate],
    start_level: u32,
    per_cell: usize,
    budget: Option<usize>,
    kept: &mut Vec<(usize, u64)>,
) {
    let mut entries: Vec<Entry> = candidates
        .iter()
        .enumerate()
        .filter_map(|(index, c)| {
            let p = c.point?;
            Some(Entry {
                morton: morton(p),
                rank: mix64(c.fid),
                fid: c.fid,
                index,
            })
        })
        .collect();
    entries.sort_unstable();
    let mut level = start_level.min(BITS);
    while level < BITS && budget.is_some_and(|b| survivors(&entries, level, per_cell) > b) {
        level += 1;
    }
    let shift = 2 * level;
    let mut group: Vec<Entry> = Vec::new();
    let mut rest = entries.as_slice();
    while let Some(first) = rest.first() {
        let cell = first.morton >> shift;
        let len = rest
            .iter()
            .take_while(|e| e.morton >> shift == cell)
            .count();
        let (cell_entries, tail) = rest.split_at(len);
        rest = tail;
        group.clear();
        group.extend_from_slice(cell_entries);
        let k = per_cell.min(len);
        if k < len {
            group.select_nth_unstable_by_key(k - 1, |e| (e.rank, e.fid));
            group.truncate(k);
        }
        group.sort_unstable_by_key(|e| (e.rank, e.fid));
        // Share the cell's count among the kept points, remainder first.
        let (base, extra) = ((len / k) as u64, len % k);
        for (j, e) in group.iter().enumerate() {
            kept.push((e.index, base + u64::from(j < extra)));
        }
    }
}

/// How many points grid thinning at `level` keeps.
fn survivors(entries: &[Entry], level: u32, per_cell: usize) -> usize {
    let shift = 2 * level;
    let mut total = 0;
    let mut run = 0;
    let mut cell = None;
    for e in entries {
        let c = e.morton >> shift;
        if cell != Some(c) {
            total += run.min(per_cell);
            run = 0;
            cell = Some(c);
        }
        run += 1;
    }
    total + run.min(per_cell)
}

/// Interleaves the bits of the offset grid coordinates (x in the even bits).
fn morton(p: GridPoint) -> u64 {
    let axis = |v: i32| (i64::from(v) + ORIGIN).clamp(0, (1 << BITS) - 1) as u64;
    spread(axis(p[0])) | (spread(axis(p[1])) << 1)
}

fn spread(mut v: u64) -> u64 {
    v &= 0xffff;
    v = (v | (v << 8)) & 0x00ff_00ff;
    v = (v | (v << 4)) & 0x0f0f_0f0f;
    v = (v | (v << 2)) & 0x3333_3333;
    (v | (v << 1)) & 0x5555_5555
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    fn pt(fid: u64, x: i32, y: i32) -> Candidate {
        Candidate {
            fid,
            point: Some([x, y]),
            size: 0.0,
        }
    }

    fn thinning(cell_px: u32, per_cell: u32) -> PointThinning {
        PointThinning {
            below_zoom: 12,
            cell_px,
            per_cell,
            count_property: Some("point_count".into()),
        }
    }

    fn select(
        c: &[Candidate],
        thinning: Option<&PointThinning>,
        max_features: Option<usize>,
    ) -> Selection {
        let mut sel = Selection::default();
        super::select(c, thinning, max_features, &mut sel);
        sel
    }

    fn kept_fids(c: &[Candidate], s: &Selection) -> Vec<u64> {
        let mut v: Vec<u64> = s.kept.iter().map(|&(i, _)| c[i].fid).collect();
        v.sort_unstable();
        v
    }

    #[test]
    fn morton_interleaves() {
        assert_eq!(spread(0b1011), 0b100_0101);
        let a = morton([0, 0]);
        assert_eq!(a >> 8, morton([15, 15]) >> 8, "same 16-px cell at level 4");
        assert_ne!(a >> 8, morton([16, 0]) >> 8);
        assert_ne!(morton([-1, 0]) >> 8, a >> 8, "the buffer has its own cells");
    }

    #[test]
    fn sparse_points_stay_and_dense_cells_keep_one() {
        let mut c = vec![pt(1, 100, 100), pt(2, 2000, 2000)];
        c.extend((10..20).map(|f| pt(f, 3000 + (f as i32 % 4), 3000)));
        let s = select(&c, Some(&thinning(16, 1)), None);
        assert!(s.thinned);
        let fids = kept_fids(&c, &s);
        assert_eq!(fids.len(), 3);
        assert!(fids.contains(&1) && fids.contains(&2));
        let total: u64 = s.kept.iter().map(|&(_, w)| w).sum();
        assert_eq!(total, 12, "counts add up to the input");
    }

    #[test]
    fn independent_of_input_order() {
        let mut rng = ChaCha8Rng::seed_from_u64(7);
        let mut c: Vec<Candidate> = (0..5000)
            .map(|f| pt(f, rng.gen_range(-64..4160), rng.gen_range(-64..4160)))
            .collect();
        let t = thinning(64, 2);
        let a = select(&c, Some(&t), Some(1000));
        let mut wa: Vec<(u64, u64)> = a.kept.iter().map(|&(i, w)| (c[i].fid, w)).collect();
        wa.sort_unstable();
        c.reverse();
        let b = select(&c, Some(&t), Some(1000));
        let mut wb: Vec<(u64, u64)> = b.kept.iter().map(|&(i, w)| (c[i].fid, w)).collect();
        wb.sort_unstable();
        assert_eq!(wa, wb);
        assert!(wa.len() <= 1000);
    }

    #[test]
    fn the_cap_coarsens_the_grid_and_keeps_coverage() {
        let mut rng = ChaCha8Rng::seed_from_u64(11);
        let c: Vec<Candidate> = (0..20_000)
            .map(|f| pt(f, rng.gen_range(0..4096), rng.gen_range(0..4096)))
            .collect();
        let s = select(&c, None, Some(500));
        assert!(s.thinned && s.kept.len() <= 500 && s.kept.len() > 100);
        // Every 1024-px quadrant of the tile still has points.
        let mut quads = [0; 16];
        for &(i, _) in &s.kept {
            let p = c[i].point.expect("point");
            quads[(p[0] / 1024 * 4 + p[1] / 1024) as usize] += 1;
        }
        assert!(quads.iter().all(|&q| q > 0), "{quads:?}");
        let total: u64 = s.kept.iter().map(|&(_, w)| w).sum();
        assert_eq!(total, 20_000);
    }

    #[test]
    fn under_the_cap_without_thinning_nothing_changes() {
        let c = vec![pt(1, 0, 0), pt(2, 0, 0)];
        let s = select(&c, None, Some(10));
        assert!(!s.thinned);
        assert_eq!(s.kept, vec![(0, 1), (1, 1)]);
    }

    #[test]
    fn non_points_over_the_cap_keep_the_largest() {
        let c: Vec<Candidate> = (0..10)
            .map(|f| Candidate {
                fid: f,
                point: None,
                size: f as f64,
            })
            .collect();
        let s = select(&c, None, Some(3));
        assert_eq!(kept_fids(&c, &s), vec![7, 8, 9]);
    }

    #[test]
    fn levels() {
        assert_eq!(ceil_log2(0), 0);
        assert_eq!(ceil_log2(1), 0);
        assert_eq!(ceil_log2(16), 4);
        assert_eq!(ceil_log2(17), 5);
        assert_eq!(ceil_log2(u32::MAX), 16);
    }
}
