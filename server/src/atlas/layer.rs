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
    index: RTree<IndexEntry>,
    by_id: HashMap<Box<str>, u32>,
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
            index: RTree::bulk_load(entries),
            by_id,
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
