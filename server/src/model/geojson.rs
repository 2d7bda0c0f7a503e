//! Conversion between features and RFC 7946 GeoJSON.
//!
//! Hand-written rather than through a GeoJSON crate so that every rejection can
//! say exactly what was wrong (which ring, which coordinate), which is what a
//! user importing a file or posting a geometry needs.

use geo_types::{
    Coord, Geometry, LineString, MultiLineString, MultiPoint, MultiPolygon, Point, Polygon,
};
use serde::ser::{Serialize, SerializeMap, Serializer};
use serde_json::{json, Map, Value as Json};

use super::feature::{Feature, NewFeature};
use super::schema::LayerSchema;
use super::value::Value;

/// Why a GeoJSON geometry or feature was rejected.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum GeoJsonError {
    #[error("geometry: {0}")]
    Geometry(String),
    #[error("property '{name}': {reason}")]
    Property { name: String, reason: String },
    #[error("unknown property '{0}'")]
    UnknownProperty(String),
    #[error("feature has no string 'id'")]
    MissingId,
    #[error("{0}")]
    Structure(String),
}

fn geom_err(msg: impl Into<String>) -> GeoJsonError {
    GeoJsonError::Geometry(msg.into())
}

/// Parses a GeoJSON geometry object (not a Feature). Coordinates must be finite
/// lon/lat numbers within range; rings must be closed with at least four positions.
pub fn parse_geometry(json: &Json) -> Result<Geometry<f64>, GeoJsonError> {
    let obj = json
        .as_object()
        .ok_or_else(|| geom_err("must be a GeoJSON geometry object"))?;
    let kind = obj
        .get("type")
        .and_then(Json::as_str)
        .ok_or_else(|| geom_err("missing 'type'"))?;
    if kind == "GeometryCollection" {
        return Err(geom_err("GeometryCollection is not supported"));
    }
    let coords = obj
        .get("coordinates")
        .ok_or_else(|| geom_err("missing 'coordinates'"))?;
    Ok(match kind {
        "Point" => Geometry::Point(Point(position(coords)?)),
        "MultiPoint" => Geometry::MultiPoint(MultiPoint(
            array(coords, "MultiPoint")?
                .iter()
                .map(|c| position(c).map(Point))
                .collect::<Result<_, _>>()?,
        )),
        "LineString" => Geometry::LineString(line(coords)?),
        "MultiLineString" => Geometry::MultiLineString(MultiLineString(
            array(coords, "MultiLineString")?
                .iter()
                .map(line)
                .collect::<Result<_, _>>()?,
        )),
        "Polygon" => Geometry::Polygon(polygon(coords)?),
        "MultiPolygon" => Geometry::MultiPolygon(MultiPolygon(
            array(coords, "MultiPolygon")?
                .iter()
                .map(polygon)
                .collect::<Result<_, _>>()?,
        )),
        other => return Err(geom_err(format!("unknown geometry type '{other}'"))),
    })
}

fn array<'a>(json: &'a Json, what: &str) -> Result<&'a Vec<Json>, GeoJsonError> {
    json.as_array()
        .ok_or_else(|| geom_err(format!("{what} coordinates must be an array")))
}

fn position(json: &Json) -> Result<Coord<f64>, GeoJsonError> {
    let a = json
        .as_array()
        .filter(|a| a.len() >= 2)
        .ok_or_else(|| geom_err("a position must be an array of at least 2 numbers"))?;
    let x = a[0]
        .as_f64()
        .ok_or_else(|| geom_err("longitude is not a number"))?;
    let y = a[1]
        .as_f64()
        .ok_or_else(|| geom_err("latitude is not a number"))?;
    if !(-180.0..=180.0).contains(&x) || !(-90.0..=90.0).contains(&y) {
        return Err(geom_err(format!(
            "position [{x}, {y}] is outside lon -180..180, lat -90..90"
        )));
    }
    Ok(Coord { x, y })
}

fn line(json: &Json) -> Result<LineString<f64>, GeoJsonError> {
    let pts: Vec<Coord<f64>> = array(json, "LineString")?
        .iter()
        .map(position)
        .collect::<Result<_, _>>()?;
    if pts.len() < 2 {
        return Err(geom_err("a LineString needs at least 2 positions"));
    }
    Ok(LineString(pts))
}

fn polygon(json: &Json) -> Result<Polygon<f64>, GeoJsonError> {
    let rings = array(json, "Polygon")?;
    let mut parsed = Vec::with_capacity(rings.len());
    for (i, ring) in rings.iter().enumerate() {
        let ls = line(ring)?;
        if ls.0.len() < 4 || ls.0.first() != ls.0.last() {
            return Err(geom_err(format!(
                "polygon ring {i} must be closed and have at least 4 positions"
            )));
        }
        parsed.push(ls);
    }
    let mut it = parsed.into_iter();
    let exterior = it
        .next()
        .ok_or_else(|| geom_err("a Polygon needs an exterior ring"))?;
    Ok(Polygon::new(exterior, it.collect()))
}

/// Writes a geometry as a GeoJSON geometry object.
pub fn geometry_to_json(geometry: &Geometry<f64>) -> Json {
    fn pos(c: &Coord<f64>) -> Json {
        json!([c.x, c.y])
    }
    fn ring(l: &LineString<f64>) -> Json {
        Json::Array(l.0.iter().map(pos).collect())
    }
    fn poly(p: &Polygon<f64>) -> Json {
        let mut rings = vec![ring(p.exterior())];
        rings.extend(p.interiors().iter().map(ring));
        Json::Array(rings)
    }
    let (kind, coords) = match geometry {
        Geometry::Point(p) => ("Point", pos(&p.0)),
        Geometry::MultiPoint(m) => ("MultiPoint", m.0.iter().map(|p| pos(&p.0)).collect()),
        Geometry::LineString(l) => ("LineString", ring(l)),
        Geometry::MultiLineString(m) => ("MultiLineString", m.0.iter().map(ring).collect()),
        Geometry::Polygon(p) => ("Polygon", poly(p)),
        Geometry::MultiPolygon(m) => ("MultiPolygon", m.0.iter().map(poly).collect()),
        Geometry::Rect(r) => ("Polygon", poly(&r.to_polygon())),
        Geometry::Triangle(t) => ("Polygon", poly(&t.to_polygon())),
        Geometry::Line(l) => ("LineString", ring(&LineString(vec![l.start, l.end]))),
        Geometry::GeometryCollection(_) => return Json::Null,
    };
    json!({ "type": kind, "coordinates": coords })
}

/// A geometry that serialises as the object [`geometry_to_json`] builds (same
/// members in the same order, same numbers) without building it: large
/// responses write straight to their buffer instead of through a
/// `serde_json::Value` tree.
#[derive(Debug, Clone, Copy)]
pub struct GeometryJson<'a>(pub &'a Geometry<f64>);

impl Serialize for GeometryJson<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self.0 {
            Geometry::Point(p) => geometry_object(s, "Point", Position(p.0)),
            Geometry::MultiPoint(m) => geometry_object(s, "MultiPoint", Points(&m.0)),
            Geometry::LineString(l) => geometry_object(s, "LineString", Ring(&l.0)),
            Geometry::MultiLineString(m) => geometry_object(s, "MultiLineString", Lines(&m.0)),
            Geometry::Polygon(p) => geometry_object(s, "Polygon", Rings(p)),
            Geometry::MultiPolygon(m) => geometry_object(s, "MultiPolygon", Polygons(&m.0)),
            Geometry::Rect(r) => geometry_object(s, "Polygon", Rings(&r.to_polygon())),
            Geometry::Triangle(t) => geometry_object(s, "Polygon", Rings(&t.to_polygon())),
            Geometry::Line(l) => geometry_object(s, "LineString", Ring(&[l.start, l.end])),
            Geometry::GeometryCollection(_) => s.serialize_unit(),
        }
    }
}

/// `{"coordinates": .., "type": ..}`: the order in which `serde_json::Map`
/// (sorted by key) writes the members of [`geometry_to_json`]'s object.
fn geometry_object<S: Serializer>(
    s: S,
    kind: &str,
    coords: impl Serialize,
) -> Result<S::Ok, S::Error> {
    let mut map = s.serialize_map(Some(2))?;
    map.serialize_entry("coordinates", &coords)?;
    map.serialize_entry("type", kind)?;
    map.end()
}

struct Position(Coord<f64>);

impl Serialize for Position {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq([self.0.x, self.0.y])
    }
}

struct Points<'a>(&'a [Point<f64>]);

impl Serialize for Points<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.0.iter().map(|p| Position(p.0)))
    }
}

struct Ring<'a>(&'a [Coord<f64>]);

impl Serialize for Ring<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.0.iter().map(|c| Position(*c)))
    }
}

struct Lines<'a>(&'a [LineString<f64>]);

impl Serialize for Lines<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.0.iter().map(|l| Ring(&l.0)))
    }
}

/// A polygon's rings: exterior first, then the holes.
struct Rings<'a>(&'a Polygon<f64>);

impl Serialize for Rings<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let p = self.0;
        s.collect_seq(
            std::iter::once(p.exterior())
                .chain(p.interiors())
                .map(|l| Ring(&l.0)),
        )
    }
}

struct Polygons<'a>(&'a [Polygon<f64>]);

impl Serialize for Polygons<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.0.iter().map(Rings))
    }
}

/// Writes a stored feature as a GeoJSON Feature: `id` at the top level and, with
/// `fid`, among the properties.
pub fn feature_to_json(feature: &Feature, schema: &LayerSchema) -> Json {
    let mut props = Map::with_capacity(schema.properties.len() + 2);
    props.insert("id".into(), Json::String(feature.id.to_string()));
    props.insert("fid".into(), Json::from(feature.fid));
    for (def, value) in schema.properties.iter().zip(&feature.properties) {
        props.insert(def.name.clone(), value.to_json());
    }
    json!({
        "type": "Feature",
        "id": feature.id.as_ref(),
        "geometry": geometry_to_json(&feature.geometry),
        "properties": props,
    })
}

/// Reads a GeoJSON Feature into a [`NewFeature`] of `schema`: the id comes from the
/// top-level `id` (or an `id` property); properties must be declared and typed as
/// the schema says; `fid` is the store's and ignored; absent properties are null.
pub fn feature_from_json(json: &Json, schema: &LayerSchema) -> Result<NewFeature, GeoJsonError> {
    let obj = json
        .as_object()
        .filter(|o| o.get("type").and_then(Json::as_str) == Some("Feature"))
        .ok_or_else(|| GeoJsonError::Structure("not a GeoJSON Feature".into()))?;
    let empty = Map::new();
    let props = match obj.get("properties") {
        None | Some(Json::Null) => &empty,
        Some(Json::Object(m)) => m,
        Some(_) => {
            return Err(GeoJsonError::Structure(
                "'properties' must be an object".into(),
            ))
        }
    };
    let id = match obj.get("id").or_else(|| props.get("id")) {
        Some(Json::String(s)) if !s.is_empty() => s.clone(),
        Some(Json::Number(n)) => n.to_string(),
        _ => return Err(GeoJsonError::MissingId),
    };
    let geometry = parse_geometry(
        obj.get("geometry")
            .ok_or_else(|| geom_err("the feature has no geometry"))?,
    )?;
    if !schema.geometry.accepts(&geometry) {
        return Err(geom_err(format!(
            "layer '{}' holds {} geometries",
            schema.id,
            schema.geometry.ogc_name()
        )));
    }
    let mut values = vec![Value::Null; schema.properties.len()];
    for (name, json_value) in props {
        if name == "id" || name == "fid" {
            continue;
        }
        let pos = schema
            .position(name)
            .ok_or_else(|| GeoJsonError::UnknownProperty(name.clone()))?;
        values[pos] = Value::from_json(json_value, schema.properties[pos].kind).map_err(|e| {
            GeoJsonError::Property {
                name: name.clone(),
                reason: e.to_string(),
            }
        })?;
    }
    Ok(NewFeature {
        id,
        geometry,
        properties: values,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::catalog::builtin_schema;

    #[test]
    fn features_round_trip_through_geojson() {
        let schema = builtin_schema("rivers").expect("rivers");
        let json = json!({
            "type": "Feature", "id": "r1",
            "geometry": {"type": "LineString", "coordinates": [[104.0, 28.0], [104.5, 28.7]]},
            "properties": {"name_zh": "岷江", "name_en": "Min", "synthetic": false}
        });
        let new = feature_from_json(&json, &schema).expect("parse");
        let stored = Feature {
            fid: 7,
            id: new.id.clone().into(),
            geometry: new.geometry,
            properties: new.properties,
        };
        let out = feature_to_json(&stored, &schema);
        assert_eq!(out["id"], "r1");
        assert_eq!(out["properties"]["fid"], 7);
        assert_eq!(out["properties"]["name_zh"], "岷江");
        assert_eq!(out["geometry"], json["geometry"]);
    }

    #[test]
    fn bad_input_says_what_is_wrong() {
        let schema = builtin_schema("rivers").expect("rivers");
        let point = json!({"type": "Feature", "id": "x",
            "geometry": {"type": "Point", "coordinates": [104.0, 28.0]}, "properties": {}});
        assert!(matches!(
            feature_from_json(&point, &schema),
            Err(GeoJsonError::Geometry(_))
        ));
        let unknown = json!({"type": "Feature", "id": "x",
            "geometry": {"type": "LineString", "coordinates": [[0, 0], [1, 1]]},
            "properties": {"colour": "red"}});
        assert_eq!(
            feature_from_json(&unknown, &schema),
            Err(GeoJsonError::UnknownProperty("colour".into()))
        );
        let open_ring =
            json!({"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1], [0, 1]]]});
        assert!(parse_geometry(&open_ring).is_err());
        let out_of_range = json!({"type": "Point", "coordinates": [200, 0]});
        assert!(parse_geometry(&out_of_range).is_err());
    }
}
