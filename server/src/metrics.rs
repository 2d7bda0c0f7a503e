//! Prometheus metrics: requests and latency by route, plus gauges and counters
//! other modules report (the tile cache), rendered in the text exposition format.
//!
//! A small registry of our own rather than a metrics crate: the set is fixed and
//! tiny, and routes are labelled by their template (`/api/collections/{id}/items`),
//! never by the raw path, so label cardinality stays bounded.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Mutex;
use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::middleware::Next;
use axum::response::Response;

/// Upper bounds (seconds) of the latency histogram buckets.
const BUCKETS_S: [f64; 12] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 5.0,
];

#[derive(Debug, Default, Clone)]
struct RouteStats {
    /// Requests by status code.
    by_status: BTreeMap<u16, u64>,
    /// Cumulative counts per bucket, as Prometheus wants them.
    buckets: [u64; BUCKETS_S.len()],
    count: u64,
    sum_s: f64,
}

/// Request metrics of the HTTP server.
#[derive(Debug, Default)]
pub struct Metrics {
    /// Route template → method → stats. Looked up by `&str`, so the hot path
    /// allocates only the first time a route is seen.
    routes: Mutex<BTreeMap<String, BTreeMap<String, RouteStats>>>,
}

/// A sample another module contributes to `/metrics`.
#[derive(Debug, Clone)]
pub struct Sample {
    pub name: &'static str,
    pub help: &'static str,
    /// `counter` or `gauge`.
    pub kind: &'static str,
    pub value: f64,
}

impl Metrics {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn observe(&self, method: &str, route: &str, status: u16, seconds: f64) {
        let mut routes = self.routes.lock().unwrap_or_else(|e| e.into_inner());
        if !routes.contains_key(route) {
            routes.insert(route.to_string(), BTreeMap::new());
        }
        let Some(methods) = routes.get_mut(route) else {
            return;
        };
        if !methods.contains_key(method) {
            methods.insert(method.to_string(), RouteStats::default());
        }
        let Some(stats) = methods.get_mut(method) else {
            return;
        };
        *stats.by_status.entry(status).or_default() += 1;
        stats.count += 1;
        stats.sum_s += seconds;
        for (bucket, bound) in stats.buckets.iter_mut().zip(BUCKETS_S) {
            if seconds <= bound {
                *bucket += 1;
            }
        }
    }

    /// The text exposition of every metric, with `extra` samples appended.
    pub fn render(&self, extra: &[Sample]) -> String {
        let routes: Vec<((String, String), RouteStats)> = self
            .routes
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .flat_map(|(route, methods)| {
                methods
                    .iter()
                    .map(|(method, stats)| ((method.clone(), route.clone()), stats.clone()))
            })
            .collect();
        let mut out = String::new();
        out.push_str("# HELP envatlas_http_requests_total HTTP requests by route template, method and status.\n");
        out.push_str("# TYPE envatlas_http_requests_total counter\n");
        for ((method, route), stats) in &routes {
            for (status, n) in &stats.by_status {
                let _ = writeln!(
                    out,
                    "envatlas_http_requests_total{{method=\"{method}\",route=\"{}\",status=\"{status}\"}} {n}",
                    escape(route)
                );
            }
        }
        out.push_str("# HELP envatlas_http_request_duration_seconds HTTP request latency by route template.\n");
        out.push_str("# TYPE envatlas_http_request_duration_seconds histogram\n");
        for ((method, route), stats) in &routes {
            let labels = format!("method=\"{method}\",route=\"{}\"", escape(route));
            for (n, bound) in stats.buckets.iter().zip(BUCKETS_S) {
                let _ = writeln!(
                    out,
                    "envatlas_http_request_duration_seconds_bucket{{{labels},le=\"{bound}\"}} {n}"
                );
            }
            let _ = writeln!(
                out,
                "envatlas_http_request_duration_seconds_bucket{{{labels},le=\"+Inf\"}} {}",
                stats.count
            );
            let _ = writeln!(
                out,
                "envatlas_http_request_duration_seconds_sum{{{labels}}} {}",
                stats.sum_s
            );
            let _ = writeln!(
                out,
                "envatlas_http_request_duration_seconds_count{{{labels}}} {}",
                stats.count
            );
        }
        for s in extra {
            let _ = writeln!(
                out,
                "# HELP {} {}\n# TYPE {} {}\n{} {}",
                s.name, s.help, s.name, s.kind, s.name, s.value
            );
        }
        out
    }
}

fn escape(label: &str) -> String {
    label
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

/// Middleware recording every request under its route template.
pub async fn track(
    State(metrics): State<std::sync::Arc<Metrics>>,
    request: Request,
    next: Next,
) -> Response {
    let started = Instant::now();
    // Both are cheap clones (a method enum, an `Arc<str>`).
    let method = request.method().clone();
    let route = request.extensions().get::<MatchedPath>().cloned();
    let response = next.run(request).await;
    let route = route.as_ref().map_or("unmatched", MatchedPath::as_str);
    metrics.observe(
        method.as_str(),
        route,
        response.status().as_u16(),
        started.elapsed().as_secs_f64(),
    );
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_counters_and_histograms() {
        let m = Metrics::new();
        m.observe("GET", "/tiles/{layers}/{z}/{x}/{y}", 200, 0.002);
        m.observe("GET", "/tiles/{layers}/{z}/{x}/{y}", 200, 0.2);
        m.observe("GET", "/tiles/{layers}/{z}/{x}/{y}", 400, 0.0001);
        let text = m.render(&[Sample {
            name: "envatlas_tile_cache_hits_total",
            help: "Hits.",
            kind: "counter",
            value: 3.0,
        }]);
        assert!(text.contains("envatlas_http_requests_total{method=\"GET\",route=\"/tiles/{layers}/{z}/{x}/{y}\",status=\"200\"} 2"));
        assert!(text.contains("le=\"0.0025\"} 2"), "{text}");
        assert!(text.contains("le=\"+Inf\"} 3"));
        assert!(text.contains("envatlas_tile_cache_hits_total 3"));
    }
}
