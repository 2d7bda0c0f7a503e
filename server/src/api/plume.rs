//! HTTP layer of the air-release threat zone: `POST /api/analysis/plume`.
//! Validates the release and weather (each bad value named in its 400), runs
//! the plume off the async workers and answers the features inside the zone
//! with `zone`, `valid_range_m` and `note` (a screening estimate, zh + en),
//! or (`?f=csv`) the features alone as CSV.

use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{json, Map, Value as Json_};

use super::analysis::{check_query, csv_response, Format, JsonBody};
use super::error::ApiError;
use super::extract::QueryPairs;
use super::features::GEOJSON;
use super::rivers::lonlat;
use crate::analysis::csv::{rows_to_csv, CsvRow};
use crate::analysis::hit::round_to;
use crate::analysis::plume::{
    plume as run_plume, PlumeQuery, Release, Stability, NOTE_EN, NOTE_ZH, VALID_RANGE_M,
};
use crate::app::AppState;
use crate::model::geojson::geometry_to_json;

/// Slowest wind the Gaussian plume is used for (calm air is outside the model).
const MIN_WIND_MPS: f64 = 0.5;
/// Highest release considered, metres.
const MAX_HEIGHT_M: f64 = 1000.0;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlumeRequest {
    pub lon: f64,
    pub lat: f64,
    pub release_g_s: f64,
    pub height_m: f64,
    pub wind_from_deg: f64,
    pub wind_speed_mps: f64,
    pub stability: String,
    pub level_of_concern_mg_m3: f64,
    pub max_distance_m: f64,
}

fn check(name: &str, v: f64, ok: bool, what: &str) -> Result<f64, ApiError> {
    if v.is_finite() && ok {
        Ok(v)
    } else {
        Err(ApiError::bad_param(
            name,
            format!("{name} {v} must be {what}"),
        ))
    }
}

fn query(state: &AppState, r: &PlumeRequest) -> Result<PlumeQuery, ApiError> {
    let origin = lonlat(r.lon, r.lat)?;
    let stability: Stability = r.stability.parse().map_err(|_| {
        ApiError::bad_param(
            "stability",
            format!("stability '{}' must be a class A..F", r.stability),
        )
    })?;
    let max_d = state.config.limits.max_distance_m;
    if r.max_distance_m > max_d {
        return Err(ApiError::bad_param(
            "max_distance_m",
            format!(
                "max_distance_m {} exceeds limits.max_distance_m ({max_d} m)",
                r.max_distance_m
            ),
        ));
    }
    Ok(PlumeQuery {
        origin,
        release: Release {
            rate_g_s: check(
                "release_g_s",
                r.release_g_s,
                r.release_g_s > 0.0,
                "a positive rate in g/s",
            )?,
            height_m: check(
                "height_m",
                r.height_m,
                (0.0..=MAX_HEIGHT_M).contains(&r.height_m),
                "within 0..1000 metres",
            )?,
            wind_speed_mps: check(
                "wind_speed_mps",
                r.wind_speed_mps,
                (MIN_WIND_MPS..=50.0).contains(&r.wind_speed_mps),
                "within 0.5..50 m/s (calm air is outside the Gaussian plume model)",
            )?,
            stability,
        },
        wind_from_deg: check(
            "wind_from_deg",
            r.wind_from_deg,
            (0.0..=360.0).contains(&r.wind_from_deg),
            "within 0..360 degrees",
        )?,
        level_of_concern_mg_m3: check(
            "level_of_concern_mg_m3",
            r.level_of_concern_mg_m3,
            r.level_of_concern_mg_m3 > 0.0,
            "a positive concentration in mg/m³",
        )?,
        max_distance_m: check(
            "max_distance_m",
            r.max_distance_m,
            r.max_distance_m > 0.0,
            "a positive number of metres",
        )?,
    })
}

pub async fn plume(
    State(state): State<AppState>,
    q: QueryPairs,
    JsonBody(req): JsonBody<PlumeRequest>,
) -> Result<Response, ApiError> {
    let format = check_query(&q, &["f"])?;
    let query = query(&state, &req)?;
    let atlas = state.atlas.clone();
    let max_results = state.config.limits.max_results;
    let outcome = tokio::task::spawn_blocking(move || run_plume(&atlas, &query, max_results))
        .await
        .map_err(|e| ApiError::Internal(format!("plume task failed: {e}")))??;
    if format == Format::Csv {
        let rows: Vec<CsvRow<'_>> = outcome
            .hits
            .iter()
            .map(|h| CsvRow {
                hit: &h.hit,
                extra: vec![round_to(h.concentration_mg_m3, 4).to_string()],
            })
            .collect();
        return csv_response("plume", rows_to_csv(&rows, &["concentration_mg_m3"]));
    }
    let features: Vec<Json_> = outcome
        .hits
        .iter()
        .map(|h| {
            let mut f = h.hit.to_json();
            if let Some(p) = f.get_mut("properties").and_then(Json_::as_object_mut) {
                p.insert(
                    "concentration_mg_m3".into(),
                    json!(round_to(h.concentration_mg_m3, 4)),
                );
            }
            f
        })
        .collect();
    let mut body = Map::new();
    body.insert("type".into(), json!("FeatureCollection"));
    body.insert("numberReturned".into(), json!(features.len()));
    body.insert("features".into(), Json_::Array(features));
    body.insert(
        "zone".into(),
        outcome.zone.as_ref().map_or(Json_::Null, geometry_to_json),
    );
    body.insert(
        "zone_length_m".into(),
        json!(round_to(outcome.zone_length_m, 1)),
    );
    body.insert("valid_range_m".into(), json!(VALID_RANGE_M));
    body.insert(
        "beyond_valid_range".into(),
        json!(outcome.zone_length_m > VALID_RANGE_M[1]),
    );
    body.insert("note".into(), json!({"zh": NOTE_ZH, "en": NOTE_EN}));
    Ok((
        [(header::CONTENT_TYPE, GEOJSON)],
        Json_::Object(body).to_string(),
    )
        .into_response())
}
