//! Geometry checks before a feature is accepted: coordinates within lon/lat
//! range (files other than GeoJSON are not range-checked when read), then the
//! editing API's rules ([`crate::model::validate::check_geometry`]): the
//! layer's kind and OGC validity (self-intersections, unclosed or degenerate
//! rings, holes outside their shell). The API's vertex limit does not apply:
//! a county boundary from a file may have more vertices than a request body.

use geo_types::{Coord, Geometry};

use crate::model::validate::check_geometry;
use crate::model::{GeometryKind, LayerSchema};

fn coord_ok(c: &Coord<f64>) -> Result<(), String> {
    if !c.x.is_finite() || !c.y.is_finite() {
        return Err("a coordinate is not a finite number".into());
    }
    if !(-180.0..=180.0).contains(&c.x) || !(-90.0..=90.0).contains(&c.y) {
        return Err(format!(
            "coordinate ({}, {}) is outside lon/lat range (projected data? see --crs)",
            c.x, c.y
        ));
    }
    Ok(())
}

/// Checks a WGS84 geometry for `schema`'s layer; the error is the reason shown to the user.
pub fn check(geometry: &Geometry<f64>, schema: &LayerSchema) -> Result<(), String> {
    if !schema.geometry.accepts(geometry) {
        return Err(format!(
            "{} geometry in a {} layer",
            type_name(geometry),
            schema.geometry.ogc_name()
        ));
    }
    use geo::CoordsIter;
    for c in geometry.coords_iter() {
        coord_ok(&c)?;
    }
    if geometry.coords_count() == 0 {
        return Err("the geometry is empty".into());
    }
    check_geometry(schema, geometry, usize::MAX)
        .map_err(|e| format!("{} ({})", e.detail, type_name(geometry)))
}

pub fn type_name(geometry: &Geometry<f64>) -> &'static str {
    match geometry {
        Geometry::Point(_) => "Point",
        Geometry::MultiPoint(_) => "MultiPoint",
        Geometry::LineString(_) => "LineString",
        Geometry::MultiLineString(_) => "MultiLineString",
        Geometry::Polygon(_) => "Polygon",
        Geometry::MultiPolygon(_) => "MultiPolygon",
        Geometry::GeometryCollection(_) => "GeometryCollection",
        Geometry::Line(_) => "Line",
        Geometry::Rect(_) => "Rect",
        Geometry::Triangle(_) => "Triangle",
    }
}

/// The layer kind a geometry belongs to, for `--create`.
pub fn kind_of(geometry: &Geometry<f64>) -> Option<GeometryKind> {
    [
        GeometryKind::Point,
        GeometryKind::Line,
        GeometryKind::Polygon,
    ]
    .into_iter()
    .find(|k| k.accepts(geometry))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::catalog::builtin_schema;
    use geo_types::{line_string, point, polygon};

    #[test]
    fn rejections_say_why() {
        let bowtie = Geometry::Polygon(polygon![
            (x: 104.0, y: 28.0), (x: 104.1, y: 28.1), (x: 104.1, y: 28.0), (x: 104.0, y: 28.1), (x: 104.0, y: 28.0)
        ]);
        let zones = builtin_schema("protection_zones").expect("polygon layer");
        let points = builtin_schema("pollution_sources").expect("point layer");
        let reason = check(&bowtie, &zones).expect_err("self-intersecting");
        assert!(reason.contains("invalid geometry"), "{reason}");
        let line = Geometry::LineString(line_string![(x: 104.0, y: 28.0), (x: 104.1, y: 28.1)]);
        assert!(check(&line, &points)
            .expect_err("kind")
            .contains("LineString"));
        let projected = Geometry::Point(point!(x: 500_000.0, y: 3_180_000.0));
        assert!(check(&projected, &points)
            .expect_err("range")
            .contains("--crs"));
        assert!(check(&Geometry::Point(point!(x: 104.6, y: 28.7)), &points).is_ok());
    }
}
