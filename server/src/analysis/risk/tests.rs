//! Unit tests of the assessment on a small hand-made atlas.

use std::sync::Arc;

use geo_types::{point, polygon, Geometry};

use super::factors::Placement;
use super::*;
use crate::analysis::exceedance::{ExceedanceCounts, NoExceedances};
use crate::analysis::river::{RiverGraph, RiversConfig};
use crate::atlas::Layer;
use crate::model::catalog::builtin_schema;
use crate::model::{Feature, Value};

fn feature(
    layer: &str,
    fid: i64,
    id: &str,
    geometry: Geometry<f64>,
    props: &[(&str, &str)],
) -> Feature {
    let schema = builtin_schema(layer).expect("schema");
    let mut properties = vec![Value::Null; schema.properties.len()];
    for (k, v) in props {
        let i = schema.position(k).expect("property");
        properties[i] = Value::Text((*v).into());
    }
    Feature {
        fid,
        id: id.into(),
        geometry,
        properties,
    }
}

fn layer(id: &str, features: Vec<Feature>) -> Arc<Layer> {
    Arc::new(Layer::new(
        Arc::new(builtin_schema(id).expect("schema")),
        features,
        1,
    ))
}

/// A river flowing east along lat 28.8; an intake at 104.5; a level-1 zone
/// around it; sources upstream on the river, downstream on it, inside the
/// zone off the river, and far away.
fn fixture() -> (Arc<Layer>, Arc<Layer>, Arc<Layer>, RiverGraph) {
    let rivers = layer(
        "rivers",
        vec![feature(
            "rivers",
            1,
            "r1",
            Geometry::LineString(vec![(104.0, 28.8), (105.0, 28.8)].into()),
            &[("name_en", "Main")],
        )],
    );
    let graph = RiverGraph::build(Some(&rivers), &RiversConfig::default());
    let ws = layer(
        "drinking_water_sources",
        vec![feature(
            "drinking_water_sources",
            1,
            "ws-1",
            Geometry::Point(point!(x: 104.5, y: 28.801)),
            &[("name_en", "Intake")],
        )],
    );
    let zone = polygon![
        (x: 104.49, y: 28.79), (x: 104.51, y: 28.79), (x: 104.51, y: 28.81),
        (x: 104.49, y: 28.81), (x: 104.49, y: 28.79)
    ];
    let zones = layer(
        "protection_zones",
        vec![feature(
            "protection_zones",
            1,
            "z1",
            Geometry::Polygon(zone),
            &[("water_source_id", "ws-1"), ("zone_level", "level1")],
        )],
    );
    let src = |fid, id, x: f64, y: f64, code, credit| {
        feature(
            "pollution_sources",
            fid,
            id,
            Geometry::Point(point!(x: x, y: y)),
            &[("industry_code", code), ("credit_rating", credit)],
        )
    };
    let sources = layer(
        "pollution_sources",
        vec![
            src(1, "up", 104.47, 28.8005, "2612", "red"),
            src(2, "down", 104.53, 28.8005, "3311", "green"),
            src(3, "inzone", 104.505, 28.808, "4411", "blue"),
            src(4, "far", 104.9, 28.5, "2612", "red"),
        ],
    );
    (ws, sources, zones, graph)
}

#[derive(Debug)]
struct Counts;
impl ExceedanceCounts for Counts {
    fn recent_exceedances(&self, source_id: &str) -> u32 {
        u32::from(source_id == "down") * 2
    }
}

#[test]
fn sources_are_placed_flagged_and_scored() {
    let (ws, sources, zones, graph) = fixture();
    let graph = Arc::new(graph);
    let config = AnalysisConfig::default();
    let inputs = RiskInputs {
        targets: ws.clone(),
        sources: sources.clone(),
        zones: Some(zones),
        graph: &graph,
        config: &config,
        exceedances: &NoExceedances,
    };
    let out = assess(&inputs, None);
    assert_eq!(out.len(), 1);
    let risk = &out[0];
    let by_id = |id: &str| {
        risk.sources
            .iter()
            .find(|s| sources.features()[s.position as usize].id.as_ref() == id)
            .cloned()
    };
    assert!(by_id("far").is_none());
    let up = by_id("up").expect("upstream source");
    assert!(up.upstream);
    let along = up.along_river_m.expect("along");
    assert!((2800.0..3200.0).contains(&along), "{along}");
    assert_eq!(up.placement, Placement::Radius);
    let down = by_id("down").expect("downstream source");
    assert!(!down.upstream && down.along_river_m.is_none());
    let inzone = by_id("inzone").expect("zone source");
    assert_eq!(inzone.placement, Placement::Level1);
    // The score is the sum of every source's contributions.
    let sum: f64 = risk.sources.iter().map(|s| s.factors.total()).sum();
    assert!((risk.score - sum).abs() < 1e-9);
    assert_eq!(risk.factors.upstream, config.weight_upstream);
    // Exceedance counts come through the trait.
    let counted = RiskInputs {
        exceedances: &Counts,
        ..inputs.clone()
    };
    let with = assess(&counted, Some(0));
    assert!((with[0].factors.recent_exceedances - 2.0 * config.weight_exceedance).abs() < 1e-9);
    // The cache answers the same until an input changes.
    let cache = RiskCache::new();
    let a = cache.all(Target::WaterSources, &inputs, &graph);
    let b = cache.all(Target::WaterSources, &inputs, &graph);
    assert!(Arc::ptr_eq(&a, &b));
    assert_eq!(a[0].score, risk.score);
}

#[test]
fn ecology_areas_count_sources_inside() {
    let (_, sources, _, graph) = fixture();
    let area = polygon![
        (x: 104.50, y: 28.805), (x: 104.51, y: 28.805), (x: 104.51, y: 28.81),
        (x: 104.50, y: 28.81), (x: 104.50, y: 28.805)
    ];
    let eco = layer(
        "ecology_areas",
        vec![feature(
            "ecology_areas",
            1,
            "e1",
            Geometry::Polygon(area),
            &[],
        )],
    );
    let config = AnalysisConfig::default();
    let inputs = RiskInputs {
        targets: eco,
        sources: sources.clone(),
        zones: None,
        graph: &graph,
        config: &config,
        exceedances: &NoExceedances,
    };
    let out = assess(&inputs, None);
    let inside: Vec<&str> = out[0]
        .sources
        .iter()
        .filter(|s| s.placement == Placement::Inside)
        .map(|s| sources.features()[s.position as usize].id.as_ref())
        .collect();
    assert_eq!(inside, ["inzone"]);
    assert!(out[0].sources.iter().all(|s| !s.upstream));
}
