//! County statistics.

use geo::Intersects;
use geo_types::Polygon;
use serde_json::Value;

use super::support::*;

#[test]
fn county_stats_sum_to_totals() {
    let sources = sample_layer("pollution_sources");
    let sum = |indicator: &str| -> f64 {
        let json = get_ok(&format!("/api/stats/counties?indicator={indicator}"));
        assert_eq!(json["indicator"], indicator);
        let counties = json["counties"].as_array().expect("counties");
        assert_eq!(counties.len(), 10);
        for c in counties {
            assert!(c["adcode"].as_str().is_some_and(|a| a.starts_with("5115")));
            assert!(c["name_zh"].is_string() && c["name_en"].is_string());
        }
        counties.iter().filter_map(|c| c["value"].as_f64()).sum()
    };
    assert_eq!(sum("sources"), sources.len() as f64);
    let national = sources
        .iter()
        .filter(|s| s["properties"]["control_level"] == "national")
        .count();
    assert_eq!(sum("national_sources"), national as f64);
    assert_eq!(sum("open_exceedances"), 0.0);
    let zones: Vec<Polygon<f64>> = sample_layer("protection_zones")
        .iter()
        .map(polygon_of)
        .collect();
    let in_zones = sources
        .iter()
        .filter(|s| zones.iter().any(|z| z.intersects(&point_of(s))))
        .count();
    assert_eq!(sum("sources_in_protection_zones"), in_zones as f64);

    // credit_avg: check one county by hand, and the range everywhere.
    let json = get_ok("/api/stats/counties?indicator=credit_avg");
    let score = |r: &Value| match r.as_str() {
        Some("green") => 4.0,
        Some("blue") => 3.0,
        Some("yellow") => 2.0,
        Some("red") => 1.0,
        _ => f64::NAN,
    };
    for c in json["counties"].as_array().expect("counties") {
        let adcode = &c["adcode"];
        let scores: Vec<f64> = sources
            .iter()
            .filter(|s| s["properties"]["county"] == *adcode)
            .map(|s| score(&s["properties"]["credit_rating"]))
            .collect();
        let want = scores.iter().sum::<f64>() / scores.len() as f64;
        let got = c["value"].as_f64().expect("value");
        assert!(
            (got - want).abs() < 0.001 && (1.0..=4.0).contains(&got),
            "{adcode}: {got} vs {want}"
        );
    }

    get_problem(
        "/api/stats/counties?indicator=rivers",
        400,
        Some("indicator"),
        "sources, national_sources, open_exceedances, sources_in_protection_zones, credit_avg",
    );
    get_problem("/api/stats/counties", 400, Some("indicator"), "required");
}
