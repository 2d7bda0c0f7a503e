//! Loading every layer of a store into memory at start-up.
//!
//! Layers load concurrently: each reads its rows from the store (decoding WKB
//! and properties as they arrive) and then builds its R-tree on the blocking
//! pool, so one layer's R-tree build overlaps another's database read. With a
//! few large layers (scale 1000: ~600k sources, ~300k rural sites) this keeps
//! both the database connection and the CPUs busy.

use std::sync::Arc;

use tokio::task::JoinSet;

use super::{Atlas, Layer};
use crate::store::{Store, StoreError};

/// Loads every layer of the store, one R-tree per layer, in catalog order.
pub async fn load_all(store: Arc<dyn Store>) -> Result<Atlas, StoreError> {
    let schemas = store.schemas().await?;
    let mut tasks = JoinSet::new();
    for (position, schema) in schemas.into_iter().enumerate() {
        let store = store.clone();
        tasks.spawn(async move {
            let features = store.load_features(&schema).await?;
            let schema = Arc::new(schema);
            // Building an R-tree is CPU work: keep it off the async workers.
            let layer = tokio::task::spawn_blocking(move || Layer::new(schema, features, 1))
                .await
                .map_err(|e| StoreError::Corrupt(format!("layer build panicked: {e}")))?;
            Ok::<_, StoreError>((position, layer))
        });
    }
    let mut layers = Vec::with_capacity(tasks.len());
    while let Some(joined) = tasks.join_next().await {
        let loaded =
            joined.map_err(|e| StoreError::Corrupt(format!("layer load panicked: {e}")))?;
        // An error drops the JoinSet, which cancels the other loads.
        layers.push(loaded?);
    }
    layers.sort_by_key(|(position, _)| *position);
    let atlas = Atlas::new();
    for (_, layer) in layers {
        atlas.insert(layer);
    }
    Ok(atlas)
}
