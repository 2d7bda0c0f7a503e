//! `GET /api/analysis/nearest` with a middleware stack of its own, as the tile
//! routes have (see [`super::tiles`]): the route answers many small requests
//! (a click on the map, an app polling) whose search takes tens of
//! microseconds, so the per-request clones and layers of the shared stack
//! are a visible share of their CPU.
//!
//! A [`NearestRoute`] service takes every method on the path and answers as
//! the shared stack did, header for header: GET and HEAD run the handler and
//! get CORS for any origin (as the `CorsLayer` writes it for a simple
//! request), `nosniff`, and the request metrics under the route template. A
//! request announcing a body over `limits.max_body_bytes` gets the 413
//! problem, other methods the 405 problem with `Allow: GET,HEAD` (neither
//! counted in the metrics, as before: the shared stack answers them outside
//! its metrics layer). Preflight `OPTIONS` requests go through the
//! `CorsLayer`. The debug-level `TraceLayer` spans are skipped.

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Instant;

use axum::extract::{FromRequestParts, Request};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Router;
use tower::util::BoxCloneSyncService;
use tower::{Service, ServiceExt};
use tower_http::cors::CorsLayer;

use super::error::ApiError;
use super::extract::QueryPairs;
use crate::app::AppState;

/// The route template, as `/metrics` labels it.
pub const NEAREST_ROUTE: &str = "/api/analysis/nearest";

/// The nearest route, merged into the main router by [`super::router`].
pub fn routes(state: AppState, cors: CorsLayer) -> Router {
    let preflight = BoxCloneSyncService::new(tower::ServiceBuilder::new().layer(cors).service_fn(
        |_: Request| async { Ok::<_, Infallible>(StatusCode::NO_CONTENT.into_response()) },
    ));
    let service = NearestRoute {
        shared: Arc::new(Shared {
            app: state,
            preflight,
        }),
    };
    Router::new().route_service(NEAREST_ROUTE, service)
}

struct Shared {
    app: AppState,
    /// The `CorsLayer` answering preflight requests (it never calls the inner service).
    preflight: BoxCloneSyncService<Request, Response, Infallible>,
}

/// Every method of `/api/analysis/nearest`; cloned per request (one `Arc`).
#[derive(Clone)]
pub struct NearestRoute {
    shared: Arc<Shared>,
}

impl Service<Request> for NearestRoute {
    type Response = Response;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Response, Infallible>> + Send>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: Request) -> Self::Future {
        let shared = self.shared.clone();
        Box::pin(async move { Ok(answer(&shared, request).await) })
    }
}

async fn answer(shared: &Shared, request: Request) -> Response {
    let started = Instant::now();
    let (mut parts, _body) = request.into_parts();
    let routed = matches!(parts.method, Method::GET | Method::HEAD);
    if parts.method == Method::OPTIONS {
        // Preflight: answered by the `CorsLayer` before any body check.
        let request = Request::from_parts(parts, axum::body::Body::empty());
        let mut response = match shared.preflight.clone().oneshot(request).await {
            Ok(response) => response,
            Err(never) => match never {},
        };
        nosniff(response.headers_mut());
        allow(response.headers_mut());
        return response;
    }
    // What the shared stack answers outside its metrics layer: a body over
    // the limit (any method) and other methods than GET and HEAD.
    let limit = shared.app.config.limits.max_body_bytes;
    let refused = match within_body_limit(&parts.headers, limit) {
        Err(e) => Some(e.into_response()),
        Ok(()) if !routed => {
            Some(super::method_not_allowed(parts.method.clone(), parts.uri.clone()).await)
        }
        Ok(()) => None,
    };
    if let Some(mut response) = refused {
        let h = response.headers_mut();
        super::simple_cors_headers(h);
        if !routed {
            allow(h);
        }
        return response;
    }
    let result = match QueryPairs::from_request_parts(&mut parts, &()).await {
        Ok(q) => super::analysis::nearest(&shared.app, &q).await,
        Err(e) => Err(e),
    };
    let mut response = result.unwrap_or_else(IntoResponse::into_response);
    super::simple_cors_headers(response.headers_mut());
    shared.app.metrics.observe(
        parts.method.as_str(),
        NEAREST_ROUTE,
        response.status().as_u16(),
        started.elapsed().as_secs_f64(),
    );
    response
}

/// The methods of the route, as axum's method router lists them.
fn allow(headers: &mut HeaderMap) {
    headers.insert(header::ALLOW, HeaderValue::from_static("GET,HEAD"));
}

fn nosniff(headers: &mut HeaderMap) {
    headers
        .entry(header::X_CONTENT_TYPE_OPTIONS)
        .or_insert(HeaderValue::from_static("nosniff"));
}

/// The body-limit layer's check before any handler: a `Content-Length` over
/// the limit is a 413 (the handler reads no body, so nothing else can exceed it).
fn within_body_limit(headers: &HeaderMap, limit: usize) -> Result<(), ApiError> {
    let announced = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    match announced {
        Some(n) if n > limit as u64 => Err(ApiError::PayloadTooLarge(format!(
            "the request body is larger than limits.max_body_bytes ({limit} bytes)"
        ))),
        _ => Ok(()),
    }
}
