//! From a lon/lat geometry to the MVT commands of one feature: project, clip,
//! simplify, snap, drop what collapsed, orient rings, encode.
//!
//! Rings are oriented here, after snapping, from their role and whatever the
//! input orientation: every polygon's exterior ring gets a positive shoelace area
//! in tile coordinates (clockwise on screen, y down) and its holes a negative one.
//! A polygon whose exterior ring collapses is dropped with its holes.
//!
//! A `GeometryCollection` becomes one feature of its highest dimension (its
//! polygons, else its lines, else its points): an MVT feature has one type.

use geo_types::{Coord, Geometry, LineString, Polygon};

use crate::clip::{clip_line, clip_ring, ClipRect, Projector};
use crate::encode::{write_line, write_points, write_ring, GeomType};
use crate::mercator::TileTransform;
use crate::simplify::{signed_area2, snap, GridPoint, Simplifier};

/// What the thinning and the cap need to know of a prepared feature.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Prepared {
    pub kind: GeomType,
    /// The position of a feature that is exactly one point.
    pub point: Option<GridPoint>,
    /// Area (polygons) or length (lines) in pixels.
    pub size: f64,
}

/// Prepares geometries for one tile; holds reusable working space.
#[derive(Debug)]
pub(crate) struct Preparer {
    projector: Projector,
    rect: ClipRect,
    tolerance: f64,
    simplifier: Simplifier,
    projected: Vec<Coord<f64>>,
    clipped: Vec<Coord<f64>>,
    scratch: Vec<Coord<f64>>,
    ends: Vec<usize>,
    grid: Vec<GridPoint>,
}

impl Preparer {
    pub(crate) fn new(transform: TileTransform, buffer: u32, tolerance: f64) -> Self {
        Self {
            projector: Projector::new(transform, buffer),
            rect: ClipRect::buffered(transform.extent(), buffer),
            tolerance,
            simplifier: Simplifier::default(),
            projected: Vec::new(),
            clipped: Vec::new(),
            scratch: Vec::new(),
            ends: Vec::new(),
            grid: Vec::new(),
        }
    }

    /// Heap memory held by the working space.
    pub(crate) fn capacity_bytes(&self) -> usize {
        let c = std::mem::size_of::<Coord<f64>>();
        (self.projected.capacity() + self.clipped.capacity() + self.scratch.capacity()) * c
            + self.ends.capacity() * std::mem::size_of::<usize>()
            + self.grid.capacity() * std::mem::size_of::<GridPoint>()
            + self.simplifier.capacity_bytes()
    }

    /// Points the preparer at another tile, keeping its working space.
    pub(crate) fn retarget(&mut self, transform: TileTransform, buffer: u32, tolerance: f64) {
        self.projector = Projector::new(transform, buffer);
        self.rect = ClipRect::buffered(transform.extent(), buffer);
        self.tolerance = tolerance;
    }

    /// Appends the geometry's commands to `out`; `None` (and `out` unchanged)
    /// when nothing of it is left in the buffered tile.
    pub(crate) fn prepare(&mut self, geom: &Geometry<f64>, out: &mut Vec<u32>) -> Option<Prepared> {
        let start = out.len();
        let mut cursor = [0, 0];
        let prepared = match dimension(geom)? {
            0 => {
                self.grid.clear();
                self.collect_points(geom);
                write_points(out, &mut cursor, &self.grid);
                let point = match (geom, self.grid.as_slice()) {
                    (Geometry::Point(_), [p]) => Some(*p),
                    _ => None,
                };
                (!self.grid.is_empty()).then_some(Prepared {
                    kind: GeomType::Point,
                    point,
                    size: 0.0,
                })
            }
            1 => {
                let mut size = 0.0;
                self.lines(geom, out, &mut cursor, &mut size);
                (out.len() > start).then_some(Prepared {
                    kind: GeomType::LineString,
                    point: None,
                    size,
                })
            }
            _ => {
                let mut size = 0.0;
                self.polygons(geom, out, &mut cursor, &mut size);
                (out.len() > start).then_some(Prepared {
                    kind: GeomType::Polygon,
                    point: None,
                    size,
                })
            }
        };
        if prepared.is_none() {
            out.truncate(start);
        }
        prepared
    }

    fn point(&mut self, c: Coord<f64>) {
        // Snap first, then test: a point is in a tile exactly when its grid
        // position is, so neighbouring tiles agree on the points near their edge.
        let g = snap(self.projector.project(c));
        let p = Coord {
            x: f64::from(g[0]),
            y: f64::from(g[1]),
        };
        if self.rect.contains(p) {
            self.grid.push(g);
        }
    }

    fn collect_points(&mut self, geom: &Geometry<f64>) {
        match geom {
            Geometry::Point(p) => self.point(p.0),
            Geometry::MultiPoint(mp) => mp.0.iter().for_each(|p| self.point(p.0)),
            Geometry::GeometryCollection(gc) => {
                gc.0.iter()
                    .filter(|g| dimension(g) == Some(0))
                    .for_each(|g| self.collect_points(g));
            }
            _ => {}
        }
    }

    fn lines(
        &mut self,
        geom: &Geometry<f64>,
        out: &mut Vec<u32>,
        cur: &mut GridPoint,
        size: &mut f64,
    ) {
        match geom {
            Geometry::Line(l) => self.line(&[l.start, l.end], out, cur, size),
            Geometry::LineString(ls) => self.line(&ls.0, out, cur, size),
            Geometry::MultiLineString(mls) => {
                mls.0.iter().for_each(|ls| self.line(&ls.0, out, cur, size));
            }
            Geometry::GeometryCollection(gc) => {
                gc.0.iter()
                    .filter(|g| dimension(g) == Some(1))
                    .for_each(|g| self.lines(g, out, cur, size));
            }
            _ => {}
        }
    }

    fn line(
        &mut self,
        line: &[Coord<f64>],
        out: &mut Vec<u32>,
        cur: &mut GridPoint,
        size: &mut f64,
    ) {
        self.projector.project_run(line, &mut self.projected);
        self.clipped.clear();
        self.ends.clear();
        clip_line(
            &self.projected,
            &self.rect,
            &mut self.clipped,
            &mut self.ends,
        );
        let mut begin = 0;
        for &end in &self.ends {
            let part = &self.clipped[begin..end];
            begin = end;
            if self
                .simplifier
                .simplify_line(part, self.tolerance, &mut self.grid)
            {
                write_line(out, cur, &self.grid);
                *size += self
                    .grid
                    .windows(2)
                    .map(|w| f64::from(w[1][0] - w[0][0]).hypot(f64::from(w[1][1] - w[0][1])))
                    .sum::<f64>();
            }
        }
    }

    fn polygons(
        &mut self,
        geom: &Geometry<f64>,
        out: &mut Vec<u32>,
        cur: &mut GridPoint,
        size: &mut f64,
    ) {
        match geom {
            Geometry::Polygon(p) => self.polygon(p, out, cur, size),
            Geometry::MultiPolygon(mp) => mp.0.iter().for_each(|p| self.polygon(p, out, cur, size)),
            Geometry::Rect(r) => self.polygon(&r.to_polygon(), out, cur, size),
            Geometry::Triangle(t) => self.polygon(&t.to_polygon(), out, cur, size),
            Geometry::GeometryCollection(gc) => {
                gc.0.iter()
                    .filter(|g| dimension(g) == Some(2))
                    .for_each(|g| self.polygons(g, out, cur, size));
            }
            _ => {}
        }
    }

    fn polygon(
        &mut self,
        poly: &Polygon<f64>,
        out: &mut Vec<u32>,
        cur: &mut GridPoint,
        size: &mut f64,
    ) {
        let Some(area2) = self.ring(poly.exterior(), true) else {
            return;
        };
        write_ring(out, cur, &self.grid);
        *size += area2 as f64 / 2.0;
        for hole in poly.interiors() {
            if self.ring(hole, false).is_some() {
                write_ring(out, cur, &self.grid);
            }
        }
    }

    /// Prepares a ring into `self.grid`, oriented as an exterior (positive area)
    /// or a hole (negative); returns its area ×2 (absolute), `None` if collapsed.
    fn ring(&mut self, ring: &LineString<f64>, exterior: bool) -> Option<i64> {
        self.projector.project_run(&ring.0, &mut self.projected);
        clip_ring(
            &self.projected,
            &self.rect,
            &mut self.clipped,
            &mut self.scratch,
        );
        if self.clipped.len() < 3
            || !self
                .simplifier
                .simplify_ring(&self.clipped, self.tolerance, &mut self.grid)
        {
            return None;
        }
        let area2 = signed_area2(&self.grid);
        if (area2 > 0) != exterior {
            self.grid.reverse();
        }
        Some(area2.abs())
    }
}

/// The topological dimension of a geometry; `None` for an empty collection.
fn dimension(geom: &Geometry<f64>) -> Option<u8> {
    match geom {
        Geometry::Point(_) | Geometry::MultiPoint(_) => Some(0),
        Geometry::Line(_) | Geometry::LineString(_) | Geometry::MultiLineString(_) => Some(1),
        Geometry::Polygon(_)
        | Geometry::MultiPolygon(_)
        | Geometry::Rect(_)
        | Geometry::Triangle(_) => Some(2),
        Geometry::GeometryCollection(gc) => gc.0.iter().filter_map(dimension).max(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::coord::TileCoord;
    use geo_types::{line_string, point, polygon, GeometryCollection, MultiPolygon};

    fn preparer() -> (Preparer, TileTransform) {
        let t = TileTransform::new(TileCoord::new(10, 809, 426).expect("valid"), 4096);
        (Preparer::new(t, 64, 1.0), t)
    }

    /// A lon/lat position at tile pixel (px, py).
    fn at(t: &TileTransform, px: f64, py: f64) -> (f64, f64) {
        t.to_lonlat(px, py)
    }

    fn square(
        t: &TileTransform,
        x0: f64,
        y0: f64,
        x1: f64,
        y1: f64,
        ccw_on_map: bool,
    ) -> LineString<f64> {
        let mut pts = vec![
            at(t, x0, y0),
            at(t, x1, y0),
            at(t, x1, y1),
            at(t, x0, y1),
            at(t, x0, y0),
        ];
        if ccw_on_map {
            pts.reverse();
        }
        LineString::from(pts)
    }

    #[test]
    fn points_inside_and_outside() {
        let (mut p, t) = preparer();
        let mut out = Vec::new();
        let (lon, lat) = at(&t, 100.4, 200.6);
        let got = p
            .prepare(&point!(x: lon, y: lat).into(), &mut out)
            .expect("inside");
        assert_eq!(got.point, Some([100, 201]));
        assert_eq!(out, vec![9, 200, 402]);
        let (lon, lat) = at(&t, -65.0, 10.0);
        assert!(p
            .prepare(&point!(x: lon, y: lat).into(), &mut out)
            .is_none());
        assert_eq!(out.len(), 3, "unchanged");
    }

    #[test]
    fn rings_are_oriented_whatever_the_input() {
        for ccw in [false, true] {
            let (mut p, t) = preparer();
            let ext = square(&t, 100.0, 100.0, 1000.0, 1000.0, ccw);
            let hole = square(&t, 200.0, 200.0, 300.0, 300.0, ccw);
            let poly = Polygon::new(ext, vec![hole]);
            let mut out = Vec::new();
            let got = p.prepare(&poly.into(), &mut out).expect("inside");
            assert_eq!(got.kind, GeomType::Polygon);
            assert_eq!(got.size, 810_000.0);
            // Decode the two rings' first LineTo runs and check signs.
            let rings = crate::decode::decode_geometry(&out).expect("valid commands");
            assert_eq!(rings.len(), 2);
            assert!(
                crate::decode::ring_area2(&rings[0]) > 0,
                "exterior positive"
            );
            assert!(crate::decode::ring_area2(&rings[1]) < 0, "hole negative");
        }
    }

    #[test]
    fn collapsed_exterior_drops_the_polygon() {
        let (mut p, t) = preparer();
        let tiny = square(&t, 10.0, 10.0, 10.3, 10.3, false);
        let mut out = Vec::new();
        assert!(p
            .prepare(&Polygon::new(tiny.clone(), vec![]).into(), &mut out)
            .is_none());
        let big = square(&t, 0.0, 0.0, 50.0, 50.0, false);
        let mp = MultiPolygon::new(vec![Polygon::new(tiny, vec![]), Polygon::new(big, vec![])]);
        assert!(
            p.prepare(&mp.into(), &mut out).is_some(),
            "the other part stays"
        );
        assert_eq!(
            crate::decode::decode_geometry(&out).expect("valid").len(),
            1
        );
    }

    #[test]
    fn lines_and_collections() {
        let (mut p, t) = preparer();
        let (a, b) = (at(&t, 10.0, 10.0), at(&t, 5000.0, 10.0));
        let ls = line_string![(x: a.0, y: a.1), (x: b.0, y: b.1)];
        let mut out = Vec::new();
        let got = p.prepare(&ls.clone().into(), &mut out).expect("crosses");
        assert_eq!(got.kind, GeomType::LineString);
        assert_eq!(got.size, 4150.0, "clipped at 4096 + 64");
        let gc = GeometryCollection::new_from(vec![point!(x: a.0, y: a.1).into(), ls.into()]);
        out.clear();
        let got = p
            .prepare(&Geometry::GeometryCollection(gc), &mut out)
            .expect("line");
        assert_eq!(got.kind, GeomType::LineString);
        let empty = Geometry::GeometryCollection(GeometryCollection::new_from(vec![]));
        assert!(p.prepare(&empty, &mut out).is_none());
    }

    #[test]
    fn a_polygon_covering_the_tile_becomes_the_buffer_square() {
        let (mut p, t) = preparer();
        let poly = polygon![
            (x: at(&t, -9000.0, -9000.0).0, y: at(&t, -9000.0, -9000.0).1),
            (x: at(&t, 9000.0, -9000.0).0, y: at(&t, 9000.0, -9000.0).1),
            (x: at(&t, 9000.0, 9000.0).0, y: at(&t, 9000.0, 9000.0).1),
            (x: at(&t, -9000.0, 9000.0).0, y: at(&t, -9000.0, 9000.0).1),
        ];
        let mut out = Vec::new();
        let got = p.prepare(&poly.into(), &mut out).expect("covers");
        assert_eq!(got.size, 4224.0 * 4224.0);
    }
}
