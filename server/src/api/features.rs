//! OGC API – Features Part 1 (Core, GeoJSON): landing page, conformance,
//! collections, items and single features, plus queryables.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value as Json_};
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

use super::error::ApiError;
use super::extract::{parse_bbox, parse_count, parse_datetime, parse_limit, BaseUrl, QueryPairs};
use crate::app::AppState;
use crate::atlas::Layer;
use crate::model::geojson::feature_to_json;
use crate::model::{LayerSchema, Value};

pub const GEOJSON: &str = "application/geo+json";
const CRS84: &str = "http://www.opengis.net/def/crs/OGC/1.3/CRS84";

/// Parameters of `/items` that are not property filters.
const ITEM_PARAMS: [&str; 5] = ["bbox", "limit", "offset", "datetime", "f"];

pub const CONFORMANCE: [&str; 9] = [
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30",
    "http://www.opengis.net/spec/ogcapi-common-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/queryables",
    "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/tileset",
    "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/geodata-tilesets",
    "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/mvt",
];

fn geojson_response(body: Json_) -> Response {
    ([(header::CONTENT_TYPE, GEOJSON)], body.to_string()).into_response()
}

fn check_format(q: &QueryPairs) -> Result<(), ApiError> {
    match q.single("f")? {
        None | Some("json") | Some("geojson") => Ok(()),
        Some(other) => Err(ApiError::bad_param(
            "f",
            format!("format '{other}' is not offered; use f=json"),
        )),
    }
}

pub(crate) fn layer_or_404(state: &AppState, id: &str) -> Result<Arc<Layer>, ApiError> {
    state.atlas.layer(id).ok_or_else(|| {
        ApiError::NotFound(format!(
            "collection '{id}' does not exist; see /api/collections"
        ))
    })
}

pub async fn landing(BaseUrl(base): BaseUrl) -> Json<Json_> {
    Json(json!({
        "title": "envatlas 环境空间决策支持服务 / Environmental spatial decision support",
        "description": "宜宾市生态环境专题地图服务：污染源、饮用水水源地及保护区、农村生态、监测数据。 Thematic map service for the Yibin ecology and environment bureau: pollution sources, drinking-water sources and protection zones, rural ecology, monitoring data.",
        "links": [
            {"href": format!("{base}/api"), "rel": "self", "type": "application/json", "title": "This document"},
            {"href": format!("{base}/api/openapi.json"), "rel": "service-desc", "type": "application/vnd.oai.openapi+json;version=3.0", "title": "OpenAPI definition"},
            {"href": format!("{base}/api/conformance"), "rel": "conformance", "type": "application/json", "title": "Conformance classes"},
            {"href": format!("{base}/api/collections"), "rel": "data", "type": "application/json", "title": "Collections"},
            {"href": format!("{base}/api/tileMatrixSets"), "rel": "http://www.opengis.net/def/rel/ogc/1.0/tiling-schemes", "type": "application/json", "title": "Tile matrix sets"},
            {"href": format!("{base}/"), "rel": "alternate", "type": "text/html", "title": "Web map"}
        ]
    }))
}

pub async fn conformance() -> Json<Json_> {
    Json(json!({ "conformsTo": CONFORMANCE }))
}

/// One collection's metadata.
fn collection_json(base: &str, layer: &Layer) -> Json_ {
    let s = &layer.schema;
    let bbox = layer
        .extent()
        .map(|r| vec![r.min().x, r.min().y, r.max().x, r.max().y])
        .unwrap_or_else(|| vec![-180.0, -90.0, 180.0, 90.0]);
    let href = format!("{base}/api/collections/{}", s.id);
    json!({
        "id": s.id,
        "title": format!("{} / {}", s.title_zh, s.title_en),
        "description": format!("{} {}", s.description_zh, s.description_en),
        "title_zh": s.title_zh,
        "title_en": s.title_en,
        "itemType": "feature",
        "crs": [CRS84],
        "storageCrs": CRS84,
        "extent": {"spatial": {"bbox": [bbox], "crs": CRS84}},
        "geometryType": s.geometry.ogc_name(),
        "featureCount": layer.len(),
        "version": layer.version,
        "style": s.style,
        "properties": s.properties,
        "links": [
            {"href": href, "rel": "self", "type": "application/json", "title": s.title_en},
            {"href": format!("{href}/items"), "rel": "items", "type": GEOJSON, "title": "Items"},
            {"href": format!("{href}/queryables"), "rel": "http://www.opengis.net/def/rel/ogc/1.0/queryables", "type": "application/schema+json", "title": "Queryables"},
            {"href": format!("{href}/tiles"), "rel": "http://www.opengis.net/def/rel/ogc/1.0/tilesets-vector", "type": "application/json", "title": "Vector tilesets"}
        ]
    })
}

pub async fn collections(State(state): State<AppState>, BaseUrl(base): BaseUrl) -> Json<Json_> {
    let collections: Vec<Json_> = state
        .atlas
        .layers()
        .iter()
        .map(|l| collection_json(&base, l))
        .collect();
    Json(json!({
        "links": [{"href": format!("{base}/api/collections"), "rel": "self", "type": "application/json"}],
        "collections": collections,
    }))
}

pub async fn collection(
    State(state): State<AppState>,
    BaseUrl(base): BaseUrl,
    Path(id): Path<String>,
) -> Result<Json<Json_>, ApiError> {
    let layer = layer_or_404(&state, &id)?;
    Ok(Json(collection_json(&base, &layer)))
}

pub async fn queryables(
    State(state): State<AppState>,
    BaseUrl(base): BaseUrl,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let layer = layer_or_404(&state, &id)?;
    let mut props = serde_json::Map::new();
    props.insert(
        "id".into(),
        json!({"type": "string", "title": "Feature id"}),
    );
    props.insert(
        "fid".into(),
        json!({"type": "integer", "title": "Feature number"}),
    );
    for p in &layer.schema.properties {
        props.insert(p.name.clone(), json!({"type": p.kind.json_schema_type(), "title": format!("{} / {}", p.title_zh, p.title_en)}));
    }
    let body = json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": format!("{base}/api/collections/{id}/queryables"),
        "type": "object",
        "title": layer.schema.title_en,
        "properties": props,
        "additionalProperties": false,
    });
    Ok((
        [(header::CONTENT_TYPE, "application/schema+json")],
        body.to_string(),
    )
        .into_response())
}

/// A property filter `?name=value`, typed by the schema.
struct PropertyFilter {
    position: Option<usize>,
    is_id: bool,
    text: String,
    value: Value,
}

fn property_filters(q: &QueryPairs, schema: &LayerSchema) -> Result<Vec<PropertyFilter>, ApiError> {
    q.0.iter()
        .filter(|(k, _)| !ITEM_PARAMS.contains(&k.as_str()))
        .map(|(name, text)| {
            if name == "id" || name == "fid" {
                return Ok(PropertyFilter { position: None, is_id: name == "id", text: text.clone(), value: Value::Null });
            }
            let position = schema.position(name).ok_or_else(|| {
                ApiError::bad_param(
                    name,
                    format!("'{name}' is not a property of collection '{}' nor a known parameter; see /api/collections/{}/queryables", schema.id, schema.id),
                )
            })?;
            let ty = schema.properties[position].kind;
            let value = Value::parse_query(text, ty).ok_or_else(|| {
                ApiError::bad_param(name, format!("'{text}' is not a valid {} for property '{name}'", ty.json_schema_type()))
            })?;
            Ok(PropertyFilter { position: Some(position), is_id: false, text: text.clone(), value })
        })
        .collect()
}

pub async fn items(
    State(state): State<AppState>,
    BaseUrl(base): BaseUrl,
    Path(id): Path<String>,
    q: QueryPairs,
) -> Result<Response, ApiError> {
    let layer = layer_or_404(&state, &id)?;
    check_format(&q)?;
    let limits = &state.config.limits;
    let limit = parse_limit(q.single("limit")?, limits.items_default, limits.items_max)?;
    let offset = q
        .single("offset")?
        .map(|t| parse_count("offset", t))
        .transpose()?
        .unwrap_or(0);
    let bbox = q.single("bbox")?.map(parse_bbox).transpose()?;
    if let Some(dt) = q.single("datetime")? {
        // No layer has a temporal extent yet: validated, otherwise ignored.
        parse_datetime(dt)?;
    }
    let filters = property_filters(&q, &layer.schema)?;

    let features = layer.features();
    let candidates: Box<dyn Iterator<Item = &crate::model::Feature>> = match &bbox {
        Some(r) => Box::new(
            layer
                .intersecting(r)
                .into_iter()
                .filter_map(|i| features.get(i as usize)),
        ),
        None => Box::new(features.iter()),
    };
    let matched: Vec<&crate::model::Feature> = candidates
        .filter(|f| {
            filters.iter().all(|flt| match flt.position {
                Some(p) => f.properties.get(p) == Some(&flt.value),
                None if flt.is_id => f.id.as_ref() == flt.text,
                None => f.fid.to_string() == flt.text,
            })
        })
        .collect();
    let page: Vec<Json_> = matched
        .iter()
        .skip(offset)
        .take(limit)
        .map(|f| feature_to_json(f, &layer.schema))
        .collect();

    let self_href = format!("{base}/api/collections/{id}/items");
    let query_without_paging: Vec<(String, String)> =
        q.0.iter()
            .filter(|(k, _)| k != "offset" && k != "limit")
            .cloned()
            .collect();
    let page_link = |rel: &str, off: usize| {
        let mut pairs = query_without_paging.clone();
        pairs.push(("limit".into(), limit.to_string()));
        pairs.push(("offset".into(), off.to_string()));
        json!({"href": format!("{self_href}?{}", encode_query(&pairs)), "rel": rel, "type": GEOJSON})
    };
    let mut links = vec![
        json!({"href": format!("{self_href}{}", if q.0.is_empty() { String::new() } else { format!("?{}", encode_query(&q.0)) }), "rel": "self", "type": GEOJSON}),
        json!({"href": format!("{base}/api/collections/{id}"), "rel": "collection", "type": "application/json"}),
    ];
    if limit > 0 && offset + page.len() < matched.len() {
        links.push(page_link("next", offset + limit));
    }
    if offset > 0 {
        links.push(page_link("prev", offset.saturating_sub(limit)));
    }
    Ok(geojson_response(json!({
        "type": "FeatureCollection",
        "numberMatched": matched.len(),
        "numberReturned": page.len(),
        "timeStamp": OffsetDateTime::now_utc().format(&Rfc3339).unwrap_or_default(),
        "links": links,
        "features": page,
    })))
}

pub async fn item(
    State(state): State<AppState>,
    BaseUrl(base): BaseUrl,
    Path((id, feature_id)): Path<(String, String)>,
    q: QueryPairs,
) -> Result<Response, ApiError> {
    let layer = layer_or_404(&state, &id)?;
    check_format(&q)?;
    let feature = layer.get(&feature_id).ok_or_else(|| {
        ApiError::NotFound(format!("collection '{id}' has no feature '{feature_id}'"))
    })?;
    let mut body = feature_to_json(feature, &layer.schema);
    body["links"] = json!([
        {"href": format!("{base}/api/collections/{id}/items/{}", encode_component(&feature_id)), "rel": "self", "type": GEOJSON},
        {"href": format!("{base}/api/collections/{id}"), "rel": "collection", "type": "application/json"}
    ]);
    Ok(geojson_response(body))
}

/// Percent-encodes a query string's pairs.
pub fn encode_query(pairs: &[(String, String)]) -> String {
    pairs
        .iter()
        .map(|(k, v)| format!("{}={}", encode_component(k), encode_component(v)))
        .collect::<Vec<_>>()
        .join("&")
}

/// Percent-encodes everything but RFC 3986 unreserved characters (and `,`,
/// which keeps bbox values readable).
pub fn encode_component(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~,".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}
