//! One analysis result ([`Hit`]: a feature of a layer at a geodesic distance)
//! and its GeoJSON form: the feature with `layer`, `distance_m` (and, for
//! nearest, `bearing_deg` and `rank`) added to its properties.

use std::collections::BTreeMap;
use std::sync::Arc;

use geo::InteriorPoint;
use geo_types::{Geometry, Point};
use serde::ser::{Serialize, SerializeMap, Serializer};
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

/// The `properties` members of a layer's hits, in the order the
/// `serde_json::Map` of [`Hit::to_json`] writes them (sorted by name; a
/// schema property named like an added member is overwritten by it).
fn member_order(layer: &Layer, ranked: bool) -> Vec<(&str, Member)> {
    let mut members = BTreeMap::new();
    members.insert("id", Member::Id);
    members.insert("fid", Member::Fid);
    for (i, def) in layer.schema.properties.iter().enumerate() {
        members.insert(def.name.as_str(), Member::Property(i));
    }
    members.insert("layer", Member::Layer);
    members.insert("distance_m", Member::Distance);
    if ranked {
        members.insert("bearing_deg", Member::Bearing);
        members.insert("rank", Member::Rank);
    }
    members.into_iter().collect()
}

/// A property value as [`Value::to_json`] writes it.
struct ValueJson<'a>(&'a Value);

impl Serialize for ValueJson<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self.0 {
            Value::Null => s.serialize_unit(),
            Value::Bool(b) => s.serialize_bool(*b),
            Value::Int(i) => s.serialize_i64(*i),
            // Non-finite numbers are null in both (JSON has no NaN).
            Value::Float(f) if f.is_finite() => s.serialize_f64(*f),
            Value::Float(_) => s.serialize_unit(),
            Value::Text(t) => s.serialize_str(t),
        }
    }
}

/// A hit's `properties`.
struct PropertiesJson<'a> {
    hit: &'a Hit,
    feature: &'a Feature,
    order: &'a [(&'a str, Member)],
}

impl Serialize for PropertiesJson<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let (hit, feature) = (self.hit, self.feature);
        let mut map = s.serialize_map(Some(self.order.len()))?;
        for &(name, member) in self.order {
            match member {
                Member::Id => map.serialize_entry(name, &*feature.id)?,
                Member::Fid => map.serialize_entry(name, &feature.fid)?,
                Member::Property(i) => {
                    let value = feature.properties.get(i).unwrap_or(&Value::Null);
                    map.serialize_entry(name, &ValueJson(value))?
                }
                Member::Layer => map.serialize_entry(name, hit.layer.id())?,
                Member::Distance => {
                    map.serialize_entry(name, &finite(round_to(hit.distance_m, 2)))?
                }
                Member::Bearing => map.serialize_entry(
                    name,
                    &hit.ranking
                        .and_then(|r| r.bearing_deg)
                        .map(|b| finite(round_bearing(b))),
                )?,
                Member::Rank => map.serialize_entry(name, &hit.ranking.map(|r| r.rank))?,
            }
        }
        map.end()
    }
}

/// `json!(x)` of a non-finite float is null.
fn finite(x: f64) -> Option<f64> {
    x.is_finite().then_some(x)
}

/// A hit as the Feature [`Hit::to_json`] builds; `null` without its feature.
struct HitJson<'a> {
    hit: &'a Hit,
    order: &'a [(&'a str, Member)],
}

impl Serialize for HitJson<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let Some(feature) = self.hit.feature() else {
            return s.serialize_unit();
        };
        // Members sorted by name, as `serde_json::Map` writes them.
        let mut map = s.serialize_map(Some(4))?;
        map.serialize_entry("geometry", &GeometryJson(&feature.geometry))?;
        map.serialize_entry("id", &*feature.id)?;
        let properties = PropertiesJson {
            hit: self.hit,
            feature,
            order: self.order,
        };
        map.serialize_entry("properties", &properties)?;
        map.serialize_entry("type", "Feature")?;
        map.end()
    }
}

/// The hits of a FeatureCollection, each layer's member order worked out once.
struct FeaturesJson<'a> {
    hits: &'a [Hit],
    /// (layer, ranked) → member order.
    orders: Vec<(*const Layer, bool, Vec<(&'a str, Member)>)>,
}

impl<'a> FeaturesJson<'a> {
    fn new(hits: &'a [Hit]) -> Self {
        let mut orders: Vec<(*const Layer, bool, Vec<(&'a str, Member)>)> = Vec::new();
        for hit in hits {
            let key = (Arc::as_ptr(&hit.layer), hit.ranking.is_some());
            if !orders.iter().any(|(l, r, _)| (*l, *r) == key) {
                orders.push((key.0, key.1, member_order(&hit.layer, key.1)));
            }
        }
        Self { hits, orders }
    }
}

impl Serialize for FeaturesJson<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.hits.iter().map(|hit| {
            let key = (Arc::as_ptr(&hit.layer), hit.ranking.is_some());
            let order = self
                .orders
                .iter()
                .find(|(l, r, _)| (*l, *r) == key)
                .map_or(&[][..], |(_, _, o)| o.as_slice());
            HitJson { hit, order }
        }))
    }
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
/// the `serde_json::Value` tree of every feature and property: the hot path
/// of nearest.
pub fn feature_collection_bytes(
    hits: &[Hit],
    extras: &Map<String, Json>,
) -> Result<Vec<u8>, serde_json::Error> {
    let mut members: BTreeMap<&str, TopMember<'_>> = BTreeMap::new();
    members.insert("type", TopMember::Type);
    members.insert("numberReturned", TopMember::NumberReturned);
    members.insert("features", TopMember::Features);
    for (name, value) in extras {
        members.insert(name.as_str(), TopMember::Extra(value));
    }
    let features = FeaturesJson::new(hits);
    let body = CollectionJson {
        members,
        features: &features,
    };
    // Roughly 0.6 kB per feature with its properties.
    let mut out = Vec::with_capacity(256 + hits.len() * 768);
    serde_json::to_writer(&mut out, &body)?;
    Ok(out)
}

struct CollectionJson<'a> {
    members: BTreeMap<&'a str, TopMember<'a>>,
    features: &'a FeaturesJson<'a>,
}

impl Serialize for CollectionJson<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(Some(self.members.len()))?;
        for (name, member) in &self.members {
            match member {
                TopMember::Features => map.serialize_entry(name, self.features)?,
                TopMember::NumberReturned => {
                    map.serialize_entry(name, &self.features.hits.len())?
                }
                TopMember::Type => map.serialize_entry(name, "FeatureCollection")?,
                TopMember::Extra(value) => map.serialize_entry(name, value)?,
            }
        }
        map.end()
    }
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
        let hits = vec![
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
