//! The GeoJSON of a risk assessment: each assessed feature with its own
//! properties plus `layer`, `distance_m` (0: the feature itself),
//! `risk_score`, `risk_factors` and `sources`; and its CSV columns (the
//! factors flattened, the sources as a `;`-separated list of ids).

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

/// The factors by name, in a fixed order.
fn factors(risk: &TargetRisk) -> [(&'static str, f64); 6] {
    let f = &risk.factors;
    [
        ("zone_level", f.zone_level),
        ("distance", f.distance),
        ("upstream", f.upstream),
        ("hazard_class", f.hazard_class),
        ("credit_rating", f.credit_rating),
        ("recent_exceedances", f.recent_exceedances),
    ]
}

fn factors_json(risk: &TargetRisk) -> Json {
    let mut m = Map::new();
    for (name, v) in factors(risk) {
        m.insert(name.into(), json!(round_to(v, 2)));
    }
    Json::Object(m)
}

/// The CSV columns a risk row adds after `distance_m`.
pub const CSV_COLUMNS: [&str; 9] = [
    "risk_score",
    "risk_factors.zone_level",
    "risk_factors.distance",
    "risk_factors.upstream",
    "risk_factors.hazard_class",
    "risk_factors.credit_rating",
    "risk_factors.recent_exceedances",
    "source_count",
    "sources",
];

/// The values of [`CSV_COLUMNS`] for one assessed feature.
pub fn csv_values(sources: &Layer, risk: &TargetRisk) -> Vec<String> {
    let mut values = vec![round_to(risk.score, 2).to_string()];
    values.extend(factors(risk).map(|(_, v)| round_to(v, 2).to_string()));
    values.push(risk.sources.len().to_string());
    let ids: Vec<&str> = risk
        .sources
        .iter()
        .filter_map(|s| sources.features().get(s.position as usize))
        .map(|f| f.id.as_ref())
        .collect();
    values.push(ids.join(";"));
    values
}
