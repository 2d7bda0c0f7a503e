//! The change log that lets several processes share one store.
//!
//! Every write to features records a [`ChangeRecord`] in its own transaction
//! (see the `changes` table in the migrations). A running server reads the
//! records after the last sequence number it has seen, skips its own (those it
//! applied already) and refreshes the named features from the store
//! (`crate::sync`). Records carry ids, not data, so a reader always loads the
//! committed state, whatever order it learns of changes in.

use rand::Rng;

/// Above this many ids a change is recorded as "the whole layer": readers
/// reload the layer rather than look up every id.
pub const MAX_CHANGE_IDS: usize = 10_000;

/// Channel of the PostGIS store's notifications (payload: the sequence number).
pub const NOTIFY_CHANNEL: &str = "envatlas_changes";

/// What a write did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChangeOp {
    Upsert,
    Delete,
    /// The whole layer (a large import, a schema change): reload it.
    Layer,
}

impl ChangeOp {
    pub fn as_str(self) -> &'static str {
        match self {
            ChangeOp::Upsert => "upsert",
            ChangeOp::Delete => "delete",
            ChangeOp::Layer => "layer",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "upsert" => Some(ChangeOp::Upsert),
            "delete" => Some(ChangeOp::Delete),
            "layer" => Some(ChangeOp::Layer),
            _ => None,
        }
    }
}

/// One committed write, as another process reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChangeRecord {
    pub seq: i64,
    pub layer: String,
    pub op: ChangeOp,
    /// The changed feature ids; `None` for the whole layer.
    pub ids: Option<Vec<String>>,
    /// The writing process's [`new_origin`] id.
    pub origin: String,
}

/// The ids to record for a write of `ids` (sorted, unique): `None` (whole
/// layer) when too many.
pub fn recorded_ids<'a>(
    op: ChangeOp,
    ids: impl ExactSizeIterator<Item = &'a str>,
) -> (ChangeOp, Option<Vec<String>>) {
    if op == ChangeOp::Layer || ids.len() > MAX_CHANGE_IDS {
        (ChangeOp::Layer, None)
    } else {
        let mut ids: Vec<String> = ids.map(str::to_string).collect();
        // Sorted and unique: a batch may name an id twice (the later write wins).
        ids.sort_unstable();
        ids.dedup();
        (op, Some(ids))
    }
}

/// The ids a streaming bulk write touched, kept only while they fit in one
/// change record: past [`MAX_CHANGE_IDS`] the write is recorded as the whole
/// layer, so memory stays bounded whatever the size of the import.
#[derive(Debug)]
pub struct BulkIds(Option<Vec<String>>);

impl Default for BulkIds {
    fn default() -> Self {
        BulkIds(Some(Vec::new()))
    }
}

impl BulkIds {
    pub fn extend(&mut self, ids: impl IntoIterator<Item = String>) {
        if let Some(list) = self.0.as_mut() {
            list.extend(ids);
            if list.len() > MAX_CHANGE_IDS {
                self.0 = None;
            }
        }
    }

    /// What to record: the ids, or the whole layer for a layer the write
    /// created (running servers do not know it yet) or too many ids.
    pub fn to_record(&self, new_layer: bool) -> (ChangeOp, Vec<&str>) {
        match (&self.0, new_layer) {
            (Some(list), false) => (ChangeOp::Upsert, list.iter().map(String::as_str).collect()),
            _ => (ChangeOp::Layer, Vec::new()),
        }
    }
}

/// A random id for one store handle (one process), recorded with its writes.
pub fn new_origin() -> String {
    let n: u64 = rand::thread_rng().gen();
    format!("{n:016x}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn large_writes_are_recorded_as_whole_layer() {
        let few = ["b", "a", "b"];
        assert_eq!(
            recorded_ids(ChangeOp::Upsert, few.iter().copied()),
            (
                ChangeOp::Upsert,
                Some(vec!["a".to_string(), "b".to_string()])
            )
        );
        let many: Vec<String> = (0..=MAX_CHANGE_IDS).map(|i| i.to_string()).collect();
        assert_eq!(
            recorded_ids(ChangeOp::Delete, many.iter().map(String::as_str)),
            (ChangeOp::Layer, None)
        );
    }

    #[test]
    fn bulk_ids_give_up_past_the_limit_and_for_new_layers() {
        let mut ids = BulkIds::default();
        ids.extend(["a".to_string(), "b".to_string()]);
        assert_eq!(ids.to_record(false), (ChangeOp::Upsert, vec!["a", "b"]));
        assert_eq!(ids.to_record(true), (ChangeOp::Layer, vec![]));
        ids.extend((0..MAX_CHANGE_IDS).map(|i| i.to_string()));
        assert_eq!(ids.to_record(false), (ChangeOp::Layer, vec![]));
    }

    #[test]
    fn origins_differ_and_ops_round_trip() {
        assert_ne!(new_origin(), new_origin());
        for op in [ChangeOp::Upsert, ChangeOp::Delete, ChangeOp::Layer] {
            assert_eq!(ChangeOp::parse(op.as_str()), Some(op));
        }
    }
}
