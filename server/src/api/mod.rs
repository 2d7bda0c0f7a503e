//! The HTTP API: one axum [`router`] over the shared [`AppState`].
//!
//! - [`analysis`]: spatial analysis (buffer, nearest) and county statistics;
//!   [`nearest_route`]: the nearest route's own middleware stack.
//! - [`auth`]: the `WriteAccess` extractor (bearer write token).
//! - [`edit`]: feature editing (OGC API Features Part 4 style): POST/PUT/PATCH/DELETE.
//! - [`error`]: `ApiError`, answered as RFC 9457 problem+json.
//! - [`extract`]: validating extractors and parameter parsers (bbox, limit, datetime).
//! - [`features`]: OGC API – Features (landing, conformance, collections, items).
//! - [`monitoring`]: readings ingest, series, latest, exceedances, limits, events (SSE).
//! - [`openapi`]: the OpenAPI document, with the operations of
//!   [`analysis_openapi`] and [`monitoring_openapi`].
//! - [`rivers`], [`risk`], [`plume`]: river tracing, risk zones, air-release threat zones.
//! - [`tiles`]: MVT tiles, TileJSON, OGC API Tiles.
//! - [`ops`]: health, readiness, metrics.
//! - [`web`]: the embedded web map (`/`, its assets, `/api/web-config`).

pub mod analysis;
pub mod analysis_openapi;
pub mod auth;
pub mod edit;
pub mod error;
pub mod extract;
pub mod features;
pub mod monitoring;
pub mod monitoring_openapi;
pub mod nearest_route;
pub mod negotiate;
pub mod openapi;
pub mod ops;
pub mod plume;
pub mod risk;
pub mod rivers;
pub mod tiles;
pub mod web;

use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use tower_http::cors::{Any, CorsLayer};
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::trace::TraceLayer;

use crate::app::AppState;
pub use error::ApiError;

/// CORS for every route: any origin may read (the map may be served from elsewhere).
fn cors() -> CorsLayer {
    CorsLayer::new()
        .allow_origin(Any)
        .allow_methods([
            Method::GET,
            Method::POST,
            Method::PUT,
            Method::PATCH,
            Method::DELETE,
        ])
        .allow_headers([header::AUTHORIZATION, header::CONTENT_TYPE])
}

/// The `Vary` value the `CorsLayer` adds (its default: the preflight headers).
const CORS_VARY: &str = "origin, access-control-request-method, access-control-request-headers";

/// What [`cors`] and the nosniff layer add to the answer to a simple request,
/// for the routes that answer outside the shared middleware stack (tiles,
/// nearest).
pub(crate) fn simple_cors_headers(h: &mut axum::http::HeaderMap) {
    h.append(header::VARY, HeaderValue::from_static(CORS_VARY));
    h.insert(
        header::ACCESS_CONTROL_ALLOW_ORIGIN,
        HeaderValue::from_static("*"),
    );
    h.entry(header::X_CONTENT_TYPE_OPTIONS)
        .or_insert(HeaderValue::from_static("nosniff"));
}

/// Every route of the server. The tile routes and nearest (the hot paths)
/// come with their own, shorter middleware stacks: see [`tiles::routes`] and
/// [`nearest_route::routes`].
pub fn router(state: AppState) -> Router {
    let max_body = state.config.limits.max_body_bytes;
    let tile_routes = tiles::routes(state.clone(), cors());
    let nearest_route = nearest_route::routes(state.clone(), cors());
    Router::new()
        .merge(web::routes())
        .route("/health", get(ops::health))
        .route("/ready", get(ops::ready))
        .route("/metrics", get(ops::metrics))
        .route("/api", get(features::landing))
        .route("/api/", get(features::landing))
        .route("/api/openapi.json", get(openapi::openapi))
        .route("/api/conformance", get(features::conformance))
        .route("/api/collections", get(features::collections))
        .route("/api/collections/{id}", get(features::collection))
        .route(
            "/api/collections/{id}/queryables",
            get(features::queryables),
        )
        .route(
            "/api/collections/{id}/items",
            get(features::items).post(edit::create),
        )
        .route(
            "/api/collections/{id}/items/{feature_id}",
            get(features::item)
                .put(edit::replace)
                .patch(edit::patch)
                .delete(edit::delete),
        )
        .route(
            "/api/collections/{id}/tiles",
            get(tiles::collection_tilesets),
        )
        .route(
            "/api/collections/{id}/tiles/{set}",
            get(tiles::collection_tileset),
        )
        .route("/api/tileMatrixSets", get(tiles::tile_matrix_sets))
        .route("/api/tileMatrixSets/{id}", get(tiles::web_mercator_quad))
        .route(
            "/api/analysis/buffer",
            axum::routing::post(analysis::buffer),
        )
        .route(
            "/api/analysis/downstream",
            axum::routing::post(rivers::downstream),
        )
        .route(
            "/api/analysis/upstream",
            axum::routing::post(rivers::upstream),
        )
        .route("/api/analysis/rivers/diagnostics", get(rivers::diagnostics))
        .route("/api/analysis/risk", get(risk::risk))
        .route("/api/analysis/risk/summary", get(risk::summary))
        .route("/api/analysis/plume", axum::routing::post(plume::plume))
        .route("/api/stats/counties", get(analysis::county_stats))
        .route(
            "/api/monitoring/readings",
            axum::routing::post(monitoring::post_readings),
        )
        .route(
            "/api/monitoring/stations/{id}/series",
            get(monitoring::series),
        )
        .route("/api/monitoring/latest", get(monitoring::latest))
        .route("/api/monitoring/exceedances", get(monitoring::exceedances))
        .route(
            "/api/monitoring/limits",
            get(monitoring::get_limits).put(monitoring::put_limits),
        )
        .route("/api/events", get(monitoring::events))
        .route("/tiles/{layers}", get(tiles::tilejson))
        .fallback(not_found)
        .layer(axum::middleware::from_fn_with_state(
            state.metrics.clone(),
            crate::metrics::track,
        ))
        .method_not_allowed_fallback(method_not_allowed)
        .layer(RequestBodyLimitLayer::new(max_body))
        .layer(axum::middleware::map_response_with_state(
            state.clone(),
            analysis::body_limit_problem,
        ))
        .layer(cors())
        .layer(SetResponseHeaderLayer::if_not_present(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .layer(TraceLayer::new_for_http())
        .with_state(state)
        .merge(tile_routes)
        .merge(nearest_route)
}

async fn not_found(uri: axum::http::Uri) -> Response {
    ApiError::NotFound(format!(
        "no resource at {}; see /api for the API",
        uri.path()
    ))
    .into_response()
}

async fn method_not_allowed(method: Method, uri: axum::http::Uri) -> Response {
    error::problem(
        StatusCode::METHOD_NOT_ALLOWED,
        "method-not-allowed",
        &format!("{method} is not allowed on {}", uri.path()),
        serde_json::json!({}),
    )
}
