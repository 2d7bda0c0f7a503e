//! Fixtures shared by the analysis unit tests.

use std::sync::Arc;

use geo_types::{point, Geometry};

use super::filter::LayerQuery;
use crate::atlas::Layer;
use crate::model::catalog::builtin_schema;
use crate::model::{Feature, Value};

/// A layer of the built-in schema `layer_id` holding one point per coordinate
/// pair (fids from 1, ids `p0`, `p1`, …), queried without a filter.
pub fn points_layer(layer_id: &str, points: &[(f64, f64)]) -> LayerQuery {
    let schema = Arc::new(builtin_schema(layer_id).expect("schema"));
    let n = schema.properties.len();
    let features = points
        .iter()
        .enumerate()
        .map(|(i, &(x, y))| Feature {
            fid: i as i64 + 1,
            id: format!("p{i}").into(),
            geometry: Geometry::Point(point!(x: x, y: y)),
            properties: vec![Value::Null; n],
        })
        .collect();
    LayerQuery::all(Arc::new(Layer::new(schema, features, 1)))
}
