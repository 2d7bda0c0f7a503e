//! Minimum geodesic distance (metres, WGS84) between whole geometries: points,
//! lines and polygons, with 0 when they intersect (a point inside a polygon).
//!
//! Every vertex of one geometry is matched against every great-circle edge of
//! the other on the unit sphere (cheap vector algebra), and only the pairs that
//! can still be the minimum once the ellipsoid is taken into account are
//! measured with Karney's geodesic. For two geometries that do not intersect,
//! the minimum is reached at a vertex of one of them, so vertex × edge pairs
//! suffice. An edge lies within a spherical cap around its midpoint, so one dot
//! product rules out most edges before the closest point on them is computed.

use geo::Intersects;
use geo_types::{Geometry, LineString, Point, Polygon};

use super::geodesy::{
    closest_on_arc, geodesic_distance_m, lower_m_per_rad, sphere_upper_bound_m, UnitVec,
    SPHERE_SLACK_M,
};
use super::rings::PolygonIndex;

/// A geometry prepared for distance queries: its vertices (lon/lat and on the
/// unit sphere) and its great-circle edges (an isolated point is an edge from
/// a vertex to itself).
#[derive(Debug, Clone)]
pub struct Shape<'a> {
    geometry: &'a Geometry<f64>,
    vertices: Vec<(Point<f64>, UnitVec)>,
    edges: Vec<Edge>,
    areal: bool,
    /// Point-in-polygon by latitude bands, for a shape tested against many
    /// points ([`Shape::indexed`]); geo's test otherwise.
    rings: Option<PolygonIndex>,
}

/// A great-circle edge and the cap that holds it: centred on its midpoint,
/// radius h (half the edge's angle, at most π/2), kept as cos h and sin h.
#[derive(Debug, Clone, Copy)]
struct Edge {
    a: UnitVec,
    b: UnitVec,
    mid: UnitVec,
    cos_h: f64,
    sin_h: f64,
}

impl Edge {
    fn new(a: UnitVec, b: UnitVec) -> Self {
        // cos h = mid·a, without trigonometry (this runs for every vertex).
        let (mid, cos_h) = match a.midpoint(b) {
            Some(mid) => (mid, mid.dot(a).clamp(-1.0, 1.0)),
            None => (a, -1.0), // antipodal: the cap is the whole sphere
        };
        Edge {
            a,
            b,
            mid,
            cos_h,
            sin_h: (1.0 - cos_h * cos_h).max(0.0).sqrt(),
        }
    }

    /// Whether some point of the edge may lie within `bound` (radians) of `p`:
    /// false when angle(p, mid) > bound + h, i.e. cos(angle) < cos(bound + h),
    /// which holds as a test while bound + h < π (h ≤ π/2, so bound < π/2).
    fn may_be_within(&self, p: UnitVec, bound: &Bound) -> bool {
        match bound.trig {
            Some((cos_b, sin_b)) => p.dot(self.mid) >= cos_b * self.cos_h - sin_b * self.sin_h,
            None => true,
        }
    }
}

/// The cosine and sine of the current pruning radius; `None` before any pair
/// was seen, or while the radius is π/2 or more (no pruning then).
#[derive(Debug, Clone, Copy, Default)]
struct Bound {
    trig: Option<(f64, f64)>,
}

/// The distance from a point to a shape, with the shape's closest point.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Closest {
    pub distance_m: f64,
    pub point: Point<f64>,
}

impl<'a> Shape<'a> {
    pub fn new(geometry: &'a Geometry<f64>) -> Self {
        let mut shape = Shape {
            geometry,
            vertices: Vec::new(),
            edges: Vec::new(),
            areal: false,
            rings: None,
        };
        shape.add(geometry);
        shape
    }

    /// A shape to be measured against many points (a buffer's input): polygons
    /// also get a point-in-polygon index.
    pub fn indexed(geometry: &'a Geometry<f64>) -> Self {
        Shape {
            rings: PolygonIndex::new(geometry),
            ..Shape::new(geometry)
        }
    }

    /// Whether `p` is inside or on an areal part of the shape (geo's rule).
    fn covers(&self, p: Point<f64>) -> bool {
        match &self.rings {
            Some(rings) => rings.intersects(p.0),
            None => self.geometry.intersects(&p),
        }
    }

    pub fn geometry(&self) -> &'a Geometry<f64> {
        self.geometry
    }

    fn push_vertex(&mut self, p: Point<f64>) -> UnitVec {
        let v = UnitVec::from_point(p);
        self.vertices.push((p, v));
        v
    }

    fn add_line(&mut self, line: &LineString<f64>) {
        let mut previous = None;
        for c in &line.0 {
            let v = self.push_vertex(Point(*c));
            if let Some(p) = previous {
                self.edges.push(Edge::new(p, v));
            }
            previous = Some(v);
        }
        if let (1, Some(v)) = (line.0.len(), previous) {
            self.edges.push(Edge::new(v, v)); // a degenerate line is a point
        }
    }

    fn add_polygon(&mut self, polygon: &Polygon<f64>) {
        self.areal = true;
        self.add_line(polygon.exterior());
        polygon.interiors().iter().for_each(|r| self.add_line(r));
    }

    fn add(&mut self, geometry: &Geometry<f64>) {
        match geometry {
            Geometry::Point(p) => {
                let v = self.push_vertex(*p);
                self.edges.push(Edge::new(v, v));
            }
            Geometry::MultiPoint(m) => m.0.iter().for_each(|p| self.add(&Geometry::Point(*p))),
            Geometry::Line(l) => self.add_line(&LineString(vec![l.start, l.end])),
            Geometry::LineString(l) => self.add_line(l),
            Geometry::MultiLineString(m) => m.0.iter().for_each(|l| self.add_line(l)),
            Geometry::Polygon(p) => self.add_polygon(p),
            Geometry::MultiPolygon(m) => m.0.iter().for_each(|p| self.add_polygon(p)),
            Geometry::Rect(r) => self.add(&Geometry::Polygon(r.to_polygon())),
            Geometry::Triangle(t) => self.add(&Geometry::Polygon(t.to_polygon())),
            Geometry::GeometryCollection(c) => c.0.iter().for_each(|g| self.add(g)),
        }
    }

    /// The geodesic distance (metres) from `p` to this shape and the closest
    /// point; 0 (and `p` itself) when `p` is inside or on a polygon.
    pub fn closest_to(&self, p: Point<f64>) -> Closest {
        self.closest_within(p, f64::INFINITY).unwrap_or(Closest {
            distance_m: f64::INFINITY,
            point: p,
        })
    }

    /// Like [`closest_to`](Self::closest_to), but `None` without measuring on
    /// the ellipsoid when the sphere already puts `p` farther than `limit_m`
    /// (points far from a buffer's edge cost no geodesic).
    pub fn closest_within(&self, p: Point<f64>, limit_m: f64) -> Option<Closest> {
        if self.areal && self.covers(p) {
            return Some(Closest {
                distance_m: 0.0,
                point: p,
            });
        }
        let pv = UnitVec::from_point(p);
        let mut pairs = Candidates::new(lower_m_per_rad(p.y(), limit_m));
        // The edge with the nearest midpoint first: its distance prunes the
        // others by their caps from the start (scanning in ring order would
        // measure every edge on the way to the nearest one).
        let first = (self.edges.len() > 4)
            .then(|| {
                self.edges
                    .iter()
                    .enumerate()
                    .map(|(i, e)| (i, pv.dot(e.mid)))
                    .max_by(|x, y| x.1.total_cmp(&y.1))
                    .map(|(i, _)| i)
            })
            .flatten();
        if let Some(e) = first.and_then(|i| self.edges.get(i)) {
            let c = closest_on_arc(pv, e.a, e.b);
            pairs.offer(pv.angle(c), (p, c));
        }
        for (i, e) in self.edges.iter().enumerate() {
            if Some(i) != first && e.may_be_within(pv, &pairs.prune) {
                let c = closest_on_arc(pv, e.a, e.b);
                pairs.offer(pv.angle(c), (p, c));
            }
        }
        if pairs.lower_bound_m(pairs.min_rad) > limit_m {
            return None;
        }
        pairs.best().filter(|c| c.distance_m <= limit_m)
    }

    /// The minimum geodesic distance (metres) between this shape and another:
    /// 0 when they intersect.
    pub fn distance_to(&self, other: &Shape<'_>) -> f64 {
        if self.vertices.is_empty() || other.vertices.is_empty() {
            return f64::INFINITY;
        }
        if self.geometry.intersects(other.geometry) {
            return 0.0;
        }
        let mut pairs = Candidates::new(lower_m_per_rad(0.0, f64::INFINITY));
        for (from, to) in [(self, other), (other, self)] {
            for &(p, pv) in &from.vertices {
                for e in &to.edges {
                    if e.may_be_within(pv, &pairs.prune) {
                        let c = closest_on_arc(pv, e.a, e.b);
                        pairs.offer(pv.angle(c), (p, c));
                    }
                }
            }
        }
        pairs.best().map_or(f64::INFINITY, |c| c.distance_m)
    }
}

/// Point pairs ranked on the sphere, kept while they may still be the
/// ellipsoidal minimum.
struct Candidates {
    min_rad: f64,
    pairs: Vec<(f64, Point<f64>, UnitVec)>,
    /// Edges entirely beyond this radius cannot contribute a kept pair.
    prune: Bound,
    /// Metres per radian below which no pair that matters can measure
    /// ([`lower_m_per_rad`]: for pairs within the caller's limit).
    m_per_rad: f64,
}

impl Candidates {
    fn new(m_per_rad: f64) -> Self {
        Candidates {
            min_rad: 0.0,
            pairs: Vec::new(),
            prune: Bound::default(),
            m_per_rad,
        }
    }

    /// A lower bound of a pair's geodesic distance (metres) from its angle.
    fn lower_bound_m(&self, angle_rad: f64) -> f64 {
        (angle_rad * self.m_per_rad - SPHERE_SLACK_M).max(0.0)
    }

    /// The largest angle whose geodesic lower bound may not exceed the upper
    /// bound of the best pair's (`min_rad`): a pair beyond it cannot be the
    /// ellipsoidal minimum.
    fn bound(&self) -> f64 {
        (sphere_upper_bound_m(self.min_rad) + SPHERE_SLACK_M) / self.m_per_rad
    }

    fn offer(&mut self, angle_rad: f64, (p, c): (Point<f64>, UnitVec)) {
        if self.pairs.is_empty() || angle_rad < self.min_rad {
            self.min_rad = angle_rad;
            let bound = self.bound();
            self.pairs.retain(|(a, _, _)| *a <= bound);
            self.prune.trig =
                (bound < std::f64::consts::FRAC_PI_2).then(|| (bound.cos(), bound.sin()));
        } else if angle_rad > self.bound() {
            return;
        }
        self.pairs.push((angle_rad, p, c));
    }

    /// The smallest geodesic distance among the kept pairs, with the point
    /// reached (on the geometry measured to).
    fn best(mut self) -> Option<Closest> {
        let bound = self.bound();
        self.pairs.retain(|(a, _, _)| *a <= bound);
        self.pairs.sort_unstable_by(|x, y| x.0.total_cmp(&y.0));
        let mut best: Option<Closest> = None;
        for (i, &(angle, p, c)) in self.pairs.iter().enumerate() {
            // Adjacent edges often share their nearest point (a vertex): once.
            if self.pairs[..i].iter().any(|&(_, q, d)| q == p && d == c) {
                continue;
            }
            // Farther on the sphere than the best found allows on the ellipsoid.
            if best.is_some_and(|b| self.lower_bound_m(angle) > b.distance_m) {
                break;
            }
            let point = c.to_point();
            let distance_m = geodesic_distance_m(p, point);
            if best.is_none_or(|b| distance_m < b.distance_m) {
                best = Some(Closest { distance_m, point });
            }
        }
        best
    }
}

/// The minimum geodesic distance in metres between two geometries.
pub fn geometry_distance_m(a: &Geometry<f64>, b: &Geometry<f64>) -> f64 {
    Shape::new(a).distance_to(&Shape::new(b))
}

#[cfg(test)]
mod tests {
    use super::*;
    use geo::{Destination, Geodesic};
    use geo_types::{line_string, point, polygon};

    #[test]
    fn points_measure_geodesically() {
        let a = Geometry::Point(point!(x: 104.6, y: 28.8));
        let b = Geometry::Point(point!(x: 104.7, y: 28.9));
        let d = geometry_distance_m(&a, &b);
        let direct = geodesic_distance_m(point!(x: 104.6, y: 28.8), point!(x: 104.7, y: 28.9));
        assert!((d - direct).abs() < 1e-6, "{d} vs {direct}");
    }

    #[test]
    fn inside_a_polygon_is_zero_and_outside_is_the_edge_distance() {
        let square = Geometry::Polygon(polygon![
            (x: 104.0, y: 28.0), (x: 105.0, y: 28.0), (x: 105.0, y: 29.0), (x: 104.0, y: 29.0), (x: 104.0, y: 28.0)
        ]);
        let shape = Shape::new(&square);
        assert_eq!(shape.closest_to(point!(x: 104.5, y: 28.5)).distance_m, 0.0);
        // 2 km east of the east edge, at mid latitude: the closest point is on the edge.
        let p = Geodesic.destination(point!(x: 105.0, y: 28.5), 90.0, 2_000.0);
        let c = shape.closest_to(p);
        assert!((c.distance_m - 2_000.0).abs() < 10.0, "{}", c.distance_m);
        assert!((c.point.x() - 105.0).abs() < 1e-6);
        // Beyond a corner, the distance is to the corner.
        let q = point!(x: 105.01, y: 29.01);
        let corner = geodesic_distance_m(q, point!(x: 105.0, y: 29.0));
        assert!((shape.closest_to(q).distance_m - corner).abs() < 1e-3);
        // A polygon touching or overlapping another is at distance 0.
        let line = Geometry::LineString(line_string![(x: 104.5, y: 27.0), (x: 104.5, y: 30.0)]);
        assert_eq!(geometry_distance_m(&square, &line), 0.0);
    }

    #[test]
    fn separated_lines_use_vertex_edge_pairs() {
        // Two parallel meridian segments 0.01° apart at the equator: ≈ 1113 m.
        let a = Geometry::LineString(line_string![(x: 0.0, y: -0.5), (x: 0.0, y: 0.5)]);
        let b = Geometry::LineString(line_string![(x: 0.01, y: -0.2), (x: 0.01, y: 0.2)]);
        let d = geometry_distance_m(&a, &b);
        let want = geodesic_distance_m(point!(x: 0.0, y: 0.2), point!(x: 0.01, y: 0.2));
        assert!((d - want).abs() < 1.0, "{d} vs {want}");
        assert!((d - 1_113.2).abs() < 1.0, "{d}");
    }

    /// Pruning edges by their caps never changes the answer: compare with the
    /// minimum over every edge and every vertex pair, unpruned.
    #[test]
    fn pruned_distances_equal_exhaustive_ones() {
        use crate::analysis::geodesy::point_arc_distance_m;
        use rand::{Rng, SeedableRng};
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(11);
        for _ in 0..200 {
            let lat = rng.gen_range(-80.0..80.0);
            let ring: Vec<(f64, f64)> = (0..rng.gen_range(3..40))
                .map(|_| (rng.gen_range(-0.5..0.5), lat + rng.gen_range(-0.3..0.3)))
                .collect();
            let line = Geometry::LineString(LineString::from(ring.clone()));
            let p = point!(x: rng.gen_range(-1.0..1.0), y: lat + rng.gen_range(-0.6..0.6));
            let exhaustive = ring
                .windows(2)
                .map(|w| point_arc_distance_m(p, Point::from(w[0]), Point::from(w[1])))
                .fold(f64::INFINITY, f64::min);
            let got = Shape::new(&line).closest_to(p).distance_m;
            assert!((got - exhaustive).abs() < 1e-6, "{got} vs {exhaustive}");
            let other = Geometry::LineString(
                line_string![(x: p.x(), y: p.y()), (x: p.x() + 0.01, y: p.y() + 0.02)],
            );
            let pair = geometry_distance_m(&line, &other);
            let all_pairs = Shape::new(&other)
                .vertices
                .iter()
                .map(|&(q, _)| Shape::new(&line).closest_to(q).distance_m)
                .chain(
                    Shape::new(&line)
                        .vertices
                        .iter()
                        .map(|&(q, _)| Shape::new(&other).closest_to(q).distance_m),
                )
                .fold(f64::INFINITY, f64::min);
            if pair > 0.0 {
                assert!((pair - all_pairs).abs() < 1e-6, "{pair} vs {all_pairs}");
            }
        }
    }
}
