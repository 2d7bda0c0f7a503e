//! Encoding shared by the store backends: geometry as WKB (lon/lat) and
//! properties as a JSON object keyed by property name, layer schemas as JSON.

use geo_types::Geometry;
use geozero::wkb::Wkb;
use geozero::{CoordDimensions, ToGeo, ToWkb};
use serde_json::{Map, Value as Json};

use super::StoreError;
use crate::model::{Feature, LayerSchema, Value};

/// A layer schema as the `layers.schema_json` text.
pub fn schema_to_json(schema: &LayerSchema) -> Result<String, StoreError> {
    serde_json::to_string(schema)
        .map_err(|e| StoreError::Corrupt(format!("cannot serialise schema: {e}")))
}

/// A layer schema from its `layers.schema_json` text (`id` names it in errors).
pub fn schema_from_json(id: &str, text: &str) -> Result<LayerSchema, StoreError> {
    serde_json::from_str(text)
        .map_err(|e| StoreError::Corrupt(format!("schema of layer '{id}': {e}")))
}

pub fn geometry_to_wkb(geometry: &Geometry<f64>) -> Result<Vec<u8>, StoreError> {
    geometry
        .to_wkb(CoordDimensions::xy())
        .map_err(|e| StoreError::Corrupt(format!("cannot encode geometry as WKB: {e}")))
}

pub fn geometry_from_wkb(bytes: &[u8]) -> Result<Geometry<f64>, StoreError> {
    Wkb(bytes)
        .to_geo()
        .map_err(|e| StoreError::Corrupt(format!("cannot decode WKB geometry: {e}")))
}

/// A stored feature from the columns both backends select: fid, id, WKB
/// geometry and JSON properties.
pub fn feature_from_columns(
    schema: &LayerSchema,
    fid: i64,
    id: &str,
    wkb: &[u8],
    properties: &str,
) -> Result<Feature, StoreError> {
    Ok(Feature {
        fid,
        id: id.into(),
        geometry: geometry_from_wkb(wkb)?,
        properties: properties_from_json(schema, properties)?,
    })
}

/// Properties as JSON text; nulls are left out.
pub fn properties_to_json(schema: &LayerSchema, values: &[Value]) -> String {
    let map: Map<String, Json> = schema
        .properties
        .iter()
        .zip(values)
        .filter(|(_, v)| !matches!(v, Value::Null))
        .map(|(def, v)| (def.name.clone(), v.to_json()))
        .collect();
    Json::Object(map).to_string()
}

/// Properties from JSON text, in schema order. Properties the schema no longer
/// declares are ignored; a value of the wrong type is corruption.
pub fn properties_from_json(schema: &LayerSchema, text: &str) -> Result<Vec<Value>, StoreError> {
    let map: Map<String, Json> = serde_json::from_str(text)
        .map_err(|e| StoreError::Corrupt(format!("properties are not a JSON object: {e}")))?;
    schema
        .properties
        .iter()
        .map(|def| match map.get(&def.name) {
            None => Ok(Value::Null),
            Some(v) => Value::from_json(v, def.kind).map_err(|e| {
                StoreError::Corrupt(format!(
                    "property '{}' of layer '{}': {e}",
                    def.name, schema.id
                ))
            }),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::catalog::builtin_schema;
    use geo_types::{line_string, polygon};

    #[test]
    fn geometries_round_trip_through_wkb() {
        let geoms: Vec<Geometry<f64>> = vec![
            Geometry::Point(geo_types::point!(x: 104.6, y: 28.77)),
            Geometry::LineString(line_string![(x: 0.0, y: 0.0), (x: 1.5, y: 2.25)]),
            Geometry::Polygon(
                polygon![(x: 0., y: 0.), (x: 1., y: 0.), (x: 1., y: 1.), (x: 0., y: 0.)],
            ),
        ];
        for g in geoms {
            let wkb = geometry_to_wkb(&g).expect("encode");
            assert_eq!(geometry_from_wkb(&wkb).expect("decode"), g);
        }
    }

    #[test]
    fn properties_round_trip_through_json() {
        let schema = builtin_schema("rivers").expect("schema");
        let values = vec![Value::Text("岷江".into()), Value::Null, Value::Bool(false)];
        let text = properties_to_json(&schema, &values);
        assert_eq!(
            properties_from_json(&schema, &text).expect("decode"),
            values
        );
    }
}
