//! Buffers around points, lines, polygons and existing features, against
//! brute force; summaries.

use std::collections::{BTreeMap, BTreeSet};

use geo::{Contains, Distance, Geodesic, Haversine};
use geo_types::{LineString, Point, Polygon};
use serde_json::{json, Value};

use super::support::*;

#[test]
fn buffer_around_a_point_equals_brute_force() {
    let (lon, lat) = CENTRE;
    let d = 5_000.0;
    let fc = post_ok(
        "/api/analysis/buffer",
        &json!({"geometry": {"type": "Point", "coordinates": [lon, lat]}, "distance_m": d, "layers": ["pollution_sources", "rural_sites"]}),
    );
    let origin = Point::new(lon, lat);
    let mut brute = BTreeMap::new();
    for layer in ["pollution_sources", "rural_sites"] {
        for f in sample_layer(layer) {
            brute.insert(
                f["id"].as_str().expect("id").to_string(),
                Geodesic.distance(origin, point_of(&f)),
            );
        }
    }
    assert_buffer_matches(&fc, &brute, d);
    assert!(!features(&fc).is_empty());
    for f in features(&fc) {
        let b = brute[f["id"].as_str().expect("id")];
        assert!(
            (distance(f) - b).abs() < 0.006,
            "point distances are exact geodesics"
        );
    }
    // The buffer polygon's vertices lie at the distance, within 0.5%.
    let ring = fc["buffer"]["coordinates"][0].as_array().expect("ring");
    assert!(ring.len() > 32);
    for c in ring {
        let e = (Geodesic.distance(origin, Point(coord(c))) - d).abs() / d;
        assert!(e < 0.005, "buffer vertex error {e}");
    }
    assert_eq!(fc["distance_m"], d);
}

#[test]
fn buffer_around_a_line_equals_brute_force() {
    let line = [
        Point::new(104.55, 28.70),
        Point::new(104.65, 28.78),
        Point::new(104.75, 28.76),
    ];
    let d = 2_000.0;
    let coords: Vec<Value> = line.iter().map(|p| json!([p.x(), p.y()])).collect();
    let fc = post_ok(
        "/api/analysis/buffer",
        &json!({"geometry": {"type": "LineString", "coordinates": coords}, "distance_m": d, "layers": ["pollution_sources"]}),
    );
    let brute: BTreeMap<String, f64> = sample_layer("pollution_sources")
        .iter()
        .filter(|f| {
            line.iter()
                .any(|v| Haversine.distance(*v, point_of(f)) < 20_000.0)
        })
        .map(|f| {
            (
                f["id"].as_str().expect("id").to_string(),
                sampled_line_distance(point_of(f), &line),
            )
        })
        .collect();
    assert!(
        brute.values().filter(|&&b| b < d).count() > 3,
        "the test line passes near sources"
    );
    assert_buffer_matches(&fc, &brute, d);
}

#[test]
fn buffer_around_a_polygon_equals_brute_force() {
    let (x, y, h) = (CENTRE.0, CENTRE.1, 0.02);
    let ring = [
        Point::new(x - h, y - h),
        Point::new(x + h, y - h),
        Point::new(x + h, y + h),
        Point::new(x - h, y + h),
        Point::new(x - h, y - h),
    ];
    let polygon = Polygon::new(LineString(ring.iter().map(|p| p.0).collect()), vec![]);
    let d = 1_000.0;
    let coords: Vec<Value> = ring.iter().map(|p| json!([p.x(), p.y()])).collect();
    let fc = post_ok(
        "/api/analysis/buffer",
        &json!({"geometry": {"type": "Polygon", "coordinates": [coords]}, "distance_m": d, "layers": ["pollution_sources", "monitoring_stations"]}),
    );
    let mut brute = BTreeMap::new();
    for layer in ["pollution_sources", "monitoring_stations"] {
        for f in sample_layer(layer) {
            let p = point_of(&f);
            if Haversine.distance(p, Point::new(x, y)) > 15_000.0 {
                continue;
            }
            let b = if polygon.contains(&p) {
                0.0
            } else {
                sampled_line_distance(p, &ring)
            };
            brute.insert(f["id"].as_str().expect("id").to_string(), b);
        }
    }
    assert!(
        brute.values().filter(|&&b| b == 0.0).count() > 0,
        "some sources inside"
    );
    assert_buffer_matches(&fc, &brute, d);
    for f in features(&fc) {
        if brute[f["id"].as_str().expect("id")] == 0.0 {
            assert_eq!(distance(f), 0.0, "inside the polygon is 0");
        }
    }
}

#[test]
fn buffer_of_an_existing_feature_leaves_it_out() {
    let ws = sample_layer("drinking_water_sources")
        .into_iter()
        .find(|f| f["id"] == "ws-0001")
        .expect("ws-0001");
    let p = point_of(&ws);
    let by_feature = post_ok(
        "/api/analysis/buffer",
        &json!({"feature": {"layer": "drinking_water_sources", "id": "ws-0001"}, "distance_m": 3000}),
    );
    let by_geometry = post_ok(
        "/api/analysis/buffer",
        &json!({"geometry": {"type": "Point", "coordinates": [p.x(), p.y()]}, "distance_m": 3000}),
    );
    let a = ids(&by_feature);
    let mut b = ids(&by_geometry);
    assert!(!a.contains(&"ws-0001".to_string()));
    assert!(b.contains(&"ws-0001".to_string()));
    b.retain(|id| id != "ws-0001");
    assert_eq!(a, b);
    // Its own level-1 zone contains the intake.
    let zone = features(&by_feature)
        .iter()
        .find(|f| f["id"] == "pz-0001-level1")
        .expect("own zone");
    assert_eq!(distance(zone), 0.0);
    assert_eq!(by_feature["summary"]["zone_levels"][0], "level1");

    // A polygon feature: the zone itself is left out, its neighbour band touches it.
    let fc = post_ok(
        "/api/analysis/buffer",
        &json!({"feature": {"layer": "protection_zones", "id": "pz-0001-level2"}, "distance_m": 100, "layers": ["protection_zones"]}),
    );
    let zone_ids = ids(&fc);
    assert!(!zone_ids.contains(&"pz-0001-level2".to_string()));
    assert!(
        zone_ids.contains(&"pz-0001-level1".to_string())
            && zone_ids.contains(&"pz-0001-quasi".to_string()),
        "{zone_ids:?}"
    );
}

#[test]
fn buffer_summary_counts_layers_counties_and_zone_levels() {
    let (lon, lat) = CENTRE;
    let fc = post_ok(
        "/api/analysis/buffer",
        &json!({"geometry": {"type": "Point", "coordinates": [lon, lat]}, "distance_m": 12000}),
    );
    let summary = &fc["summary"];
    let total = features(&fc).len() as u64;
    assert_eq!(summary["total"], total);
    let layers = summary["layers"].as_object().expect("layers");
    assert_eq!(layers.len(), 6, "every default layer, zeros included");
    assert_eq!(
        layers.values().filter_map(Value::as_u64).sum::<u64>(),
        total
    );
    for (layer, n) in layers {
        let count = features(&fc)
            .iter()
            .filter(|f| f["properties"]["layer"] == *layer)
            .count() as u64;
        assert_eq!(n.as_u64(), Some(count), "{layer}");
    }
    let counties = summary["counties"].as_array().expect("counties");
    let in_counties: u64 = counties.iter().filter_map(|c| c["count"].as_u64()).sum();
    assert_eq!(
        in_counties + summary["outside_counties"].as_u64().expect("outside"),
        total
    );
    // Sources are counted by their county property.
    let mut by_county: BTreeMap<String, u64> = BTreeMap::new();
    for f in features(&fc)
        .iter()
        .filter(|f| f["properties"]["layer"] == "pollution_sources")
    {
        *by_county
            .entry(
                f["properties"]["county"]
                    .as_str()
                    .expect("county")
                    .to_string(),
            )
            .or_default() += 1;
    }
    for c in counties {
        let adcode = c["adcode"].as_str().expect("adcode");
        assert!(c["name_zh"].is_string());
        assert_eq!(
            c["layers"]["pollution_sources"].as_u64().unwrap_or(0),
            by_county.get(adcode).copied().unwrap_or(0),
            "{adcode}"
        );
    }
    // Zone levels: those of the zones found, strictest first.
    let levels: BTreeSet<&str> = features(&fc)
        .iter()
        .filter(|f| f["properties"]["layer"] == "protection_zones")
        .filter_map(|f| f["properties"]["zone_level"].as_str())
        .collect();
    let got: Vec<&str> = summary["zone_levels"]
        .as_array()
        .expect("levels")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert_eq!(got.iter().copied().collect::<BTreeSet<_>>(), levels);
    let order = ["level1", "level2", "quasi"];
    assert!(got
        .windows(2)
        .all(|w| order.iter().position(|l| *l == w[0]) < order.iter().position(|l| *l == w[1])));
}
