//! Helpers: HTTP calls on the shared server, problem checks, sample features.

use envatlas_tests::{get, get_json, sample_dir, shared_server};
use serde_json::Value;

pub(crate) fn sample_layer(id: &str) -> Vec<Value> {
    let text = std::fs::read_to_string(sample_dir().join("layers").join(format!("{id}.geojson")))
        .expect("sample layer");
    let json: Value = serde_json::from_str(&text).expect("geojson");
    json["features"].as_array().expect("features").clone()
}

/// The coordinates of a sample river line, by feature id.
pub(crate) fn river_coords(id: &str) -> Vec<(f64, f64)> {
    let f = sample_layer("rivers")
        .into_iter()
        .find(|f| f["id"] == id)
        .expect("river");
    f["geometry"]["coordinates"]
        .as_array()
        .expect("coords")
        .iter()
        .map(|c| (c[0].as_f64().expect("lon"), c[1].as_f64().expect("lat")))
        .collect()
}

pub(crate) fn post(path: &str, body: &Value) -> (u16, String, String) {
    let response = reqwest::blocking::Client::new()
        .post(shared_server().url(path))
        .header("content-type", "application/json")
        .body(body.to_string())
        .send()
        .expect("request");
    let status = response.status().as_u16();
    let ct = response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    (status, ct, response.text().expect("body"))
}

pub(crate) fn post_ok(path: &str, body: &Value) -> Value {
    let (status, ct, text) = post(path, body);
    assert_eq!(status, 200, "{text}");
    assert_eq!(ct, "application/geo+json");
    serde_json::from_str(&text).expect("json")
}

pub(crate) fn get_ok(path: &str) -> Value {
    let (status, json) = get_json(&shared_server().url(path)).expect("get");
    assert_eq!(status, 200, "{path}: {json}");
    json
}

/// A problem+json answer with this status, naming `parameter`, and
/// mentioning `mention` in its detail.
pub(crate) fn assert_problem(answer: (u16, String, String), parameter: &str, mention: &str) {
    let (got, ct, body) = answer;
    assert_eq!(got, 400, "{body}");
    assert_eq!(ct, "application/problem+json", "{body}");
    let json: Value = serde_json::from_str(&body).expect("problem json");
    assert_eq!(json["parameter"], parameter, "{body}");
    assert!(
        json["detail"].as_str().unwrap_or("").contains(mention),
        "'{mention}' not in {body}"
    );
}

pub(crate) fn get_problem(path: &str, parameter: &str, mention: &str) {
    let answer = get(&shared_server().url(path)).expect("get");
    assert_problem(answer, parameter, mention);
}

pub(crate) fn features(fc: &Value) -> &Vec<Value> {
    fc["features"].as_array().expect("features")
}

pub(crate) fn prop_f64(f: &Value, name: &str) -> f64 {
    f["properties"][name]
        .as_f64()
        .unwrap_or_else(|| panic!("{name} in {f}"))
}
