//! Per-layer tile rules of the atlas: the lowest zoom a layer shows at, the
//! properties it keeps at low zoom, and point thinning.

use envatlas_tiles::{LayerTileRules, PointThinning};

use crate::model::{GeometryKind, LayerSchema};

/// From these zooms on, tiles carry every property (and `id`): dense point
/// layers later, so mid-zoom tiles of thousands of points stay small and fast.
pub const FULL_ATTRIBUTES_FROM_ZOOM_POINTS: u8 = 12;
pub const FULL_ATTRIBUTES_FROM_ZOOM_OTHERS: u8 = 10;

/// The zoom range TileJSON advertises; clients overzoom beyond `MAX_ZOOM`.
pub const MIN_ZOOM: u8 = 0;
pub const MAX_ZOOM: u8 = 16;

/// The properties a layer keeps below its full-attribute zoom: what the
/// low-zoom map styles and labels need, nothing more.
pub fn low_zoom_properties(layer_id: &str) -> &'static [&'static str] {
    match layer_id {
        "pollution_sources" => &["name_zh", "industry_code", "control_level", "status"],
        "drinking_water_sources" => &["name_zh", "source_type", "supply_level"],
        "protection_zones" => &["zone_level", "water_source_id"],
        "ecology_areas" => &["name_zh", "category"],
        "rural_sites" => &["category", "sewage_status"],
        "monitoring_stations" => &["name_zh", "kind", "status"],
        "rivers" => &["name_zh", "name_en"],
        "admin_boundaries" => &["adcode", "name_zh", "name_en", "level"],
        _ => &["name_zh"],
    }
}

/// The lowest zoom at which a layer appears in tiles. Sources, rivers and
/// boundaries make the national and regional views; small features (zones,
/// villages) only mean something closer in and would bloat low-zoom tiles.
pub fn tile_min_zoom(layer_id: &str) -> u8 {
    match layer_id {
        "pollution_sources" | "rivers" | "admin_boundaries" => MIN_ZOOM,
        "drinking_water_sources" | "monitoring_stations" | "ecology_areas" => 5,
        "protection_zones" | "rural_sites" => 8,
        _ => MIN_ZOOM,
    }
}

/// How a layer is tiled: points are thinned below z12 (with `point_count`) and
/// carry all properties from z12; lines and polygons from z10.
pub fn rules_for(schema: &LayerSchema) -> LayerTileRules {
    let points = schema.geometry == GeometryKind::Point;
    LayerTileRules {
        min_zoom: tile_min_zoom(&schema.id),
        full_attributes_from_zoom: if points {
            FULL_ATTRIBUTES_FROM_ZOOM_POINTS
        } else {
            FULL_ATTRIBUTES_FROM_ZOOM_OTHERS
        },
        low_zoom_properties: low_zoom_properties(&schema.id)
            .iter()
            .map(|s| (*s).to_string())
            .collect(),
        point_thinning: points.then(PointThinning::default),
        ..LayerTileRules::default()
    }
}
