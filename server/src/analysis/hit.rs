//! One analysis result ([`Hit`]: a feature of a layer at a geodesic distance)
//! and its GeoJSON form: the feature with `layer`, `distance_m` (and, for
//! nearest, `bearing_deg` and `rank`) added to its properties.
//!
//! Two writers of the same text: [`Hit::to_json`] and [`feature_collection`]
//! build `serde_json::Value` trees (for routes that add members per feature),
//! [`feature_collection_bytes`] writes the bytes directly (for buffer and
//! nearest, whose answer is mostly these features: the tree of a dozen
//! features cost more CPU than the search). A unit test holds them equal.

use std::collections::BTreeMap;
use std::sync::Arc;

use geo::InteriorPoint;
use geo_types::{Geometry, Point};
use serde_json::{json, Map, Value as Json};

use crate::atlas::Layer;
use crate::model::geojson::{feature_to_json, GeometryJson};
use crate::model::{Feature, Value};

/// What a nearest search adds to a hit.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Ranking {
    /// Initial geodesic bearing from the origin to the feature's closest point,
    /// degrees in 0..360; `None` when the origin is on or in the feature.
    pub bearing_deg: Option<f64>,
    /// 1 for the nearest feature of its layer.
    pub rank: usize,
}

/// A feature found by an analysis.
#[derive(Debug, Clone)]
pub struct Hit {
    pub layer: Arc<Layer>,
    /// Position of the feature in [`Layer::features`].
    pub position: u32,
    /// Geodesic distance (WGS84, metres) from the query geometry; 0 inside.
    pub distance_m: f64,
    pub ranking: Option<Ranking>,
}

impl Hit {
    pub fn feature(&self) -> Option<&Feature> {
        self.layer.features().get(self.position as usize)
    }

    /// Ordering of results: by distance, then catalog order of layers is kept
    /// by a stable sort, then by `fid`.
    pub fn sort(hits: &mut [Hit]) {
        hits.sort_by(|a, b| {
            a.distance_m
                .total_cmp(&b.distance_m)
                .then_with(|| a.feature().map(|f| f.fid).cmp(&b.feature().map(|f| f.fid)))
        });
    }

    /// The GeoJSON Feature of this hit.
    pub fn to_json(&self) -> Json {
        let Some(feature) = self.feature() else {
            return Json::Null;
        };
        let mut json = feature_to_json(feature, &self.layer.schema);
        if let Some(props) = json.get_mut("properties").and_then(Json::as_object_mut) {
            props.insert("layer".into(), Json::String(self.layer.id().to_string()));
            props.insert("distance_m".into(), json!(round_to(self.distance_m, 2)));
            if let Some(r) = self.ranking {
                props.insert(
                    "bearing_deg".into(),
                    json!(r.bearing_deg.map(round_bearing)),
                );
                props.insert("rank".into(), json!(r.rank));
            }
        }
        json
    }
}

/// A FeatureCollection of hits with extra top-level members.
pub fn feature_collection(hits: &[Hit], extras: Map<String, Json>) -> Json {
    let features: Vec<Json> = hits.iter().map(Hit::to_json).collect();
    let mut body = Map::new();
    body.insert("type".into(), json!("FeatureCollection"));
    body.insert("numberReturned".into(), json!(features.len()));
    body.insert("features".into(), Json::Array(features));
    body.extend(extras);
    Json::Object(body)
}

/// Where a member of a hit's `properties` comes from.
#[derive(Debug, Clone, Copy)]
enum Member {
    Id,
    Fid,
    Property(usize),
    Layer,
    Distance,
    Bearing,
    Rank,
}

/// The `properties` members of one layer's hits, in the order the
/// `serde_json::Map` of [`Hit::to_json`] writes them (sorted by name; a
/// schema property named like an added member is overwritten by it), each
/// with its `"name":` text, escaped once for all the layer's hits.
struct Members {
    layer: *const Layer,
    ranked: bool,
    /// The `"name":` texts, one after the other.
    keys: Vec<u8>,
    /// The end of each member's key in `keys`, and where its value comes from.
    members: Vec<(usize, Member)>,
}

impl Members {
    fn new(layer: &Layer, ranked: bool) -> Result<Self, serde_json::Error> {
        let mut order = BTreeMap::new();
        order.insert("id", Member::Id);
        order.insert("fid", Member::Fid);
        for (i, def) in layer.schema.properties.iter().enumerate() {
            order.insert(def.name.as_str(), Member::Property(i));
        }
        order.insert("layer", Member::Layer);
        order.insert("distance_m", Member::Distance);
        if ranked {
            order.insert("bearing_deg", Member::Bearing);
            order.insert("rank", Member::Rank);
        }
        let mut keys = Vec::with_capacity(order.len() * 16);
        let mut members = Vec::with_capacity(order.len());
        for (name, member) in order {
            write_str(&mut keys, name)?;
            keys.push(b':');
            members.push((keys.len(), member));
        }
        Ok(Self {
            layer,
            ranked,
            keys,
            members,
        })
    }
}

/// A JSON string as serde_json writes it; names and values needing no
/// escape (nearly all) are copied whole rather than byte by byte.
fn write_str(out: &mut Vec<u8>, s: &str) -> Result<(), serde_json::Error> {
    // No early exit: the compiler vectorises the whole scan.
    let escape = s
        .bytes()
        .fold(false, |e, b| e | (b < 0x20) | (b == b'"') | (b == b'\\'));
    if escape {
        return serde_json::to_writer(&mut *out, s);
    }
    out.reserve(s.len() + 2);
    out.push(b'"');
    out.extend_from_slice(s.as_bytes());
    out.push(b'"');
    Ok(())
}

/// Any other value, through serde_json (numbers: its formatting, and null
/// for non-finite floats, as `json!` gives).
fn write<T: serde::Serialize + ?Sized>(
    out: &mut Vec<u8>,
    value: &T,
) -> Result<(), serde_json::Error> {
    serde_json::to_writer(&mut *out, value)
}

/// A property value as [`Value::to_json`] writes it.
fn write_value(out: &mut Vec<u8>, value: &Value) -> Result<(), serde_json::Error> {
    match value {
        Value::Null => out.extend_from_slice(b"null"),
        Value::Bool(true) => out.extend_from_slice(b"true"),
        Value::Bool(false) => out.extend_from_slice(b"false"),
        Value::Int(i) => write(out, i)?,
        Value::Float(f) => write(out, f)?,
        Value::Text(t) => write_str(out, t)?,
    }
    Ok(())
}

/// A hit as the Feature [`Hit::to_json`] builds (members sorted by name, as
/// `serde_json::Map` writes them); `null` without its feature.
fn write_hit(out: &mut Vec<u8>, hit: &Hit, members: &Members) -> Result<(), serde_json::Error> {
    let Some(feature) = hit.feature() else {
        out.extend_from_slice(b"null");
        return Ok(());
    };
    out.extend_from_slice(b"{\"geometry\":");
    write(out, &GeometryJson(&feature.geometry))?;
    out.extend_from_slice(b",\"id\":");
    write_str(out, &feature.id)?;
    out.extend_from_slice(b",\"properties\":{");
    let mut start = 0;
    for (i, &(end, member)) in members.members.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        out.extend_from_slice(&members.keys[start..end]);
        start = end;
        match member {
            Member::Id => write_str(out, &feature.id)?,
            Member::Fid => write(out, &feature.fid)?,
            Member::Property(p) => {
                write_value(out, feature.properties.get(p).unwrap_or(&Value::Null))?
            }
            Member::Layer => write_str(out, hit.layer.id())?,
            Member::Distance => write(out, &round_to(hit.distance_m, 2))?,
            Member::Bearing => {
                let bearing = hit.ranking.and_then(|r| r.bearing_deg);
                write(out, &bearing.map(round_bearing))?
            }
            Member::Rank => write(out, &hit.ranking.map(|r| r.rank))?,
        }
    }
    out.extend_from_slice(b"},\"type\":\"Feature\"}");
    Ok(())
}

/// A top-level member of a FeatureCollection of hits.
enum TopMember<'a> {
    Features,
    NumberReturned,
    Type,
    Extra(&'a Json),
}

/// [`feature_collection`]'s FeatureCollection written straight to JSON bytes
/// (the same text as `feature_collection(hits, extras).to_string()`), without
/// the `serde_json::Value` tree of every feature and property, which cost
/// more than the search: the hot path of nearest.
pub fn feature_collection_bytes(
    hits: &[Hit],
    extras: &Map<String, Json>,
) -> Result<Vec<u8>, serde_json::Error> {
    let mut top: BTreeMap<&str, TopMember<'_>> = BTreeMap::new();
    top.insert("type", TopMember::Type);
    top.insert("numberReturned", TopMember::NumberReturned);
    top.insert("features", TopMember::Features);
    for (name, value) in extras {
        top.insert(name.as_str(), TopMember::Extra(value));
    }
    // The member order of each (layer, ranked) present, worked out once.
    let mut orders: Vec<Members> = Vec::new();
    // Roughly 0.6 kB per feature with its properties.
    let mut out = Vec::with_capacity(256 + hits.len() * 768);
    out.push(b'{');
    for (i, (name, member)) in top.into_iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        write_str(&mut out, name)?;
        out.push(b':');
        match member {
            TopMember::Features => {
                out.push(b'[');
                for (j, hit) in hits.iter().enumerate() {
                    if j > 0 {
                        out.push(b',');
                    }
                    let key = (Arc::as_ptr(&hit.layer), hit.ranking.is_some());
                    let at = match orders.iter().position(|m| (m.layer, m.ranked) == key) {
                        Some(at) => at,
                        None => {
                            orders.push(Members::new(&hit.layer, key.1)?);
                            orders.len() - 1
                        }
                    };
                    write_hit(&mut out, hit, &orders[at])?;
                }
                out.push(b']');
            }
            TopMember::NumberReturned => write(&mut out, &hits.len())?,
            TopMember::Type => out.extend_from_slice(b"\"FeatureCollection\""),
            TopMember::Extra(value) => write(&mut out, value)?,
        }
    }
    out.push(b'}');
    Ok(out)
}

/// A point standing for a geometry (the point itself, else an interior point):
/// for county assignment and the lon/lat columns of CSV output.
pub fn representative_point(geometry: &Geometry<f64>) -> Option<Point<f64>> {
    match geometry {
        Geometry::Point(p) => Some(*p),
        g => g.interior_point(),
    }
}

/// Rounds to `decimals` places (distances to centimetres, coordinates to ~0.1 m).
pub fn round_to(value: f64, decimals: i32) -> f64 {
    let scale = 10f64.powi(decimals);
    (value * scale).round() / scale
}

/// Bearings to 0.01°, kept within 0..360 after rounding.
pub fn round_bearing(bearing_deg: f64) -> f64 {
    let b = round_to(bearing_deg, 2);
    if b >= 360.0 {
        0.0
    } else {
        b
    }
}

#[cfg(test)]
mod tests {
    use geo_types::{point, polygon, LineString, MultiPolygon};

    use super::*;
    use crate::model::catalog::builtin_schema;

    fn layer(id: &str, geometries: Vec<Geometry<f64>>) -> Arc<Layer> {
        let schema = builtin_schema(id).expect("schema");
        let n = schema.properties.len();
        let samples = [
            Value::Null,
            Value::Bool(true),
            Value::Int(-42),
            Value::Float(1234.5),
            Value::Float(f64::NAN),
            Value::Float(3.0),
            Value::Text("宜宾 \"quoted\" \\ \n tab\t".into()),
        ];
        let features = geometries
            .into_iter()
            .enumerate()
            .map(|(i, geometry)| Feature {
                fid: i as i64 + 1,
                id: format!("{id}-{i}").into(),
                geometry,
                properties: (0..n)
                    .map(|p| samples[(p + i) % samples.len()].clone())
                    .collect(),
            })
            .collect();
        Arc::new(Layer::new(Arc::new(schema), features, 1))
    }

    #[test]
    fn direct_serialisation_writes_the_value_tree_text() {
        let square = polygon![
            (x: 104.0, y: 28.0), (x: 104.1, y: 28.0), (x: 104.1, y: 28.1), (x: 104.0, y: 28.0)
        ];
        let points = layer(
            "pollution_sources",
            vec![
                Geometry::Point(point!(x: 104.62, y: 28.77)),
                Geometry::Point(point!(x: -0.5, y: 1e-7)),
            ],
        );
        let zones = layer(
            "protection_zones",
            vec![
                Geometry::Polygon(square.clone()),
                Geometry::MultiPolygon(MultiPolygon(vec![square.clone(), square])),
            ],
        );
        let rivers = layer(
            "rivers",
            vec![Geometry::LineString(LineString::from(vec![
                (104.0, 28.0),
                (104.5, 28.25),
            ]))],
        );
        let hit = |layer: &Arc<Layer>, position: u32, distance_m: f64, ranking| Hit {
            layer: layer.clone(),
            position,
            distance_m,
            ranking,
        };
        let ranked = |bearing_deg, rank| Some(Ranking { bearing_deg, rank });
        let hits = [
            hit(&points, 0, 0.0, ranked(None, 1)),
            hit(&points, 1, 12.345_678, ranked(Some(359.999), 2)),
            hit(&zones, 0, 1000.0, ranked(Some(12.3456), 1)),
            hit(&zones, 1, f64::NAN, None),
            hit(&rivers, 0, 5.0e6, None),
            // A position past the end: `null`, as `to_json` writes it.
            hit(&rivers, 7, 1.0, None),
        ];
        let mut extras = Map::new();
        extras.insert("k".into(), json!(10));
        extras.insert("max_distance_m".into(), json!(50_000.0));
        extras.insert(
            "origin".into(),
            json!({"type": "Point", "coordinates": [104.62, 28.77]}),
        );
        // An extra member overrides the collection's own.
        extras.insert("numberReturned".into(), json!("overridden"));
        for n in [0, 1, hits.len()] {
            let want = feature_collection(&hits[..n], extras.clone()).to_string();
            let got = feature_collection_bytes(&hits[..n], &extras).expect("serialise");
            assert_eq!(String::from_utf8(got).expect("utf-8"), want);
        }
    }
}
