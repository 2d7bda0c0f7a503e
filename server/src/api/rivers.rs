//! HTTP layer of the river network: `POST /api/analysis/downstream` (what a
//! spill reaches and when), `POST /api/analysis/upstream` (candidate origins
//! of a bad reading) and `GET /api/analysis/rivers/diagnostics`.

use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::Json;
use geo_types::{Geometry, Point};
use serde::Deserialize;
use serde_json::{json, Map, Value as Json_};

use super::analysis::{check_query, csv_response, Format, JsonBody};
use super::error::ApiError;
use super::extract::QueryPairs;
use super::features::GEOJSON;
use crate::analysis::csv::{rows_to_csv, CsvRow};
use crate::analysis::filter::{select, LayerQuery};
use crate::analysis::hit::round_to;
use crate::analysis::river::corridor::{features_along, AlongHit};
use crate::analysis::river::{Network, RiverGraph, Snap};
use crate::analysis::FilterSpec;
use crate::app::AppState;
use crate::model::geojson::geometry_to_json;

/// `POST /api/analysis/downstream`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DownstreamRequest {
    pub lon: f64,
    pub lat: f64,
    /// Along-river length of the trace, metres (≤ `limits.max_trace_m`).
    pub max_distance_m: Option<f64>,
    /// One velocity for the whole path instead of the per-river defaults.
    pub velocity_mps: Option<f64>,
    /// Features within this distance of the path are reported.
    pub corridor_m: Option<f64>,
}

/// `POST /api/analysis/upstream`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UpstreamRequest {
    pub lon: Option<f64>,
    pub lat: Option<f64>,
    /// A monitoring station to trace from instead of `lon`/`lat`.
    pub station_id: Option<String>,
    pub max_distance_m: Option<f64>,
    pub corridor_m: Option<f64>,
}

/// Largest velocity accepted, m/s (no river flows faster).
const MAX_VELOCITY_MPS: f64 = 20.0;

pub(crate) fn lonlat(lon: f64, lat: f64) -> Result<Point<f64>, ApiError> {
    if !(lon.is_finite() && lon.abs() <= 180.0) {
        return Err(ApiError::bad_param(
            "lon",
            format!("lon {lon} must be within -180..180"),
        ));
    }
    if !(lat.is_finite() && lat.abs() <= 90.0) {
        return Err(ApiError::bad_param(
            "lat",
            format!("lat {lat} must be within -90..90"),
        ));
    }
    Ok(Point::new(lon, lat))
}

/// The trace length: required, positive, at most `limits.max_trace_m`.
fn trace_length(state: &AppState, value: Option<f64>) -> Result<f64, ApiError> {
    let max = state.config.limits.max_trace_m;
    let v = value.ok_or_else(|| {
        ApiError::bad_param(
            "max_distance_m",
            "max_distance_m (metres along the river) is required",
        )
    })?;
    if !(v.is_finite() && v > 0.0) {
        return Err(ApiError::bad_param(
            "max_distance_m",
            "max_distance_m must be a positive number of metres",
        ));
    }
    if v > max {
        return Err(ApiError::bad_param(
            "max_distance_m",
            format!("max_distance_m {v} exceeds limits.max_trace_m ({max} m)"),
        ));
    }
    Ok(v)
}

/// The corridor: default `rivers.default_corridor_m`, at most `limits.max_distance_m`.
fn corridor(state: &AppState, value: Option<f64>) -> Result<f64, ApiError> {
    let max = state.config.limits.max_distance_m;
    let v = value.unwrap_or(state.config.rivers.default_corridor_m);
    if !(v.is_finite() && v >= 0.0) {
        return Err(ApiError::bad_param(
            "corridor_m",
            "corridor_m must be a non-negative number of metres",
        ));
    }
    if v > max {
        return Err(ApiError::bad_param(
            "corridor_m",
            format!("corridor_m {v} exceeds limits.max_distance_m ({max} m)"),
        ));
    }
    Ok(v)
}

/// Places a point on the network or says why it cannot be.
fn snap_point(
    state: &AppState,
    network: &Network,
    p: Point<f64>,
    parameter: &str,
) -> Result<Snap, ApiError> {
    let max = state.config.rivers.max_snap_distance_m;
    network.graph.snap(p, max).ok_or_else(|| {
        ApiError::bad_param(
            parameter,
            format!(
                "no river within rivers.max_snap_distance_m ({max} m) of ({}, {})",
                p.x(),
                p.y()
            ),
        )
    })
}

fn snapped_json(graph: &RiverGraph, snap: &Snap) -> Json_ {
    let reach = &graph.reaches[snap.reach];
    let d = round_to(snap.distance_m, 2);
    json!({
        "type": "Feature",
        "geometry": geometry_to_json(&Geometry::Point(snap.point)),
        "properties": {
            "snap_distance_m": d,
            "reach": reach.id,
            "river_en": reach.name_en,
            "river_zh": reach.name_zh,
            "along_reach_m": round_to(snap.along_m, 1),
        },
        "snap_distance_m": d,
    })
}

fn feature_collection(features: Vec<Json_>, extras: Map<String, Json_>) -> Response {
    let mut body = Map::new();
    body.insert("type".into(), json!("FeatureCollection"));
    body.insert("numberReturned".into(), json!(features.len()));
    body.insert("features".into(), Json_::Array(features));
    body.extend(extras);
    (
        [(header::CONTENT_TYPE, GEOJSON)],
        Json_::Object(body).to_string(),
    )
        .into_response()
}

/// Every feature a layer's query found is within `max_results`.
fn check_results(hits: &[AlongHit], max_results: usize) -> Result<(), ApiError> {
    let mut counts = std::collections::HashMap::<&str, usize>::new();
    for h in hits {
        *counts.entry(h.hit.layer.id()).or_default() += 1;
    }
    match counts.into_iter().find(|(_, n)| *n > max_results) {
        Some((layer, n)) => Err(ApiError::bad_param(
            "corridor_m",
            format!("{n} features of layer '{layer}' lie in the corridor, more than limits.max_results ({max_results}); use a smaller corridor_m or max_distance_m"),
        )),
        None => Ok(()),
    }
}

async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> T + Send + 'static,
) -> Result<T, ApiError> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| ApiError::Internal(format!("analysis task failed: {e}")))
}

/// The layers a spill is checked against: intakes, water-quality sections, zones.
fn downstream_layers(state: &AppState) -> Result<Vec<LayerQuery>, ApiError> {
    let mut layers: Vec<LayerQuery> = ["drinking_water_sources", "protection_zones"]
        .iter()
        .filter_map(|id| state.atlas.layer(id))
        .map(LayerQuery::all)
        .collect();
    if state.atlas.layer("monitoring_stations").is_some() {
        let filter = FilterSpec::parse("kind:water_section")?;
        layers.extend(select(
            &state.atlas,
            Some(&["monitoring_stations".to_string()]),
            &filter,
            "layers",
        )?);
    }
    Ok(layers)
}

pub async fn downstream(
    State(state): State<AppState>,
    q: QueryPairs,
    JsonBody(req): JsonBody<DownstreamRequest>,
) -> Result<Response, ApiError> {
    let format = check_query(&q, &["f"])?;
    let origin = lonlat(req.lon, req.lat)?;
    let max_m = trace_length(&state, req.max_distance_m)?;
    let corridor_m = corridor(&state, req.corridor_m)?;
    if let Some(v) = req.velocity_mps {
        if !(v.is_finite() && v > 0.0 && v <= MAX_VELOCITY_MPS) {
            return Err(ApiError::bad_param(
                "velocity_mps",
                format!("velocity_mps must be within (0, {MAX_VELOCITY_MPS}] metres per second"),
            ));
        }
    }
    let layers = downstream_layers(&state)?;
    let network = state.rivers.network(&state.atlas, &state.config.rivers);
    let start = snap_point(&state, &network, origin, "lon")?;
    let earliest = state.config.rivers.earliest_factor;
    let max_results = state.config.limits.max_results;
    let graph = network.graph.clone();
    let (trace, mut hits, path) = blocking(move || {
        let trace = graph.downstream(&start, max_m, req.velocity_mps);
        let hits = features_along(&graph, &trace.pieces, &layers, corridor_m);
        let path = graph.downstream_line(&trace);
        (trace, hits, path)
    })
    .await?;
    check_results(&hits, max_results)?;
    let at = |h: &AlongHit| trace.at(h.piece, h.position_m);
    hits.sort_by(|a, b| {
        at(a)
            .0
            .total_cmp(&at(b).0)
            .then(a.hit.distance_m.total_cmp(&b.hit.distance_m))
    });
    if format == Format::Csv {
        let rows: Vec<CsvRow<'_>> = hits
            .iter()
            .map(|h| {
                let (along, time) = at(h);
                CsvRow {
                    hit: &h.hit,
                    extra: vec![
                        round_to(along, 1).to_string(),
                        (time * earliest).round().to_string(),
                        time.round().to_string(),
                    ],
                }
            })
            .collect();
        let columns = ["along_river_m", "arrival_earliest_s", "arrival_expected_s"];
        return csv_response("downstream", rows_to_csv(&rows, &columns));
    }
    let features = hits
        .iter()
        .map(|h| {
            let (along, time) = at(h);
            let mut f = h.hit.to_json();
            if let Some(p) = f.get_mut("properties").and_then(Json_::as_object_mut) {
                p.insert("along_river_m".into(), json!(round_to(along, 1)));
                p.insert("arrival_expected_s".into(), json!(time.round()));
                p.insert(
                    "arrival_earliest_s".into(),
                    json!((time * earliest).round()),
                );
            }
            f
        })
        .collect();
    let g = &network.graph;
    let reaches: Vec<Json_> = trace
        .pieces
        .iter()
        .map(|p| {
            let r = &g.reaches[p.reach];
            json!({"reach": r.id, "river_en": r.name_en, "river_zh": r.name_zh,
                   "along_river_m": round_to(p.along_m, 1), "length_m": round_to(p.to_m - p.from_m, 1),
                   "velocity_mps": p.velocity_mps})
        })
        .collect();
    let mut extras = Map::new();
    extras.insert("snapped".into(), snapped_json(g, &start));
    extras.insert("path".into(), geometry_to_json(&Geometry::LineString(path)));
    extras.insert("length_m".into(), json!(round_to(trace.length_m, 1)));
    extras.insert("travel_time_s".into(), json!(trace.time_s.round()));
    extras.insert("reached_outlet".into(), json!(trace.reached_outlet));
    extras.insert("reaches".into(), Json_::Array(reaches));
    extras.insert("max_distance_m".into(), json!(max_m));
    extras.insert("corridor_m".into(), json!(corridor_m));
    extras.insert("velocity_mps".into(), json!(req.velocity_mps));
    Ok(feature_collection(features, extras))
}

pub async fn upstream(
    State(state): State<AppState>,
    q: QueryPairs,
    JsonBody(req): JsonBody<UpstreamRequest>,
) -> Result<Response, ApiError> {
    let format = check_query(&q, &["f"])?;
    let (origin, parameter) = match (req.lon, req.lat, &req.station_id) {
        (Some(lon), Some(lat), None) => (lonlat(lon, lat)?, "lon"),
        (None, None, Some(id)) => {
            let station = state
                .atlas
                .layer("monitoring_stations")
                .and_then(|l| l.get(id).map(|f| f.geometry.clone()))
                .ok_or_else(|| {
                    ApiError::bad_param("station_id", format!("no monitoring station '{id}'"))
                })?;
            let p = crate::analysis::hit::representative_point(&station).ok_or_else(|| {
                ApiError::bad_param("station_id", format!("station '{id}' has no location"))
            })?;
            (p, "station_id")
        }
        _ => {
            return Err(ApiError::bad_param(
                "lon",
                "give either lon and lat, or station_id",
            ))
        }
    };
    let max_m = trace_length(&state, req.max_distance_m)?;
    let corridor_m = corridor(&state, req.corridor_m)?;
    let layers: Vec<LayerQuery> = state
        .atlas
        .layer("pollution_sources")
        .map(LayerQuery::all)
        .into_iter()
        .collect();
    let network = state.rivers.network(&state.atlas, &state.config.rivers);
    let start = snap_point(&state, &network, origin, parameter)?;
    let max_results = state.config.limits.max_results;
    let graph = network.graph.clone();
    let (trace, mut hits, path) = blocking(move || {
        let trace = graph.upstream(&start, max_m);
        let hits = features_along(&graph, &trace.pieces, &layers, corridor_m);
        let path = graph.upstream_lines(&trace);
        (trace, hits, path)
    })
    .await?;
    check_results(&hits, max_results)?;
    let at = |h: &AlongHit| trace.at(h.piece, h.position_m);
    hits.sort_by(|a, b| {
        at(a)
            .total_cmp(&at(b))
            .then(a.hit.distance_m.total_cmp(&b.hit.distance_m))
    });
    // Per candidate: along-river distance, discharges to water, recent exceedances.
    let flags: Vec<(f64, bool, u32)> = hits
        .iter()
        .map(|h| {
            let (discharge, id) = h
                .hit
                .feature()
                .map(|feat| {
                    (
                        feat.text(&h.hit.layer.schema, "discharge").to_string(),
                        feat.id.to_string(),
                    )
                })
                .unwrap_or_default();
            let water = discharge == "water" || discharge == "both";
            let exceedances = state.exceedances.recent_exceedances(&id);
            (round_to(at(h), 1), water, exceedances)
        })
        .collect();
    if format == Format::Csv {
        let rows: Vec<CsvRow<'_>> = hits
            .iter()
            .zip(&flags)
            .enumerate()
            .map(|(i, (h, &(along, water, exceedances)))| CsvRow {
                hit: &h.hit,
                extra: vec![
                    along.to_string(),
                    (i + 1).to_string(),
                    water.to_string(),
                    exceedances.to_string(),
                    (water || exceedances > 0).to_string(),
                ],
            })
            .collect();
        let columns = [
            "along_river_m",
            "rank",
            "water_discharger",
            "recent_exceedances",
            "flagged",
        ];
        return csv_response("upstream", rows_to_csv(&rows, &columns));
    }
    let features = hits
        .iter()
        .zip(&flags)
        .enumerate()
        .map(|(i, (h, &(along, water, exceedances)))| {
            let mut f = h.hit.to_json();
            if let Some(p) = f.get_mut("properties").and_then(Json_::as_object_mut) {
                p.insert("along_river_m".into(), json!(along));
                p.insert("rank".into(), json!(i + 1));
                p.insert("water_discharger".into(), json!(water));
                p.insert("recent_exceedances".into(), json!(exceedances));
                p.insert("flagged".into(), json!(water || exceedances > 0));
            }
            f
        })
        .collect();
    let mut extras = Map::new();
    extras.insert("snapped".into(), snapped_json(&network.graph, &start));
    extras.insert(
        "path".into(),
        geometry_to_json(&Geometry::MultiLineString(path)),
    );
    extras.insert("length_m".into(), json!(round_to(trace.length_m, 1)));
    extras.insert("max_distance_m".into(), json!(max_m));
    extras.insert("corridor_m".into(), json!(corridor_m));
    if let Some(id) = &req.station_id {
        extras.insert("station_id".into(), json!(id));
    }
    Ok(feature_collection(features, extras))
}

pub async fn diagnostics(
    State(state): State<AppState>,
    q: QueryPairs,
) -> Result<Json<Json_>, ApiError> {
    if let Some((name, _)) = q.0.first() {
        return Err(ApiError::bad_param(
            name,
            format!("unknown parameter '{name}'; this route takes none"),
        ));
    }
    let network = state.rivers.network(&state.atlas, &state.config.rivers);
    let d = network.graph.diagnostics(network.version());
    serde_json::to_value(d)
        .map(Json)
        .map_err(|e| ApiError::Internal(format!("diagnostics: {e}")))
}
