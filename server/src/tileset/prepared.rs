//! What the renderer derives once per layer version and keeps: the tile rules,
//! the low-zoom property mask, and for point layers the points in Web Mercator
//! and their pre-thinned grids per zoom ([`PointGrid`]), built on first use.
//!
//! Keyed by layer id; an entry whose version is not the layer's is replaced, so
//! a change to a layer is never served from stale data. Cost for the scale-1000
//! sample is in docs/benchmarks.md (tiles section).

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock, PoisonError};

use envatlas_tiles::mercator::lonlat_to_world;
use envatlas_tiles::{LayerTileRules, PointGrid, TileOptions, WorldPoint};
use geo_types::Geometry;

use super::rules::rules_for;
use crate::atlas::Layer;

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
    points: OnceLock<Option<Vec<WorldPoint>>>,
    grids: [OnceLock<Option<PointGrid>>; GRID_ZOOMS],
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
        }
    }

    /// The layer's points in the unit world square, in feature order.
    pub fn points(&self, layer: &Layer) -> Option<&[WorldPoint]> {
        self.points
            .get_or_init(|| {
                layer
                    .features()
                    .iter()
                    .map(|f| match &f.geometry {
                        Geometry::Point(p) => {
                            let (x, y) = lonlat_to_world(p.x(), p.y());
                            let fid = u64::try_from(f.fid).ok()?;
                            Some(WorldPoint { fid, x, y })
                        }
                        _ => None,
                    })
                    .collect()
            })
            .as_deref()
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
            let points = self.points(layer)?;
            PointGrid::build(points, z, options.extent, options.buffer, thinning.cell_px)
        })
        .as_ref()
    }

    /// Heap bytes of the points and the grids built so far.
    pub fn heap_bytes(&self) -> usize {
        let points = self
            .points
            .get()
            .and_then(Option::as_ref)
            .map_or(0, |p| p.capacity() * std::mem::size_of::<WorldPoint>());
        let grids: usize = self
            .grids
            .iter()
            .filter_map(|g| g.get().and_then(Option::as_ref))
            .map(PointGrid::heap_bytes)
            .sum();
        points + grids
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
