//! The river network of the current `rivers` layer, built once per layer
//! version: a request takes the cached graph when the layer it was built from
//! is still the atlas's, else builds the next one (and logs what it found).

use std::sync::{Arc, Mutex};

use super::graph::RiverGraph;
use super::settings::RiversConfig;
use crate::atlas::{Atlas, Layer};

/// The id of the layer the network is built from.
pub const RIVERS_LAYER: &str = "rivers";

/// A river network and the layer snapshot it was built from (`None`: the
/// atlas has no `rivers` layer, the network is empty).
#[derive(Debug, Clone)]
pub struct Network {
    pub graph: Arc<RiverGraph>,
    pub layer: Option<Arc<Layer>>,
}

impl Network {
    /// The version of the layer the network was built from (0 without one).
    pub fn version(&self) -> u64 {
        self.layer.as_ref().map_or(0, |l| l.version)
    }
}

/// The graph of the latest `rivers` layer seen. The lock is held only to read
/// or swap the `Arc`s, never while building.
#[derive(Debug, Default)]
pub struct RiverCache {
    current: Mutex<Option<Network>>,
}

impl RiverCache {
    pub fn new() -> Self {
        Self::default()
    }

    /// The network of the atlas's current `rivers` layer.
    pub fn network(&self, atlas: &Atlas, config: &RiversConfig) -> Network {
        let layer = atlas.layer(RIVERS_LAYER);
        if let Some(n) = self.lock().as_ref() {
            let same = match (&n.layer, &layer) {
                (Some(a), Some(b)) => Arc::ptr_eq(a, b),
                (None, None) => true,
                _ => false,
            };
            if same {
                return n.clone();
            }
        }
        let graph = Arc::new(RiverGraph::build(layer.as_deref(), config));
        let network = Network { graph, layer };
        log_network(&network);
        *self.lock() = Some(network.clone());
        network
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Option<Network>> {
        // The guarded value is replaced whole, so a poisoned lock is still sound.
        self.current.lock().unwrap_or_else(|e| e.into_inner())
    }
}

fn log_network(network: &Network) {
    let d = network.graph.diagnostics(network.version());
    tracing::info!(
        reaches = d.reaches,
        links = d.links.len(),
        rivers_version = d.rivers_version,
        "river network built"
    );
    for end in &d.unconnected_ends {
        tracing::info!(
            reach = %end.reach,
            name = %end.name_en,
            lon = end.point[0],
            lat = end.point[1],
            nearest_reach = ?end.nearest_reach,
            nearest_m = ?end.nearest_m,
            "river end joins no other reach (a mouth, or a gap wider than rivers.snap_tolerance_m)"
        );
    }
    for id in &d.cycles {
        tracing::warn!(reach = %id, "river reach lies on a cycle of links");
    }
}
