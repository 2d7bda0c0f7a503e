//! Clipping to the buffered tile, in tile pixel space.
//!
//! - Polygon rings: Sutherland–Hodgman against the four sides of the rectangle. It
//!   works for rings of either orientation and for concave rings; where a ring leaves
//!   and re-enters the rectangle it leaves zero-width runs along the border. Those
//!   lie in the buffer, outside the visible tile, so renderers never show them.
//!   The clipped ring keeps the orientation (sign of area) of the input ring.
//! - Lines: Liang–Barsky per segment, splitting a line into parts where it leaves.
//! - Points: kept when inside or on the border.
//!
//! Before projecting, [`Projector`] drops the vertices that cannot matter: a vertex
//! whose predecessor, itself and successor all lie beyond the same side of the box
//! (tested in lon/lat, which is equivalent because Web Mercator maps each axis
//! monotonically) only forms edges that the clip discards. Removing it joins its
//! neighbours with an edge that is still beyond that side, so the clipped result
//! is unchanged — and a county boundary of 10,000 vertices at z14 projects only
//! the handful of vertices near the tile.

use geo_types::{Coord, Rect};

use crate::mercator::TileTransform;

/// An axis-aligned rectangle in tile pixels (border included).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ClipRect {
    pub min_x: f64,
    pub min_y: f64,
    pub max_x: f64,
    pub max_y: f64,
}

impl ClipRect {
    /// The tile `0..extent` grown by `buffer` pixels on every side.
    pub fn buffered(extent: u32, buffer: u32) -> Self {
        let (lo, hi) = (-f64::from(buffer), f64::from(extent) + f64::from(buffer));
        Self {
            min_x: lo,
            min_y: lo,
            max_x: hi,
            max_y: hi,
        }
    }

    #[inline]
    pub fn contains(&self, p: Coord<f64>) -> bool {
        p.x >= self.min_x && p.x <= self.max_x && p.y >= self.min_y && p.y <= self.max_y
    }
}

/// Bounding box of a run of coordinates, `None` when empty.
fn bounds(points: &[Coord<f64>]) -> Option<(Coord<f64>, Coord<f64>)> {
    let first = *points.first()?;
    Some(points.iter().fold((first, first), |(lo, hi), p| {
        (
            Coord {
                x: lo.x.min(p.x),
                y: lo.y.min(p.y),
            },
            Coord {
                x: hi.x.max(p.x),
                y: hi.y.max(p.y),
            },
        )
    }))
}

#[derive(Clone, Copy)]
enum Side {
    Left(f64),
    Right(f64),
    Top(f64),
    Bottom(f64),
}

impl Side {
    #[inline]
    fn inside(self, p: Coord<f64>) -> bool {
        match self {
            Side::Left(v) => p.x >= v,
            Side::Right(v) => p.x <= v,
            Side::Top(v) => p.y >= v,
            Side::Bottom(v) => p.y <= v,
        }
    }

    /// Where segment `a`–`b` (one end inside, one outside) crosses this side; the
    /// crossing coordinate is set exactly so rounding never leaves the rectangle.
    #[inline]
    fn cross(self, a: Coord<f64>, b: Coord<f64>) -> Coord<f64> {
        match self {
            Side::Left(v) | Side::Right(v) => {
                let t = (v - a.x) / (b.x - a.x);
                Coord {
                    x: v,
                    y: a.y + t * (b.y - a.y),
                }
            }
            Side::Top(v) | Side::Bottom(v) => {
                let t = (v - a.y) / (b.y - a.y);
                Coord {
                    x: a.x + t * (b.x - a.x),
                    y: v,
                }
            }
        }
    }
}

/// Clips a ring (closed or not; a repeated closing vertex is ignored) to `rect`
/// into `out` as an open ring. `scratch` is reused working space. An empty `out`
/// means the ring lies outside.
pub fn clip_ring(
    ring: &[Coord<f64>],
    rect: &ClipRect,
    out: &mut Vec<Coord<f64>>,
    scratch: &mut Vec<Coord<f64>>,
) {
    out.clear();
    let ring = match ring {
        [first, .., last] if first == last => &ring[..ring.len() - 1],
        _ => ring,
    };
    let Some((lo, hi)) = bounds(ring) else {
        return;
    };
    if hi.x < rect.min_x || lo.x > rect.max_x || hi.y < rect.min_y || lo.y > rect.max_y {
        return;
    }
    out.extend_from_slice(ring);
    // Only the sides the ring actually crosses need a pass.
    let sides = [
        (lo.x < rect.min_x, Side::Left(rect.min_x)),
        (hi.x > rect.max_x, Side::Right(rect.max_x)),
        (lo.y < rect.min_y, Side::Top(rect.min_y)),
        (hi.y > rect.max_y, Side::Bottom(rect.max_y)),
    ];
    for (crosses, side) in sides {
        if !crosses {
            continue;
        }
        std::mem::swap(out, scratch);
        out.clear();
        let Some(&last) = scratch.last() else {
            return;
        };
        let (mut prev, mut prev_in) = (last, side.inside(last));
        for &cur in scratch.iter() {
            let cur_in = side.inside(cur);
            if cur_in != prev_in {
                out.push(side.cross(prev, cur));
            }
            if cur_in {
                out.push(cur);
            }
            prev = cur;
            prev_in = cur_in;
        }
    }
}

/// Clips a line to `rect`, appending its parts' vertices to `out` and each part's
/// end offset (into `out`) to `ends`.
pub fn clip_line(
    line: &[Coord<f64>],
    rect: &ClipRect,
    out: &mut Vec<Coord<f64>>,
    ends: &mut Vec<usize>,
) {
    let Some((lo, hi)) = bounds(line) else {
        return;
    };
    if hi.x < rect.min_x || lo.x > rect.max_x || hi.y < rect.min_y || lo.y > rect.max_y {
        return;
    }
    if lo.x >= rect.min_x && hi.x <= rect.max_x && lo.y >= rect.min_y && hi.y <= rect.max_y {
        out.extend_from_slice(line);
        ends.push(out.len());
        return;
    }
    let mut open = false;
    for w in line.windows(2) {
        match clip_segment(w[0], w[1], rect) {
            None => {
                if open {
                    ends.push(out.len());
                }
                open = false;
            }
            Some((p, q, start_moved, end_moved)) => {
                if !open || start_moved {
                    if open {
                        ends.push(out.len());
                    }
                    out.push(p);
                }
                out.push(q);
                open = !end_moved;
                if end_moved {
                    ends.push(out.len());
                }
            }
        }
    }
    if open {
        ends.push(out.len());
    }
}

/// Liang–Barsky: the part of `a`–`b` inside `rect`, and whether each end moved.
fn clip_segment(
    a: Coord<f64>,
    b: Coord<f64>,
    r: &ClipRect,
) -> Option<(Coord<f64>, Coord<f64>, bool, bool)> {
    let (dx, dy) = (b.x - a.x, b.y - a.y);
    let (mut t0, mut t1) = (0.0f64, 1.0f64);
    for (p, q) in [
        (-dx, a.x - r.min_x),
        (dx, r.max_x - a.x),
        (-dy, a.y - r.min_y),
        (dy, r.max_y - a.y),
    ] {
        if p == 0.0 {
            if q < 0.0 {
                return None;
            }
        } else {
            let t = q / p;
            if p < 0.0 {
                t0 = t0.max(t);
            } else {
                t1 = t1.min(t);
            }
            if t0 > t1 {
                return None;
            }
        }
    }
    let at = |t: f64| Coord {
        x: (a.x + t * dx).clamp(r.min_x, r.max_x),
        y: (a.y + t * dy).clamp(r.min_y, r.max_y),
    };
    let p = if t0 > 0.0 { at(t0) } else { a };
    let q = if t1 < 1.0 { at(t1) } else { b };
    Some((p, q, t0 > 0.0, t1 < 1.0))
}

/// Projects lon/lat runs to tile pixels, skipping the vertices that cannot affect
/// the clipped result (see the module docs).
#[derive(Debug, Clone, Copy)]
pub struct Projector {
    transform: TileTransform,
    /// The clip rectangle in lon/lat, grown by one pixel so that rounding in the
    /// inverse projection can only keep a vertex too many, never drop one.
    west: f64,
    east: f64,
    south: f64,
    north: f64,
}

const LEFT: u8 = 1;
const RIGHT: u8 = 2;
const BELOW: u8 = 4;
const ABOVE: u8 = 8;

impl Projector {
    pub fn new(transform: TileTransform, buffer_px: u32) -> Self {
        let b: Rect<f64> = transform.lonlat_bounds(f64::from(buffer_px) + 1.0);
        Self {
            transform,
            west: b.min().x,
            east: b.max().x,
            south: b.min().y,
            north: b.max().y,
        }
    }

    pub fn transform(&self) -> &TileTransform {
        &self.transform
    }

    #[inline]
    fn outcode(&self, c: Coord<f64>) -> u8 {
        // Latitudes are clamped by the projection; clamp them here too so that
        // "beyond the north side" means the same in both spaces.
        let lat = c.y.clamp(
            -crate::mercator::MAX_LATITUDE,
            crate::mercator::MAX_LATITUDE,
        );
        let mut code = 0;
        if c.x < self.west {
            code |= LEFT;
        } else if c.x > self.east {
            code |= RIGHT;
        }
        if lat < self.south {
            code |= BELOW;
        } else if lat > self.north {
            code |= ABOVE;
        }
        code
    }

    /// Projects a lon/lat point to pixels.
    #[inline]
    pub fn project(&self, c: Coord<f64>) -> Coord<f64> {
        let (x, y) = self.transform.to_pixel(c.x, c.y);
        Coord { x, y }
    }

    /// Appends the projection of `run` to `out`, dropping interior vertices whose
    /// neighbours and themselves lie beyond one side. The first and last vertices
    /// are always kept, so closed rings stay closed.
    pub fn project_run(&self, run: &[Coord<f64>], out: &mut Vec<Coord<f64>>) {
        out.clear();
        let n = run.len();
        if n <= 2 {
            out.extend(run.iter().map(|&c| self.project(c)));
            return;
        }
        let mut prev_code = self.outcode(run[0]);
        let mut code = self.outcode(run[1]);
        out.push(self.project(run[0]));
        for i in 1..n - 1 {
            let next_code = self.outcode(run[i + 1]);
            if prev_code & code & next_code == 0 {
                out.push(self.project(run[i]));
                prev_code = code;
            }
            code = next_code;
        }
        out.push(self.project(run[n - 1]));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::coord::TileCoord;

    fn c(x: f64, y: f64) -> Coord<f64> {
        Coord { x, y }
    }

    fn area2(r: &[Coord<f64>]) -> f64 {
        (0..r.len())
            .map(|i| {
                let (a, b) = (r[i], r[(i + 1) % r.len()]);
                a.x * b.y - b.x * a.y
            })
            .sum()
    }

    const R: ClipRect = ClipRect {
        min_x: 0.0,
        min_y: 0.0,
        max_x: 10.0,
        max_y: 10.0,
    };

    #[test]
    fn ring_inside_is_unchanged_and_closing_vertex_dropped() {
        let ring = [c(1., 1.), c(2., 1.), c(2., 2.), c(1., 1.)];
        let (mut out, mut s) = (Vec::new(), Vec::new());
        clip_ring(&ring, &R, &mut out, &mut s);
        assert_eq!(out, ring[..3]);
    }

    #[test]
    fn ring_covering_the_rect_becomes_the_rect_in_both_orientations() {
        let ccw = [c(-5., -5.), c(15., -5.), c(15., 15.), c(-5., 15.)];
        let mut cw = ccw;
        cw.reverse();
        for ring in [&ccw[..], &cw[..]] {
            let (mut out, mut s) = (Vec::new(), Vec::new());
            clip_ring(ring, &R, &mut out, &mut s);
            assert!(out.iter().all(|p| R.contains(*p)));
            let a = area2(&out);
            assert_eq!(a.abs(), 200.0);
            assert_eq!(a.signum(), area2(ring).signum(), "orientation kept");
        }
    }

    #[test]
    fn ring_partly_inside_and_outside() {
        let tri = [c(5., 5.), c(20., 5.), c(5., 20.)];
        let (mut out, mut s) = (Vec::new(), Vec::new());
        clip_ring(&tri, &R, &mut out, &mut s);
        // The square 5..10 × 5..10 lies fully inside the triangle.
        assert_eq!(area2(&out).abs(), 50.0);
        let far = [c(20., 20.), c(30., 20.), c(30., 30.)];
        clip_ring(&far, &R, &mut out, &mut s);
        assert!(out.is_empty());
    }

    #[test]
    fn concave_ring_leaving_and_reentering() {
        // A U shape whose arms reach above the rectangle.
        let u = [
            c(1., 5.),
            c(9., 5.),
            c(9., -5.),
            c(7., -5.),
            c(7., 3.),
            c(3., 3.),
            c(3., -5.),
            c(1., -5.),
        ];
        let (mut out, mut s) = (Vec::new(), Vec::new());
        clip_ring(&u, &R, &mut out, &mut s);
        assert!(out.iter().all(|p| R.contains(*p)));
        // The two arms, 2×3 each inside, plus the base 8×2.
        assert_eq!(area2(&out).abs() / 2.0, 2.0 * 6.0 + 16.0);
    }

    #[test]
    fn lines_split_where_they_leave() {
        let line = [c(-5., 5.), c(5., 5.), c(5., 15.), c(8., 15.), c(8., 5.)];
        let (mut out, mut ends) = (Vec::new(), Vec::new());
        clip_line(&line, &R, &mut out, &mut ends);
        assert_eq!(ends, vec![3, 5]);
        assert_eq!(&out[..3], &[c(0., 5.), c(5., 5.), c(5., 10.)]);
        assert_eq!(&out[3..], &[c(8., 10.), c(8., 5.)]);
    }

    #[test]
    fn lines_inside_outside_and_crossing() {
        let (mut out, mut ends) = (Vec::new(), Vec::new());
        clip_line(&[c(1., 1.), c(2., 2.)], &R, &mut out, &mut ends);
        assert_eq!((out.len(), ends.clone()), (2, vec![2]));
        out.clear();
        ends.clear();
        clip_line(&[c(-1., -1.), c(-2., 20.)], &R, &mut out, &mut ends);
        assert!(out.is_empty() && ends.is_empty());
        clip_line(&[c(-5., -5.), c(15., 15.)], &R, &mut out, &mut ends);
        assert_eq!(out, vec![c(0., 0.), c(10., 10.)]);
        assert_eq!(ends, vec![2]);
    }

    #[test]
    fn projector_keeps_vertices_near_the_tile_only() {
        let tile = TileCoord::containing(104.6, 28.77, 14).expect("valid");
        let p = Projector::new(TileTransform::new(tile, 4096), 64);
        let b = tile.bounds_lonlat();
        // A ring far to the west with a spike into the tile.
        let mut ring: Vec<Coord<f64>> = (0..1000)
            .map(|i| {
                let wiggle = (f64::from(i) * 0.7).sin() * b.height();
                c(b.min().x - 1.0 - f64::from(i) * 1e-3, b.center().y + wiggle)
            })
            .collect();
        ring.insert(500, b.center());
        ring.push(ring[0]);
        let mut out = Vec::new();
        p.project_run(&ring, &mut out);
        assert!(out.len() <= 5, "kept {}", out.len());
        let (mut clipped, mut s, mut clipped_full) = (Vec::new(), Vec::new(), Vec::new());
        let rect = ClipRect::buffered(4096, 64);
        clip_ring(&out, &rect, &mut clipped, &mut s);
        let full: Vec<_> = ring.iter().map(|&v| p.project(v)).collect();
        clip_ring(&full, &rect, &mut clipped_full, &mut s);
        let (a, b) = (area2(&clipped), area2(&clipped_full));
        assert!(b.abs() > 1000.0, "the spike covers part of the tile: {b}");
        assert!((a - b).abs() < 1e-6 * b.abs(), "{a} vs {b}");
    }
}
