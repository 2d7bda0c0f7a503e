//! Analysis answers against PostGIS `geography` as ground truth.
//!
//! A server on the PostGIS store seeds its own test database from the sample;
//! the test then asks the same questions over our HTTP API and, directly with
//! SQL, of PostGIS on that database's `features` table (the very rows the
//! server's atlas was loaded from):
//! - nearest: every feature of the layer within `max_distance_m`
//!   (`ST_DWithin(geography)`), ranked by `ST_Distance(geography)` then `fid`,
//!   first `k` per layer — an exhaustive ranking, stricter than KNN `<->`
//!   re-ranked by geography distance, which it equals;
//! - buffer around generated points, lines and polygons and around existing
//!   features: the features with `ST_DWithin(geography, distance_m)`, and
//!   their `ST_Distance(geography)`.
//!
//! Assertions, per query and layer:
//! - distances: a point to a point within 0.1% or 0.5 m; anything involving a
//!   line or polygon within 0.5% or 5 m (the contract's tolerance for
//!   great-circle edges), plus 1 cm for the API's rounding; 0 inside a polygon
//!   (PostGIS 0 ⇒ ours 0 within that tolerance);
//! - feature sets equal, except **boundary ties**: a feature only one side
//!   returns is accepted when its PostGIS distance lies within the distance
//!   tolerance above of the limit — `distance_m` (buffer), `max_distance_m`
//!   (nearest) or the PostGIS k-th distance (nearest: a tie for the last
//!   place). Anything else is a mismatch; all mismatches are listed and fail
//!   the test.
//!
//! Defaults: the committed sample (scale 1) and 200 queries with seed 5.
//! `scripts/bench analysis` runs 1000 queries on a scale-10 sample through
//! `ENVATLAS_GROUND_TRUTH_DATA` (a data directory), `ENVATLAS_GROUND_TRUTH_QUERIES`
//! and `ENVATLAS_GROUND_TRUTH_SEED`. `ENVATLAS_TEST_DATABASE_URL` names the
//! PostGIS server (exported by `scripts/test`); without it the test fails.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Instant;

use envatlas_server::model::geojson::geometry_to_json;
use envatlas_server::model::GeometryKind;
use envatlas_tests::TestServer;
use geo::{CoordsIter, Destination, Geodesic};
use geo_types::{Coord, Geometry, LineString, Point, Polygon};
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde_json::{json, Value};
use sqlx::postgres::PgPoolOptions;
use sqlx::{PgPool, Row};

mod shapes;
mod truth;

use shapes::{near_data, random_line, random_polygon};
use truth::Truth;

/// PostGIS distances a little beyond the limit are fetched too, to judge ties.
const MARGIN: f64 = 1.01;
const MARGIN_M: f64 = 10.0;

/// Allowed difference between our distance and PostGIS's, metres.
fn tolerance(points_only: bool, d: f64) -> f64 {
    let base = if points_only {
        (d * 0.001).max(0.5)
    } else {
        (d * 0.005).max(5.0)
    };
    base + 0.01
}

fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// One searched layer: its id and whether it holds points.
#[derive(Debug, Clone)]
struct LayerInfo {
    id: String,
    points: bool,
    /// Anchor points of its features (first vertex), to place queries near data.
    anchors: Vec<Point<f64>>,
    /// Feature ids, for buffers around existing features.
    ids: Vec<String>,
}

/// What was compared, and what did not agree.
#[derive(Debug, Default)]
struct Tally {
    queries: usize,
    compared: usize,
    ties: usize,
    worst_point_err_m: f64,
    worst_shape_rel: f64,
    mismatches: Vec<String>,
}

impl Tally {
    fn distance(&mut self, what: &str, points_only: bool, ours: f64, pg: f64) {
        self.compared += 1;
        let err = (ours - pg).abs();
        if points_only {
            self.worst_point_err_m = self.worst_point_err_m.max(err);
        } else if pg > 100.0 {
            self.worst_shape_rel = self.worst_shape_rel.max(err / pg);
        }
        if err > tolerance(points_only, pg) {
            self.mismatches
                .push(format!("{what}: distance {ours} m, PostGIS {pg} m"));
        }
        if pg == 0.0 && ours > tolerance(points_only, 0.0) {
            self.mismatches
                .push(format!("{what}: inside for PostGIS, {ours} m for us"));
        }
    }
}

fn http_json(req: reqwest::blocking::RequestBuilder) -> Value {
    let response = req.send().expect("request");
    let status = response.status().as_u16();
    let text = response.text().expect("body");
    assert_eq!(status, 200, "{text}");
    serde_json::from_str(&text).expect("json")
}

/// (layer, id) → distance_m of an analysis answer.
fn answer_distances(fc: &Value) -> Vec<(String, String, f64)> {
    fc["features"]
        .as_array()
        .expect("features")
        .iter()
        .map(|f| {
            let p = &f["properties"];
            (
                p["layer"].as_str().expect("layer").to_string(),
                f["id"].as_str().expect("id").to_string(),
                p["distance_m"].as_f64().expect("distance_m"),
            )
        })
        .collect()
}

/// Compares a buffer answer with PostGIS for every searched layer.
#[allow(clippy::too_many_arguments)]
fn check_buffer(
    tally: &mut Tally,
    what: &str,
    query_is_point: bool,
    layers: &[LayerInfo],
    ours: &[(String, String, f64)],
    pg: &BTreeMap<(String, String), (f64, bool)>,
    limit: f64,
    exclude: Option<&(String, String)>,
) {
    let points_layer = |id: &str| layers.iter().any(|l| l.id == id && l.points);
    let mut seen = BTreeSet::new();
    for (layer, id, d) in ours {
        let key = (layer.clone(), id.clone());
        let points_only = query_is_point && points_layer(layer);
        let label = format!("{what} {layer}/{id}");
        match pg.get(&key) {
            Some(&(pg_d, inside)) => {
                tally.distance(&label, points_only, *d, pg_d);
                if !inside {
                    if pg_d - limit <= tolerance(points_only, pg_d) {
                        tally.ties += 1;
                    } else {
                        tally
                            .mismatches
                            .push(format!("{label}: returned, PostGIS {pg_d} m > {limit} m"));
                    }
                }
            }
            None => tally.mismatches.push(format!(
                "{label}: returned at {d} m, PostGIS has it beyond {limit} m"
            )),
        }
        seen.insert(key);
    }
    for (key, &(pg_d, inside)) in pg {
        if !inside || seen.contains(key) || exclude == Some(key) {
            continue;
        }
        let points_only = query_is_point && points_layer(&key.0);
        if limit - pg_d <= tolerance(points_only, pg_d) {
            tally.ties += 1;
        } else {
            tally.mismatches.push(format!(
                "{what} {}/{}: missing, PostGIS {pg_d} m ≤ {limit} m",
                key.0, key.1
            ));
        }
    }
}

#[allow(clippy::too_many_arguments)]
fn check_nearest(
    tally: &mut Tally,
    truth: &Truth,
    what: &str,
    layer: &LayerInfo,
    origin: Point<f64>,
    k: usize,
    max_m: f64,
    ours: &[(String, f64)],
    pg: &[(String, f64)],
) {
    let points_only = layer.points;
    let want: Vec<&(String, f64)> = pg.iter().take(k).collect();
    // A feature beyond the k-th place may tie with it; beyond max_m is its own boundary.
    let kth = (want.len() == k).then(|| want[k - 1].1);
    let tie = |d: f64| {
        (max_m - d).abs() <= tolerance(points_only, d)
            || kth.is_some_and(|kd| (d - kd).abs() <= tolerance(points_only, d))
    };
    assert!(
        ours.windows(2).all(|w| w[0].1 <= w[1].1),
        "{what}: not sorted by distance"
    );
    let mut pg_d: BTreeMap<String, f64> = pg.iter().cloned().collect();
    let unknown: Vec<String> = ours
        .iter()
        .filter(|(id, _)| !pg_d.contains_key(id))
        .map(|(id, _)| id.clone())
        .collect();
    if !unknown.is_empty() {
        pg_d.extend(truth.distances(&layer.id, &unknown, origin));
    }
    let ours_ids: BTreeSet<&String> = ours.iter().map(|(id, _)| id).collect();
    let want_ids: BTreeSet<&String> = want.iter().map(|(id, _)| id).collect();
    for (id, d) in ours {
        let label = format!("{what} {}/{id}", layer.id);
        let Some(&p) = pg_d.get(id) else {
            tally
                .mismatches
                .push(format!("{label}: unknown to PostGIS"));
            continue;
        };
        tally.distance(&label, points_only, *d, p);
        if !want_ids.contains(id) {
            if tie(p) {
                tally.ties += 1;
            } else {
                tally.mismatches.push(format!(
                    "{label}: returned at {d} m, not in PostGIS's {k} nearest (PostGIS {p} m)"
                ));
            }
        }
    }
    for (id, p) in &want {
        if !ours_ids.contains(id) {
            if tie(*p) {
                tally.ties += 1;
            } else {
                tally.mismatches.push(format!(
                    "{what} {}/{id}: PostGIS's {k} nearest at {p} m, missing",
                    layer.id
                ));
            }
        }
    }
}

#[test]
fn analysis_equals_postgis_geography() {
    let data_dir = std::env::var("ENVATLAS_GROUND_TRUTH_DATA").ok();
    let n_queries: usize = env_or("ENVATLAS_GROUND_TRUTH_QUERIES", 200);
    let seed: u64 = env_or("ENVATLAS_GROUND_TRUTH_SEED", 5);
    let started = Instant::now();
    let server = TestServer::start_postgis_with(|c| {
        if let Some(dir) = data_dir {
            c.data_dir = dir.into();
        }
    })
    .expect("server on PostGIS");
    let url = server
        .state
        .config
        .database_url
        .clone()
        .expect("the server runs on PostGIS");
    let truth = Truth::connect(&url);
    let loaded = started.elapsed();

    let layers: Vec<LayerInfo> = server
        .state
        .atlas
        .layers()
        .iter()
        .filter(|l| !l.is_empty())
        .map(|l| LayerInfo {
            id: l.id().to_string(),
            points: l.schema.geometry == GeometryKind::Point,
            anchors: l
                .features()
                .iter()
                .filter_map(|f| f.geometry.coords_iter().next().map(Point))
                .collect(),
            ids: l.features().iter().map(|f| f.id.to_string()).collect(),
        })
        .collect();
    assert!(
        layers.iter().any(|l| l.points) && layers.iter().any(|l| !l.points),
        "the sample has point, line and polygon layers"
    );
    let client = reqwest::blocking::Client::new();
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut tally = Tally::default();
    let mut kinds: BTreeMap<&str, usize> = BTreeMap::new();

    for q in 0..n_queries {
        tally.queries += 1;
        // Searched layers: all, or a random few.
        let searched: Vec<LayerInfo> = if rng.gen_bool(0.4) {
            layers.clone()
        } else {
            let n = rng.gen_range(1..=3);
            layers.choose_multiple(&mut rng, n).cloned().collect()
        };
        let ids: Vec<String> = searched.iter().map(|l| l.id.clone()).collect();
        let origin = near_data(&mut rng, &layers);
        match q % 5 {
            0 => {
                // Nearest, sometimes filtered (the filter applies to the
                // layers that have the property).
                *kinds.entry("nearest").or_default() += 1;
                let k = rng.gen_range(1..=15);
                let max_m = *[1_000.0, 5_000.0, 20_000.0, 100_000.0]
                    .choose(&mut rng)
                    .expect("max");
                let filter = (ids.contains(&"pollution_sources".to_string()) && rng.gen_bool(0.3))
                    .then(|| {
                        *[("control_level", "national"), ("discharge", "water")]
                            .choose(&mut rng)
                            .expect("filter")
                    });
                let mut request = client.get(server.url("/api/analysis/nearest")).query(&[
                    ("lon", origin.x().to_string()),
                    ("lat", origin.y().to_string()),
                    ("k", k.to_string()),
                    ("max_distance_m", max_m.to_string()),
                    ("layers", ids.join(",")),
                ]);
                if let Some((p, v)) = filter {
                    request = request.query(&[("filter", format!("{p}:{v}"))]);
                }
                let fc = http_json(request);
                let answer = answer_distances(&fc);
                for layer in &searched {
                    // Only pollution_sources has these properties here.
                    let layer_filter = filter.filter(|_| layer.id == "pollution_sources");
                    let pg = truth.nearest(
                        std::slice::from_ref(&layer.id),
                        origin,
                        k,
                        max_m,
                        layer_filter,
                    );
                    let ours: Vec<(String, f64)> = answer
                        .iter()
                        .filter(|(l, _, _)| *l == layer.id)
                        .map(|(_, id, d)| (id.clone(), *d))
                        .collect();
                    check_nearest(
                        &mut tally,
                        &truth,
                        &format!("query {q} nearest k={k} max={max_m} at {origin:?}"),
                        layer,
                        origin,
                        k,
                        max_m,
                        &ours,
                        pg.get(&layer.id).map_or(&[][..], Vec::as_slice),
                    );
                }
            }
            kind => {
                let (name, geometry, exclude, distance_m) = match kind {
                    1 => (
                        "point",
                        Geometry::Point(origin),
                        None,
                        rng.gen_range(100.0..20_000.0),
                    ),
                    2 => (
                        "line",
                        random_line(&mut rng, origin),
                        None,
                        rng.gen_range(50.0..8_000.0),
                    ),
                    3 => (
                        "polygon",
                        random_polygon(&mut rng, origin),
                        None,
                        if rng.gen_bool(0.2) {
                            0.0
                        } else {
                            rng.gen_range(50.0..5_000.0)
                        },
                    ),
                    _ => {
                        // An existing feature; not a river or a boundary, whose
                        // thousands of vertices make buffer polygons slow in debug.
                        let candidates: Vec<&LayerInfo> = layers
                            .iter()
                            .filter(|l| l.id != "rivers" && l.id != "admin_boundaries")
                            .collect();
                        let layer = candidates.choose(&mut rng).expect("layer");
                        let id = layer.ids.choose(&mut rng).expect("id").clone();
                        let feature = server
                            .state
                            .atlas
                            .layer(&layer.id)
                            .and_then(|l| l.get(&id).map(|f| f.geometry.clone()))
                            .expect("feature");
                        (
                            "feature",
                            feature,
                            Some((layer.id.clone(), id)),
                            rng.gen_range(0.0..10_000.0),
                        )
                    }
                };
                *kinds.entry(name).or_default() += 1;
                let geojson = geometry_to_json(&geometry);
                let body = match &exclude {
                    Some((layer, id)) => json!({
                        "feature": {"layer": layer, "id": id},
                        "distance_m": distance_m, "layers": ids
                    }),
                    None => json!({"geometry": geojson, "distance_m": distance_m, "layers": ids}),
                };
                let fc = http_json(client.post(server.url("/api/analysis/buffer")).json(&body));
                let pg = truth.within(&ids, &geojson, distance_m);
                let query_is_point = matches!(geometry, Geometry::Point(_));
                check_buffer(
                    &mut tally,
                    &format!("query {q} buffer {name} {distance_m:.0} m"),
                    query_is_point,
                    &searched,
                    &answer_distances(&fc),
                    &pg,
                    distance_m,
                    exclude.as_ref(),
                );
            }
        }
    }
    println!(
        "ground truth: {} queries ({kinds:?}), {} feature distances compared, {} boundary ties, \
         worst point error {:.3} m, worst line/polygon error {:.4}% (beyond 100 m), {} mismatches; \
         start {:.1} s, queries {:.1} s",
        tally.queries,
        tally.compared,
        tally.ties,
        tally.worst_point_err_m,
        tally.worst_shape_rel * 100.0,
        tally.mismatches.len(),
        loaded.as_secs_f64(),
        (started.elapsed() - loaded).as_secs_f64(),
    );
    assert!(
        tally.compared >= 2 * n_queries,
        "too few features compared: {}",
        tally.compared
    );
    assert!(
        tally.mismatches.is_empty(),
        "{} mismatches:\n{}",
        tally.mismatches.len(),
        tally.mismatches.join("\n")
    );
}
