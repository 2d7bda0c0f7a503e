//! An atlas feature as the tile builder sees it.

use envatlas_tiles::{PropertySink, TileFeature, TileValue};
use geo_types::Geometry;

use crate::model::{Feature, LayerSchema, Value};

/// A feature with its layer's schema and, below the full-attribute zoom, the
/// layer's mask of kept properties (so no property name is compared per feature).
pub(crate) struct AtlasFeature<'a> {
    pub feature: &'a Feature,
    pub schema: &'a LayerSchema,
    /// `None`: every property; else `(keep id, keep property i)`.
    pub kept: Option<(bool, &'a [bool])>,
}

impl TileFeature for AtlasFeature<'_> {
    fn fid(&self) -> u64 {
        u64::try_from(self.feature.fid).unwrap_or(0)
    }

    fn geometry(&self) -> &Geometry<f64> {
        &self.feature.geometry
    }

    fn properties(&self, sink: &mut PropertySink<'_>) {
        let (keep_id, mask) = match self.kept {
            Some((id, mask)) => (id, Some(mask)),
            None => (sink.wants("id"), None),
        };
        if keep_id {
            sink.add_kept("id", TileValue::Str(&self.feature.id));
        }
        for (i, (def, value)) in self
            .schema
            .properties
            .iter()
            .zip(&self.feature.properties)
            .enumerate()
        {
            let keep = match mask {
                Some(mask) => mask.get(i).copied().unwrap_or(false),
                None => sink.wants(&def.name),
            };
            if !keep {
                continue;
            }
            match value {
                Value::Null => {}
                Value::Bool(b) => sink.add_kept(&def.name, TileValue::Bool(*b)),
                Value::Int(i) => sink.add_kept(&def.name, TileValue::Int(*i)),
                Value::Float(f) => sink.add_kept(&def.name, TileValue::Double(*f)),
                Value::Text(s) => sink.add_kept(&def.name, TileValue::Str(s)),
            }
        }
    }
}
