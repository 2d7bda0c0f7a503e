//! Whole-layer risk assessments cached per input versions: the target layer,
//! the sources, the zones, the river network and the exceedance generation.
//! Any change to one of them recomputes on the next request; the lock is
//! held only to compare and swap `Arc`s, never while computing.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use super::assess::{assess, RiskInputs, Target, TargetRisk};
use crate::analysis::river::RiverGraph;
use crate::atlas::Layer;

#[derive(Debug, Clone)]
struct Entry {
    targets: Arc<Layer>,
    sources: Arc<Layer>,
    zones: Option<Arc<Layer>>,
    graph: Arc<RiverGraph>,
    generation: u64,
    results: Arc<Vec<TargetRisk>>,
}

/// The latest assessment per target kind.
#[derive(Debug, Default)]
pub struct RiskCache {
    entries: Mutex<HashMap<Target, Entry>>,
}

impl RiskCache {
    pub fn new() -> Self {
        Self::default()
    }

    /// The assessment of every feature of the target layer, highest first.
    pub fn all(
        &self,
        target: Target,
        inputs: &RiskInputs<'_>,
        graph: &Arc<RiverGraph>,
    ) -> Arc<Vec<TargetRisk>> {
        let generation = inputs.exceedances.generation();
        let fresh = |e: &Entry| {
            Arc::ptr_eq(&e.targets, &inputs.targets)
                && Arc::ptr_eq(&e.sources, &inputs.sources)
                && match (&e.zones, &inputs.zones) {
                    (Some(a), Some(b)) => Arc::ptr_eq(a, b),
                    (None, None) => true,
                    _ => false,
                }
                && Arc::ptr_eq(&e.graph, graph)
                && e.generation == generation
        };
        if let Some(e) = self.lock().get(&target).filter(|e| fresh(e)) {
            return e.results.clone();
        }
        let results = Arc::new(assess(inputs, None));
        self.lock().insert(
            target,
            Entry {
                targets: inputs.targets.clone(),
                sources: inputs.sources.clone(),
                zones: inputs.zones.clone(),
                graph: graph.clone(),
                generation,
                results: results.clone(),
            },
        );
        results
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<Target, Entry>> {
        // Entries are replaced whole, so a poisoned lock is still sound.
        self.entries.lock().unwrap_or_else(|e| e.into_inner())
    }
}
