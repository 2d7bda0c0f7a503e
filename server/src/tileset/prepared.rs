//! What the renderer derives once per layer version and keeps: the tile rules,
//! the low-zoom property mask, and for point layers the points in Web Mercator
//! (in Z-order, so a tile's points are near each other in memory), their
//! pre-thinned grids per zoom ([`PointGrid`]) and their properties encoded
//! once ([`EncodedProperties`]), each built on first use.
//!
//! Keyed by layer id; an entry whose version is not the layer's is replaced, so
//! a change to a layer is never served from stale data. Cost for the scale-1000
//! sample is in docs/benchmarks.md (tiles section).

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock, PoisonError};

use envatlas_tiles::mercator::lonlat_to_world;
use envatlas_tiles::{
    spatial_order, EncodedProperties, EncodedPropertiesBuilder, LayerTileRules, PointGrid,
    TileOptions, TileValue, WorldPoint,
};
use geo_types::Geometry;

use super::rules::rules_for;
use crate::atlas::Layer;
use crate::model::Value;

/// A point layer's points in Web Mercator, in Z-order, with the index of
/// each point's feature in the layer.
#[derive(Debug)]
pub(crate) struct PointSet {
    pub points: Vec<WorldPoint>,
    pub features: Vec<u32>,
}

/// Zooms that can have a grid (thinning applies below 12 by default; the
/// array just has to cover `PointThinning::below_zoom`).
const GRID_ZOOMS: usize = 16;

/// Derived data of one layer version.
#[derive(Debug)]
pub(crate) struct PreparedLayer {
    pub version: u64,
    pub rules: LayerTileRules,
    /// Below the full-attribute zoom: whether `id` and each schema property stay.
    pub low_zoom_id: bool,
    pub low_zoom_mask: Vec<bool>,
    /// `None` when the layer is not made of single points only.
    points: OnceLock<Option<PointSet>>,
    grids: [OnceLock<Option<PointGrid>>; GRID_ZOOMS],
    /// Properties of the points (in `points` order): the low-zoom ones, all.
    encoded: [OnceLock<Option<EncodedProperties>>; 2],
}

impl PreparedLayer {
    fn new(layer: &Layer) -> Self {
        let rules = rules_for(&layer.schema);
        let kept = |name: &str| rules.low_zoom_properties.iter().any(|p| p == name);
        Self {
            version: layer.version,
            low_zoom_id: kept("id"),
            low_zoom_mask: layer
                .schema
                .properties
                .iter()
                .map(|p| kept(&p.name))
                .collect(),
            rules,
            points: OnceLock::new(),
            grids: std::array::from_fn(|_| OnceLock::new()),
            encoded: [OnceLock::new(), OnceLock::new()],
        }
    }

    /// The layer's points in the unit world square, in Z-order.
    pub fn points(&self, layer: &Layer) -> Option<&PointSet> {
        self.points
            .get_or_init(|| {
                let features = layer.features();
                u32::try_from(features.len()).ok()?;
                let points: Vec<WorldPoint> = features
                    .iter()
                    .map(|f| match &f.geometry {
                        Geometry::Point(p) => {
                            let (x, y) = lonlat_to_world(p.x(), p.y());
                            let fid = u64::try_from(f.fid).ok()?;
                            Some(WorldPoint { fid, x, y })
                        }
                        _ => None,
                    })
                    .collect::<Option<_>>()?;
                let order = spatial_order(&points);
                Some(PointSet {
                    points: order.iter().map(|&i| points[i as usize]).collect(),
                    features: order,
                })
            })
            .as_ref()
    }

    /// The properties tiles carry at zoom `z`, encoded once for every point
    /// (rows in [`PointSet`] order): as [`super::feature::AtlasFeature`]
    /// writes them, `id` first, then the schema's properties in order.
    pub fn encoded(&self, layer: &Layer, z: u8) -> Option<&EncodedProperties> {
        let low = self.rules.property_filter(z).is_some();
        self.encoded[usize::from(low)]
            .get_or_init(|| {
                let set = self.points(layer)?;
                let schema = &layer.schema;
                let (keep_id, mask) = if low {
                    (self.low_zoom_id, self.low_zoom_mask.clone())
                } else {
                    (true, vec![true; schema.properties.len()])
                };
                let columns: Vec<usize> = (0..schema.properties.len())
                    .filter(|&i| mask.get(i).copied().unwrap_or(false))
                    .collect();
                let mut keys: Vec<String> = Vec::with_capacity(columns.len() + 1);
                if keep_id {
                    keys.push("id".to_string());
                }
                keys.extend(columns.iter().map(|&i| schema.properties[i].name.clone()));
                let mut table = EncodedPropertiesBuilder::new(keys);
                let features = layer.features();
                for &i in &set.features {
                    let f = features.get(i as usize)?;
                    let id = keep_id.then_some(Some(TileValue::Str(&f.id)));
                    let values = columns.iter().map(|&c| match f.properties.get(c) {
                        None | Some(Value::Null) => None,
                        Some(Value::Bool(b)) => Some(TileValue::Bool(*b)),
                        Some(Value::Int(v)) => Some(TileValue::Int(*v)),
                        Some(Value::Float(v)) => Some(TileValue::Double(*v)),
                        Some(Value::Text(s)) => Some(TileValue::Str(s)),
                    });
                    table.push_row(id.into_iter().chain(values));
                }
                table.finish()
            })
            .as_ref()
    }

    /// The thinned grid of zoom `z`, when thinning is in force there and the
    /// grid can reproduce it.
    pub fn grid(&self, layer: &Layer, z: u8, options: &TileOptions) -> Option<&PointGrid> {
        let thinning = self.rules.thinning_at(z)?;
        if thinning.per_cell != 1 {
            return None;
        }
        let slot = self.grids.get(usize::from(z))?;
        slot.get_or_init(|| {
            let set = self.points(layer)?;
            PointGrid::build(
                &set.points,
                z,
                options.extent,
                options.buffer,
                thinning.cell_px,
            )
        })
        .as_ref()
    }

    /// Heap bytes of the points, grids and encoded properties built so far.
    pub fn heap_bytes(&self) -> usize {
        let points = self.points.get().and_then(Option::as_ref).map_or(0, |p| {
            p.points.capacity() * std::mem::size_of::<WorldPoint>() + p.features.capacity() * 4
        });
        let encoded: usize = self
            .encoded
            .iter()
            .filter_map(|e| e.get().and_then(Option::as_ref))
            .map(EncodedProperties::heap_bytes)
            .sum();
        let grids: usize = self
            .grids
            .iter()
            .filter_map(|g| g.get().and_then(Option::as_ref))
            .map(PointGrid::heap_bytes)
            .sum();
        points + grids + encoded
    }
}

/// Prepared layers by id.
#[derive(Debug, Default)]
pub(crate) struct PreparedLayers {
    layers: Mutex<HashMap<String, Arc<PreparedLayer>>>,
}

impl PreparedLayers {
    /// The prepared data of this very layer version.
    pub fn get(&self, layer: &Layer) -> Arc<PreparedLayer> {
        let mut map = self.layers.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(p) = map.get(layer.id()) {
            if p.version == layer.version {
                return p.clone();
            }
        }
        let p = Arc::new(PreparedLayer::new(layer));
        map.insert(layer.id().to_string(), p.clone());
        p
    }

    pub fn forget(&self, layer_id: &str) {
        self.layers
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(layer_id);
    }

    pub fn heap_bytes(&self) -> usize {
        self.layers
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .values()
            .map(|p| p.heap_bytes())
            .sum()
    }
}
