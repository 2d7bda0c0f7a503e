//! Helpers: sample features, problem checks and brute-force geodesic
//! references; the HTTP calls shared with other suites come from
//! `envatlas_tests::http`.

use std::collections::BTreeMap;

pub(crate) use envatlas_tests::http::{features, get_ok, post, post_bytes, post_ok, sample_layer};
use envatlas_tests::{get, shared_server};
use geo::{Distance, Geodesic, Haversine, InterpolatePoint};
use geo_types::{Coord, LineString, Point, Polygon};
use serde_json::Value;

/// Central Yibin (翠屏区).
pub(crate) const CENTRE: (f64, f64) = (104.62, 28.77);

pub(crate) fn coord(c: &Value) -> Coord<f64> {
    Coord {
        x: c[0].as_f64().expect("lon"),
        y: c[1].as_f64().expect("lat"),
    }
}

pub(crate) fn point_of(f: &Value) -> Point<f64> {
    Point(coord(&f["geometry"]["coordinates"]))
}

pub(crate) fn polygon_of(f: &Value) -> Polygon<f64> {
    let rings: Vec<LineString<f64>> = f["geometry"]["coordinates"]
        .as_array()
        .expect("rings")
        .iter()
        .map(|r| LineString(r.as_array().expect("ring").iter().map(coord).collect()))
        .collect();
    let mut it = rings.into_iter();
    Polygon::new(it.next().expect("exterior"), it.collect())
}

/// A problem+json answer with this status, naming `parameter` (when given)
/// and mentioning `mention` in its detail.
pub(crate) fn assert_problem(
    answer: (u16, String, String),
    status: u16,
    parameter: Option<&str>,
    mention: &str,
) {
    let (got, ct, body) = answer;
    assert_eq!(got, status, "{body}");
    assert_eq!(ct, "application/problem+json", "{body}");
    let json: Value = serde_json::from_str(&body).expect("problem json");
    assert_eq!(json["status"], status);
    if let Some(p) = parameter {
        assert_eq!(json["parameter"], p, "{body}");
    }
    assert!(
        json["detail"].as_str().unwrap_or("").contains(mention),
        "'{mention}' not in {body}"
    );
}

pub(crate) fn get_problem(path: &str, status: u16, parameter: Option<&str>, mention: &str) {
    let answer = get(&shared_server().url(path)).expect("get");
    assert_problem(answer, status, parameter, mention);
}

pub(crate) fn ids(fc: &Value) -> Vec<String> {
    features(fc)
        .iter()
        .map(|f| f["id"].as_str().expect("id").to_string())
        .collect()
}

pub(crate) fn distance(f: &Value) -> f64 {
    f["properties"]["distance_m"].as_f64().expect("distance_m")
}

/// Brute-force k nearest ids of a point layer: geodesic distance to every feature.
pub(crate) fn brute_nearest(
    layer: &[Value],
    origin: Point<f64>,
    k: usize,
    max_m: f64,
) -> Vec<(String, f64)> {
    let mut all: Vec<(String, f64)> = layer
        .iter()
        .map(|f| {
            (
                f["id"].as_str().expect("id").to_string(),
                Geodesic.distance(origin, point_of(f)),
            )
        })
        .filter(|(_, d)| *d <= max_m)
        .collect();
    all.sort_by(|a, b| a.1.total_cmp(&b.1));
    all.truncate(k);
    all
}

/// Distance from a point to a line with great-circle edges, by sampling each
/// edge every ~5 m and measuring geodesically (an upper bound, ≤ 2.5 m above).
pub(crate) fn sampled_line_distance(p: Point<f64>, line: &[Point<f64>]) -> f64 {
    let mut best = f64::INFINITY;
    for w in line.windows(2) {
        let n = (Haversine.distance(w[0], w[1]) / 5.0).ceil().max(1.0) as usize;
        for i in 0..=n {
            let q = Haversine.point_at_ratio_between(w[0], w[1], i as f64 / n as f64);
            best = best.min(Geodesic.distance(p, q));
        }
    }
    best
}

/// Asserts a buffer answer agrees with brute-force distances: every feature
/// clearly inside is returned, none clearly outside, and returned distances are
/// within 0.5% or 5 m of the brute-force ones.
pub(crate) fn assert_buffer_matches(fc: &Value, brute: &BTreeMap<String, f64>, d: f64) {
    let got: BTreeMap<String, f64> = features(fc)
        .iter()
        .map(|f| (f["id"].as_str().expect("id").to_string(), distance(f)))
        .collect();
    for (id, &b) in brute {
        let tol = (b * 0.005).max(5.0);
        if b < d - tol {
            let g = got
                .get(id)
                .unwrap_or_else(|| panic!("{id} at {b} m missing"));
            assert!((g - b).abs() <= tol, "{id}: {g} vs brute {b}");
        } else if b > d + tol {
            assert!(!got.contains_key(id), "{id} at {b} m returned");
        }
    }
    assert!(
        got.keys().all(|id| brute.contains_key(id)),
        "unexpected ids"
    );
    let ds: Vec<f64> = features(fc).iter().map(distance).collect();
    assert!(
        ds.windows(2).all(|w| w[0] <= w[1]),
        "not sorted by distance"
    );
}
