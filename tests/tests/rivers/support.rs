//! Helpers: problem checks and sample river lines; the HTTP calls shared with
//! other suites come from `envatlas_tests::http`.

pub(crate) use envatlas_tests::http::{csv_table, features, get_ok, post, post_ok, sample_layer};
use envatlas_tests::{get, shared_server};
use serde_json::Value;

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

pub(crate) fn prop_f64(f: &Value, name: &str) -> f64 {
    f["properties"][name]
        .as_f64()
        .unwrap_or_else(|| panic!("{name} in {f}"))
}
