//! Every limit and malformed input of these routes is a 400 naming it.

use serde_json::{json, Value};

use super::support::*;

#[test]
fn trace_limits_are_named() {
    let down = |body: Value| post("/api/analysis/downstream", &body);
    let at = |extra: Value| {
        let mut b = json!({"lon": 104.456763, "lat": 28.796053, "max_distance_m": 10_000});
        for (k, v) in extra.as_object().expect("object") {
            b[k] = v.clone();
        }
        b
    };
    assert_problem(
        down(at(json!({"max_distance_m": 1_000_001}))),
        "max_distance_m",
        "limits.max_trace_m",
    );
    assert_problem(
        down(at(json!({"max_distance_m": 0}))),
        "max_distance_m",
        "positive",
    );
    assert_problem(
        down(json!({"lon": 104.45, "lat": 28.79})),
        "max_distance_m",
        "required",
    );
    assert_problem(
        down(at(json!({"corridor_m": 100_001}))),
        "corridor_m",
        "limits.max_distance_m",
    );
    assert_problem(
        down(at(json!({"velocity_mps": 0}))),
        "velocity_mps",
        "velocity_mps",
    );
    assert_problem(down(at(json!({"lon": 181}))), "lon", "-180..180");
    assert_problem(
        down(at(json!({"lon": 80.0, "lat": 40.0}))),
        "lon",
        "rivers.max_snap_distance_m",
    );
    assert_problem(down(at(json!({"speed": 1}))), "body", "unknown field");
    let up = |body: Value| post("/api/analysis/upstream", &body);
    assert_problem(
        up(json!({"lon": 105.1, "lat": 28.7, "station_id": "ms-0125", "max_distance_m": 1000})),
        "lon",
        "station_id",
    );
    assert_problem(
        up(json!({"station_id": "nope", "max_distance_m": 1000})),
        "station_id",
        "nope",
    );
    assert_problem(
        up(json!({"station_id": "ms-0125", "max_distance_m": 2_000_000})),
        "max_distance_m",
        "limits.max_trace_m",
    );
}

#[test]
fn risk_limits_are_named() {
    get_problem("/api/analysis/risk", "layer", "required");
    get_problem(
        "/api/analysis/risk?layer=rivers",
        "layer",
        "drinking_water_sources",
    );
    get_problem(
        "/api/analysis/risk?layer=drinking_water_sources&id=nope",
        "id",
        "nope",
    );
    get_problem(
        "/api/analysis/risk?layer=ecology_areas&radius=1",
        "radius",
        "unknown parameter",
    );
    get_problem(
        "/api/analysis/risk/summary?limit=0",
        "limit",
        "limits.max_results",
    );
    get_problem(
        "/api/analysis/risk/summary?limit=10001",
        "limit",
        "limits.max_results",
    );
    get_problem("/api/analysis/risk/summary?limit=x", "limit", "integer");
}

#[test]
fn plume_limits_are_named() {
    let base = json!({
        "lon": 104.62, "lat": 28.77, "release_g_s": 100, "height_m": 10,
        "wind_from_deg": 270, "wind_speed_mps": 2, "stability": "D",
        "level_of_concern_mg_m3": 5, "max_distance_m": 10000
    });
    let with = |k: &str, v: Value| {
        let mut b = base.clone();
        b[k] = v;
        post("/api/analysis/plume", &b)
    };
    assert_problem(
        with("max_distance_m", json!(100_001)),
        "max_distance_m",
        "limits.max_distance_m",
    );
    assert_problem(with("stability", json!("G")), "stability", "A..F");
    assert_problem(with("wind_speed_mps", json!(0.1)), "wind_speed_mps", "0.5");
    assert_problem(with("wind_from_deg", json!(400)), "wind_from_deg", "0..360");
    assert_problem(with("release_g_s", json!(-1)), "release_g_s", "positive");
    assert_problem(
        with("level_of_concern_mg_m3", json!(0)),
        "level_of_concern_mg_m3",
        "positive",
    );
    assert_problem(with("height_m", json!(5000)), "height_m", "0..1000");
    assert_problem(with("lat", json!(91)), "lat", "-90..90");
}
