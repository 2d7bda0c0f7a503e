//! The in-memory atlas: every layer's features with an R-tree, read by tiles,
//! analysis and the OGC API without touching the database.
//!
//! - [`layer`]: one [`Layer`] (features + R-tree + version), immutable once built.
//! - [`change`]: [`LayerChange`], applied by building the next layer version.
//! - [`load`]: loading every layer of a store at start-up (layers in parallel).
//!
//! Readers take an `Arc<Layer>` snapshot and never wait on writers: a writer builds
//! the next version beside the current one and swaps it in under a short lock.

pub mod change;
pub mod layer;
pub mod load;

use std::collections::BTreeMap;
use std::sync::{Arc, RwLock};

pub use change::LayerChange;
pub use layer::{IndexEntry, Layer};

use crate::model::LayerSchema;

/// All layers of the atlas, by id, in catalog order.
#[derive(Debug, Default)]
pub struct Atlas {
    layers: RwLock<Layers>,
}

#[derive(Debug, Default)]
struct Layers {
    order: Vec<String>,
    by_id: BTreeMap<String, Arc<Layer>>,
}

impl Atlas {
    pub fn new() -> Self {
        Self::default()
    }

    /// A snapshot of one layer.
    pub fn layer(&self, id: &str) -> Option<Arc<Layer>> {
        self.read().by_id.get(id).cloned()
    }

    /// Snapshots of every layer, in catalog order.
    pub fn layers(&self) -> Vec<Arc<Layer>> {
        let layers = self.read();
        layers
            .order
            .iter()
            .filter_map(|id| layers.by_id.get(id).cloned())
            .collect()
    }

    /// Adds a layer or replaces the one with the same id.
    pub fn insert(&self, layer: Layer) {
        let mut layers = self.write();
        let id = layer.schema.id.clone();
        if !layers.by_id.contains_key(&id) {
            layers.order.push(id.clone());
        }
        layers.by_id.insert(id, Arc::new(layer));
    }

    /// Applies a change (already committed to the store) and returns the layer's
    /// new version. The next version is built outside the lock, so readers are
    /// never blocked by the rebuild; writers to one layer are serialised by the
    /// store's commit order and by comparing versions here.
    pub fn apply(&self, layer_id: &str, change: LayerChange) -> Option<u64> {
        {
            // No reader holds the layer (as at start-up): replace in place
            // under the lock, a few features' worth of work, instead of
            // copying a layer of hundreds of thousands of features.
            let mut layers = self.write();
            if let Some(layer) = layers.by_id.get_mut(layer_id).and_then(Arc::get_mut) {
                if layer.apply_in_place(&change) {
                    return Some(layer.version);
                }
            }
        }
        loop {
            let current = self.layer(layer_id)?;
            let next = current.with_change(&change);
            let version = next.version;
            let mut layers = self.write();
            let still_current = layers
                .by_id
                .get(layer_id)
                .is_some_and(|l| Arc::ptr_eq(l, &current));
            if still_current {
                layers.by_id.insert(layer_id.to_string(), Arc::new(next));
                return Some(version);
            }
            // Another writer swapped in a version meanwhile: rebuild on top of it.
        }
    }

    /// Replaces a layer's features wholesale (a reload from the store), as the
    /// next version of the layer, or adds the layer when it is new. Returns the
    /// new version.
    pub fn replace(&self, schema: Arc<LayerSchema>, features: Vec<crate::model::Feature>) -> u64 {
        let id = schema.id.clone();
        // Built outside the lock; only the version number is decided under it.
        let mut next = Layer::new(schema, features, 0);
        let mut layers = self.write();
        let version = layers.by_id.get(&id).map_or(1, |l| l.version + 1);
        next.version = version;
        if !layers.by_id.contains_key(&id) {
            layers.order.push(id.clone());
        }
        layers.by_id.insert(id, Arc::new(next));
        version
    }

    /// The schema of every layer, in catalog order.
    pub fn schemas(&self) -> Vec<Arc<LayerSchema>> {
        self.layers().iter().map(|l| l.schema.clone()).collect()
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, Layers> {
        // A panic while holding the lock cannot leave `Layers` half-updated (every
        // update is a single insert), so a poisoned lock is safe to keep using.
        self.layers.read().unwrap_or_else(|e| e.into_inner())
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, Layers> {
        self.layers.write().unwrap_or_else(|e| e.into_inner())
    }
}
