//! Operations endpoints: liveness, readiness and metrics.

use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;

use super::error::ApiError;
use crate::app::AppState;

/// Liveness: the process answers.
pub async fn health() -> Json<serde_json::Value> {
    Json(json!({ "status": "ok" }))
}

/// How long `/ready` waits for the store.
const READY_PING_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(2);

/// Readiness: the store answers and the layers are loaded.
pub async fn ready(State(state): State<AppState>) -> Result<Json<serde_json::Value>, ApiError> {
    // Bounded: a load balancer asks often and must learn of an outage quickly.
    match tokio::time::timeout(READY_PING_TIMEOUT, state.store.ping()).await {
        Ok(Ok(())) => {}
        Ok(Err(e)) => {
            return Err(ApiError::Unavailable(format!(
                "store {} does not answer: {e}",
                state.store.kind()
            )))
        }
        Err(_) => {
            return Err(ApiError::Unavailable(format!(
                "store {} did not answer within {READY_PING_TIMEOUT:?}",
                state.store.kind()
            )))
        }
    }
    let layers: Vec<_> = state
        .atlas
        .layers()
        .iter()
        .map(|l| json!({"id": l.id(), "features": l.len(), "version": l.version}))
        .collect();
    Ok(Json(
        json!({ "status": "ready", "store": state.store.kind(), "layers": layers }),
    ))
}

/// Prometheus metrics in the text exposition format.
pub async fn metrics(State(state): State<AppState>) -> Response {
    let c = state.tiles.stats();
    let sample = |name, help, kind, value: f64| crate::metrics::Sample {
        name,
        help,
        kind,
        value,
    };
    let mut samples = vec![
        sample(
            "envatlas_tile_cache_hits_total",
            "Tile cache hits.",
            "counter",
            c.hits as f64,
        ),
        sample(
            "envatlas_tile_cache_misses_total",
            "Tile cache misses (tiles rendered).",
            "counter",
            c.misses as f64,
        ),
        sample(
            "envatlas_tile_cache_evictions_total",
            "Tiles evicted to stay within the cache size.",
            "counter",
            c.evictions as f64,
        ),
        sample(
            "envatlas_tile_cache_invalidations_total",
            "Tiles dropped because their layer changed.",
            "counter",
            c.invalidations as f64,
        ),
        sample(
            "envatlas_tile_cache_bytes",
            "Bytes held by the tile cache.",
            "gauge",
            c.bytes as f64,
        ),
        sample(
            "envatlas_tile_cache_capacity_bytes",
            "Tile cache capacity.",
            "gauge",
            c.capacity_bytes as f64,
        ),
        sample(
            "envatlas_tile_cache_entries",
            "Tiles held by the tile cache.",
            "gauge",
            c.entries as f64,
        ),
    ];
    samples.extend(state.monitoring.counters.samples());
    let body = state.metrics.render(&samples);
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        body,
    )
        .into_response()
}
