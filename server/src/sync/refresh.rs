//! Reads the change log after a sequence number and applies it to the atlas.
//!
//! Records name ids, not data: the current state of every named feature is
//! loaded from the store (absent → deleted), so applying a record twice or late
//! is harmless. Records are grouped per layer; a layer with a whole-layer record,
//! or more than [`MAX_CHANGE_IDS`] changed ids, is reloaded in one go.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use crate::app::AppState;
use crate::atlas::LayerChange;
use crate::store::change::MAX_CHANGE_IDS;
use crate::store::{ChangeOp, ChangeRecord, StoreError};

/// Change records read per query.
const PAGE: i64 = 1_000;

/// What to refresh in one layer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refresh {
    Layer,
    Ids(BTreeSet<String>),
}

/// Groups records by layer, leaving out those written by `own_origin` (the
/// writer applied them already).
pub fn plan(changes: &[ChangeRecord], own_origin: &str) -> BTreeMap<String, Refresh> {
    let mut plan: BTreeMap<String, Refresh> = BTreeMap::new();
    for change in changes.iter().filter(|c| c.origin != own_origin) {
        let entry = plan
            .entry(change.layer.clone())
            .or_insert_with(|| Refresh::Ids(BTreeSet::new()));
        match (&change.ids, change.op, &mut *entry) {
            (_, _, Refresh::Layer) => {}
            (None, _, _) | (_, ChangeOp::Layer, _) => *entry = Refresh::Layer,
            (Some(ids), _, Refresh::Ids(set)) => {
                set.extend(ids.iter().cloned());
                if set.len() > MAX_CHANGE_IDS {
                    *entry = Refresh::Layer;
                }
            }
        }
    }
    plan
}

/// Applies every change after `*last`, advancing `*last` past each page once
/// it is applied. Returns how many layers were refreshed.
pub async fn catch_up(state: &AppState, last: &mut i64) -> Result<usize, StoreError> {
    let mut refreshed = 0;
    loop {
        let changes = state.store.changes_since(*last, PAGE).await?;
        let Some(newest) = changes.last().map(|c| c.seq) else {
            return Ok(refreshed);
        };
        for (layer, what) in plan(&changes, state.store.origin()) {
            refresh_layer(state, &layer, what).await?;
            refreshed += 1;
        }
        *last = newest;
    }
}

async fn refresh_layer(state: &AppState, layer_id: &str, what: Refresh) -> Result<(), StoreError> {
    let known = state.atlas.layer(layer_id);
    match (what, known) {
        (Refresh::Ids(ids), Some(layer)) => {
            let ids: Vec<String> = ids.into_iter().collect();
            let found = state.store.features_by_id(&layer.schema, &ids).await?;
            let present: BTreeSet<&str> = found.iter().map(|f| f.id.as_ref()).collect();
            let deletes = ids
                .iter()
                .filter(|id| !present.contains(id.as_str()))
                .cloned()
                .collect();
            let change = LayerChange {
                upserts: found,
                deletes,
            };
            let state = state.clone();
            let layer_id = layer_id.to_string();
            // Rebuilding a layer's R-tree is CPU work.
            tokio::task::spawn_blocking(move || state.apply_change(&layer_id, change))
                .await
                .map_err(|e| StoreError::Corrupt(format!("layer refresh panicked: {e}")))?;
        }
        // A whole-layer change, or a layer this server does not have yet.
        _ => {
            let Some(schema) = state
                .store
                .schemas()
                .await?
                .into_iter()
                .find(|s| s.id == layer_id)
            else {
                return Ok(());
            };
            let features = state.store.load_features(&schema).await?;
            let atlas = state.atlas.clone();
            tokio::task::spawn_blocking(move || atlas.replace(Arc::new(schema), features))
                .await
                .map_err(|e| StoreError::Corrupt(format!("layer reload panicked: {e}")))?;
            state.tiles.invalidate(layer_id);
            tracing::info!(
                layer = layer_id,
                "layer reloaded after a change by another process"
            );
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(
        seq: i64,
        layer: &str,
        op: ChangeOp,
        ids: Option<&[&str]>,
        origin: &str,
    ) -> ChangeRecord {
        ChangeRecord {
            seq,
            layer: layer.into(),
            op,
            ids: ids.map(|ids| ids.iter().map(|s| s.to_string()).collect()),
            origin: origin.into(),
        }
    }

    #[test]
    fn plans_group_by_layer_and_skip_own_changes() {
        let changes = [
            rec(1, "a", ChangeOp::Upsert, Some(&["1", "2"]), "other"),
            rec(2, "a", ChangeOp::Delete, Some(&["3"]), "other"),
            rec(3, "b", ChangeOp::Upsert, Some(&["9"]), "me"),
            rec(4, "c", ChangeOp::Upsert, Some(&["1"]), "other"),
            rec(5, "c", ChangeOp::Layer, None, "other"),
            rec(6, "c", ChangeOp::Upsert, Some(&["2"]), "other"),
        ];
        let p = plan(&changes, "me");
        assert_eq!(p.len(), 2);
        assert_eq!(
            p["a"],
            Refresh::Ids(["1", "2", "3"].iter().map(|s| s.to_string()).collect())
        );
        assert_eq!(p["c"], Refresh::Layer);
    }

    #[test]
    fn many_ids_turn_into_a_reload() {
        let ids: Vec<String> = (0..MAX_CHANGE_IDS / 2 + 1).map(|i| i.to_string()).collect();
        let refs: Vec<&str> = ids.iter().map(String::as_str).collect();
        let more: Vec<String> = ids.iter().map(|i| format!("x{i}")).collect();
        let more_refs: Vec<&str> = more.iter().map(String::as_str).collect();
        let changes = [
            rec(1, "a", ChangeOp::Upsert, Some(&refs), "other"),
            rec(2, "a", ChangeOp::Upsert, Some(&more_refs), "other"),
        ];
        assert_eq!(plan(&changes, "me")["a"], Refresh::Layer);
    }
}
