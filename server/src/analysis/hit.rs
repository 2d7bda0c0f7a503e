//! One analysis result ([`Hit`]: a feature of a layer at a geodesic distance)
//! and its GeoJSON form: the feature with `layer`, `distance_m` (and, for
//! nearest, `bearing_deg` and `rank`) added to its properties.

use std::sync::Arc;

use geo::InteriorPoint;
use geo_types::{Geometry, Point};
use serde_json::{json, Map, Value as Json};

use crate::atlas::Layer;
use crate::model::geojson::feature_to_json;
use crate::model::Feature;

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
