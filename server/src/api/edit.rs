//! Feature editing in the style of OGC API – Features Part 4 (Create, Replace,
//! Update, Delete): `POST …/items`, `PUT`/`PATCH`/`DELETE …/items/{featureId}`.
//!
//! Every handler takes [`WriteAccess`] first (no body is read for a caller
//! who may not write), validates the body with [`crate::model::validate`],
//! commits to the store (one transaction, which also records the change for
//! other instances) and only then applies the change to the atlas, so a
//! failed write changes nothing. A store that cannot be reached answers 503.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use rand::Rng;
use serde_json::json;

use super::auth::WriteAccess;
use super::error::{problem, ApiError};
use super::extract::BaseUrl;
use super::features::{encode_component, layer_or_404, GEOJSON};
use crate::app::AppState;
use crate::atlas::LayerChange;
use crate::model::geojson::feature_to_json;
use crate::model::validate::{edited_feature, EditError, EditMode};
use crate::model::{Feature, LayerSchema};
use crate::store::StoreError;

type Reply = Result<Response, Failure>;

/// Why an edit failed (kept small: handlers pass it around in `Result`s).
#[derive(Debug)]
pub enum Failure {
    Api(ApiError),
    /// A create whose ids exist already: 409.
    Conflict(Vec<String>),
}

impl From<ApiError> for Failure {
    fn from(e: ApiError) -> Self {
        Failure::Api(e)
    }
}

impl From<EditError> for Failure {
    fn from(e: EditError) -> Self {
        Failure::Api(ApiError::bad_param(e.parameter, e.detail))
    }
}

impl From<StoreError> for Failure {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Conflict(ids) => Failure::Conflict(ids),
            e if e.is_unavailable() => Failure::Api(ApiError::Unavailable(e.to_string())),
            e => Failure::Api(ApiError::from(e)),
        }
    }
}

impl IntoResponse for Failure {
    fn into_response(self) -> Response {
        match self {
            Failure::Api(e) => e.into_response(),
            Failure::Conflict(ids) => problem(
                StatusCode::CONFLICT,
                "conflict",
                &format!(
                    "要素已存在。A feature with id '{}' already exists; use PUT or PATCH on it",
                    ids.join("', '")
                ),
                json!({ "parameter": "id" }),
            ),
        }
    }
}

fn parse_json(body: &Bytes) -> Result<serde_json::Value, Failure> {
    serde_json::from_slice(body)
        .map_err(|e| ApiError::bad_param("body", format!("the body is not JSON: {e}")).into())
}

/// An id for a created feature that did not bring one.
fn new_feature_id() -> String {
    let n: u64 = rand::thread_rng().gen();
    format!("f{n:016x}")
}

fn not_found(layer: &str, id: &str) -> Failure {
    ApiError::NotFound(format!("collection '{layer}' has no feature '{id}'")).into()
}

/// The stored feature (from the store, not the atlas: another instance may
/// have changed it since this one last heard).
async fn current(state: &AppState, schema: &LayerSchema, id: &str) -> Result<Feature, Failure> {
    state
        .store
        .features_by_id(schema, &[id.to_string()])
        .await
        .map_err(Failure::from)?
        .into_iter()
        .next()
        .ok_or_else(|| not_found(&schema.id, id))
}

/// Applies a committed change to the atlas off the async workers (rebuilding
/// a large layer's R-tree takes a while).
async fn apply(state: &AppState, layer_id: &str, change: LayerChange) -> Result<(), Failure> {
    let state = state.clone();
    let layer_id = layer_id.to_string();
    tokio::task::spawn_blocking(move || state.apply_change(&layer_id, change))
        .await
        .map_err(|e| ApiError::Internal(format!("applying a change panicked: {e}")))?;
    Ok(())
}

fn feature_response(
    status: StatusCode,
    feature: &Feature,
    schema: &LayerSchema,
    location: Option<String>,
) -> Response {
    let body = feature_to_json(feature, schema).to_string();
    let mut response = (status, [(header::CONTENT_TYPE, GEOJSON)], body).into_response();
    if let Some(location) = location.and_then(|l| header::HeaderValue::from_str(&l).ok()) {
        response.headers_mut().insert(header::LOCATION, location);
    }
    response
}

/// `POST /api/collections/{id}/items`: 201 with `Location` and the stored feature.
pub async fn create(
    _: WriteAccess,
    State(state): State<AppState>,
    BaseUrl(base): BaseUrl,
    Path(layer_id): Path<String>,
    body: Bytes,
) -> Reply {
    let layer = layer_or_404(&state, &layer_id)?;
    let json = parse_json(&body)?;
    let schema = layer.schema.clone();
    let new = edited_feature(
        &schema,
        &json,
        EditMode::Create,
        None,
        None,
        state.config.limits.max_vertices,
        new_feature_id,
    )?;
    let stored = state
        .store
        .create_features(&schema, std::slice::from_ref(&new))
        .await
        .map_err(Failure::from)?;
    let feature = stored
        .into_iter()
        .next()
        .ok_or_else(|| ApiError::Internal("the store returned no feature".into()))?;
    apply(
        &state,
        &layer_id,
        LayerChange {
            upserts: vec![feature.clone()],
            deletes: vec![],
        },
    )
    .await?;
    let location = format!(
        "{base}/api/collections/{layer_id}/items/{}",
        encode_component(&feature.id)
    );
    Ok(feature_response(
        StatusCode::CREATED,
        &feature,
        &schema,
        Some(location),
    ))
}

async fn update(
    state: AppState,
    layer_id: String,
    feature_id: String,
    body: Bytes,
    mode: EditMode,
) -> Reply {
    let layer = layer_or_404(&state, &layer_id)?;
    let json = parse_json(&body)?;
    let schema = layer.schema.clone();
    let existing = current(&state, &schema, &feature_id).await?;
    let new = edited_feature(
        &schema,
        &json,
        mode,
        Some(&feature_id),
        Some(&existing),
        state.config.limits.max_vertices,
        new_feature_id,
    )?;
    let stored = state
        .store
        .upsert_features(&schema, std::slice::from_ref(&new))
        .await
        .map_err(Failure::from)?;
    let feature = stored
        .into_iter()
        .next()
        .ok_or_else(|| ApiError::Internal("the store returned no feature".into()))?;
    apply(
        &state,
        &layer_id,
        LayerChange {
            upserts: vec![feature.clone()],
            deletes: vec![],
        },
    )
    .await?;
    Ok(feature_response(StatusCode::OK, &feature, &schema, None))
}

/// `PUT /api/collections/{id}/items/{featureId}`: replaces geometry and
/// properties of an existing feature; 200 with the stored feature.
pub async fn replace(
    _: WriteAccess,
    State(state): State<AppState>,
    Path((layer_id, feature_id)): Path<(String, String)>,
    body: Bytes,
) -> Reply {
    update(state, layer_id, feature_id, body, EditMode::Replace).await
}

/// `PATCH /api/collections/{id}/items/{featureId}`: merges the given
/// properties (null clears one) and, when given, the geometry.
pub async fn patch(
    _: WriteAccess,
    State(state): State<AppState>,
    Path((layer_id, feature_id)): Path<(String, String)>,
    body: Bytes,
) -> Reply {
    update(state, layer_id, feature_id, body, EditMode::Merge).await
}

/// `DELETE /api/collections/{id}/items/{featureId}`: 204, or 404 when absent.
pub async fn delete(
    _: WriteAccess,
    State(state): State<AppState>,
    Path((layer_id, feature_id)): Path<(String, String)>,
) -> Reply {
    let layer = layer_or_404(&state, &layer_id)?;
    let deleted = state
        .store
        .delete_features(&layer.schema, std::slice::from_ref(&feature_id))
        .await
        .map_err(Failure::from)?;
    if deleted.is_empty() {
        return Err(not_found(&layer_id, &feature_id));
    }
    apply(
        &state,
        &layer_id,
        LayerChange {
            upserts: vec![],
            deletes: deleted,
        },
    )
    .await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// The editing operations for the OpenAPI document: (path, method, operation).
pub fn openapi_operations(
    collection_ids: &[String],
    limits: &crate::config::Limits,
) -> Vec<(&'static str, &'static str, serde_json::Value)> {
    let collection = json!({"name": "collectionId", "in": "path", "required": true,
        "schema": {"type": "string", "enum": collection_ids}});
    let feature =
        json!({"name": "featureId", "in": "path", "required": true, "schema": {"type": "string"}});
    let body = |what: &str| {
        json!({"required": true, "description": format!("{what} At most {} bytes and {} positions; `fid`, `status` and `synthetic` are read-only.", limits.max_body_bytes, limits.max_vertices),
            "content": {GEOJSON: {"schema": {"type": "object", "required": ["type"],
                "properties": {"type": {"enum": ["Feature"]}, "id": {"type": "string"},
                    "geometry": {"type": "object"}, "properties": {"type": "object"}}}}}})
    };
    let problem = json!({"$ref": "#/components/responses/Problem"});
    let errors = json!({"400": problem, "401": problem, "403": problem, "404": problem,
        "409": problem, "413": problem, "503": problem});
    let ok = json!({"description": "The stored feature", "content": {GEOJSON: {}}});
    let op = |summary: &str,
              params: serde_json::Value,
              body: Option<serde_json::Value>,
              success: (&str, serde_json::Value)| {
        let mut responses = errors.clone();
        responses[success.0] = success.1;
        let mut o = json!({"summary": summary, "tags": ["OGC API Features (editing)"],
            "parameters": params, "responses": responses});
        if let Some(b) = body {
            o["requestBody"] = b;
        }
        o
    };
    let mut created = json!({"description": "Created; `Location` names the new feature", "content": {GEOJSON: {}}});
    created["headers"] = json!({"Location": {"schema": {"type": "string"}}});
    vec![
        ("/api/collections/{collectionId}/items", "post",
            op("Create a feature 新增要素 (bearer token)", json!([collection]), Some(body("A GeoJSON Feature; without `id` the server assigns one.")), ("201", created))),
        ("/api/collections/{collectionId}/items/{featureId}", "put",
            op("Replace a feature 替换要素 (bearer token)", json!([collection, feature]), Some(body("The whole feature: geometry and every property (absent ones are cleared).")), ("200", ok.clone()))),
        ("/api/collections/{collectionId}/items/{featureId}", "patch",
            op("Update a feature 修改要素 (bearer token)", json!([collection, feature]), Some(body("A partial feature: given properties are merged (null clears one); geometry optional.")), ("200", ok))),
        ("/api/collections/{collectionId}/items/{featureId}", "delete",
            op("Delete a feature 删除要素 (bearer token)", json!([collection, feature]), None, ("204", json!({"description": "Deleted"})))),
    ]
}
