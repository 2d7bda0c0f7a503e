//! Loading every layer of a store into memory at start-up.
//!
//! The store reads every layer at once (`Store::load_layers`: the PostGIS
//! store splits its features table into page ranges read in parallel on
//! several connections, decoding rows as they stream in); then each layer's
//! R-tree (bulk-loaded) and id index are built on the blocking pool, layers in
//! parallel.

use std::sync::Arc;

use tokio::task::JoinSet;

use super::{Atlas, Layer};
use crate::store::{Store, StoreError};

/// Loads every layer of the store, one R-tree per layer, in catalog order.
pub async fn load_all(store: Arc<dyn Store>) -> Result<Atlas, StoreError> {
    let schemas = store.schemas().await?;
    let started = std::time::Instant::now();
    let loaded = store.load_layers(&schemas).await?;
    if loaded.len() != schemas.len() {
        return Err(StoreError::Corrupt(format!(
            "the store returned {} layers for {} schemas",
            loaded.len(),
            schemas.len()
        )));
    }
    let read = started.elapsed();
    let mut tasks = JoinSet::new();
    for (position, (schema, features)) in schemas.into_iter().zip(loaded).enumerate() {
        // Building an R-tree is CPU work: keep it off the async workers.
        tasks.spawn_blocking(move || (position, Layer::new(Arc::new(schema), features, 1)));
    }
    let mut layers = Vec::with_capacity(tasks.len());
    while let Some(joined) = tasks.join_next().await {
        layers.push(joined.map_err(|e| StoreError::Corrupt(format!("layer build panicked: {e}")))?);
    }
    layers.sort_by_key(|(position, _)| *position);
    let atlas = Atlas::new();
    let mut features = 0;
    for (_, layer) in layers {
        features += layer.len();
        atlas.insert(layer);
    }
    tracing::info!(
        features,
        read_ms = read.as_millis() as u64,
        index_ms = (started.elapsed() - read).as_millis() as u64,
        "layers loaded"
    );
    Ok(atlas)
}
