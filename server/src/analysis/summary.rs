//! The `summary` of a buffer: counts per layer and per county, and the
//! drinking-water protection-zone levels the buffer touches.

use serde_json::{json, Map, Value as Json};

use super::buffer::{within_distance_in_layer, BufferQuery};
use super::counties::{Counties, ZONES_LAYER};
use super::distance::Shape;
use super::filter::LayerQuery;
use super::hit::Hit;
use crate::atlas::Atlas;

/// Zone levels from the strictest (HJ 338-2018); unknown levels sort last.
const ZONE_LEVELS: [&str; 3] = ["level1", "level2", "quasi"];

/// The summary object: `total`, `layers` (id → count, every requested layer),
/// `counties` (those with results: `adcode`, `name_zh`, `name_en`, `count`,
/// `layers`), `outside_counties` (results in no county) and `zone_levels`
/// (levels of every protection zone within the distance, whatever the
/// requested layers and filter).
pub fn summarize(
    atlas: &Atlas,
    layers: &[LayerQuery],
    hits: &[Hit],
    query: &BufferQuery<'_>,
) -> Json {
    let mut per_layer = Map::new();
    for lq in layers {
        let n = hits
            .iter()
            .filter(|h| h.layer.id() == lq.layer.id())
            .count();
        per_layer.insert(lq.layer.id().to_string(), json!(n));
    }

    let counties = Counties::from_atlas(atlas);
    let mut per_county: Vec<Map<String, Json>> = vec![Map::new(); counties.list.len()];
    let mut outside = 0;
    for hit in hits {
        let Some(feature) = hit.feature() else {
            continue;
        };
        match counties.county_of(&hit.layer, feature) {
            Some(i) => {
                let n = per_county[i]
                    .get(hit.layer.id())
                    .and_then(Json::as_u64)
                    .unwrap_or(0);
                per_county[i].insert(hit.layer.id().to_string(), json!(n + 1));
            }
            None => outside += 1,
        }
    }
    let county_rows: Vec<Json> = counties
        .list
        .iter()
        .zip(per_county)
        .filter(|(_, by_layer)| !by_layer.is_empty())
        .map(|(c, by_layer)| {
            let count: u64 = by_layer.values().filter_map(Json::as_u64).sum();
            json!({"adcode": c.adcode, "name_zh": c.name_zh, "name_en": c.name_en, "count": count, "layers": by_layer})
        })
        .collect();

    json!({
        "total": hits.len(),
        "layers": per_layer,
        "counties": county_rows,
        "outside_counties": outside,
        "zone_levels": zone_levels_touched(atlas, layers, hits, query),
    })
}

/// The distinct `zone_level`s of the protection zones within the distance,
/// strictest first. Taken from `hits` when the zones were searched unfiltered,
/// else searched here.
pub fn zone_levels_touched(
    atlas: &Atlas,
    layers: &[LayerQuery],
    hits: &[Hit],
    query: &BufferQuery<'_>,
) -> Vec<String> {
    let Some(zones) = atlas.layer(ZONES_LAYER) else {
        return Vec::new();
    };
    let searched = layers
        .iter()
        .any(|lq| lq.layer.id() == ZONES_LAYER && lq.is_unfiltered());
    let zone_hits: Vec<Hit> = if searched {
        hits.iter()
            .filter(|h| h.layer.id() == ZONES_LAYER)
            .cloned()
            .collect()
    } else {
        let shape = Shape::new(query.geometry);
        within_distance_in_layer(&LayerQuery::all(zones.clone()), &shape, query)
    };
    let mut levels: Vec<String> = zone_hits
        .iter()
        .filter_map(|h| {
            h.feature()
                .map(|f| f.text(&h.layer.schema, "zone_level").to_string())
        })
        .filter(|l| !l.is_empty())
        .collect();
    let order = |l: &String| {
        ZONE_LEVELS
            .iter()
            .position(|z| z == l)
            .unwrap_or(ZONE_LEVELS.len())
    };
    levels.sort_by(|a, b| order(a).cmp(&order(b)).then(a.cmp(b)));
    levels.dedup();
    levels
}
