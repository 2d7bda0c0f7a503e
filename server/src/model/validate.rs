//! Validation of edited features (OGC API Features Part 4 bodies) against a
//! layer's schema, before anything is written.
//!
//! Rules (documented in docs/api.md, "Editing"):
//! - The body is a GeoJSON Feature. Every property must be declared by the
//!   layer and fit its type; all unknown or mistyped properties are reported
//!   together.
//! - Read-only properties: `fid` (the store assigns it), `status` (computed by
//!   monitoring) and `synthetic` (whether the sample generator made the
//!   feature; an edit through the API is real data). A body may repeat them
//!   with the value the server keeps (so a GET → edit → PUT round trip works);
//!   any other value is rejected.
//! - The geometry must be of the layer's kind, have at most `max_vertices`
//!   positions and be valid (OGC simple-feature rules via `geo::Validation`:
//!   closed rings, no self-intersection, holes inside their shell, …).

use geo::{CoordsIter, Validation};
use geo_types::Geometry;
use serde_json::{Map, Value as Json};

use super::feature::{Feature, NewFeature};
use super::geojson::parse_geometry;
use super::schema::LayerSchema;
use super::value::Value;

/// Properties clients may not set.
pub const READ_ONLY: [&str; 3] = ["fid", "status", "synthetic"];

/// Why an edit was rejected; `parameter` names the offending part of the body.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{detail}")]
pub struct EditError {
    /// `geometry`, `properties`, `id` or `body`.
    pub parameter: &'static str,
    pub detail: String,
}

fn err(parameter: &'static str, detail: impl Into<String>) -> EditError {
    EditError {
        parameter,
        detail: detail.into(),
    }
}

/// How a body is applied.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EditMode {
    /// POST: a new feature; geometry required, absent properties are null.
    Create,
    /// PUT: replaces geometry and every property (absent ones become null).
    Replace,
    /// PATCH: merges; absent geometry and properties keep their values, a
    /// property set to `null` is cleared.
    Merge,
}

/// The parts of a parsed Feature body.
struct Body<'a> {
    id: Option<String>,
    geometry: Option<Geometry<f64>>,
    properties: &'a Map<String, Json>,
}

fn parse_body<'a>(json: &'a Json, empty: &'a Map<String, Json>) -> Result<Body<'a>, EditError> {
    let obj = json
        .as_object()
        .ok_or_else(|| err("body", "the body must be a GeoJSON Feature object"))?;
    match obj.get("type").and_then(Json::as_str) {
        Some("Feature") => {}
        Some(other) => {
            return Err(err(
                "body",
                format!("the body must be a GeoJSON Feature, not a {other}"),
            ))
        }
        None => return Err(err("body", "the body has no \"type\": \"Feature\"")),
    }
    let properties = match obj.get("properties") {
        None | Some(Json::Null) => empty,
        Some(Json::Object(m)) => m,
        Some(_) => return Err(err("properties", "'properties' must be an object")),
    };
    let id = match obj.get("id").or_else(|| properties.get("id")) {
        None | Some(Json::Null) => None,
        Some(Json::String(s)) if !s.trim().is_empty() => Some(s.clone()),
        Some(Json::Number(n)) => Some(n.to_string()),
        Some(_) => return Err(err("id", "'id' must be a non-empty string")),
    };
    if let (Some(Json::String(top)), Some(Json::String(prop))) =
        (obj.get("id"), properties.get("id"))
    {
        if top != prop {
            return Err(err(
                "id",
                format!("the feature id '{top}' and the 'id' property '{prop}' differ"),
            ));
        }
    }
    let geometry = match obj.get("geometry") {
        None | Some(Json::Null) => None,
        Some(g) => Some(parse_geometry(g).map_err(|e| err("geometry", e.to_string()))?),
    };
    Ok(Body {
        id,
        geometry,
        properties,
    })
}

/// Checks a geometry for a layer: kind, vertex count and OGC validity.
pub fn check_geometry(
    schema: &LayerSchema,
    geometry: &Geometry<f64>,
    max_vertices: usize,
) -> Result<(), EditError> {
    if !schema.geometry.accepts(geometry) {
        return Err(err(
            "geometry",
            format!(
                "layer '{}' holds {} geometries (or their Multi form)",
                schema.id,
                schema.geometry.ogc_name()
            ),
        ));
    }
    let vertices = geometry.coords_count();
    if vertices > max_vertices {
        return Err(err(
            "geometry",
            format!("the geometry has {vertices} positions; at most {max_vertices} are allowed (limits.max_vertices)"),
        ));
    }
    let problems = geometry.validation_errors();
    if !problems.is_empty() {
        let reasons: Vec<String> = problems.iter().map(ToString::to_string).collect();
        return Err(err(
            "geometry",
            format!("invalid geometry: {}", reasons.join("; ")),
        ));
    }
    Ok(())
}

/// The value the server keeps for a read-only property.
fn kept_read_only(schema: &LayerSchema, name: &str, current: Option<&Feature>) -> Json {
    match (name, current) {
        ("fid", Some(f)) => Json::from(f.fid),
        ("fid", None) => Json::Null,
        (_, Some(f)) => f.get(schema, name).map_or(Json::Null, Value::to_json),
        ("status", None) => Json::String("no_data".into()),
        ("synthetic", None) => Json::Bool(false),
        _ => Json::Null,
    }
}

/// Validates a Feature body for `schema` and builds the feature to store.
///
/// `path_id` is the id in the URL (PUT/PATCH), `current` the stored feature
/// (required for [`EditMode::Replace`] and [`EditMode::Merge`]). For a create
/// without an id, `new_id` supplies one.
pub fn edited_feature(
    schema: &LayerSchema,
    json: &Json,
    mode: EditMode,
    path_id: Option<&str>,
    current: Option<&Feature>,
    max_vertices: usize,
    new_id: impl FnOnce() -> String,
) -> Result<NewFeature, EditError> {
    let empty = Map::new();
    let body = parse_body(json, &empty)?;
    let id = match (path_id, body.id) {
        (Some(path), Some(given)) if given != path => {
            return Err(err(
                "id",
                format!("the body's id '{given}' is not the id '{path}' in the URL"),
            ))
        }
        (Some(path), _) => path.to_string(),
        (None, Some(given)) => given,
        (None, None) => new_id(),
    };
    let geometry = match (body.geometry, current) {
        (Some(g), _) => g,
        (None, Some(c)) if mode == EditMode::Merge => c.geometry.clone(),
        (None, _) => return Err(err("geometry", "the feature needs a geometry")),
    };
    check_geometry(schema, &geometry, max_vertices)?;

    let mut values = match (mode, current) {
        (EditMode::Merge, Some(c)) => c.properties.clone(),
        _ => vec![Value::Null; schema.properties.len()],
    };
    let mut unknown = Vec::new();
    let mut problems = Vec::new();
    for (name, given) in body.properties {
        if name == "id" {
            continue;
        }
        if READ_ONLY.contains(&name.as_str()) {
            let kept = kept_read_only(schema, name, current);
            if *given != kept {
                problems.push(format!(
                    "'{name}' is read-only (it stays {kept}); leave it out"
                ));
            }
            continue;
        }
        let Some(pos) = schema.position(name) else {
            unknown.push(name.as_str());
            continue;
        };
        match Value::from_json(given, schema.properties[pos].kind) {
            Ok(v) => values[pos] = v,
            Err(e) => problems.push(format!("'{name}': {e}")),
        }
    }
    if !unknown.is_empty() {
        return Err(err(
            "properties",
            format!(
                "unknown properties of layer '{}': {}; see /api/collections/{}/queryables",
                schema.id,
                unknown.join(", "),
                schema.id
            ),
        ));
    }
    if !problems.is_empty() {
        return Err(err("properties", problems.join("; ")));
    }
    // Read-only values come from the server, whatever the mode.
    for name in ["status", "synthetic"] {
        if let Some(pos) = schema.position(name) {
            let kept = kept_read_only(schema, name, current);
            values[pos] =
                Value::from_json(&kept, schema.properties[pos].kind).unwrap_or(Value::Null);
        }
    }
    Ok(NewFeature {
        id,
        geometry,
        properties: values,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::catalog::builtin_schema;
    use serde_json::json;

    fn no_id() -> String {
        "generated".into()
    }

    fn zones() -> LayerSchema {
        builtin_schema("protection_zones").expect("test value")
    }

    fn square() -> Json {
        json!({"type": "Polygon", "coordinates": [[[104.0, 28.0], [104.1, 28.0], [104.1, 28.1], [104.0, 28.1], [104.0, 28.0]]]})
    }

    #[test]
    fn a_valid_create_gets_server_values_for_read_only_properties() {
        let schema = builtin_schema("pollution_sources").expect("test value");
        let body = json!({"type": "Feature", "geometry": {"type": "Point", "coordinates": [104.6, 28.8]},
            "properties": {"name_zh": "新厂", "violations": 2, "status": "no_data"}});
        let f = edited_feature(&schema, &body, EditMode::Create, None, None, 100, no_id)
            .expect("test value");
        assert_eq!(f.id, "generated");
        assert_eq!(
            f.properties[schema.position("violations").expect("test value")],
            Value::Int(2)
        );
        assert_eq!(
            f.properties[schema.position("status").expect("test value")],
            Value::Text("no_data".into())
        );
        assert_eq!(
            f.properties[schema.position("synthetic").expect("test value")],
            Value::Bool(false)
        );
    }

    #[test]
    fn unknown_and_mistyped_properties_are_named() {
        let schema = builtin_schema("pollution_sources").expect("test value");
        let body = json!({"type": "Feature", "geometry": {"type": "Point", "coordinates": [104.6, 28.8]},
            "properties": {"colour": "red", "smell": 1, "violations": "many"}});
        let e = edited_feature(&schema, &body, EditMode::Create, None, None, 100, no_id)
            .expect_err("rejected");
        assert_eq!(e.parameter, "properties");
        assert!(
            e.detail.contains("colour") && e.detail.contains("smell"),
            "{e}"
        );
        let body = json!({"type": "Feature", "geometry": {"type": "Point", "coordinates": [104.6, 28.8]},
            "properties": {"violations": "many", "status": "exceeding"}});
        let e = edited_feature(&schema, &body, EditMode::Create, None, None, 100, no_id)
            .expect_err("rejected");
        assert!(
            e.detail.contains("violations") && e.detail.contains("read-only"),
            "{e}"
        );
    }

    #[test]
    fn self_intersecting_polygons_are_rejected_with_the_reason() {
        let bowtie = json!({"type": "Feature", "geometry": {"type": "Polygon",
            "coordinates": [[[104.0, 28.0], [104.1, 28.1], [104.1, 28.0], [104.0, 28.1], [104.0, 28.0]]]},
            "properties": {}});
        let e = edited_feature(&zones(), &bowtie, EditMode::Create, None, None, 100, no_id)
            .expect_err("rejected");
        assert_eq!(e.parameter, "geometry");
        assert!(e.detail.contains("invalid geometry"), "{e}");
        assert!(e.detail.to_lowercase().contains("intersect"), "{e}");
    }

    #[test]
    fn wrong_kind_and_too_many_vertices_are_rejected() {
        let point =
            json!({"type": "Feature", "geometry": {"type": "Point", "coordinates": [104.0, 28.0]}});
        let e = edited_feature(&zones(), &point, EditMode::Create, None, None, 100, no_id)
            .expect_err("rejected");
        assert!(e.detail.contains("Polygon"), "{e}");
        let body = json!({"type": "Feature", "geometry": square()});
        let e = edited_feature(&zones(), &body, EditMode::Create, None, None, 4, no_id)
            .expect_err("rejected");
        assert!(e.detail.contains("max_vertices"), "{e}");
    }

    #[test]
    fn merge_keeps_what_the_body_leaves_out() {
        let schema = zones();
        let body = json!({"type": "Feature", "geometry": square(), "properties": {"name_zh": "一级", "zone_level": "level1"}});
        let created = edited_feature(&schema, &body, EditMode::Create, None, None, 100, no_id)
            .expect("test value");
        let current = Feature {
            fid: 9,
            id: created.id.clone().into(),
            geometry: created.geometry.clone(),
            properties: created.properties.clone(),
        };
        let patch = json!({"type": "Feature", "properties": {"name_zh": "二级", "zone_level": null, "fid": 9}});
        let merged = edited_feature(
            &schema,
            &patch,
            EditMode::Merge,
            Some("generated"),
            Some(&current),
            100,
            no_id,
        )
        .expect("test value");
        assert_eq!(merged.geometry, current.geometry);
        assert_eq!(
            merged.properties[schema.position("name_zh").expect("test value")],
            Value::Text("二级".into())
        );
        assert_eq!(
            merged.properties[schema.position("zone_level").expect("test value")],
            Value::Null
        );
        let other_id = json!({"type": "Feature", "id": "x", "properties": {}});
        let e = edited_feature(
            &schema,
            &other_id,
            EditMode::Merge,
            Some("generated"),
            Some(&current),
            100,
            no_id,
        )
        .expect_err("rejected");
        assert_eq!(e.parameter, "id");
        let replace = json!({"type": "Feature", "properties": {}});
        let e = edited_feature(
            &schema,
            &replace,
            EditMode::Replace,
            Some("generated"),
            Some(&current),
            100,
            no_id,
        )
        .expect_err("rejected");
        assert_eq!(e.parameter, "geometry");
    }
}
