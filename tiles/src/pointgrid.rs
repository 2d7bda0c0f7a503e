//! Pre-thinned point grids: the grid thinning of [`crate::thin`] done once per
//! point layer and zoom, so that a low-zoom tile of a dense point layer is cut
//! from the kept point of each of its cells instead of projecting, sorting and
//! thinning every point under it (a z4 tile over Sichuan covers ~250k points
//! of the scale-1000 sample and keeps ~13k).
//!
//! # Why the tiles are the same
//! Thinning cells are aligned to the tile origin and their size divides both
//! the extent and the buffer, so they are the cells of one world-wide grid per
//! zoom, and a cell's kept point (lowest rank) and count do not depend on the
//! tile that asks. Coarser levels (a tile over its feature budget) merge whole
//! cells: the lowest rank of a union is the lowest of the parts' lowest ranks,
//! and counts add up. One exception: the far edge of the buffered tile is
//! inclusive (pixel `extent + buffer` is in the tile), so of the cells just
//! beyond it only their first pixel column (right edge), first pixel row
//! (bottom edge) or first pixel (corner) belong to the tile. Each cell therefore
//! also keeps the kept point and count of those three parts.
//!
//! Points are snapped with the same arithmetic as the builder: world pixel
//! `round(w · 2^z · extent)` minus the tile origin is exactly the tile pixel
//! the builder computes, as the subtraction of two nearby doubles is exact.

use crate::coord::TileCoord;
use crate::hash::mix64;
use crate::simplify::GridPoint;
use crate::thin::ceil_log2;

/// A point of a layer in the unit world square ([`crate::mercator::lonlat_to_world`]).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct WorldPoint {
    pub fid: u64,
    pub x: f64,
    pub y: f64,
}

/// A point picked for a tile: its index in the layer's points, its tile pixel,
/// and how many input points it stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PlacedPoint {
    pub index: u32,
    /// The point's feature id ([`WorldPoint::fid`]).
    pub fid: u64,
    pub at: GridPoint,
    pub count: u64,
}

/// The kept point of one cell (or of the first column/row/pixel of a cell).
#[derive(Debug, Clone, Copy)]
struct Rep {
    /// Morton code of the world cell (x in the even bits).
    morton: u64,
    index: u32,
    count: u32,
}

/// Largest zoom + cell bits per axis that Morton codes of `u64` hold.
const MAX_CELL_BITS: u32 = 31;

/// The thinned points of one layer at one zoom.
#[derive(Debug)]
pub struct PointGrid {
    zoom: u8,
    extent: u32,
    buffer: u32,
    /// log2 of the cell size in pixels.
    level: u32,
    full: Vec<Rep>,
    first_col: Vec<Rep>,
    first_row: Vec<Rep>,
    first_px: Vec<Rep>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct Entry {
    morton: u64,
    rank: u64,
    fid: u64,
    index: u32,
    col0: bool,
    row0: bool,
}

#[derive(Debug, Clone, Copy)]
struct Pick {
    morton: u64,
    rank: u64,
    fid: u64,
    index: u32,
    count: u64,
}

impl PointGrid {
    /// Thins `points` for tiles of `zoom` with cells of `cell_px` pixels (rounded
    /// up to a power of two) and one point per cell. `None` when the grid
    /// cannot reproduce the builder's thinning (cells not dividing a
    /// power-of-two extent and the buffer, points outside the world square, or
    /// more than `u32::MAX` points); the caller then builds tiles the usual way.
    pub fn build(
        points: &[WorldPoint],
        zoom: u8,
        extent: u32,
        buffer: u32,
        cell_px: u32,
    ) -> Option<Self> {
        let level = ceil_log2(cell_px);
        let cell = 1u32 << level;
        let fits = extent.is_power_of_two()
            && extent % cell == 0
            && buffer % cell == 0
            && u32::from(zoom) + extent.trailing_zeros() - level <= MAX_CELL_BITS
            && u32::try_from(points.len()).is_ok();
        if !fits {
            return None;
        }
        let scale = world_scale(zoom, extent);
        let limit = (1i64 << (u32::from(zoom) + extent.trailing_zeros())) + i64::from(extent);
        let mask = i64::from(cell) - 1;
        let mut entries = Vec::with_capacity(points.len());
        for (index, p) in points.iter().enumerate() {
            let (gx, gy) = (snap(p.x * scale), snap(p.y * scale));
            if !(0..limit).contains(&gx) || !(0..limit).contains(&gy) {
                return None;
            }
            entries.push(Entry {
                morton: morton((gx >> level) as u64, (gy >> level) as u64),
                rank: mix64(p.fid),
                fid: p.fid,
                index: index as u32,
                col0: gx & mask == 0,
                row0: gy & mask == 0,
            });
        }
        entries.sort_unstable();
        let mut grid = Self {
            zoom,
            extent,
            buffer,
            level,
            full: Vec::new(),
            first_col: Vec::new(),
            first_row: Vec::new(),
            first_px: Vec::new(),
        };
        for run in entries.chunk_by(|a, b| a.morton == b.morton) {
            // Runs are in rank order: the first entry of each part is its kept point.
            push_part(&mut grid.full, run.iter());
            push_part(&mut grid.first_col, run.iter().filter(|e| e.col0));
            push_part(&mut grid.first_row, run.iter().filter(|e| e.row0));
            push_part(&mut grid.first_px, run.iter().filter(|e| e.col0 && e.row0));
        }
        for v in [
            &mut grid.full,
            &mut grid.first_col,
            &mut grid.first_row,
            &mut grid.first_px,
        ] {
            v.shrink_to_fit();
        }
        Some(grid)
    }

    pub fn zoom(&self) -> u8 {
        self.zoom
    }

    /// Kept cells (for memory reports).
    pub fn len(&self) -> usize {
        self.full.len()
    }

    pub fn is_empty(&self) -> bool {
        self.full.is_empty()
    }

    /// Heap bytes held.
    pub fn heap_bytes(&self) -> usize {
        (self.full.capacity()
            + self.first_col.capacity()
            + self.first_row.capacity()
            + self.first_px.capacity())
            * std::mem::size_of::<Rep>()
    }

    /// The points of `tile` after thinning, into `out` (cleared; in no
    /// particular order), coarsening the grid while more than `budget` points
    /// would be kept, as [`crate::thin`] does. `points` must be the slice the
    /// grid was built from. `false` (and `out` unspecified) when the tile needs
    /// a level this grid cannot merge to, or is not of the grid's zoom.
    pub fn select(
        &self,
        points: &[WorldPoint],
        tile: TileCoord,
        budget: Option<usize>,
        out: &mut Vec<PlacedPoint>,
    ) -> bool {
        out.clear();
        if tile.z() != self.zoom {
            return false;
        }
        let mut picks = Vec::new();
        self.collect(points, tile, &mut picks);
        let mut level = self.level;
        let max_level = self.extent.trailing_zeros();
        if budget.is_some_and(|b| picks.len() > b) {
            picks.sort_unstable_by_key(|p| p.morton);
            while budget.is_some_and(|b| survivors(&picks, 2 * (level - self.level)) > b) {
                level += 1;
                if level > max_level {
                    return false;
                }
            }
            merge(&mut picks, 2 * (level - self.level));
        }
        let scale = world_scale(self.zoom, self.extent);
        let e = i64::from(self.extent);
        let (x0, y0) = (i64::from(tile.x()) * e, i64::from(tile.y()) * e);
        out.extend(picks.iter().map(|p| {
            let w = points[p.index as usize];
            PlacedPoint {
                index: p.index,
                fid: p.fid,
                at: [
                    (snap(w.x * scale) - x0) as i32,
                    (snap(w.y * scale) - y0) as i32,
                ],
                count: p.count,
            }
        }));
        true
    }

    /// The kept points of the cells of the buffered tile, at the base level.
    fn collect(&self, points: &[WorldPoint], tile: TileCoord, picks: &mut Vec<Pick>) {
        let per_tile = i64::from(self.extent >> self.level);
        let b = i64::from(self.buffer >> self.level);
        let (x, y) = (i64::from(tile.x()), i64::from(tile.y()));
        // Cells [c0, c1) are whole; c1 is the partial column/row.
        let (cx0, cx1) = (x * per_tile - b, (x + 1) * per_tile + b);
        let (cy0, cy1) = (y * per_tile - b, (y + 1) * per_tile + b);
        let tile_shift = 2 * (self.extent >> self.level).trailing_zeros();
        let last = i64::from(tile.matrix_size());
        let mut take = |reps: &[Rep], keep: &dyn Fn(i64, i64) -> bool, tx: i64, ty: i64| {
            if !(0..=last).contains(&tx) || !(0..=last).contains(&ty) {
                return;
            }
            let tm = morton(tx as u64, ty as u64);
            let lo = reps.partition_point(|r| r.morton >> tile_shift < tm);
            let hi = lo + reps[lo..].partition_point(|r| r.morton >> tile_shift == tm);
            for r in &reps[lo..hi] {
                let (cx, cy) = unmorton(r.morton);
                if keep(cx as i64, cy as i64) {
                    let fid = points[r.index as usize].fid;
                    picks.push(Pick {
                        morton: r.morton,
                        rank: mix64(fid),
                        fid,
                        index: r.index,
                        count: u64::from(r.count),
                    });
                }
            }
        };
        let inside = |cx: i64, cy: i64| (cx0..cx1).contains(&cx) && (cy0..cy1).contains(&cy);
        for dy in -1..=1 {
            for dx in -1..=1 {
                take(&self.full, &inside, x + dx, y + dy);
            }
        }
        // The partial column is in the tiles to the right, the row below.
        for dy in -1..=1 {
            take(
                &self.first_col,
                &|cx, cy| cx == cx1 && (cy0..cy1).contains(&cy),
                x + 1,
                y + dy,
            );
        }
        for dx in -1..=1 {
            take(
                &self.first_row,
                &|cx, cy| cy == cy1 && (cx0..cx1).contains(&cx),
                x + dx,
                y + 1,
            );
        }
        take(
            &self.first_px,
            &|cx, cy| cx == cx1 && cy == cy1,
            x + 1,
            y + 1,
        );
    }
}

/// An order of `points` along a Z-order (Morton) curve of the world square,
/// as indices into `points`. A grid built from points in this order reads
/// the points (and anything kept in the same order) of a tile from a few
/// contiguous stretches of memory instead of from all over the layer: every
/// grid cell of every zoom is one contiguous run of this order.
pub fn spatial_order(points: &[WorldPoint]) -> Vec<u32> {
    let scale = f64::from(1u32 << MAX_CELL_BITS);
    let top = u64::from(u32::MAX >> 1);
    let cell = |v: f64| ((v * scale).max(0.0) as u64).min(top);
    let mut keyed: Vec<(u64, u32)> = points
        .iter()
        .enumerate()
        .map(|(i, p)| (morton(cell(p.x), cell(p.y)), i as u32))
        .collect();
    keyed.sort_unstable();
    keyed.into_iter().map(|(_, i)| i).collect()
}

fn push_part<'a>(out: &mut Vec<Rep>, mut part: impl Iterator<Item = &'a Entry>) {
    if let Some(first) = part.next() {
        out.push(Rep {
            morton: first.morton,
            index: first.index,
            count: u32::try_from(1 + part.count()).unwrap_or(u32::MAX),
        });
    }
}

/// Pixels across the world at `zoom`: `2^zoom · extent`.
fn world_scale(zoom: u8, extent: u32) -> f64 {
    f64::from(extent) * (1u64 << zoom) as f64
}

/// The builder's rounding (`simplify::snap`) in world pixels.
#[inline]
fn snap(v: f64) -> i64 {
    (v + 0.5).floor() as i64
}

/// Cells left when picks (sorted by Morton code) are merged `shift` bits up.
fn survivors(picks: &[Pick], shift: u32) -> usize {
    picks
        .chunk_by(|a, b| a.morton >> shift == b.morton >> shift)
        .count()
}

/// Merges sorted picks into one per coarse cell: the lowest rank, the counts summed.
fn merge(picks: &mut Vec<Pick>, shift: u32) {
    if shift == 0 {
        return;
    }
    let merged: Vec<Pick> = picks
        .chunk_by(|a, b| a.morton >> shift == b.morton >> shift)
        .filter_map(|group| {
            let best = group.iter().min_by_key(|p| (p.rank, p.fid))?;
            Some(Pick {
                count: group.iter().map(|p| p.count).sum(),
                ..*best
            })
        })
        .collect();
    *picks = merged;
}

fn morton(x: u64, y: u64) -> u64 {
    spread(x) | (spread(y) << 1)
}

fn unmorton(m: u64) -> (u64, u64) {
    (compact(m), compact(m >> 1))
}

fn spread(v: u64) -> u64 {
    let mut v = v & 0xffff_ffff;
    v = (v | (v << 16)) & 0x0000_ffff_0000_ffff;
    v = (v | (v << 8)) & 0x00ff_00ff_00ff_00ff;
    v = (v | (v << 4)) & 0x0f0f_0f0f_0f0f_0f0f;
    v = (v | (v << 2)) & 0x3333_3333_3333_3333;
    (v | (v << 1)) & 0x5555_5555_5555_5555
}

fn compact(m: u64) -> u64 {
    let mut v = m & 0x5555_5555_5555_5555;
    v = (v | (v >> 1)) & 0x3333_3333_3333_3333;
    v = (v | (v >> 2)) & 0x0f0f_0f0f_0f0f_0f0f;
    v = (v | (v >> 4)) & 0x00ff_00ff_00ff_00ff;
    v = (v | (v >> 8)) & 0x0000_ffff_0000_ffff;
    (v | (v >> 16)) & 0x0000_0000_ffff_ffff
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn morton_round_trips() {
        for (x, y) in [(0, 0), (1, 2), (0x7fff_ffff, 3), (123_456, 654_321)] {
            assert_eq!(unmorton(morton(x, y)), (x, y));
        }
        assert_eq!(morton(1, 0), 1);
        assert_eq!(morton(0, 1), 2);
    }

    #[test]
    fn refuses_what_it_cannot_reproduce() {
        let p = [WorldPoint {
            fid: 1,
            x: 0.5,
            y: 0.5,
        }];
        assert!(PointGrid::build(&p, 4, 4096, 64, 16).is_some());
        assert!(PointGrid::build(&p, 4, 4000, 64, 16).is_none(), "extent");
        assert!(PointGrid::build(&p, 4, 4096, 40, 16).is_none(), "buffer");
        let out = [WorldPoint { x: -0.1, ..p[0] }];
        assert!(PointGrid::build(&out, 4, 4096, 64, 16).is_none());
    }
}
