//! Point-in-polygon for one polygonal geometry tested against many points (a
//! buffer's candidates): each ring's edges are bucketed by latitude band, so a
//! test visits only the edges whose latitude span can reach the point's
//! parallel instead of every edge.
//!
//! The rule is geo's `Intersects` for points, unchanged: a winding number in
//! lon/lat with robust orientation, the boundary counting as inside, a point
//! in a hole outside, any polygon of a multipolygon. Edges that cannot reach
//! the point's latitude add nothing to a winding number and cannot hold the
//! point, so skipping them never changes an answer.

use geo::{GeoNum, Kernel, Orientation};
use geo_types::{Coord, Geometry, LineString, Polygon};

/// Ring edges bucketed by latitude band.
#[derive(Debug, Clone)]
struct Ring {
    lat0: f64,
    /// Bands per degree of latitude (0 with a single band).
    scale: f64,
    /// The highest band number.
    last: usize,
    /// `edges[starts[b]..starts[b + 1]]` are the edges reaching band `b`.
    starts: Vec<u32>,
    edges: Vec<[Coord<f64>; 2]>,
}

/// Where a point lies relative to a ring.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Position {
    Inside,
    OnBoundary,
    Outside,
}

impl Ring {
    fn new(ring: &LineString<f64>) -> Self {
        let coords = &ring.0;
        // A one-point ring is a point: a zero-length edge finds it on the boundary.
        let edges: Vec<[Coord<f64>; 2]> = match coords.len() {
            1 => vec![[coords[0], coords[0]]],
            _ => coords.windows(2).map(|w| [w[0], w[1]]).collect(),
        };
        let (lo, hi) = coords
            .iter()
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), c| {
                (lo.min(c.y), hi.max(c.y))
            });
        let count = (edges.len() / 3).clamp(1, 64);
        let span = hi - lo;
        let scale = if count > 1 && span > 0.0 && span.is_finite() {
            count as f64 / span
        } else {
            0.0
        };
        let bands = if scale > 0.0 { count } else { 1 };
        let mut ring = Ring {
            lat0: lo,
            scale,
            last: bands - 1,
            starts: Vec::new(),
            edges: Vec::new(),
        };
        // Counting sort: how many edges reach each band, then each edge in place.
        let spans: Vec<(usize, usize)> = edges
            .iter()
            .map(|e| (ring.band(e[0].y.min(e[1].y)), ring.band(e[0].y.max(e[1].y))))
            .collect();
        let mut starts = vec![0u32; bands + 1];
        for &(b0, b1) in &spans {
            for count in &mut starts[b0 + 1..=b1 + 1] {
                *count += 1;
            }
        }
        for b in 0..bands {
            starts[b + 1] += starts[b];
        }
        let mut fill: Vec<u32> = starts[..bands].to_vec();
        let mut slots = vec![[Coord { x: 0.0, y: 0.0 }; 2]; starts[bands] as usize];
        for (e, &(b0, b1)) in edges.iter().zip(&spans) {
            for next in &mut fill[b0..=b1] {
                slots[*next as usize] = *e;
                *next += 1;
            }
        }
        ring.starts = starts;
        ring.edges = slots;
        ring
    }

    /// The band of a latitude; monotone in `lat` (correctly rounded subtraction
    /// and product keep order, truncation of a non-negative value too), so an
    /// edge spanning `lat` is in its band.
    fn band(&self, lat: f64) -> usize {
        let b = (lat - self.lat0) * self.scale;
        if b > 0.0 {
            (b as usize).min(self.last)
        } else {
            0
        }
    }

    /// geo's winding-number rule (`coord_pos_relative_to_ring`) over the
    /// edges of the point's band.
    fn position(&self, c: Coord<f64>) -> Position {
        let b = self.band(c.y);
        let (Some(&from), Some(&to)) = (self.starts.get(b), self.starts.get(b + 1)) else {
            return Position::Outside;
        };
        let mut winding = 0i32;
        for &[start, end] in &self.edges[from as usize..to as usize] {
            if start.y <= c.y {
                if end.y >= c.y {
                    let o = <f64 as GeoNum>::Ker::orient2d(start, end, c);
                    if o == Orientation::CounterClockwise && end.y != c.y {
                        winding += 1;
                    } else if o == Orientation::Collinear && between(c.x, start.x, end.x) {
                        return Position::OnBoundary;
                    }
                }
            } else if end.y <= c.y {
                let o = <f64 as GeoNum>::Ker::orient2d(start, end, c);
                if o == Orientation::Clockwise {
                    winding -= 1;
                } else if o == Orientation::Collinear && between(c.x, start.x, end.x) {
                    return Position::OnBoundary;
                }
            }
        }
        if winding == 0 {
            Position::Outside
        } else {
            Position::Inside
        }
    }
}

fn between(v: f64, a: f64, b: f64) -> bool {
    if a < b {
        v >= a && v <= b
    } else {
        v >= b && v <= a
    }
}

/// The rings of one polygon, exterior first.
#[derive(Debug, Clone)]
struct IndexedPolygon {
    exterior: Ring,
    holes: Vec<Ring>,
}

impl IndexedPolygon {
    fn new(p: &Polygon<f64>) -> Self {
        IndexedPolygon {
            exterior: Ring::new(p.exterior()),
            holes: p.interiors().iter().map(Ring::new).collect(),
        }
    }

    /// geo's `Polygon::intersects(point)`: on the boundary or inside the
    /// exterior and not strictly inside a hole.
    fn intersects(&self, c: Coord<f64>) -> bool {
        match self.exterior.position(c) {
            Position::Outside => false,
            Position::OnBoundary => true,
            Position::Inside => self.holes.iter().all(|h| h.position(c) != Position::Inside),
        }
    }
}

/// A polygon or multipolygon prepared for many point-in-polygon tests.
#[derive(Debug, Clone)]
pub struct PolygonIndex {
    polygons: Vec<IndexedPolygon>,
}

impl PolygonIndex {
    /// The index of a polygon or multipolygon; `None` for other geometries
    /// (their few callers keep geo's test).
    pub fn new(geometry: &Geometry<f64>) -> Option<Self> {
        let polygons = match geometry {
            Geometry::Polygon(p) => vec![IndexedPolygon::new(p)],
            Geometry::MultiPolygon(m) => m.0.iter().map(IndexedPolygon::new).collect(),
            _ => return None,
        };
        Some(PolygonIndex { polygons })
    }

    /// Whether the point is inside or on the boundary of a polygon, exactly
    /// as geo's `Intersects` answers.
    pub fn intersects(&self, c: Coord<f64>) -> bool {
        self.polygons.iter().any(|p| p.intersects(c))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use geo::Intersects;
    use geo_types::{point, LineString, MultiPolygon, Point};
    use rand::{Rng, SeedableRng};

    /// A star-shaped ring of `n` vertices around (x, y), some on a grid so
    /// that horizontal edges and points on edges and vertices occur.
    fn star(rng: &mut impl Rng, x: f64, y: f64, r: f64, n: usize) -> LineString<f64> {
        let mut ring: Vec<(f64, f64)> = (0..n)
            .map(|i| {
                let a = i as f64 / n as f64 * std::f64::consts::TAU;
                let rr = r * rng.gen_range(0.3..1.0);
                let (px, py) = (x + rr * a.cos(), y + rr * a.sin());
                if rng.gen_bool(0.3) {
                    ((px * 100.0).round() / 100.0, (py * 100.0).round() / 100.0)
                } else {
                    (px, py)
                }
            })
            .collect();
        ring.push(ring[0]);
        LineString::from(ring)
    }

    /// Same answers as geo for random points, vertices and edge midpoints of
    /// polygons with holes and multipolygons.
    #[test]
    fn banded_test_equals_geo_intersects() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(41);
        for round in 0..300 {
            let n = rng.gen_range(3..200);
            let outer = star(&mut rng, 104.0, 28.0, 0.5, n);
            let hole_n = rng.gen_range(3..20);
            let hole = star(&mut rng, 104.0, 28.0, 0.1, hole_n);
            let polygon = Polygon::new(outer, if round % 2 == 0 { vec![hole] } else { vec![] });
            let other = Polygon::new(star(&mut rng, 105.0, 28.2, 0.3, 12), vec![]);
            let geometry = if round % 3 == 0 {
                Geometry::MultiPolygon(MultiPolygon(vec![polygon, other]))
            } else {
                Geometry::Polygon(polygon)
            };
            let index = PolygonIndex::new(&geometry).expect("polygonal");
            let mut probes: Vec<Point<f64>> = (0..400)
                .map(|_| {
                    let p: Point<f64> = point!(x: rng.gen_range(103.3..105.5), y: rng.gen_range(27.3..28.7));
                    if rng.gen_bool(0.3) {
                        point!(x: (p.x() * 100.0).round() / 100.0, y: (p.y() * 100.0).round() / 100.0)
                    } else {
                        p
                    }
                })
                .collect();
            let rings: Vec<&LineString<f64>> = match &geometry {
                Geometry::Polygon(p) => {
                    std::iter::once(p.exterior()).chain(p.interiors()).collect()
                }
                Geometry::MultiPolygon(m) => {
                    m.0.iter()
                        .flat_map(|p| std::iter::once(p.exterior()).chain(p.interiors()))
                        .collect()
                }
                _ => unreachable!(),
            };
            for ring in rings {
                for w in ring.0.windows(2) {
                    probes.push(Point(w[0]));
                    probes.push(point!(x: (w[0].x + w[1].x) / 2.0, y: (w[0].y + w[1].y) / 2.0));
                }
            }
            for p in probes {
                assert_eq!(
                    index.intersects(p.0),
                    geometry.intersects(&p),
                    "{p:?} round {round}"
                );
            }
        }
    }

    #[test]
    fn degenerate_rings_and_other_geometries() {
        let one = Polygon::new(LineString::from(vec![(1.0, 1.0)]), vec![]);
        let g = Geometry::Polygon(one);
        let index = PolygonIndex::new(&g).expect("polygonal");
        for p in [point!(x: 1.0, y: 1.0), point!(x: 1.0, y: 2.0)] {
            assert_eq!(index.intersects(p.0), g.intersects(&p));
        }
        let empty = Geometry::Polygon(Polygon::new(LineString::new(vec![]), vec![]));
        let index = PolygonIndex::new(&empty).expect("polygonal");
        assert!(!index.intersects(point!(x: 0.0, y: 0.0).0));
        assert!(PolygonIndex::new(&Geometry::Point(point!(x: 0.0, y: 0.0))).is_none());
    }
}
