//! Unit tests of the network on small hand-made rivers.

use std::sync::Arc;

use geo_types::{point, Geometry};

use super::*;
use crate::atlas::Layer;
use crate::model::catalog::builtin_schema;
use crate::model::{Feature, Value};

fn river(fid: i64, name: &str, coords: &[(f64, f64)]) -> Feature {
    let schema = builtin_schema("rivers").expect("schema");
    let mut properties = vec![Value::Null; schema.properties.len()];
    if let Some(i) = schema.position("name_en") {
        properties[i] = Value::Text(name.into());
    }
    Feature {
        fid,
        id: format!("r{fid}").into(),
        geometry: Geometry::LineString(coords.iter().map(|&(x, y)| (x, y)).collect()),
        properties,
    }
}

/// A main river flowing east along lat 28.8, a tributary from the north that
/// stops 35 m short of it, a second part of the main river starting 300 m
/// after the first ends, and a far-away river.
fn network(tolerance_m: f64) -> RiverGraph {
    let schema = Arc::new(builtin_schema("rivers").expect("schema"));
    let features = vec![
        // A vertex where the tributary ends: a long arc would bulge north.
        river(
            1,
            "Main",
            &[(104.0, 28.8), (104.3, 28.8), (104.5, 28.8), (105.0, 28.8)],
        ),
        // 35 m north of the main river (0.000315° of latitude).
        river(2, "Trib", &[(104.3, 29.2), (104.3, 28.800315)]),
        river(3, "Main", &[(105.003, 28.8), (105.5, 28.8)]),
        river(4, "Far", &[(110.0, 20.0), (110.1, 20.0)]),
    ];
    let layer = Layer::new(schema, features, 1);
    let config = RiversConfig {
        snap_tolerance_m: tolerance_m,
        ..RiversConfig::default()
    };
    RiverGraph::build(Some(&layer), &config)
}

#[test]
fn ends_snap_across_small_gaps_only() {
    let g = network(1000.0);
    let trib = g.reaches[1].outlet.expect("tributary joins");
    assert_eq!(trib.to, 0);
    assert!((trib.gap_m - 35.0).abs() < 1.0, "{}", trib.gap_m);
    assert!((trib.along_m - g.reaches[0].point_at(trib.along_m).x()).abs() > 0.0);
    assert_eq!(g.reaches[0].outlet.map(|l| l.to), Some(2));
    assert_eq!(g.reaches[2].outlet, None);
    let d = g.diagnostics(1);
    assert_eq!(d.links.len(), 2);
    assert_eq!(d.unconnected_ends.len(), 2, "{:?}", d.unconnected_ends);
    assert!(d.cycles.is_empty());
    // With 30 m the tributary stays unconnected and is reported with its gap.
    let g = network(30.0);
    assert_eq!(g.reaches[1].outlet, None);
    let d = g.diagnostics(1);
    let end = d
        .unconnected_ends
        .iter()
        .find(|e| e.reach == "r2")
        .expect("tributary end reported");
    assert!((end.nearest_m.expect("nearest") - 35.0).abs() < 1.0);
}

#[test]
fn downstream_follows_links_with_times() {
    let g = network(1000.0);
    let start = g.snap(point!(x: 104.3, y: 29.0), 5000.0).expect("snap");
    assert_eq!(start.reach, 1);
    let trace = g.downstream(&start, 1_000_000.0, None);
    let reaches: Vec<usize> = trace.pieces.iter().map(|p| p.reach).collect();
    assert_eq!(reaches, [1, 0, 2]);
    assert!(trace.reached_outlet);
    let gaps: f64 = [1, 0]
        .iter()
        .filter_map(|&r| g.reaches[r].outlet.map(|l| l.gap_m))
        .sum();
    assert!((gaps - 35.0 - 292.7).abs() < 1.0, "{gaps}");
    let expected = g.reaches[1].length_m() - start.along_m
        + gaps
        + (g.reaches[0].length_m() - trace.pieces[1].from_m)
        + g.reaches[2].length_m();
    assert!(
        (trace.length_m - expected).abs() < 2.0,
        "{} vs {expected}",
        trace.length_m
    );
    // All at the default 1.0 m/s: time equals length.
    assert!((trace.time_s - trace.length_m).abs() < 1e-6);
    // A limit cuts the path; a given velocity overrides the rivers'.
    let short = g.downstream(&start, 30_000.0, Some(2.0));
    assert!((short.length_m - 30_000.0).abs() < 1e-6);
    assert!(!short.reached_outlet);
    assert!((short.time_s - 15_000.0).abs() < 1e-6);
    let line = g.downstream_line(&short);
    assert!(line.0.len() >= 3);
}

#[test]
fn upstream_collects_tributaries_and_stops_at_heads() {
    let g = network(1000.0);
    let at = g.snap(point!(x: 104.8, y: 28.8), 100.0).expect("snap");
    let up = g.upstream(&at, 1_000_000.0);
    let mut reaches: Vec<usize> = up.pieces.iter().map(|p| p.reach).collect();
    reaches.sort_unstable();
    assert_eq!(reaches, [0, 1]);
    // Upstream of the head of the main river: nothing.
    let head = g.snap(point!(x: 104.0, y: 28.8), 10.0).expect("snap");
    let up = g.upstream(&head, 1_000_000.0);
    assert!(up.pieces.is_empty());
    assert_eq!(up.length_m, 0.0);
    // Distances down the network.
    let from = g.snap(point!(x: 104.3, y: 29.1), 100.0).expect("snap");
    let to = g.snap(point!(x: 105.2, y: 28.8), 100.0).expect("snap");
    let d = g.downstream_distance(&from, &to, 1e7).expect("downstream");
    assert!(d > 80_000.0);
    assert_eq!(g.downstream_distance(&to, &from, 1e7), None);
    assert_eq!(g.downstream_distance(&from, &to, 1_000.0), None);
}

#[test]
fn snapping_prefers_the_reach_that_carries_on() {
    // Two rivers meeting at one point where a third begins.
    let schema = Arc::new(builtin_schema("rivers").expect("schema"));
    let layer = Layer::new(
        schema,
        vec![
            river(1, "A", &[(104.0, 29.0), (104.6, 28.8)]),
            river(2, "B", &[(104.0, 28.5), (104.6, 28.8)]),
            river(3, "C", &[(104.6, 28.8), (105.0, 28.8)]),
        ],
        1,
    );
    let g = RiverGraph::build(Some(&layer), &RiversConfig::default());
    assert_eq!(g.reaches[0].outlet.map(|l| l.to), Some(2));
    assert_eq!(g.reaches[1].outlet.map(|l| l.to), Some(2));
    let s = g.snap(point!(x: 104.6, y: 28.8), 10.0).expect("snap");
    assert_eq!(s.reach, 2);
}

#[test]
fn an_empty_layer_gives_an_empty_network() {
    let g = RiverGraph::build(None, &RiversConfig::default());
    assert!(g.reaches.is_empty());
    assert!(g.snap(point!(x: 104.0, y: 28.0), 1e5).is_none());
    let d = g.diagnostics(0);
    assert!(d.links.is_empty() && d.unconnected_ends.is_empty());
}
