//! The geodesic buffer polygon, built in a local azimuthal-equidistant (AEQD)
//! frame: project the geometry around its centre (exact ellipsoidal AEQD via
//! Karney's geodesics), offset it in the plane, project back.
//!
//! AEQD keeps every distance from the centre exact and stretches others by the
//! factor (σ / sin σ), σ the angular distance from the centre: under 0.05% as
//! long as the geometry and its buffer stay within 350 km of the centre, and
//! still under 0.5% at 1,100 km. Edges are great-circle arcs, so long edges are
//! densified along the great circle before projecting (a projected arc is not
//! straight in the plane).

use geo::algorithm::buffer::{BufferStyle, LineCap, LineJoin};
use geo::{BoundingRect, Buffer, Destination, Distance, Geodesic, MapCoords};
use geo_types::{Coord, Geometry, LineString, MultiLineString, MultiPolygon, Point, Polygon};

use super::geodesy::{geodesic_bearing_deg, UnitVec, MEAN_RADIUS_M};

/// Angular step of round joins and caps, radians: a chord of such an arc sags
/// at most 1 − cos(0.05) ≈ 0.125% inside the circle.
const ARC_STEP_RAD: f64 = 0.1;

/// Longest great-circle edge projected as a straight segment, metres.
const MAX_EDGE_M: f64 = 20_000.0;

/// A tangent plane around `centre` in which x/y are metres east/north and the
/// distance from the origin is the geodesic distance from `centre`.
#[derive(Debug, Clone, Copy)]
pub struct Aeqd {
    centre: Point<f64>,
}

impl Aeqd {
    pub fn new(centre: Point<f64>) -> Self {
        Aeqd { centre }
    }

    pub fn forward(&self, p: Coord<f64>) -> Coord<f64> {
        let p = Point(p);
        let Some(azimuth) = geodesic_bearing_deg(self.centre, p) else {
            return Coord { x: 0.0, y: 0.0 };
        };
        let s = Geodesic.distance(self.centre, p);
        let a = azimuth.to_radians();
        Coord {
            x: s * a.sin(),
            y: s * a.cos(),
        }
    }

    pub fn inverse(&self, c: Coord<f64>) -> Coord<f64> {
        let s = c.x.hypot(c.y);
        if s == 0.0 {
            return self.centre.0;
        }
        let azimuth = c.x.atan2(c.y).to_degrees();
        Geodesic.destination(self.centre, azimuth, s).0
    }
}

/// Inserts great-circle points so that no edge is longer than [`MAX_EDGE_M`].
fn densify(line: &LineString<f64>) -> LineString<f64> {
    let mut out = Vec::with_capacity(line.0.len());
    for w in line.0.windows(2) {
        let (a, b) = (
            UnitVec::from_lonlat(w[0].x, w[0].y),
            UnitVec::from_lonlat(w[1].x, w[1].y),
        );
        let steps = (a.angle(b) * MEAN_RADIUS_M / MAX_EDGE_M).ceil().max(1.0) as usize;
        out.push(w[0]);
        for i in 1..steps {
            out.push(a.slerp(b, i as f64 / steps as f64).to_point().0);
        }
    }
    out.extend(line.0.last().copied());
    LineString(out)
}

fn densify_polygon(p: &Polygon<f64>) -> Polygon<f64> {
    Polygon::new(
        densify(p.exterior()),
        p.interiors().iter().map(densify).collect(),
    )
}

fn densify_geometry(g: &Geometry<f64>) -> Geometry<f64> {
    match g {
        Geometry::LineString(l) => Geometry::LineString(densify(l)),
        Geometry::MultiLineString(m) => {
            Geometry::MultiLineString(MultiLineString(m.0.iter().map(densify).collect()))
        }
        Geometry::Polygon(p) => Geometry::Polygon(densify_polygon(p)),
        Geometry::MultiPolygon(m) => {
            Geometry::MultiPolygon(MultiPolygon(m.0.iter().map(densify_polygon).collect()))
        }
        other => other.clone(),
    }
}

/// Vertices of a point's buffer: chords of a circle cut in this many steps sag
/// at most 1 − cos(π/48) ≈ 0.21% inside it.
const CIRCLE_VERTICES: usize = 48;

/// A point's buffer: the geodesic circle itself, each vertex exactly at the
/// distance (no projection needed), counter-clockwise.
fn geodesic_circle(centre: Point<f64>, distance_m: f64) -> Polygon<f64> {
    let mut ring: Vec<Coord<f64>> = (0..CIRCLE_VERTICES)
        .map(|i| {
            let azimuth = 360.0 - i as f64 * 360.0 / CIRCLE_VERTICES as f64;
            Geodesic.destination(centre, azimuth, distance_m).0
        })
        .collect();
    ring.extend(ring.first().copied());
    Polygon::new(LineString(ring), vec![])
}

/// The polygon of every point within `distance_m` (geodesic, WGS84) of
/// `geometry`. At distance 0 the geometry itself is returned.
pub fn geodesic_buffer(geometry: &Geometry<f64>, distance_m: f64) -> Geometry<f64> {
    let Some(bbox) = geometry.bounding_rect() else {
        return geometry.clone();
    };
    if distance_m <= 0.0 {
        return geometry.clone();
    }
    if let Geometry::Point(centre) = geometry {
        return Geometry::Polygon(geodesic_circle(*centre, distance_m));
    }
    let frame = Aeqd::new(bbox.center().into());
    let planar = densify_geometry(geometry).map_coords(|c| frame.forward(c));
    let style = BufferStyle::new(distance_m)
        .line_join(LineJoin::Round(ARC_STEP_RAD))
        .line_cap(LineCap::Round(ARC_STEP_RAD));
    let buffered: MultiPolygon<f64> = planar.buffer_with_style(style);
    let mut polygons = buffered.map_coords(|c| frame.inverse(c));
    if polygons.0.len() == 1 {
        if let Some(p) = polygons.0.pop() {
            return Geometry::Polygon(p);
        }
    }
    Geometry::MultiPolygon(polygons)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::distance::geometry_distance_m;
    use geo::{Contains, CoordsIter, LinesIter};
    use geo_types::{line_string, point, polygon};

    /// Every vertex of the buffer boundary lies at the buffer distance from the
    /// input, within 0.5%.
    fn assert_boundary_at_distance(input: &Geometry<f64>, distance_m: f64) {
        let buffer = geodesic_buffer(input, distance_m);
        let mut n = 0;
        let mut worst: f64 = 0.0;
        for c in buffer.coords_iter() {
            let d = geometry_distance_m(input, &Geometry::Point(Point(c)));
            let err = (d - distance_m).abs() / distance_m;
            worst = worst.max(err);
            n += 1;
        }
        // Between vertices too: the great-circle midpoint of every ring edge.
        let lines: Vec<geo_types::Line<f64>> = match &buffer {
            Geometry::Polygon(p) => p.lines_iter().collect(),
            Geometry::MultiPolygon(m) => m.lines_iter().collect(),
            other => panic!("not a polygon: {other:?}"),
        };
        for line in lines {
            let mid = UnitVec::from_lonlat(line.start.x, line.start.y)
                .slerp(UnitVec::from_lonlat(line.end.x, line.end.y), 0.5)
                .to_point();
            let d = geometry_distance_m(input, &Geometry::Point(mid));
            worst = worst.max((d - distance_m).abs() / distance_m);
        }
        let least = if matches!(input, Geometry::Point(_)) {
            48
        } else {
            60
        };
        assert!(n >= least, "too few vertices: {n}");
        assert!(
            worst < 0.005,
            "{input:?} at {distance_m} m: worst relative error {worst}"
        );
    }

    fn square(lon: f64, lat: f64, half: f64) -> Geometry<f64> {
        Geometry::Polygon(polygon![
            (x: lon - half, y: lat - half), (x: lon + half, y: lat - half),
            (x: lon + half, y: lat + half), (x: lon - half, y: lat + half), (x: lon - half, y: lat - half)
        ])
    }

    #[test]
    fn buffer_error_is_below_half_a_percent_at_any_latitude() {
        for lat in [0.0, 28.8, 60.0, 80.0, -45.0] {
            let p = Geometry::Point(point!(x: 104.6, y: lat));
            let line = Geometry::LineString(line_string![
                (x: 104.4, y: lat - 0.1), (x: 104.6, y: lat + 0.05), (x: 104.9, y: lat + 0.1)
            ]);
            for d in [50.0, 3_000.0, 100_000.0] {
                assert_boundary_at_distance(&p, d);
                assert_boundary_at_distance(&line, d);
                assert_boundary_at_distance(&square(104.6, lat, 0.05), d);
            }
        }
    }

    #[test]
    fn buffers_contain_their_input_and_long_edges_follow_great_circles() {
        let line = Geometry::LineString(line_string![(x: 100.0, y: 30.0), (x: 106.0, y: 31.0)]);
        let buffer = geodesic_buffer(&line, 5_000.0);
        // The great-circle midpoint is inside, though off the straight lon/lat line.
        let mid = UnitVec::from_lonlat(100.0, 30.0).slerp(UnitVec::from_lonlat(106.0, 31.0), 0.5);
        assert!(buffer.contains(&mid.to_point()));
        assert_boundary_at_distance(&line, 5_000.0);
        let sq = square(104.6, 28.8, 0.05);
        assert!(geodesic_buffer(&sq, 1_000.0).contains(&sq));
        assert_eq!(geodesic_buffer(&sq, 0.0), sq);
    }

    #[test]
    fn the_frame_round_trips() {
        let frame = Aeqd::new(point!(x: 104.6, y: 28.8));
        for c in [
            Coord { x: 104.7, y: 28.9 },
            Coord { x: 103.0, y: 27.0 },
            Coord { x: 104.6, y: 28.8 },
        ] {
            let back = frame.inverse(frame.forward(c));
            assert!(
                (back.x - c.x).abs() < 1e-9 && (back.y - c.y).abs() < 1e-9,
                "{c:?} → {back:?}"
            );
        }
        let east = frame.forward(Coord { x: 104.7, y: 28.8 });
        assert!(east.x > 9_000.0 && east.y.abs() < 100.0, "{east:?}");
    }
}
