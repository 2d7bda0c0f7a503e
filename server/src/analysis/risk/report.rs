//! The GeoJSON of a risk assessment: each assessed feature with its own
//! properties plus `layer`, `distance_m` (0: the feature itself),
//! `risk_score`, `risk_factors` and `sources`.

use serde_json::{json, Map, Value as Json};

use super::assess::TargetRisk;
use crate::analysis::hit::round_to;
use crate::atlas::Layer;
use crate::model::geojson::feature_to_json;

/// One assessed feature as a GeoJSON Feature.
pub fn target_json(targets: &Layer, sources: &Layer, risk: &TargetRisk) -> Json {
    let Some(feature) = targets.features().get(risk.position as usize) else {
        return Json::Null;
    };
    let mut json = feature_to_json(feature, &targets.schema);
    let list: Vec<Json> = risk
        .sources
        .iter()
        .filter_map(|s| {
            let f = sources.features().get(s.position as usize)?;
            Some(json!({
                "id": f.id.as_ref(),
                "name_zh": f.text(&sources.schema, "name_zh"),
                "name_en": f.text(&sources.schema, "name_en"),
                "distance_m": round_to(s.distance_m, 2),
                "zone_level": s.placement.zone_level(),
                "upstream": s.upstream,
                "along_river_m": s.along_river_m.map(|d| round_to(d, 1)),
                "hazard_class": s.hazard,
                "credit_rating": f.text(&sources.schema, "credit_rating"),
                "recent_exceedances": s.recent_exceedances,
                "score": round_to(s.factors.total(), 2),
            }))
        })
        .collect();
    if let Some(props) = json.get_mut("properties").and_then(Json::as_object_mut) {
        props.insert("layer".into(), json!(targets.id()));
        props.insert("distance_m".into(), json!(0.0));
        props.insert("risk_score".into(), json!(round_to(risk.score, 2)));
        props.insert("risk_factors".into(), factors_json(risk));
        props.insert("sources".into(), Json::Array(list));
    }
    json
}

fn factors_json(risk: &TargetRisk) -> Json {
    let f = &risk.factors;
    let mut m = Map::new();
    for (name, v) in [
        ("zone_level", f.zone_level),
        ("distance", f.distance),
        ("upstream", f.upstream),
        ("hazard_class", f.hazard_class),
        ("credit_rating", f.credit_rating),
        ("recent_exceedances", f.recent_exceedances),
    ] {
        m.insert(name.into(), json!(round_to(v, 2)));
    }
    Json::Object(m)
}
