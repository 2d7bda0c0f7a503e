//! Risk zones over HTTP: shapes, scores that add up, zone placement checked
//! against the sample polygons, the summary as the top of the list.

use geo::Contains;
use geo_types::{Coord, LineString, Point, Polygon};
use serde_json::Value;

use super::support::*;

fn polygon_of(f: &Value) -> Polygon<f64> {
    let ring = |r: &Value| {
        LineString(
            r.as_array()
                .expect("ring")
                .iter()
                .map(|c| Coord {
                    x: c[0].as_f64().expect("x"),
                    y: c[1].as_f64().expect("y"),
                })
                .collect(),
        )
    };
    let rings = f["geometry"]["coordinates"].as_array().expect("rings");
    Polygon::new(ring(&rings[0]), rings[1..].iter().map(ring).collect())
}

const FACTORS: [&str; 6] = [
    "zone_level",
    "distance",
    "upstream",
    "hazard_class",
    "credit_rating",
    "recent_exceedances",
];

#[test]
fn water_sources_carry_scores_factors_and_sources() {
    let fc = get_ok("/api/analysis/risk?layer=drinking_water_sources");
    let found = features(&fc);
    assert_eq!(found.len(), sample_layer("drinking_water_sources").len());
    let scores: Vec<f64> = found.iter().map(|f| prop_f64(f, "risk_score")).collect();
    assert!(scores.windows(2).all(|w| w[0] >= w[1]), "highest first");
    let zones = sample_layer("protection_zones");
    let sources = sample_layer("pollution_sources");
    let mut upstream_seen = false;
    for f in found {
        let p = &f["properties"];
        assert_eq!(p["layer"], "drinking_water_sources");
        assert_eq!(p["distance_m"], 0.0);
        let sum: f64 = FACTORS
            .iter()
            .map(|k| p["risk_factors"][k].as_f64().expect("factor"))
            .sum();
        assert!((sum - prop_f64(f, "risk_score")).abs() < 0.1, "{p}");
        for s in p["sources"].as_array().expect("sources") {
            let d = s["distance_m"].as_f64().expect("distance");
            let level = s["zone_level"].as_str();
            assert!(d <= 5000.0 || level.is_some(), "{s}");
            if s["upstream"] == true {
                upstream_seen = true;
                assert!(s["along_river_m"].as_f64().expect("along") > 0.0);
                assert_eq!(
                    p["source_type"], "river",
                    "only river intakes are on the network"
                );
            } else {
                assert!(s["along_river_m"].is_null());
            }
            if let Some(level) = level {
                // The source really lies in that zone of this water source.
                let src = sources.iter().find(|x| x["id"] == s["id"]).expect("source");
                let c = &src["geometry"]["coordinates"];
                let pt = Point::new(c[0].as_f64().expect("x"), c[1].as_f64().expect("y"));
                let zone = zones
                    .iter()
                    .find(|z| {
                        z["properties"]["water_source_id"] == f["id"]
                            && z["properties"]["zone_level"] == level
                    })
                    .expect("zone");
                assert!(polygon_of(zone).contains(&pt) || d < 1.0, "{s}");
            }
        }
    }
    assert!(upstream_seen, "some source lies upstream of a river intake");
}

#[test]
fn one_water_source_and_the_summary() {
    let all = get_ok("/api/analysis/risk?layer=drinking_water_sources");
    let top = &features(&all)[0];
    let id = top["id"].as_str().expect("id");
    let one = get_ok(&format!(
        "/api/analysis/risk?layer=drinking_water_sources&id={id}"
    ));
    assert_eq!(features(&one).len(), 1);
    assert_eq!(
        features(&one)[0]["properties"]["risk_score"],
        top["properties"]["risk_score"]
    );
    let summary = get_ok("/api/analysis/risk/summary?limit=5");
    let ids: Vec<&Value> = features(&summary).iter().map(|f| &f["id"]).collect();
    let want: Vec<&Value> = features(&all)[..5].iter().map(|f| &f["id"]).collect();
    assert_eq!(ids, want);
    assert_eq!(summary["limit"], 5);
    assert_eq!(features(&get_ok("/api/analysis/risk/summary")).len(), 10);
}

#[test]
fn ecology_areas_count_sources_inside_or_near() {
    let fc = get_ok("/api/analysis/risk?layer=ecology_areas");
    let found = features(&fc);
    assert_eq!(found.len(), sample_layer("ecology_areas").len());
    for f in found {
        for s in f["properties"]["sources"].as_array().expect("sources") {
            let level = s["zone_level"].as_str();
            let d = s["distance_m"].as_f64().expect("distance");
            match level {
                Some("inside") => assert_eq!(d, 0.0),
                None => assert!(d > 0.0 && d <= 5000.0),
                other => panic!("unexpected zone level {other:?}"),
            }
            assert_eq!(s["upstream"], false);
        }
    }
}
