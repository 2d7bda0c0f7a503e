//! [`TileBuilder`]: one MVT tile, layer by layer.
//!
//! ```
//! use envatlas_tiles::{LayerTileRules, OwnedFeature, TileBuilder, TileCoord, TileOptions};
//! use geo_types::point;
//!
//! let tile = TileCoord::new(10, 809, 426)?;
//! let mut builder = TileBuilder::new(tile, TileOptions::default())?;
//! // The server asks its R-tree for `builder.query_bounds()` and passes the hits.
//! let features = vec![OwnedFeature::new(7, point!(x: 104.6, y: 28.77))];
//! let stats = builder.add_layer("pollution_sources", &LayerTileRules::points(), &features)?;
//! assert_eq!(stats.encoded, 1);
//! let bytes: Vec<u8> = builder.finish();
//! assert!(!bytes.is_empty());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use geo_types::Rect;

use crate::coord::TileCoord;
use crate::dict::PropertySink;
use crate::encode::{write_feature, write_layer, write_points, GeomType};
use crate::encoded::{EncodedProperties, ABSENT};
use crate::feature::{TileFeature, TileValue};
use crate::mercator::TileTransform;
use crate::pointgrid::PlacedPoint;
use crate::rules::LayerTileRules;
use crate::scratch::{Pending, Scratch};
use crate::simplify::GridPoint;
use crate::thin::{select, Candidate};

/// How tiles are cut. The defaults are those of most MVT producers.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TileOptions {
    /// Pixels across a tile (MVT `extent`): 4096.
    pub extent: u32,
    /// Pixels kept beyond each edge so that strokes and symbols cut by the edge
    /// render seamlessly: 64.
    pub buffer: u32,
    /// Douglas–Peucker tolerance in tile pixels: 1 (of 4096). 0 disables it.
    pub simplify_px: f64,
}

impl Default for TileOptions {
    fn default() -> Self {
        Self {
            extent: 4096,
            buffer: 64,
            simplify_px: 1.0,
        }
    }
}

/// The largest `extent + buffer` (grid coordinates stay within ±2^15).
pub const MAX_EXTENT_PLUS_BUFFER: u32 = 1 << 15;

/// Why a tile cannot be built as asked.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum TileError {
    #[error("tile extent {extent} with buffer {buffer} is out of range: extent must be at least 1 and extent + buffer at most {max}")]
    BadExtent { extent: u32, buffer: u32, max: u32 },
    #[error("simplification tolerance {0} px is not a finite, non-negative number")]
    BadTolerance(f64),
    #[error("layer {0:?} is already in the tile")]
    DuplicateLayer(String),
}

impl TileOptions {
    /// Checks the options (the builder does too).
    pub fn validate(&self) -> Result<(), TileError> {
        let total = u64::from(self.extent) + u64::from(self.buffer);
        if self.extent == 0 || total > u64::from(MAX_EXTENT_PLUS_BUFFER) {
            return Err(TileError::BadExtent {
                extent: self.extent,
                buffer: self.buffer,
                max: MAX_EXTENT_PLUS_BUFFER,
            });
        }
        if !(self.simplify_px.is_finite() && self.simplify_px >= 0.0) {
            return Err(TileError::BadTolerance(self.simplify_px));
        }
        Ok(())
    }
}

/// What happened to one layer's features.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LayerStats {
    /// Features passed in.
    pub input: usize,
    /// Features with nothing left in the buffered tile (outside, or collapsed by
    /// simplification).
    pub empty: usize,
    /// Features dropped by point thinning or the feature cap.
    pub dropped: usize,
    /// Features written.
    pub encoded: usize,
    /// Bytes the layer added to the tile (0 when the layer was left out).
    pub bytes: usize,
}

/// Builds one tile, layer by layer.
///
/// Its working buffers come from a small process-wide pool and go back to it when
/// the builder is dropped (see `scratch`), so building tile after tile does not
/// touch fresh memory. A builder can also be reused directly
/// ([`TileBuilder::reset`], then [`TileBuilder::take`]).
#[derive(Debug)]
pub struct TileBuilder {
    tile: TileCoord,
    options: TileOptions,
    /// Taken from the pool on the first layer.
    scratch: Option<Scratch>,
    out: Vec<u8>,
    names: Vec<String>,
}

impl Drop for TileBuilder {
    fn drop(&mut self) {
        if let Some(s) = self.scratch.take() {
            s.release();
        }
    }
}

impl TileBuilder {
    pub fn new(tile: TileCoord, options: TileOptions) -> Result<Self, TileError> {
        options.validate()?;
        Ok(Self {
            tile,
            options,
            scratch: None,
            out: Vec::new(),
            names: Vec::new(),
        })
    }

    /// Starts another tile with the same options, dropping anything not taken.
    pub fn reset(&mut self, tile: TileCoord) {
        self.tile = tile;
        if let Some(s) = self.scratch.as_mut() {
            let o = &self.options;
            let transform = TileTransform::new(tile, o.extent);
            s.preparer.retarget(transform, o.buffer, o.simplify_px);
        }
        self.out.clear();
        self.names.clear();
    }

    pub fn tile(&self) -> TileCoord {
        self.tile
    }

    pub fn options(&self) -> &TileOptions {
        &self.options
    }

    /// The lon/lat box whose features can reach this tile (tile plus buffer):
    /// what to ask the R-tree for.
    pub fn query_bounds(&self) -> Rect<f64> {
        // One pixel more than the buffer: a point up to half a pixel beyond the
        // buffer snaps onto its edge and is in the tile (as in `PointGrid`).
        TileTransform::new(self.tile, self.options.extent)
            .lonlat_bounds(f64::from(self.options.buffer) + 1.0)
    }

    /// Records that layer `name` is in this tile; a name twice is an error.
    fn claim_name(&mut self, name: &str) -> Result<(), TileError> {
        if self.names.iter().any(|n| n == name) {
            return Err(TileError::DuplicateLayer(name.to_string()));
        }
        self.names.push(name.to_string());
        Ok(())
    }

    /// The start both point writers share: claims the layer name and accounts
    /// for `placed` points standing for `input` features. `encoded` is 0 (all
    /// input dropped) when the layer is not drawn at this zoom or nothing was
    /// placed: then there is nothing to write.
    fn start_points(
        &mut self,
        name: &str,
        rules: &LayerTileRules,
        input: usize,
        placed: usize,
    ) -> Result<LayerStats, TileError> {
        self.claim_name(name)?;
        let encoded = if rules.visible_at(self.tile.z()) {
            placed
        } else {
            0
        };
        Ok(LayerStats {
            input,
            encoded,
            dropped: input.saturating_sub(encoded),
            ..LayerStats::default()
        })
    }

    /// Adds one MVT layer built from `features` under `rules`. Features outside
    /// the buffered tile are skipped, so the caller may pass R-tree candidates
    /// unfiltered. A layer with no feature left is not written (MVT: a layer
    /// SHOULD contain at least one feature). Output order is by feature id.
    pub fn add_layer<F, I>(
        &mut self,
        name: &str,
        rules: &LayerTileRules,
        features: I,
    ) -> Result<LayerStats, TileError>
    where
        F: TileFeature,
        I: IntoIterator<Item = F>,
    {
        self.claim_name(name)?;
        let z = self.tile.z();
        let mut stats = LayerStats::default();
        if !rules.visible_at(z) {
            stats.input = features.into_iter().count();
            stats.dropped = stats.input;
            return Ok(stats);
        }
        let (tile, o) = (self.tile, self.options);
        let s = scratch_for(&mut self.scratch, tile, &o);

        // 1. Geometry of every feature, into one command buffer.
        s.geometry.clear();
        s.pending.clear();
        s.candidates.clear();
        let mut items: Vec<F> = Vec::new();
        for f in features {
            stats.input += 1;
            let start = s.geometry.len();
            let Some(p) = s.preparer.prepare(f.geometry(), &mut s.geometry) else {
                stats.empty += 1;
                continue;
            };
            s.candidates.push(Candidate {
                fid: f.fid(),
                point: p.point,
                size: p.size,
            });
            s.pending.push(Pending {
                kind: p.kind,
                geometry: start..s.geometry.len(),
            });
            items.push(f);
        }

        // 2. Thinning and the cap; then a deterministic order.
        let thinning = rules.thinning_at(z);
        let candidates = &s.candidates;
        select(candidates, thinning, rules.max_features, &mut s.selection);
        let kept = &mut s.selection.kept;
        kept.sort_unstable_by_key(|&(i, _)| (candidates[i].fid, i));
        stats.dropped = candidates.len() - kept.len();
        stats.encoded = kept.len();
        if kept.is_empty() {
            return Ok(stats);
        }
        let count_property = thinning
            .and_then(|t| t.count_property.as_deref())
            .filter(|_| s.selection.thinned);

        // 3. Properties of the kept features only, then the layer.
        s.dict.clear();
        s.features.clear();
        let filter = rules.property_filter(z);
        for &(i, weight) in &s.selection.kept {
            let p = &s.pending[i];
            s.tags.clear();
            let mut sink = PropertySink::new(&mut s.dict, &mut s.tags, filter);
            items[i].properties(&mut sink);
            if let (Some(key), Some(_)) = (count_property, candidates[i].point) {
                sink.add_always(key, TileValue::UInt(weight));
            }
            write_feature(
                &mut s.features,
                candidates[i].fid,
                &s.tags,
                p.kind,
                &s.geometry[p.geometry.clone()],
            );
        }
        let before = self.out.len();
        write_layer(&mut self.out, name, o.extent, &s.features, s.dict.encoded());
        stats.bytes = self.out.len() - before;
        Ok(stats)
    }

    /// Adds a point layer whose points the caller has already placed and
    /// thinned ([`crate::PointGrid::select`]): `points` pairs each feature with
    /// its tile pixel and the input points it stands for. Written as
    /// [`TileBuilder::add_layer`] would write the same selection: ordered by
    /// feature id, with the rules' properties and, where thinning is in force
    /// at this zoom, its count property.
    pub fn add_placed_points<F: TileFeature>(
        &mut self,
        name: &str,
        rules: &LayerTileRules,
        points: &mut [(F, GridPoint, u64)],
    ) -> Result<LayerStats, TileError> {
        let input = points.iter().map(|p| p.2 as usize).sum();
        let mut stats = self.start_points(name, rules, input, points.len())?;
        if stats.encoded == 0 {
            return Ok(stats);
        }
        let z = self.tile.z();
        let (tile, o) = (self.tile, self.options);
        let s = scratch_for(&mut self.scratch, tile, &o);
        points.sort_unstable_by_key(|p| p.0.fid());
        let count_property = rules
            .thinning_at(z)
            .and_then(|t| t.count_property.as_deref());
        s.dict.clear();
        s.features.clear();
        let filter = rules.property_filter(z);
        let mut geometry = Vec::with_capacity(3);
        for (feature, at, count) in points.iter() {
            s.tags.clear();
            let mut sink = PropertySink::new(&mut s.dict, &mut s.tags, filter);
            feature.properties(&mut sink);
            if let Some(key) = count_property {
                sink.add_always(key, TileValue::UInt(*count));
            }
            geometry.clear();
            write_points(&mut geometry, &mut [0, 0], std::slice::from_ref(at));
            write_feature(
                &mut s.features,
                feature.fid(),
                &s.tags,
                GeomType::Point,
                &geometry,
            );
        }
        let before = self.out.len();
        write_layer(&mut self.out, name, o.extent, &s.features, s.dict.encoded());
        stats.bytes = self.out.len() - before;
        Ok(stats)
    }

    /// [`TileBuilder::add_placed_points`] with properties from a table encoded
    /// once per layer: `points` come from [`crate::PointGrid::select`], and row
    /// `index` of `table` holds the properties of point `index` (the table must
    /// hold the properties the rules keep at this zoom, in the order the
    /// features would write them). Same bytes, without touching the features.
    pub fn add_encoded_points(
        &mut self,
        name: &str,
        rules: &LayerTileRules,
        points: &mut [PlacedPoint],
        table: &EncodedProperties,
    ) -> Result<LayerStats, TileError> {
        let input = points.iter().map(|p| p.count as usize).sum();
        let mut stats = self.start_points(name, rules, input, points.len())?;
        if stats.encoded == 0 {
            return Ok(stats);
        }
        let z = self.tile.z();
        let (tile, o) = (self.tile, self.options);
        let s = scratch_for(&mut self.scratch, tile, &o);
        points.sort_unstable_by_key(|p| p.fid);
        let count_property = rules
            .thinning_at(z)
            .and_then(|t| t.count_property.as_deref());
        s.dict.clear();
        s.features.clear();
        let keys = table.keys();
        let mut geometry = Vec::with_capacity(3);
        for p in points.iter() {
            s.tags.clear();
            let mut position = 0;
            for (key, &g) in keys.iter().zip(table.row(p.index as usize).unwrap_or(&[])) {
                if g == ABSENT {
                    continue;
                }
                let k = s.dict.key(key, position);
                let v = s.dict.encoded_value(g, table);
                s.tags.extend_from_slice(&[k, v]);
                position += 1;
            }
            if let Some(key) = count_property {
                let k = s.dict.key(key, position);
                let count = TileValue::UInt(p.count);
                // A count equal to a property value shares its dictionary entry.
                let v = match table.scalar(count) {
                    Some(g) => s.dict.encoded_value(g, table),
                    None => s.dict.value(count),
                };
                s.tags.extend_from_slice(&[k, v]);
            }
            geometry.clear();
            write_points(&mut geometry, &mut [0, 0], std::slice::from_ref(&p.at));
            write_feature(&mut s.features, p.fid, &s.tags, GeomType::Point, &geometry);
        }
        let before = self.out.len();
        write_layer(&mut self.out, name, o.extent, &s.features, s.dict.encoded());
        stats.bytes = self.out.len() - before;
        Ok(stats)
    }

    /// Bytes written so far.
    pub fn len(&self) -> usize {
        self.out.len()
    }

    /// Whether no layer has been written (an empty tile is a valid MVT: zero bytes).
    pub fn is_empty(&self) -> bool {
        self.out.is_empty()
    }

    /// The encoded tile; the builder is left empty, for [`TileBuilder::reset`].
    pub fn take(&mut self) -> Vec<u8> {
        self.names.clear();
        std::mem::take(&mut self.out)
    }

    /// The encoded tile (the buffers go back to the pool).
    pub fn finish(mut self) -> Vec<u8> {
        self.take()
    }
}

/// The builder's reusable buffers, made on first use for `tile`.
fn scratch_for<'a>(
    slot: &'a mut Option<Scratch>,
    tile: TileCoord,
    o: &TileOptions,
) -> &'a mut Scratch {
    slot.get_or_insert_with(|| {
        Scratch::acquire(TileTransform::new(tile, o.extent), o.buffer, o.simplify_px)
    })
}
