//! GeoJSON files: RFC 7946, and the older (2008) form with a `crs` member.
//!
//! The document is parsed whole (a FeatureCollection is a single JSON value);
//! features are then handed out one by one. Multi-gigabyte data should come
//! as CSV, Shapefile or GeoPackage, which stream.

use std::path::Path;

use serde_json::Value as Json;

use super::crs::{self, Declared};
use super::record::{Location, Opened, Record};
use super::ImportError;
use crate::model::geojson::parse_geometry;

pub fn open(path: &Path) -> Result<Opened, ImportError> {
    let bytes = std::fs::read(path).map_err(|source| ImportError::Io {
        path: path.display().to_string(),
        source,
    })?;
    let text = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(&bytes);
    let mut doc: Json = serde_json::from_slice(text)
        .map_err(|e| ImportError::Input(format!("not valid JSON: {e}")))?;
    let declared = match doc.pointer("/crs/properties/name").and_then(Json::as_str) {
        Some(name) => crs::from_name(name),
        None if doc.get("crs").is_some_and(|c| !c.is_null()) => {
            Declared::Other(format!("crs member {}", doc["crs"]))
        }
        None => Declared::Nothing,
    };
    let features = match doc.get("type").and_then(Json::as_str) {
        Some("FeatureCollection") => match doc.get_mut("features").map(Json::take) {
            Some(Json::Array(features)) => features,
            _ => {
                return Err(ImportError::Input(
                    "the FeatureCollection has no 'features' array".into(),
                ))
            }
        },
        Some("Feature") => vec![doc],
        _ => {
            return Err(ImportError::Input(
                "not a GeoJSON FeatureCollection or Feature".into(),
            ))
        }
    };
    let mut fields: Vec<String> = Vec::new();
    for f in &features {
        if let Some(props) = f.get("properties").and_then(Json::as_object) {
            for k in props.keys() {
                if !fields.contains(k) {
                    fields.push(k.clone());
                }
            }
        }
    }
    let records = features
        .into_iter()
        .enumerate()
        .map(|(i, f)| Ok(record(i as u64, f)));
    Ok(Opened {
        format: "GeoJSON",
        declared,
        fields,
        notes: Vec::new(),
        records: Box::new(records),
    })
}

fn record(index: u64, mut feature: Json) -> Record {
    let location = Location::Index(index);
    let ordinal = index + 1;
    if feature.get("type").and_then(Json::as_str) != Some("Feature") {
        return Record {
            location,
            ordinal,
            native_id: None,
            geometry: Err("not a GeoJSON Feature".into()),
            properties: Vec::new(),
        };
    }
    let native_id = match feature.get("id") {
        Some(Json::String(s)) if !s.is_empty() => Some(s.clone()),
        Some(Json::Number(n)) => Some(n.to_string()),
        _ => None,
    };
    let geometry = match feature.get("geometry") {
        None | Some(Json::Null) => Err("the feature has no geometry".to_string()),
        Some(g) => parse_geometry(g).map_err(|e| e.to_string()),
    };
    let properties = match feature.get_mut("properties").map(Json::take) {
        Some(Json::Object(map)) => map.into_iter().collect(),
        _ => Vec::new(),
    };
    Record {
        location,
        ordinal,
        native_id,
        geometry,
        properties,
    }
}
