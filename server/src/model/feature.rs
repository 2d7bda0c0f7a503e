//! One feature of a layer.

use geo_types::Geometry;

use super::schema::LayerSchema;
use super::value::Value;

/// A stored feature: `id` is the OGC feature id (unique in its layer, stable across
/// stores), `fid` the integer the store assigned when the feature was first stored
/// (never reused; the MVT feature id). Properties follow the layer schema's order.
#[derive(Debug, Clone, PartialEq)]
pub struct Feature {
    pub fid: i64,
    pub id: Box<str>,
    pub geometry: Geometry<f64>,
    pub properties: Vec<Value>,
}

/// A feature before the store has given it a `fid`.
#[derive(Debug, Clone, PartialEq)]
pub struct NewFeature {
    pub id: String,
    pub geometry: Geometry<f64>,
    pub properties: Vec<Value>,
}

impl Feature {
    /// The value of a named property, `None` when the schema has no such property.
    pub fn get<'a>(&'a self, schema: &LayerSchema, name: &str) -> Option<&'a Value> {
        schema.position(name).and_then(|i| self.properties.get(i))
    }

    /// A named text property, or `""`.
    pub fn text<'a>(&'a self, schema: &LayerSchema, name: &str) -> &'a str {
        self.get(schema, name).and_then(Value::as_str).unwrap_or("")
    }
}
