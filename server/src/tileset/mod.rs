//! Vector tiles of the atlas: which features and properties of each layer go
//! into a tile at a zoom, rendering through `envatlas-tiles`, and the cache.
//!
//! - [`rules`]: per-layer tile rules (minimum zoom, low-zoom properties, thinning).
//! - `prepared`: what is derived once per layer version (property masks, Web
//!   Mercator points in Z-order, pre-thinned point grids per zoom, property
//!   values encoded once).
//! - `feature`: an atlas feature seen by the tile builder.
//!
//! Tiles are cut from the in-memory layers: R-tree candidates of the buffered
//! tile, or, for point layers at zooms where points are thinned, the layer's
//! pre-thinned grid of that zoom (the same tile, see [`envatlas_tiles::PointGrid`]).
//! A cached tile is keyed by the layer ids *and their versions*, so a change to a
//! layer makes its old tiles unreachable at once; [`Tileset::invalidate`] also
//! frees their memory.

mod feature;
mod prepared;
pub mod rules;

use std::sync::Arc;

use bytes::Bytes;
use envatlas_tiles::{
    gzip, CacheStats, TileBuilder, TileCache, TileCoord, TileEncoding, TileError, TileKey,
    TileOptions,
};
use rstar::AABB;

use crate::atlas::{Atlas, Layer};
use feature::AtlasFeature;
use prepared::PreparedLayers;
pub use rules::{
    low_zoom_properties, rules_for, tile_min_zoom, FULL_ATTRIBUTES_FROM_ZOOM_OTHERS,
    FULL_ATTRIBUTES_FROM_ZOOM_POINTS, MAX_ZOOM, MIN_ZOOM,
};

#[derive(Debug, thiserror::Error)]
pub enum TilesetError {
    #[error("unknown layer '{0}'")]
    UnknownLayer(String),
    #[error("layer '{0}' is named twice")]
    DuplicateLayer(String),
    #[error("tile encoding failed: {0}")]
    Encode(#[from] TileError),
    #[error("gzip failed: {0}")]
    Gzip(#[from] std::io::Error),
}

/// What a tile request resolved to: the layer snapshots it reads and the cache key.
#[derive(Debug, Clone)]
pub struct TileRequest {
    pub layers: Vec<Arc<Layer>>,
    pub tile: TileCoord,
    pub key: TileKey,
}

impl TileRequest {
    /// A strong ETag: the tile's bytes are a function of the layer versions and
    /// the tile address, so the key identifies them without rendering.
    pub fn etag(&self) -> String {
        let mut h = Fnv::default();
        for v in [self.tile.z().into(), self.tile.x(), self.tile.y()] {
            h.write(&v.to_le_bytes());
        }
        for (id, version) in self.key.layers() {
            h.write(id.as_bytes());
            h.write(&[0]);
            h.write(&version.to_le_bytes());
        }
        let mut out = String::with_capacity(18);
        out.push('"');
        for shift in (0..16).rev() {
            let nibble = (h.0 >> (shift * 4)) & 0xf;
            out.push(char::from(b"0123456789abcdef"[nibble as usize]));
        }
        out.push('"');
        out
    }
}

/// FNV-1a, 64 bits: small, stable across builds (ETags outlive processes).
struct Fnv(u64);

impl Default for Fnv {
    fn default() -> Self {
        Self(0xcbf2_9ce4_8422_2325)
    }
}

impl Fnv {
    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 = (self.0 ^ u64::from(*b)).wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
}

/// The atlas's tile renderer and cache.
#[derive(Debug)]
pub struct Tileset {
    cache: TileCache,
    options: TileOptions,
    prepared: PreparedLayers,
}

impl Tileset {
    pub fn new(cache_bytes: usize) -> Self {
        Self {
            cache: TileCache::new(cache_bytes),
            options: TileOptions::default(),
            prepared: PreparedLayers::default(),
        }
    }

    /// Resolves layer ids (`a,b`) and a tile address against the atlas.
    pub fn request(
        &self,
        atlas: &Atlas,
        layer_ids: &[&str],
        tile: TileCoord,
        encoding: TileEncoding,
    ) -> Result<TileRequest, TilesetError> {
        let mut layers = Vec::with_capacity(layer_ids.len());
        for id in layer_ids {
            if layers.iter().any(|l: &Arc<Layer>| l.id() == *id) {
                return Err(TilesetError::DuplicateLayer((*id).to_string()));
            }
            layers.push(
                atlas
                    .layer(id)
                    .ok_or_else(|| TilesetError::UnknownLayer((*id).to_string()))?,
            );
        }
        let key = TileKey::new(
            layers.iter().map(|l| (l.id().to_string(), l.version)),
            tile,
            encoding,
        );
        Ok(TileRequest { layers, tile, key })
    }

    /// The tile's bytes when cached: cheap enough to call on an async worker.
    pub fn cached(&self, request: &TileRequest) -> Option<Bytes> {
        self.cache.get(&request.key)
    }

    /// The tile's bytes in the requested encoding, from the cache or rendered.
    pub fn tile(&self, request: &TileRequest) -> Result<Bytes, TilesetError> {
        self.cache
            .get_or_insert_with(&request.key, || match request.key.encoding() {
                TileEncoding::Raw => Ok(Bytes::from(self.render(&request.layers, request.tile)?)),
                TileEncoding::Gzip => {
                    let raw = self.tile(&TileRequest {
                        key: request.key.with_encoding(TileEncoding::Raw),
                        ..request.clone()
                    })?;
                    Ok(if raw.is_empty() {
                        raw
                    } else {
                        Bytes::from(gzip(&raw)?)
                    })
                }
            })
    }

    /// Renders a tile without the cache (benchmarks, tests).
    pub fn render(&self, layers: &[Arc<Layer>], tile: TileCoord) -> Result<Vec<u8>, TilesetError> {
        let mut builder = TileBuilder::new(tile, self.options)?;
        for layer in layers {
            self.render_layer(&mut builder, layer)?;
        }
        Ok(builder.finish())
    }

    /// Renders a tile the way [`Tileset::render`] did before pre-thinned grids:
    /// every layer from its R-tree candidates (tests compare the two).
    pub fn render_from_rtree(
        &self,
        layers: &[Arc<Layer>],
        tile: TileCoord,
    ) -> Result<Vec<u8>, TilesetError> {
        let mut builder = TileBuilder::new(tile, self.options)?;
        for layer in layers {
            let prepared = self.prepared.get(layer);
            if prepared.rules.visible_at(tile.z()) {
                self.rtree_layer(&mut builder, layer, &prepared)?;
            }
        }
        Ok(builder.finish())
    }

    fn render_layer(&self, builder: &mut TileBuilder, layer: &Layer) -> Result<(), TilesetError> {
        let prepared = self.prepared.get(layer);
        let z = builder.tile().z();
        if !prepared.rules.visible_at(z) {
            return Ok(());
        }
        if let Some(grid) = prepared.grid(layer, z, &self.options) {
            let mut placed = Vec::new();
            let set = prepared.points(layer);
            let points = set.map_or(&[][..], |s| s.points.as_slice());
            if grid.select(
                points,
                builder.tile(),
                prepared.rules.max_features,
                &mut placed,
            ) {
                if let Some(table) = prepared.encoded(layer, z) {
                    builder.add_encoded_points(layer.id(), &prepared.rules, &mut placed, table)?;
                    return Ok(());
                }
                let features = layer.features();
                let order = set.map_or(&[][..], |s| s.features.as_slice());
                let kept = self.kept(&prepared, z);
                let mut items: Vec<_> = placed
                    .iter()
                    .filter_map(|p| {
                        let i = *order.get(p.index as usize)?;
                        let feature = features.get(i as usize)?;
                        let f = AtlasFeature {
                            feature,
                            schema: &layer.schema,
                            kept,
                        };
                        Some((f, p.at, p.count))
                    })
                    .collect();
                builder.add_placed_points(layer.id(), &prepared.rules, &mut items)?;
                return Ok(());
            }
        }
        self.rtree_layer(builder, layer, &prepared)
    }

    fn rtree_layer(
        &self,
        builder: &mut TileBuilder,
        layer: &Layer,
        prepared: &prepared::PreparedLayer,
    ) -> Result<(), TilesetError> {
        let q = builder.query_bounds();
        let envelope = AABB::from_corners([q.min().x, q.min().y], [q.max().x, q.max().y]);
        let features = layer.features();
        let schema = &layer.schema;
        let kept = self.kept(prepared, builder.tile().z());
        let hits = layer
            .rtree()
            .locate_in_envelope_intersecting(&envelope)
            .filter_map(|e| features.get(e.data as usize))
            .map(|feature| AtlasFeature {
                feature,
                schema,
                kept,
            });
        builder.add_layer(layer.id(), &prepared.rules, hits)?;
        Ok(())
    }

    /// The low-zoom property mask in force at `z`, if any.
    fn kept<'a>(&self, prepared: &'a prepared::PreparedLayer, z: u8) -> Option<(bool, &'a [bool])> {
        prepared
            .rules
            .property_filter(z)
            .map(|_| (prepared.low_zoom_id, prepared.low_zoom_mask.as_slice()))
    }

    /// Drops the cached tiles and prepared data of a layer (its data changed).
    pub fn invalidate(&self, layer_id: &str) -> usize {
        self.prepared.forget(layer_id);
        self.cache.invalidate_layer(layer_id)
    }

    pub fn stats(&self) -> CacheStats {
        self.cache.stats()
    }

    /// Heap bytes of the prepared data (Web Mercator points, point grids,
    /// encoded properties).
    pub fn prepared_bytes(&self) -> usize {
        self.prepared.heap_bytes()
    }
}
