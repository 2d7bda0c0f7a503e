//! HTTP layer of the spatial analysis: `POST /api/analysis/buffer`,
//! `GET /api/analysis/nearest` and `GET /api/stats/counties`. Parses and
//! validates requests (every limit named in the 400 it causes), runs the
//! analysis off the async workers, and answers GeoJSON, CSV or JSON.

use axum::body::Body;
use axum::extract::{FromRequest, Request, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::Json;
use geo::CoordsIter;
use geo_types::{Geometry, Point};
use serde::de::DeserializeOwned;
use serde::Deserialize;
use serde_json::{json, Map, Value as Json_};

use super::error::ApiError;
use super::extract::{parse_count, QueryPairs};
use super::features::GEOJSON;
use crate::analysis::csv::hits_to_csv;
use crate::analysis::filter::select;
use crate::analysis::hit::feature_collection_bytes;
use crate::analysis::{buffer, counties, nearest, FilterSpec, Hit, Indicator, InputError};
use crate::analysis::{BufferQuery, NearestQuery};
use crate::app::AppState;
use crate::config::Limits;
use crate::model::geojson::{geometry_to_json, parse_geometry};

impl From<InputError> for ApiError {
    fn from(e: InputError) -> Self {
        ApiError::bad_param(&e.parameter, e.detail)
    }
}

/// A JSON request body read within `limits.max_body_bytes` (413 beyond it)
/// and deserialised strictly: malformed JSON, unknown fields or wrong types
/// are a 400 whose detail says what and where (serde's line and column).
#[derive(Debug, Clone)]
pub struct JsonBody<T>(pub T);

impl<T: DeserializeOwned> FromRequest<AppState> for JsonBody<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request<Body>, state: &AppState) -> Result<Self, ApiError> {
        let limit = state.config.limits.max_body_bytes;
        let bytes = axum::body::to_bytes(req.into_body(), limit)
            .await
            .map_err(|e| {
                // Both tower-http's and http-body-util's limits say this.
                let too_large =
                    std::iter::successors(Some(&e as &(dyn std::error::Error + 'static)), |e| {
                        e.source()
                    })
                    .any(|e| e.to_string().contains("length limit exceeded"));
                if too_large {
                    ApiError::PayloadTooLarge(format!(
                        "the request body is larger than limits.max_body_bytes ({limit} bytes)"
                    ))
                } else {
                    ApiError::bad_param("body", format!("cannot read the request body: {e}"))
                }
            })?;
        serde_json::from_slice(&bytes).map(JsonBody).map_err(|e| {
            use serde_json::error::Category;
            let what = match e.classify() {
                Category::Syntax | Category::Eof => "malformed JSON",
                Category::Data | Category::Io => "invalid request body",
            };
            ApiError::bad_param("body", format!("{what}: {e}"))
        })
    }
}

/// Turns the bare 413 of the router's body-limit layer (which answers before
/// any handler when `Content-Length` is over `limits.max_body_bytes`) into a
/// problem+json naming the limit, like every other error.
pub async fn body_limit_problem(State(state): State<AppState>, response: Response) -> Response {
    let is_problem = response
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"application/problem+json"));
    if response.status() != axum::http::StatusCode::PAYLOAD_TOO_LARGE || is_problem {
        return response;
    }
    ApiError::PayloadTooLarge(format!(
        "the request body is larger than limits.max_body_bytes ({} bytes)",
        state.config.limits.max_body_bytes
    ))
    .into_response()
}

/// `POST /api/analysis/buffer`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BufferRequest {
    /// A GeoJSON Point, LineString, Polygon or their Multi forms.
    pub geometry: Option<Json_>,
    /// An existing feature to buffer instead of `geometry`.
    pub feature: Option<FeatureRef>,
    /// Geodesic distance, metres.
    pub distance_m: f64,
    pub layers: Option<Vec<String>>,
    pub filter: Option<Map<String, Json_>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FeatureRef {
    pub layer: String,
    pub id: String,
}

/// The output format (`f`): GeoJSON unless `f=csv`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Format {
    GeoJson,
    Csv,
}

/// Rejects parameters not in `allowed` (a typo would otherwise be ignored)
/// and reads `f`.
pub(crate) fn check_query(q: &QueryPairs, allowed: &[&str]) -> Result<Format, ApiError> {
    if let Some((name, _)) = q.0.iter().find(|(k, _)| !allowed.contains(&k.as_str())) {
        return Err(ApiError::bad_param(
            name,
            format!(
                "unknown parameter '{name}'; this route takes: {}",
                allowed.join(", ")
            ),
        ));
    }
    match q.single("f")? {
        None | Some("json") | Some("geojson") => Ok(Format::GeoJson),
        Some("csv") => Ok(Format::Csv),
        Some(other) => Err(ApiError::bad_param(
            "f",
            format!("format '{other}' is not offered; use f=json or f=csv"),
        )),
    }
}

/// A distance in metres within `0..=limits.max_distance_m`.
fn check_distance(name: &str, value: f64, limits: &Limits) -> Result<f64, ApiError> {
    if !value.is_finite() || value < 0.0 {
        return Err(ApiError::bad_param(
            name,
            format!("{name} must be a non-negative number of metres"),
        ));
    }
    if value > limits.max_distance_m {
        return Err(ApiError::bad_param(
            name,
            format!(
                "{name} {value} exceeds limits.max_distance_m ({} m)",
                limits.max_distance_m
            ),
        ));
    }
    Ok(value)
}

fn respond(
    format: Format,
    name: &str,
    hits: &[Hit],
    extras: Map<String, Json_>,
) -> Result<Response, ApiError> {
    match format {
        Format::GeoJson => {
            let bytes = feature_collection_bytes(hits, &extras)
                .map_err(|e| ApiError::Internal(format!("geojson: {e}")))?;
            Ok(([(header::CONTENT_TYPE, GEOJSON)], bytes).into_response())
        }
        Format::Csv => csv_response(name, hits_to_csv(hits)),
    }
}

/// A CSV download (`name.csv`), UTF-8 with a byte order mark.
pub(crate) fn csv_response(
    name: &str,
    bytes: Result<Vec<u8>, csv::Error>,
) -> Result<Response, ApiError> {
    let bytes = bytes.map_err(|e| ApiError::Internal(format!("csv: {e}")))?;
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{name}.csv\""),
            ),
        ],
        bytes,
    )
        .into_response())
}

/// Runs CPU-bound analysis on the blocking pool, not on an async worker.
async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> T + Send + 'static,
) -> Result<T, ApiError> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| ApiError::Internal(format!("analysis task failed: {e}")))
}

pub async fn buffer(
    State(state): State<AppState>,
    q: QueryPairs,
    JsonBody(req): JsonBody<BufferRequest>,
) -> Result<Response, ApiError> {
    let format = check_query(&q, &["f"])?;
    let limits = &state.config.limits;
    let distance_m = check_distance("distance_m", req.distance_m, limits)?;
    let (geometry, exclude) = match (req.geometry, req.feature) {
        (Some(json), None) => {
            let g = parse_geometry(&json)
                .map_err(|e| ApiError::bad_param("geometry", e.to_string()))?;
            let n = g.coords_count();
            if n > limits.max_vertices {
                return Err(ApiError::bad_param(
                    "geometry",
                    format!(
                        "the geometry has {n} vertices, more than limits.max_vertices ({})",
                        limits.max_vertices
                    ),
                ));
            }
            (g, None)
        }
        (None, Some(f)) => {
            let layer = state.atlas.layer(&f.layer).ok_or_else(|| {
                ApiError::bad_param("feature", format!("unknown layer '{}' in feature", f.layer))
            })?;
            let feature = layer.get(&f.id).ok_or_else(|| {
                ApiError::bad_param(
                    "feature",
                    format!("layer '{}' has no feature '{}'", f.layer, f.id),
                )
            })?;
            (feature.geometry.clone(), Some((f.layer, f.id)))
        }
        _ => {
            return Err(ApiError::bad_param(
                "geometry",
                "give exactly one of 'geometry' (GeoJSON) or 'feature' ({\"layer\", \"id\"})",
            ))
        }
    };
    let filter = req
        .filter
        .as_ref()
        .map(FilterSpec::from_json)
        .transpose()?
        .unwrap_or_default();
    let layers = select(&state.atlas, req.layers.as_deref(), &filter, "layers")?;
    let atlas = state.atlas.clone();
    let max_results = limits.max_results;
    let outcome = blocking(move || {
        let exclude = exclude.as_ref().map(|(l, i)| (l.as_str(), i.as_str()));
        let query = BufferQuery {
            geometry: &geometry,
            distance_m,
            exclude,
        };
        buffer::buffer(&atlas, &layers, &query, max_results)
    })
    .await??;
    let mut extras = Map::new();
    extras.insert("distance_m".into(), json!(distance_m));
    extras.insert("buffer".into(), geometry_to_json(&outcome.buffer));
    extras.insert("summary".into(), outcome.summary);
    respond(format, "buffer", &outcome.hits, extras)
}

/// Largest `k` of an unfiltered nearest search answered without the blocking pool.
const INLINE_NEAREST_K: usize = 100;

/// A longitude or latitude parameter within its range.
fn coordinate(q: &QueryPairs, name: &str, range: f64) -> Result<f64, ApiError> {
    let text = q
        .single(name)?
        .ok_or_else(|| ApiError::bad_param(name, format!("{name} is required (degrees, WGS84)")))?;
    text.trim()
        .parse::<f64>()
        .ok()
        .filter(|v| v.is_finite() && v.abs() <= range)
        .ok_or_else(|| {
            ApiError::bad_param(
                name,
                format!("{name} '{text}' must be a number within -{range}..{range}"),
            )
        })
}

/// `GET /api/analysis/nearest`, called by its own route ([`super::nearest_route`]).
pub(crate) async fn nearest(state: &AppState, q: &QueryPairs) -> Result<Response, ApiError> {
    let format = check_query(
        q,
        &["lon", "lat", "layers", "k", "max_distance_m", "filter", "f"],
    )?;
    let limits = &state.config.limits;
    let origin = Point::new(coordinate(q, "lon", 180.0)?, coordinate(q, "lat", 90.0)?);
    let k = match q.single("k")? {
        None => 10,
        Some(t) => parse_count("k", t)?,
    };
    if k == 0 || k > limits.max_results {
        return Err(ApiError::bad_param(
            "k",
            format!(
                "k must be within 1..=limits.max_results ({}), got {k}",
                limits.max_results
            ),
        ));
    }
    let max_distance_m = match q.single("max_distance_m")? {
        None => limits.max_distance_m,
        Some(t) => {
            let v = t.trim().parse::<f64>().map_err(|_| {
                ApiError::bad_param(
                    "max_distance_m",
                    format!("max_distance_m '{t}' is not a number of metres"),
                )
            })?;
            check_distance("max_distance_m", v, limits)?
        }
    };
    let requested: Option<Vec<String>> = q
        .single("layers")?
        .map(|t| t.split(',').map(|s| s.trim().to_string()).collect());
    if requested
        .as_ref()
        .is_some_and(|ids| ids.iter().any(String::is_empty))
    {
        return Err(ApiError::bad_param(
            "layers",
            "layers must be layer ids separated by commas",
        ));
    }
    let filter = q
        .single("filter")?
        .map(FilterSpec::parse)
        .transpose()?
        .unwrap_or_default();
    let layers = select(&state.atlas, requested.as_deref(), &filter, "layers")?;
    let query = NearestQuery {
        origin,
        k,
        max_distance_m,
    };
    // Without filters the walk measures little more than k features per layer
    // (tens of microseconds): answered on the async worker, sparing the hand-off
    // to the blocking pool; filtered searches may walk far and go there.
    let hits = if k <= INLINE_NEAREST_K && layers.iter().all(|l| l.is_unfiltered()) {
        nearest::nearest(&layers, &query)
    } else {
        blocking(move || nearest::nearest(&layers, &query)).await?
    };
    let mut extras = Map::new();
    extras.insert("origin".into(), geometry_to_json(&Geometry::Point(origin)));
    extras.insert("k".into(), json!(k));
    extras.insert("max_distance_m".into(), json!(max_distance_m));
    respond(format, "nearest", &hits, extras)
}

pub async fn county_stats(
    State(state): State<AppState>,
    q: QueryPairs,
) -> Result<Json<Json_>, ApiError> {
    if let Some((name, _)) = q.0.iter().find(|(k, _)| k != "indicator") {
        return Err(ApiError::bad_param(
            name,
            format!("unknown parameter '{name}'; this route takes: indicator"),
        ));
    }
    let valid = Indicator::NAMES.join(", ");
    let name = q.single("indicator")?.ok_or_else(|| {
        ApiError::bad_param(
            "indicator",
            format!("indicator is required; one of: {valid}"),
        )
    })?;
    let indicator: Indicator = name.parse().map_err(|_| {
        ApiError::bad_param(
            "indicator",
            format!("unknown indicator '{name}'; valid indicators: {valid}"),
        )
    })?;
    let atlas = state.atlas.clone();
    let rows = blocking(move || counties::county_stats(&atlas, indicator)).await?;
    Ok(Json(json!({"indicator": name, "counties": rows})))
}
