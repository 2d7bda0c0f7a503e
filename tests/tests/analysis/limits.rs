//! Every limit and malformed input answers a problem naming it.

use envatlas_tests::{get, shared_server};
use serde_json::{json, Value};

use super::support::*;

#[test]
fn every_limit_is_a_400_naming_it() {
    let (lon, lat) = CENTRE;
    let point = json!({"type": "Point", "coordinates": [lon, lat]});
    let buffer = |body: Value| post("/api/analysis/buffer", &body);
    assert_problem(
        buffer(json!({"geometry": point, "distance_m": 100_001})),
        400,
        Some("distance_m"),
        "max_distance_m",
    );
    assert_problem(
        buffer(json!({"geometry": point, "distance_m": -1})),
        400,
        Some("distance_m"),
        "non-negative",
    );
    get_problem(
        &format!("/api/analysis/nearest?lon={lon}&lat={lat}&max_distance_m=100001"),
        400,
        Some("max_distance_m"),
        "max_distance_m",
    );
    get_problem(
        &format!("/api/analysis/nearest?lon={lon}&lat={lat}&k=10001"),
        400,
        Some("k"),
        "max_results",
    );
    get_problem(
        &format!("/api/analysis/nearest?lon={lon}&lat={lat}&k=0"),
        400,
        Some("k"),
        "max_results",
    );
    get_problem(
        &format!("/api/analysis/nearest?lon=181&lat={lat}"),
        400,
        Some("lon"),
        "-180..180",
    );
    get_problem(
        &format!("/api/analysis/nearest?lon={lon}&lat=abc"),
        400,
        Some("lat"),
        "-90..90",
    );
    get_problem(
        &format!("/api/analysis/nearest?lat={lat}"),
        400,
        Some("lon"),
        "required",
    );
    get_problem(
        &format!("/api/analysis/nearest?lon={lon}&lat={lat}&layers=nope"),
        400,
        Some("layers"),
        "unknown layer 'nope'",
    );
    get_problem(
        &format!("/api/analysis/nearest?lon={lon}&lat={lat}&radius=5"),
        400,
        Some("radius"),
        "unknown parameter",
    );
    assert_problem(
        buffer(json!({"geometry": point, "distance_m": 100, "layers": ["nope"]})),
        400,
        Some("layers"),
        "nope",
    );

    let many: Vec<Value> = (0..10_001)
        .map(|i| json!([104.0 + f64::from(i) * 1e-5, 28.8]))
        .collect();
    assert_problem(
        buffer(json!({"geometry": {"type": "LineString", "coordinates": many}, "distance_m": 100})),
        400,
        Some("geometry"),
        "max_vertices",
    );
    assert_problem(
        buffer(json!({"geometry": {"type": "Point", "coordinates": [200, 0]}, "distance_m": 100})),
        400,
        Some("geometry"),
        "outside",
    );
    assert_problem(
        buffer(json!({"distance_m": 100})),
        400,
        Some("geometry"),
        "exactly one",
    );
    assert_problem(
        buffer(json!({"feature": {"layer": "rivers", "id": "nope"}, "distance_m": 100})),
        400,
        Some("feature"),
        "nope",
    );

    assert_problem(
        post_bytes("/api/analysis/buffer", b"{\"distance_m\": 100,".to_vec()),
        400,
        Some("body"),
        "malformed JSON",
    );
    assert_problem(
        buffer(json!({"geometry": point, "distance_m": 100, "radius": 3})),
        400,
        Some("body"),
        "unknown field `radius`",
    );
    assert_problem(
        buffer(json!({"geometry": point})),
        400,
        Some("body"),
        "missing field `distance_m`",
    );
    assert_problem(
        buffer(json!({"geometry": point, "distance_m": "far"})),
        400,
        Some("body"),
        "invalid type",
    );

    // Over 2 MiB: refused with a problem naming the limit, whether the size is
    // announced (Content-Length) or streamed (chunked).
    let big = format!(
        "{{\"distance_m\": 1, \"layers\": [\"{}\"]}}",
        "x".repeat(2 * 1024 * 1024 + 10)
    );
    assert_problem(
        post_bytes("/api/analysis/buffer", big.clone().into_bytes()),
        413,
        None,
        "max_body_bytes",
    );
    let chunked = reqwest::blocking::Client::new()
        .post(shared_server().url("/api/analysis/buffer"))
        .header("content-type", "application/json")
        .body(reqwest::blocking::Body::new(std::io::Cursor::new(
            big.into_bytes(),
        )))
        .send()
        .expect("chunked");
    assert_eq!(chunked.status().as_u16(), 413);

    let (status, _, _) = get(&shared_server().url("/api/analysis/buffer")).expect("get buffer");
    assert_eq!(status, 405);
}
