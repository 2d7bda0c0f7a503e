//! The OpenAPI 3.0 description of every route, served at `/api/openapi.json`.
//!
//! Written out by hand: the route table is small, and a generator would add a
//! macro per handler for little gain. A test checks that every route of the
//! router appears here.

use axum::extract::State;
use axum::Json;
use serde_json::{json, Value};

use crate::app::AppState;

/// Every path the router serves, as OpenAPI writes it.
pub const PATHS: [&str; 12] = [
    "/api",
    "/api/conformance",
    "/api/collections",
    "/api/collections/{collectionId}",
    "/api/collections/{collectionId}/queryables",
    "/api/collections/{collectionId}/items",
    "/api/collections/{collectionId}/items/{featureId}",
    "/api/openapi.json",
    "/health",
    "/ready",
    "/metrics",
    "/",
];

fn param(name: &str, location: &str, description: &str, schema: Value, required: bool) -> Value {
    json!({"name": name, "in": location, "description": description, "required": required, "schema": schema, "style": "form", "explode": false})
}

fn json_ok(description: &str, media: &str) -> Value {
    json!({"200": {"description": description, "content": {media: {"schema": {"type": "object"}}}},
           "400": {"$ref": "#/components/responses/Problem"}})
}

pub async fn openapi(State(state): State<AppState>) -> Json<Value> {
    Json(document(
        &state
            .atlas
            .layers()
            .iter()
            .map(|l| l.id().to_string())
            .collect::<Vec<_>>(),
        &state.config.limits,
    ))
}

/// The OpenAPI document for these collection ids.
pub fn document(collection_ids: &[String], limits: &crate::config::Limits) -> Value {
    let collection = param(
        "collectionId",
        "path",
        "Collection (layer) id",
        json!({"type": "string", "enum": collection_ids}),
        true,
    );
    let feature_id = param(
        "featureId",
        "path",
        "Feature id",
        json!({"type": "string"}),
        true,
    );
    let f = param(
        "f",
        "query",
        "Output format (json only)",
        json!({"type": "string", "enum": ["json"]}),
        false,
    );
    let items_params = json!([
        collection,
        param(
            "bbox",
            "query",
            "minLon,minLat,maxLon,maxLat in CRS84",
            json!({"type": "array", "items": {"type": "number"}, "minItems": 4, "maxItems": 4}),
            false
        ),
        param(
            "limit",
            "query",
            &format!(
                "Items per page (default {}, larger values clamped to {})",
                limits.items_default, limits.items_max
            ),
            json!({"type": "integer", "minimum": 0}),
            false
        ),
        param(
            "offset",
            "query",
            "Items to skip",
            json!({"type": "integer", "minimum": 0}),
            false
        ),
        param(
            "datetime",
            "query",
            "RFC 3339 instant or interval; validated (no layer has a temporal extent yet)",
            json!({"type": "string"}),
            false
        ),
        f,
    ]);
    let op = |summary: &str, tag: &str, params: Value, responses: Value| json!({"get": {"summary": summary, "tags": [tag], "parameters": params, "responses": responses}});
    let geojson = "application/geo+json";
    let mut paths = serde_json::Map::new();
    paths.insert(
        "/api".into(),
        op(
            "Landing page 服务首页",
            "OGC API Features",
            json!([]),
            json_ok("Links to the API", "application/json"),
        ),
    );
    paths.insert(
        "/api/conformance".into(),
        op(
            "Conformance classes 符合性类别",
            "OGC API Features",
            json!([]),
            json_ok("Conformance classes", "application/json"),
        ),
    );
    paths.insert(
        "/api/collections".into(),
        op(
            "Collections 图层列表",
            "OGC API Features",
            json!([]),
            json_ok("Every collection", "application/json"),
        ),
    );
    paths.insert(
        "/api/collections/{collectionId}".into(),
        op(
            "One collection 图层信息",
            "OGC API Features",
            json!([collection]),
            json_ok("Collection metadata", "application/json"),
        ),
    );
    paths.insert(
        "/api/collections/{collectionId}/queryables".into(),
        op(
            "Queryable properties 可查询属性",
            "OGC API Features",
            json!([collection]),
            json_ok("JSON Schema of the properties", "application/schema+json"),
        ),
    );
    paths.insert(
        "/api/collections/{collectionId}/items".into(),
        op(
            "Features 要素查询 (property filters: ?name=value)",
            "OGC API Features",
            items_params,
            json_ok("A page of features", geojson),
        ),
    );
    paths.insert(
        "/api/collections/{collectionId}/items/{featureId}".into(),
        op(
            "One feature 单个要素",
            "OGC API Features",
            json!([collection, feature_id, f]),
            json_ok("The feature", geojson),
        ),
    );
    paths.insert(
        "/api/openapi.json".into(),
        op(
            "This document",
            "Operations",
            json!([]),
            json_ok(
                "OpenAPI 3.0",
                "application/vnd.oai.openapi+json;version=3.0",
            ),
        ),
    );
    paths.insert(
        "/health".into(),
        op(
            "Liveness 存活检查",
            "Operations",
            json!([]),
            json_ok("The process answers", "application/json"),
        ),
    );
    paths.insert(
        "/ready".into(),
        op(
            "Readiness 就绪检查 (503 while the store is unreachable)",
            "Operations",
            json!([]),
            json_ok("Store reachable, layers loaded", "application/json"),
        ),
    );
    paths.insert(
        "/metrics".into(),
        op(
            "Prometheus metrics 运行指标",
            "Operations",
            json!([]),
            json!({"200": {"description": "Text exposition format", "content": {"text/plain": {}}}}),
        ),
    );
    paths.insert(
        "/".into(),
        op(
            "Web map 网页地图",
            "Web map",
            json!([]),
            json!({"200": {"description": "The web map", "content": {"text/html": {}}}}),
        ),
    );
    json!({
        "openapi": "3.0.3",
        "info": {
            "title": "envatlas API",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "环境空间决策支持服务 API。 OGC API Features, vector tiles and spatial analysis for environmental protection bureaus. Errors are RFC 9457 problem+json."
        },
        "paths": paths,
        "components": {
            "responses": {
                "Problem": {
                    "description": "RFC 9457 problem details",
                    "content": {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}
                }
            },
            "schemas": {
                "Problem": {
                    "type": "object",
                    "required": ["type", "title", "status", "detail"],
                    "properties": {
                        "type": {"type": "string"}, "title": {"type": "string"}, "status": {"type": "integer"},
                        "detail": {"type": "string"}, "parameter": {"type": "string"},
                        "errors": {"type": "array", "items": {"type": "object"}}
                    }
                }
            }
        }
    })
}
