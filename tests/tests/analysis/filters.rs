//! Filters (GET and POST forms) and CSV output.

use envatlas_tests::{get, shared_server};
use serde_json::json;

use super::support::*;

#[test]
fn filters_narrow_the_layers_that_have_the_property() {
    let (lon, lat) = CENTRE;
    let fc = get_ok(&format!("/api/analysis/nearest?lon={lon}&lat={lat}&layers=pollution_sources&k=20&filter=control_level:national"));
    assert_eq!(features(&fc).len(), 20);
    assert!(features(&fc)
        .iter()
        .all(|f| f["properties"]["control_level"] == "national"));

    // `county` applies to both layers; zones have no county and stay unfiltered.
    let fc = get_ok(&format!("/api/analysis/nearest?lon={lon}&lat={lat}&layers=pollution_sources,rural_sites,protection_zones&k=5&filter=county:511504"));
    let by_layer = |l: &str| {
        features(&fc)
            .iter()
            .filter(|f| f["properties"]["layer"] == l)
            .cloned()
            .collect::<Vec<_>>()
    };
    for layer in ["pollution_sources", "rural_sites"] {
        let fs = by_layer(layer);
        assert_eq!(fs.len(), 5);
        assert!(
            fs.iter().all(|f| f["properties"]["county"] == "511504"),
            "{layer}"
        );
    }
    assert_eq!(by_layer("protection_zones").len(), 5);

    // POST: a list of values is any of them; different properties all hold.
    let fc = post_ok(
        "/api/analysis/buffer",
        &json!({
        "geometry": {"type": "Point", "coordinates": [lon, lat]}, "distance_m": 30000,
        "layers": ["pollution_sources"], "filter": {"credit_rating": ["red", "yellow"], "discharge": "water"}}),
    );
    assert!(!features(&fc).is_empty());
    for f in features(&fc) {
        let p = &f["properties"];
        assert!(p["credit_rating"] == "red" || p["credit_rating"] == "yellow");
        assert_eq!(p["discharge"], "water");
    }

    get_problem(
        &format!("/api/analysis/nearest?lon={lon}&lat={lat}&filter=colour:red"),
        400,
        Some("filter"),
        "colour",
    );
    get_problem(&format!("/api/analysis/nearest?lon={lon}&lat={lat}&layers=rural_sites&filter=control_level:national"), 400, Some("filter"), "control_level");
    get_problem(&format!("/api/analysis/nearest?lon={lon}&lat={lat}&layers=pollution_sources&filter=violations:many"), 400, Some("filter"), "integer");
    assert_problem(
        post(
            "/api/analysis/buffer",
            &json!({"geometry": {"type": "Point", "coordinates": [lon, lat]}, "distance_m": 100, "filter": {"colour": "red"}}),
        ),
        400,
        Some("filter"),
        "colour",
    );
}

#[test]
fn csv_output_is_excel_friendly() {
    let (lon, lat) = CENTRE;
    let (status, ct, body) = get(&shared_server().url(&format!("/api/analysis/nearest?lon={lon}&lat={lat}&layers=pollution_sources,drinking_water_sources&k=4&f=csv"))).expect("csv");
    assert_eq!(status, 200);
    assert!(ct.starts_with("text/csv"), "{ct}");
    assert!(body.starts_with('\u{feff}'), "BOM");
    let lines: Vec<&str> = body.trim_start_matches('\u{feff}').lines().collect();
    assert!(
        lines[0].starts_with("layer,id,name_zh,distance_m,bearing_deg,rank,fid,"),
        "{}",
        lines[0]
    );
    assert!(lines[0].ends_with(",lon,lat"));
    assert_eq!(lines.len(), 1 + 8);
    assert!(lines[1].contains("示例"), "Chinese names: {}", lines[1]);

    let req = json!({"geometry": {"type": "Point", "coordinates": [lon, lat]}, "distance_m": 3000});
    let (status, ct, body) = post("/api/analysis/buffer?f=csv", &req);
    assert_eq!(status, 200);
    assert!(ct.starts_with("text/csv"));
    let n = features(&post_ok("/api/analysis/buffer", &req)).len();
    let lines: Vec<&str> = body.trim_start_matches('\u{feff}').lines().collect();
    assert!(lines[0].starts_with("layer,id,name_zh,distance_m,fid,"));
    assert_eq!(lines.len(), n + 1);
}
