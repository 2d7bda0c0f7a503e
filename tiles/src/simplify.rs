//! Simplification and snapping on the tile pixel grid.
//!
//! Douglas–Peucker with a tolerance in tile pixels: because the pixel grid of a
//! tile covers half the ground of its parent's, one tolerance gives a per-zoom
//! simplification for free (coarse at z4, none to speak of at z16). Then vertices
//! snap to the integer grid, consecutive repeats go, and what collapsed is dropped:
//! lines with fewer than 2 distinct vertices, rings with fewer than 3 distinct
//! vertices (4 with the closing one) or zero area.

use geo_types::Coord;

/// A vertex on the integer tile grid.
pub type GridPoint = [i32; 2];

/// Douglas–Peucker and snapping for lines ([`Simplifier::simplify_line`]) and
/// rings ([`Simplifier::simplify_ring`]), with reusable working space.
#[derive(Debug, Default)]
pub struct Simplifier {
    keep: Vec<bool>,
    stack: Vec<(usize, usize)>,
    closed: Vec<Coord<f64>>,
}

impl Simplifier {
    /// Heap memory held by the working space.
    pub(crate) fn capacity_bytes(&self) -> usize {
        self.keep.capacity()
            + self.stack.capacity() * std::mem::size_of::<(usize, usize)>()
            + self.closed.capacity() * std::mem::size_of::<Coord<f64>>()
    }

    /// Simplifies and snaps a line; `out` receives its grid vertices. Returns
    /// `false` (and `out` is to be ignored) when fewer than 2 distinct remain.
    pub fn simplify_line(
        &mut self,
        line: &[Coord<f64>],
        tolerance: f64,
        out: &mut Vec<GridPoint>,
    ) -> bool {
        out.clear();
        self.douglas_peucker(line, tolerance);
        snap_into(line, &self.keep, out);
        out.len() >= 2
    }

    /// Simplifies and snaps an open ring (no repeated closing vertex); `out`
    /// receives an open ring on the grid. Returns `false` when it collapsed to
    /// fewer than 3 distinct vertices or to zero area.
    pub fn simplify_ring(
        &mut self,
        ring: &[Coord<f64>],
        tolerance: f64,
        out: &mut Vec<GridPoint>,
    ) -> bool {
        out.clear();
        let Some(&first) = ring.first() else {
            return false;
        };
        // Close the ring so that Douglas–Peucker anchors on its first vertex and the
        // farthest one from it, then drop the closing vertex again.
        self.closed.clear();
        self.closed.extend_from_slice(ring);
        self.closed.push(first);
        let closed = std::mem::take(&mut self.closed);
        self.douglas_peucker(&closed, tolerance);
        snap_into(&closed, &self.keep, out);
        self.closed = closed;
        while out.len() > 1 && out.first() == out.last() {
            out.pop();
        }
        out.len() >= 3 && signed_area2(out) != 0
    }

    /// Marks in `self.keep` the vertices Douglas–Peucker keeps.
    fn douglas_peucker(&mut self, points: &[Coord<f64>], tolerance: f64) {
        let n = points.len();
        self.keep.clear();
        if tolerance <= 0.0 || n <= 2 {
            self.keep.resize(n, true);
            return;
        }
        self.keep.resize(n, false);
        self.keep[0] = true;
        self.keep[n - 1] = true;
        let tol2 = tolerance * tolerance;
        self.stack.clear();
        self.stack.push((0, n - 1));
        while let Some((a, b)) = self.stack.pop() {
            if b <= a + 1 {
                continue;
            }
            let (mut worst, mut worst_d2) = (a, -1.0f64);
            for (i, &p) in points.iter().enumerate().take(b).skip(a + 1) {
                let d2 = segment_distance2(p, points[a], points[b]);
                if d2 > worst_d2 {
                    worst = i;
                    worst_d2 = d2;
                }
            }
            if worst_d2 > tol2 {
                self.keep[worst] = true;
                self.stack.push((a, worst));
                self.stack.push((worst, b));
            }
        }
    }
}

/// Squared distance from `p` to the segment `a`–`b`.
#[inline]
fn segment_distance2(p: Coord<f64>, a: Coord<f64>, b: Coord<f64>) -> f64 {
    let (dx, dy) = (b.x - a.x, b.y - a.y);
    let len2 = dx * dx + dy * dy;
    let t = if len2 > 0.0 {
        (((p.x - a.x) * dx + (p.y - a.y) * dy) / len2).clamp(0.0, 1.0)
    } else {
        0.0
    };
    let (ex, ey) = (a.x + t * dx - p.x, a.y + t * dy - p.y);
    ex * ex + ey * ey
}

/// Rounds a coordinate to the grid, halves upwards: `floor(v + 0.5)`, so that a
/// vertex lands on the same grid line in neighbouring tiles, whose pixel
/// coordinates differ by the extent (`round` would send −64.5 down but 4031.5 up).
#[inline]
pub fn snap(p: Coord<f64>) -> GridPoint {
    // `as` saturates; coordinates are clipped to the buffered tile long before.
    [(p.x + 0.5).floor() as i32, (p.y + 0.5).floor() as i32]
}

/// Appends the kept vertices, snapped, without consecutive repeats.
fn snap_into(points: &[Coord<f64>], keep: &[bool], out: &mut Vec<GridPoint>) {
    for (&p, &k) in points.iter().zip(keep) {
        if k {
            let g = snap(p);
            if out.last() != Some(&g) {
                out.push(g);
            }
        }
    }
}

/// Twice the signed area of an open ring by the surveyor's (shoelace) formula,
/// exactly, in grid units. In tile coordinates (y down) an MVT exterior ring has a
/// positive value and a hole a negative one.
pub fn signed_area2(ring: &[GridPoint]) -> i64 {
    let n = ring.len();
    if n < 3 {
        return 0;
    }
    let mut sum = 0i64;
    let mut prev = ring[n - 1];
    for &p in ring {
        sum += i64::from(prev[0]) * i64::from(p[1]) - i64::from(p[0]) * i64::from(prev[1]);
        prev = p;
    }
    sum
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(x: f64, y: f64) -> Coord<f64> {
        Coord { x, y }
    }

    #[test]
    fn douglas_peucker_drops_near_collinear_vertices() {
        let line = [c(0., 0.), c(5., 0.4), c(10., 0.), c(10., 10.)];
        let mut s = Simplifier::default();
        let mut out = Vec::new();
        assert!(s.simplify_line(&line, 1.0, &mut out));
        assert_eq!(out, vec![[0, 0], [10, 0], [10, 10]]);
        // Without a tolerance every vertex stays (after snapping 0.4 -> 0, it
        // merges into the straight line but is still a distinct vertex).
        assert!(s.simplify_line(&line, 0.0, &mut out));
        assert_eq!(out.len(), 4);
    }

    #[test]
    fn snapping_removes_repeats_and_short_lines_collapse() {
        let line = [c(0.1, 0.1), c(0.2, 0.3), c(0.4, -0.2)];
        let mut s = Simplifier::default();
        let mut out = Vec::new();
        assert!(!s.simplify_line(&line, 0.0, &mut out), "all snap to 0,0");
        let line = [c(0.1, 0.1), c(0.2, 0.3), c(3.0, 0.0)];
        assert!(s.simplify_line(&line, 0.0, &mut out));
        assert_eq!(out, vec![[0, 0], [3, 0]]);
    }

    #[test]
    fn rings_collapse_when_tiny_or_flat() {
        let mut s = Simplifier::default();
        let mut out = Vec::new();
        let tiny = [c(0.1, 0.1), c(0.3, 0.1), c(0.3, 0.3)];
        assert!(!s.simplify_ring(&tiny, 0.0, &mut out));
        let flat = [c(0., 0.), c(5., 0.), c(10., 0.2)];
        assert!(
            !s.simplify_ring(&flat, 0.0, &mut out),
            "zero area after snapping"
        );
        let square = [c(0., 0.), c(10., 0.), c(10., 10.), c(0., 10.)];
        assert!(s.simplify_ring(&square, 1.0, &mut out));
        assert_eq!(out.len(), 4);
        assert_eq!(signed_area2(&out), 200);
    }

    #[test]
    fn ring_simplification_keeps_the_shape() {
        // A circle of radius 1000 px with 1000 vertices simplifies to far fewer.
        let ring: Vec<_> = (0..1000)
            .map(|i| {
                let a = f64::from(i) / 1000.0 * std::f64::consts::TAU;
                c(2000.0 + 1000.0 * a.cos(), 2000.0 + 1000.0 * a.sin())
            })
            .collect();
        let mut s = Simplifier::default();
        let mut out = Vec::new();
        assert!(s.simplify_ring(&ring, 1.0, &mut out));
        // A 1-px sagitta needs ~70 chords; DP on a fixed vertex set needs more.
        assert!(out.len() < 200, "{}", out.len());
        let area = signed_area2(&out) as f64 / 2.0;
        let exact = std::f64::consts::PI * 1e6;
        assert!((area - exact).abs() / exact < 0.01, "{area}");
    }

    #[test]
    fn shoelace_sign_in_tile_coordinates() {
        // Clockwise on screen (y down) is positive: an MVT exterior ring.
        let cw_on_screen = [[0, 0], [10, 0], [10, 10], [0, 10]];
        assert_eq!(signed_area2(&cw_on_screen), 200);
        let mut ccw = cw_on_screen;
        ccw.reverse();
        assert_eq!(signed_area2(&ccw), -200);
        assert_eq!(signed_area2(&[[0, 0], [1, 1]]), 0);
    }
}
