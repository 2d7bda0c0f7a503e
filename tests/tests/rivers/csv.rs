//! `f=csv` on the river, risk and plume routes: the same features as the
//! GeoJSON answer, in the same order, UTF-8 with a byte order mark (Excel in
//! China), the route's own columns after `distance_m`, Chinese names intact.

use envatlas_tests::{get, shared_server};
use serde_json::{json, Value};

use super::support::*;

/// The CSV of a POST route with `?f=csv`, beside its GeoJSON answer.
fn post_both(path: &str, body: &Value) -> (Vec<String>, Vec<Vec<String>>, Value) {
    let (status, ct, text) = post(&format!("{path}?f=csv"), body);
    let (header, rows) = csv_table(status, &ct, &text);
    (header, rows, post_ok(path, body))
}

/// The CSV of a GET route (`&f=csv` appended), beside its GeoJSON answer.
fn get_both(path: &str) -> (Vec<String>, Vec<Vec<String>>, Value) {
    let (status, ct, text) = get(&shared_server().url(&format!("{path}&f=csv"))).expect("csv");
    let (header, rows) = csv_table(status, &ct, &text);
    (header, rows, get_ok(path))
}

fn column(header: &[String], name: &str) -> usize {
    header
        .iter()
        .position(|h| h == name)
        .unwrap_or_else(|| panic!("no column {name} in {header:?}"))
}

/// Rows and features agree: same ids in the same order, and the named
/// columns hold the features' properties.
fn assert_same(header: &[String], rows: &[Vec<String>], fc: &Value, columns: &[&str]) {
    let features = features(fc);
    assert_eq!(rows.len(), features.len(), "one row per feature");
    assert_eq!(&header[..4], ["layer", "id", "name_zh", "distance_m"]);
    assert_eq!(&header[header.len() - 2..], ["lon", "lat"]);
    for (row, f) in rows.iter().zip(features) {
        assert_eq!(row.len(), header.len(), "{row:?}");
        assert_eq!(row[column(header, "id")], f["id"].as_str().expect("id"));
        assert_eq!(
            row[column(header, "layer")],
            f["properties"]["layer"].as_str().expect("layer")
        );
        assert_eq!(
            row[column(header, "name_zh")],
            f["properties"]["name_zh"].as_str().unwrap_or("")
        );
        for name in columns {
            let cell = &row[column(header, name)];
            let want = &f["properties"][*name];
            match want {
                Value::Number(n) => {
                    let got: f64 = cell.parse().unwrap_or_else(|_| panic!("{name}: {cell}"));
                    assert!(
                        (got - n.as_f64().expect("number")).abs() < 1e-6,
                        "{name}: {cell} vs {n}"
                    );
                }
                Value::Bool(b) => assert_eq!(cell, &b.to_string(), "{name}"),
                other => panic!("{name}: unexpected {other}"),
            }
        }
    }
}

#[test]
fn downstream_csv_has_arrival_times() {
    let body = json!({"lon": 104.456763, "lat": 28.796053, "max_distance_m": 100_000});
    let (header, rows, fc) = post_both("/api/analysis/downstream", &body);
    assert!(!rows.is_empty());
    assert_eq!(
        &header[4..7],
        ["along_river_m", "arrival_earliest_s", "arrival_expected_s"]
    );
    assert_same(
        &header,
        &rows,
        &fc,
        &[
            "distance_m",
            "along_river_m",
            "arrival_earliest_s",
            "arrival_expected_s",
        ],
    );
    assert!(
        rows.iter()
            .any(|r| r[2].chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c))),
        "Chinese names survive"
    );
}

#[test]
fn upstream_csv_flags_dischargers() {
    let body = json!({"station_id": "ms-0125", "max_distance_m": 150_000, "corridor_m": 2000});
    let (header, rows, fc) = post_both("/api/analysis/upstream", &body);
    assert!(!rows.is_empty());
    assert_same(
        &header,
        &rows,
        &fc,
        &[
            "distance_m",
            "along_river_m",
            "rank",
            "water_discharger",
            "recent_exceedances",
            "flagged",
        ],
    );
}

#[test]
fn plume_csv_has_concentrations() {
    let body = json!({
        "lon": 104.62, "lat": 28.77, "release_g_s": 2000, "height_m": 10,
        "wind_from_deg": 270, "wind_speed_mps": 2, "stability": "D",
        "level_of_concern_mg_m3": 5, "max_distance_m": 30000
    });
    let (header, rows, fc) = post_both("/api/analysis/plume", &body);
    assert!(!rows.is_empty());
    assert_same(&header, &rows, &fc, &["distance_m", "concentration_mg_m3"]);
}

#[test]
fn risk_csv_flattens_factors_and_lists_sources() {
    for path in [
        "/api/analysis/risk?layer=drinking_water_sources",
        "/api/analysis/risk/summary?limit=5",
    ] {
        let (header, rows, fc) = get_both(path);
        assert!(!rows.is_empty(), "{path}");
        assert_same(&header, &rows, &fc, &["risk_score"]);
        for (row, f) in rows.iter().zip(features(&fc)) {
            let p = &f["properties"];
            for name in ["zone_level", "distance", "upstream", "hazard_class"] {
                let cell: f64 = row[column(&header, &format!("risk_factors.{name}"))]
                    .parse()
                    .expect("factor");
                assert!(
                    (cell - p["risk_factors"][name].as_f64().expect("factor")).abs() < 1e-6,
                    "{name}"
                );
            }
            let ids: Vec<&str> = p["sources"]
                .as_array()
                .expect("sources")
                .iter()
                .map(|s| s["id"].as_str().expect("id"))
                .collect();
            assert_eq!(row[column(&header, "sources")], ids.join(";"), "{path}");
            assert_eq!(row[column(&header, "source_count")], ids.len().to_string());
        }
    }
}

#[test]
fn post_routes_take_only_the_format_parameter() {
    let body = json!({"lon": 104.456763, "lat": 28.796053, "max_distance_m": 1000});
    assert_problem(
        post("/api/analysis/downstream?g=csv", &body),
        "g",
        "unknown parameter",
    );
    assert_problem(post("/api/analysis/downstream?f=xlsx", &body), "f", "csv");
}
