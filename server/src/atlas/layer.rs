//! One layer in memory: its features, an R-tree over their bounding boxes, an id
//! lookup and a version that changes whenever the features do.

use std::collections::HashMap;
use std::sync::Arc;

use geo::{BoundingRect, Intersects};
use geo_types::Rect;
use rstar::primitives::{GeomWithData, Rectangle};
use rstar::{Envelope, RTree, RTreeObject, AABB};

use super::change::LayerChange;
use crate::model::{Feature, LayerSchema};

/// An R-tree entry: a feature's bounding box and its position in [`Layer::features`].
pub type IndexEntry = GeomWithData<Rectangle<[f64; 2]>, u32>;

#[derive(Debug)]
pub struct Layer {
    pub schema: Arc<LayerSchema>,
    /// Bumped on every change; part of every tile-cache key.
    pub version: u64,
    features: Vec<Feature>,
    // Shared between versions whose features kept their place and bounding box
    // (a status update): see `with_change`.
    index: Arc<RTree<IndexEntry>>,
    by_id: Arc<HashMap<Box<str>, u32>>,
    extent: Option<Rect<f64>>,
}

impl Layer {
    /// Builds a layer; features are kept in `fid` order, so listings are stable.
    pub fn new(schema: Arc<LayerSchema>, mut features: Vec<Feature>, version: u64) -> Self {
        features.sort_by_key(|f| f.fid);
        let entries: Vec<IndexEntry> = features
            .iter()
            .enumerate()
            .filter_map(|(i, f)| {
                let r = f.geometry.bounding_rect()?;
                let pos = u32::try_from(i).ok()?;
                Some(GeomWithData::new(
                    Rectangle::from_corners([r.min().x, r.min().y], [r.max().x, r.max().y]),
                    pos,
                ))
            })
            .collect();
        let extent = entries
            .iter()
            .map(|e| e.geom().envelope())
            .reduce(|a, b| a.merged(&b));
        let by_id = features
            .iter()
            .enumerate()
            .filter_map(|(i, f)| Some((f.id.clone(), u32::try_from(i).ok()?)))
            .collect();
        Self {
            schema,
            version,
            features,
            index: Arc::new(RTree::bulk_load(entries)),
            by_id: Arc::new(by_id),
            extent: extent.map(|e| Rect::new(e.lower(), e.upper())),
        }
    }

    /// An empty layer of a schema (version 0).
    pub fn empty(schema: Arc<LayerSchema>) -> Self {
        Self::new(schema, Vec::new(), 0)
    }

    pub fn id(&self) -> &str {
        &self.schema.id
    }

    /// Every feature, in `fid` order.
    pub fn features(&self) -> &[Feature] {
        &self.features
    }

    pub fn len(&self) -> usize {
        self.features.len()
    }

    pub fn is_empty(&self) -> bool {
        self.features.is_empty()
    }

    pub fn get(&self, id: &str) -> Option<&Feature> {
        self.by_id
            .get(id)
            .and_then(|&i| self.features.get(i as usize))
    }

    /// The bounding box of all features (lon/lat), `None` when the layer is empty.
    pub fn extent(&self) -> Option<Rect<f64>> {
        self.extent
    }

    pub fn rtree(&self) -> &RTree<IndexEntry> {
        &self.index
    }

    /// Positions (in `fid` order) of the features whose geometry intersects `bbox`:
    /// R-tree candidates by envelope, then an exact test.
    pub fn intersecting(&self, bbox: &Rect<f64>) -> Vec<u32> {
        let envelope =
            AABB::from_corners([bbox.min().x, bbox.min().y], [bbox.max().x, bbox.max().y]);
        let mut hits: Vec<u32> = self
            .index
            .locate_in_envelope_intersecting(&envelope)
            .map(|e| e.data)
            .filter(|&i| {
                self.features
                    .get(i as usize)
                    .is_some_and(|f| f.geometry.intersects(bbox))
            })
            .collect();
        hits.sort_unstable();
        hits
    }

    /// The next version of this layer with a change applied.
    pub fn with_change(&self, change: &LayerChange) -> Layer {
        if let Some(next) = self.with_replacements_in_place(change) {
            return next;
        }
        let replaced: std::collections::HashSet<&str> = change
            .upserts
            .iter()
            .map(|f| f.id.as_ref())
            .chain(change.deletes.iter().map(String::as_str))
            .collect();
        let mut features: Vec<Feature> = self
            .features
            .iter()
            .filter(|f| !replaced.contains(f.id.as_ref()))
            .cloned()
            .collect();
        // A change may name one id twice (two status updates in one batch):
        // the last one wins, as it would in the store.
        let mut seen = std::collections::HashSet::new();
        let mut upserts: Vec<&Feature> = change
            .upserts
            .iter()
            .rev()
            .filter(|f| seen.insert(f.id.as_ref()))
            .collect();
        upserts.reverse();
        features.extend(upserts.into_iter().cloned());
        Layer::new(self.schema.clone(), features, self.version + 1)
    }

    /// The next version when the change only replaces features by ones with the
    /// same fid and bounding box (a status or attribute update): the R-tree and
    /// the id index stay valid and are shared, so a monitoring status write does
    /// not rebuild the index of a layer of hundreds of thousands of features.
    /// `None` when the change moves, adds or deletes anything.
    fn with_replacements_in_place(&self, change: &LayerChange) -> Option<Layer> {
        let places = self.places_of_replacements(change)?;
        let mut features = self.features.clone();
        Self::replace_at(&mut features, &places, change);
        Some(Layer {
            schema: self.schema.clone(),
            version: self.version + 1,
            features,
            index: Arc::clone(&self.index),
            by_id: Arc::clone(&self.by_id),
            extent: self.extent,
        })
    }

    /// Applies a change that only replaces features in place (see
    /// [`Self::with_change`]) to this very layer, as its next version, without
    /// copying the others; `false` (and nothing changed) for any other change.
    /// For a layer no reader holds (`Arc::get_mut`): start-up status writes.
    pub fn apply_in_place(&mut self, change: &LayerChange) -> bool {
        let Some(places) = self.places_of_replacements(change) else {
            return false;
        };
        Self::replace_at(&mut self.features, &places, change);
        self.version += 1;
        true
    }

    /// Where each upsert of `change` goes, when every one replaces a feature
    /// with the same fid and bounding box and nothing is deleted.
    fn places_of_replacements(&self, change: &LayerChange) -> Option<Vec<usize>> {
        if !change.deletes.is_empty() || change.upserts.is_empty() {
            return None;
        }
        change
            .upserts
            .iter()
            .map(|new| {
                let pos = *self.by_id.get(new.id.as_ref())? as usize;
                let old = self.features.get(pos)?;
                let same = old.fid == new.fid
                    && old.geometry.bounding_rect() == new.geometry.bounding_rect();
                same.then_some(pos)
            })
            .collect()
    }

    fn replace_at(features: &mut [Feature], places: &[usize], change: &LayerChange) {
        // In change order: when an id comes twice the last copy wins.
        for (&pos, new) in places.iter().zip(&change.upserts) {
            if let Some(slot) = features.get_mut(pos) {
                *slot = new.clone();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::catalog::builtin_schema;
    use crate::model::Value;
    use geo_types::{coord, point, Geometry};

    fn site(fid: i64, x: f64, y: f64) -> Feature {
        Feature {
            fid,
            id: format!("s{fid}").into(),
            geometry: Geometry::Point(point!(x: x, y: y)),
            properties: vec![Value::Null; 8],
        }
    }

    fn layer() -> Layer {
        let schema = Arc::new(builtin_schema("rural_sites").expect("schema"));
        Layer::new(
            schema,
            vec![
                site(3, 104.6, 28.8),
                site(1, 104.0, 28.0),
                site(2, 105.0, 29.0),
            ],
            1,
        )
    }

    #[test]
    fn features_are_in_fid_order_and_found_by_id() {
        let l = layer();
        let fids: Vec<_> = l.features().iter().map(|f| f.fid).collect();
        assert_eq!(fids, [1, 2, 3]);
        assert_eq!(l.get("s2").map(|f| f.fid), Some(2));
        let e = l.extent().expect("extent");
        assert_eq!((e.min().x, e.max().y), (104.0, 29.0));
    }

    #[test]
    fn bbox_queries_use_the_index() {
        let l = layer();
        let bbox = Rect::new(coord! {x: 104.5, y: 28.5}, coord! {x: 105.5, y: 29.5});
        assert_eq!(l.intersecting(&bbox), vec![1, 2]);
    }

    #[test]
    fn changes_build_a_new_version() {
        let l = layer();
        let change = LayerChange {
            upserts: vec![site(4, 100.0, 30.0)],
            deletes: vec!["s1".into()],
        };
        let next = l.with_change(&change);
        assert_eq!(next.version, 2);
        assert_eq!(next.len(), 3);
        assert!(next.get("s1").is_none() && next.get("s4").is_some());
        assert_eq!(l.len(), 3, "the old snapshot is unchanged");
    }

    #[test]
    fn an_attribute_update_shares_the_index_and_a_move_rebuilds_it() {
        let l = layer();
        let mut renamed = site(2, 105.0, 29.0);
        renamed.properties[0] = Value::Text("renamed".into());
        let next = l.with_change(&LayerChange {
            upserts: vec![renamed],
            deletes: vec![],
        });
        assert!(Arc::ptr_eq(&l.index, &next.index));
        assert_eq!(next.version, l.version + 1);
        assert_eq!(
            next.get("s2").expect("s2").properties[0],
            Value::Text("renamed".into())
        );
        let bbox = Rect::new(coord! { x: 104.9, y: 28.9 }, coord! { x: 105.1, y: 29.1 });
        let found = next.intersecting(&bbox);
        assert_eq!(found.len(), 1);
        assert_eq!(&*next.features()[found[0] as usize].id, "s2");

        let moved = next.with_change(&LayerChange {
            upserts: vec![site(2, 100.0, 20.0)],
            deletes: vec![],
        });
        assert!(!Arc::ptr_eq(&next.index, &moved.index));
        assert!(moved.intersecting(&bbox).is_empty());
        assert_eq!(moved.len(), 3);
    }

    #[test]
    fn an_id_named_twice_in_one_change_is_kept_once() {
        let l = layer();
        let mut later = site(2, 106.0, 30.0);
        later.properties[0] = Value::Text("later".into());
        let change = LayerChange {
            upserts: vec![site(2, 105.5, 29.5), later],
            deletes: vec![],
        };
        let next = l.with_change(&change);
        assert_eq!(next.len(), 3);
        let kept = next.get("s2").expect("s2");
        assert_eq!(kept.properties[0], Value::Text("later".into()));
    }
}
