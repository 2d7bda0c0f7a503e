//! A change to one layer: features to insert or replace, ids to delete.

use crate::model::Feature;

/// Features to upsert (matched by `id`) and ids to remove, already committed to
/// the store (upserts carry the `fid` the store assigned).
#[derive(Debug, Clone, Default)]
pub struct LayerChange {
    pub upserts: Vec<Feature>,
    pub deletes: Vec<String>,
}
