//! The web map: the client bundle built from `web-map/` (committed in
//! `web-map/dist/`, see `web-map/README.md`) embedded in the binary and served
//! at `/`, plus the client's run-time settings at `/api/web-config`.
//!
//! `index.html` is revalidated on every load (`no-cache` + ETag); it names the
//! script and style sheet with a content hash (`/app.js?v=…`), so those are
//! cached for a year. Text assets are gzipped once, on first demand.

use std::io::Write;
use std::sync::{Arc, OnceLock};

use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use bytes::Bytes;
use serde_json::json;

use super::negotiate::{accepts_gzip, not_modified};
use crate::app::AppState;

const REVALIDATE: &str = "no-cache";
const IMMUTABLE: &str = "public, max-age=31536000, immutable";

/// One embedded file of `web-map/dist/`.
struct Asset {
    content_type: &'static str,
    bytes: &'static [u8],
    cache_control: &'static str,
    etag: String,
    /// Whether gzip pays (text); the gzipped body is made on first demand.
    compressible: bool,
    gzipped: OnceLock<Bytes>,
}

impl Asset {
    fn new(content_type: &'static str, bytes: &'static [u8], cache_control: &'static str) -> Self {
        Self {
            content_type,
            bytes,
            cache_control,
            etag: format!("\"{:016x}\"", fnv1a(bytes)),
            compressible: content_type.starts_with("text/")
                || content_type.starts_with("application/javascript"),
            gzipped: OnceLock::new(),
        }
    }
}

/// 64-bit FNV-1a: a stable content hash for ETags (not a security measure).
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// The routes of the web map. Each asset's hash is computed once, here.
pub fn routes() -> Router<AppState> {
    let index = Arc::new(Asset::new(
        "text/html; charset=utf-8",
        include_bytes!("../../../web-map/dist/index.html"),
        REVALIDATE,
    ));
    let files = [
        ("/", index.clone()),
        ("/index.html", index),
        (
            "/app.js",
            Arc::new(Asset::new(
                "application/javascript; charset=utf-8",
                include_bytes!("../../../web-map/dist/app.js"),
                IMMUTABLE,
            )),
        ),
        (
            "/app.css",
            Arc::new(Asset::new(
                "text/css; charset=utf-8",
                include_bytes!("../../../web-map/dist/app.css"),
                IMMUTABLE,
            )),
        ),
        (
            "/favicon.ico",
            Arc::new(Asset::new(
                "image/x-icon",
                include_bytes!("../../../web-map/dist/favicon.ico"),
                "public, max-age=86400",
            )),
        ),
    ];
    let mut router = Router::new().route("/api/web-config", get(web_config));
    for (path, asset) in files {
        router = router.route(
            path,
            get(move |headers: HeaderMap| {
                let asset = asset.clone();
                async move { serve(&asset, &headers).await }
            }),
        );
    }
    router
}

async fn serve(asset: &Asset, headers: &HeaderMap) -> Response {
    let mut out = HeaderMap::new();
    out.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(asset.content_type),
    );
    out.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static(asset.cache_control),
    );
    if let Ok(v) = HeaderValue::from_str(&asset.etag) {
        out.insert(header::ETAG, v);
    }
    if asset.compressible {
        out.insert(header::VARY, HeaderValue::from_static("Accept-Encoding"));
    }
    if not_modified(headers, &asset.etag) {
        return (StatusCode::NOT_MODIFIED, out).into_response();
    }
    if asset.compressible && accepts_gzip(headers) {
        if let Some(body) = gzipped(asset).await {
            out.insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
            return (out, body).into_response();
        }
    }
    (out, Bytes::from_static(asset.bytes)).into_response()
}

/// The gzipped body, made once off the async threads; `None` falls back to identity.
async fn gzipped(asset: &Asset) -> Option<Bytes> {
    if let Some(b) = asset.gzipped.get() {
        return Some(b.clone());
    }
    let raw = asset.bytes;
    let body = tokio::task::spawn_blocking(move || {
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        enc.write_all(raw).ok()?;
        enc.finish().ok().map(Bytes::from)
    })
    .await
    .ok()
    .flatten()?;
    Some(asset.gzipped.get_or_init(|| body).clone())
}

/// The client's run-time settings: the optional basemap of `[web]` (off by default).
async fn web_config(State(state): State<AppState>) -> Json<serde_json::Value> {
    let web = &state.config.web;
    let set = |v: &String| (!v.is_empty()).then(|| v.clone());
    Json(json!({
        "basemap_url": set(&web.basemap_url),
        "basemap_attribution": set(&web.basemap_attribution),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fnv_is_stable() {
        assert_eq!(fnv1a(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a(b"a"), 0xaf63_dc4c_8601_ec8c);
    }

    #[test]
    fn index_names_hashed_assets() {
        let html =
            std::str::from_utf8(include_bytes!("../../../web-map/dist/index.html")).expect("utf-8");
        assert!(html.contains("/app.js?v="), "{html}");
        assert!(html.contains("/app.css?v="), "{html}");
    }
}
