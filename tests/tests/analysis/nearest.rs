//! Nearest: known features, k and distance caps, brute-force rankings.

use std::collections::BTreeMap;

use geo::{Bearing, Geodesic};
use geo_types::Point;
use rand::{Rng, SeedableRng};
use serde_json::Value;

use super::support::*;

#[test]
fn nearest_at_a_known_source_returns_it_first() {
    let sources = sample_layer("pollution_sources");
    let s = &sources[17];
    let p = point_of(s);
    let fc = get_ok(&format!(
        "/api/analysis/nearest?lon={}&lat={}&layers=pollution_sources&k=5",
        p.x(),
        p.y()
    ));
    assert_eq!(fc["type"], "FeatureCollection");
    let first = &features(&fc)[0];
    assert_eq!(first["id"], s["id"]);
    assert!(distance(first) < 0.01);
    assert_eq!(first["properties"]["layer"], "pollution_sources");
    assert_eq!(first["properties"]["rank"], 1);
    assert!(
        first["properties"]["bearing_deg"].is_null(),
        "no direction at distance 0"
    );
    assert_eq!(first["properties"]["name_zh"], s["properties"]["name_zh"]);
    assert!(first["properties"]["fid"].is_u64());
    assert_eq!(features(&fc).len(), 5);
    for (i, f) in features(&fc).iter().enumerate().skip(1) {
        assert_eq!(f["properties"]["rank"], i + 1);
        let b = f["properties"]["bearing_deg"].as_f64().expect("bearing");
        assert!((0.0..360.0).contains(&b));
        // The bearing is the initial geodesic azimuth toward the feature.
        let target = sources
            .iter()
            .find(|x| x["id"] == f["id"])
            .expect("in sample");
        let want = Geodesic.bearing(p, point_of(target)).rem_euclid(360.0);
        let diff = (b - want).abs();
        assert!(diff.min(360.0 - diff) < 0.01, "{b} vs {want}");
    }
    assert_eq!(fc["origin"]["coordinates"][0].as_f64(), Some(p.x()));
}

#[test]
fn nearest_respects_k_and_max_distance() {
    let (lon, lat) = CENTRE;
    let fc = get_ok(&format!("/api/analysis/nearest?lon={lon}&lat={lat}&k=2"));
    let mut per_layer: BTreeMap<String, usize> = BTreeMap::new();
    for f in features(&fc) {
        *per_layer
            .entry(
                f["properties"]["layer"]
                    .as_str()
                    .expect("layer")
                    .to_string(),
            )
            .or_default() += 1;
    }
    let defaults = [
        "drinking_water_sources",
        "ecology_areas",
        "monitoring_stations",
        "pollution_sources",
        "protection_zones",
        "rural_sites",
    ];
    assert_eq!(
        per_layer.keys().map(String::as_str).collect::<Vec<_>>(),
        defaults,
        "k per default layer"
    );
    assert!(per_layer.values().all(|&n| n == 2));
    let ds: Vec<f64> = features(&fc).iter().map(distance).collect();
    assert!(
        ds.windows(2).all(|w| w[0] <= w[1]),
        "ranked across layers by distance"
    );

    let sources = sample_layer("pollution_sources");
    let origin = Point::new(lon, lat);
    let within = brute_nearest(&sources, origin, usize::MAX, 3_000.0);
    let fc = get_ok(&format!("/api/analysis/nearest?lon={lon}&lat={lat}&layers=pollution_sources&k=10000&max_distance_m=3000"));
    assert_eq!(
        features(&fc).len(),
        within.len(),
        "every source within 3 km, no more"
    );
    assert!(features(&fc).iter().all(|f| distance(f) <= 3_000.0));
    assert_eq!(fc["max_distance_m"], 3000.0);
}

#[test]
fn nearest_matches_brute_force_at_random_points() {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(2024);
    let layers = [
        "pollution_sources",
        "drinking_water_sources",
        "monitoring_stations",
    ];
    let samples: Vec<Vec<Value>> = layers.iter().map(|l| sample_layer(l)).collect();
    for _ in 0..20 {
        let origin = Point::new(rng.gen_range(103.6..105.4), rng.gen_range(27.8..29.3));
        let k = rng.gen_range(1..=15);
        let max_m: f64 = if rng.gen_bool(0.5) {
            100_000.0
        } else {
            rng.gen_range(2_000.0..40_000.0)
        };
        let fc = get_ok(&format!(
            "/api/analysis/nearest?lon={}&lat={}&layers={}&k={k}&max_distance_m={max_m}",
            origin.x(),
            origin.y(),
            layers.join(",")
        ));
        for (layer, sample) in layers.iter().zip(&samples) {
            let got: Vec<(String, f64)> = features(&fc)
                .iter()
                .filter(|f| f["properties"]["layer"] == *layer)
                .map(|f| (f["id"].as_str().expect("id").to_string(), distance(f)))
                .collect();
            let want = brute_nearest(sample, origin, k, max_m);
            let got_ids: Vec<&str> = got.iter().map(|g| g.0.as_str()).collect();
            let want_ids: Vec<&str> = want.iter().map(|w| w.0.as_str()).collect();
            assert_eq!(got_ids, want_ids, "{layer} at {origin:?} k {k} max {max_m}");
            for (g, w) in got.iter().zip(&want) {
                assert!((g.1 - w.1).abs() < 0.006, "{}: {} vs {}", g.0, g.1, w.1);
            }
        }
    }
}
