//! HTTP helpers for tests that query the shared sample server
//! ([`shared_server`](crate::shared_server)): JSON posts and gets that expect
//! success, and the sample's layer files as GeoJSON features.

use serde_json::Value;

use crate::{get_json, sample_dir, shared_server};

/// The features of a sample layer file (`data/layers/{id}.geojson`).
pub fn sample_layer(id: &str) -> Vec<Value> {
    let text = std::fs::read_to_string(sample_dir().join("layers").join(format!("{id}.geojson")))
        .expect("sample layer");
    let json: Value = serde_json::from_str(&text).expect("geojson");
    json["features"].as_array().expect("features").clone()
}

/// POSTs a JSON body to a path of the shared server: (status, content type, body).
pub fn post(path: &str, body: &Value) -> (u16, String, String) {
    post_bytes(path, body.to_string().into_bytes())
}

/// POSTs raw bytes as `application/json` to a path of the shared server.
pub fn post_bytes(path: &str, body: Vec<u8>) -> (u16, String, String) {
    let response = reqwest::blocking::Client::new()
        .post(shared_server().url(path))
        .header("content-type", "application/json")
        .body(body)
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

/// POSTs and expects a 200 GeoJSON answer, parsed.
pub fn post_ok(path: &str, body: &Value) -> Value {
    let (status, ct, text) = post(path, body);
    assert_eq!(status, 200, "{text}");
    assert_eq!(ct, "application/geo+json");
    serde_json::from_str(&text).expect("json")
}

/// GETs and expects a 200 JSON answer, parsed.
pub fn get_ok(path: &str) -> Value {
    let (status, json) = get_json(&shared_server().url(path)).expect("get");
    assert_eq!(status, 200, "{path}: {json}");
    json
}

/// The `features` array of a FeatureCollection.
pub fn features(fc: &Value) -> &Vec<Value> {
    fc["features"].as_array().expect("features")
}

/// A CSV answer (`f=csv`) split into its header and rows, after checking the
/// media type and the UTF-8 byte order mark Excel needs for Chinese text.
/// Quoted fields are kept whole (commas inside quotes do not split).
pub fn csv_table(status: u16, content_type: &str, body: &str) -> (Vec<String>, Vec<Vec<String>>) {
    assert_eq!(status, 200, "{body}");
    assert_eq!(content_type, "text/csv; charset=utf-8");
    let text = body
        .strip_prefix('\u{feff}')
        .unwrap_or_else(|| panic!("no byte order mark: {body:.80}"));
    let mut lines = text.lines().map(split_csv_line);
    let header = lines.next().expect("header");
    (header, lines.collect())
}

/// One CSV line's fields (RFC 4180 quoting; no newlines inside fields).
fn split_csv_line(line: &str) -> Vec<String> {
    let mut fields = Vec::new();
    let mut field = String::new();
    let mut quoted = false;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match (c, quoted) {
            ('"', true) if chars.peek() == Some(&'"') => {
                field.push('"');
                chars.next();
            }
            ('"', _) => quoted = !quoted,
            (',', false) => fields.push(std::mem::take(&mut field)),
            _ => field.push(c),
        }
    }
    fields.push(field);
    fields
}
