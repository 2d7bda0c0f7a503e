//! Vector tiles of the atlas: which features and properties of each layer go
//! into a tile at a zoom, rendering through `envatlas-tiles`, and the cache.
//!
//! Tiles are cut from the in-memory layers (R-tree candidates of the buffered
//! tile). A cached tile is keyed by the layer ids *and their versions*, so a
//! change to a layer makes its old tiles unreachable at once; [`Tileset::invalidate`]
//! also frees their memory.

use std::sync::Arc;

use bytes::Bytes;
use envatlas_tiles::{
    gzip, CacheStats, LayerTileRules, PointThinning, TileBuilder, TileCache, TileCoord,
    TileEncoding, TileError, TileFeature, TileKey, TileOptions, TileValue,
};
use geo_types::Geometry;
use rstar::AABB;

use crate::atlas::{Atlas, Layer};
use crate::model::{Feature, GeometryKind, LayerSchema, Value};

/// From these zooms on, tiles carry every property (and `id`): dense point
/// layers later, so mid-zoom tiles of thousands of points stay small and fast.
pub const FULL_ATTRIBUTES_FROM_ZOOM_POINTS: u8 = 12;
pub const FULL_ATTRIBUTES_FROM_ZOOM_OTHERS: u8 = 10;

/// The zoom range TileJSON advertises; clients overzoom beyond `MAX_ZOOM`.
pub const MIN_ZOOM: u8 = 0;
pub const MAX_ZOOM: u8 = 16;

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
        let mut text = format!("{}/{}/{}", self.tile.z(), self.tile.x(), self.tile.y());
        for (id, version) in self.key.layers() {
            text.push_str(&format!(";{id}@{version}"));
        }
        format!("\"{:016x}\"", fnv1a(text.as_bytes()))
    }
}

fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

/// The atlas's tile renderer and cache.
#[derive(Debug)]
pub struct Tileset {
    cache: TileCache,
    options: TileOptions,
}

impl Tileset {
    pub fn new(cache_bytes: usize) -> Self {
        Self {
            cache: TileCache::new(cache_bytes),
            options: TileOptions::default(),
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
        let q = builder.query_bounds();
        let envelope = AABB::from_corners([q.min().x, q.min().y], [q.max().x, q.max().y]);
        for layer in layers {
            let rules = rules_for(&layer.schema);
            if !rules.visible_at(tile.z()) {
                continue;
            }
            let features = layer.features();
            let schema = &layer.schema;
            let hits = layer
                .rtree()
                .locate_in_envelope_intersecting(&envelope)
                .filter_map(|e| features.get(e.data as usize))
                .map(|feature| AtlasFeature { feature, schema });
            builder.add_layer(layer.id(), &rules, hits)?;
        }
        Ok(builder.finish())
    }

    /// Drops the cached tiles of a layer (its data changed).
    pub fn invalidate(&self, layer_id: &str) -> usize {
        self.cache.invalidate_layer(layer_id)
    }

    pub fn stats(&self) -> CacheStats {
        self.cache.stats()
    }
}

/// The properties a layer keeps below its full-attribute zoom: what the
/// low-zoom map styles and labels need, nothing more.
pub fn low_zoom_properties(layer_id: &str) -> &'static [&'static str] {
    match layer_id {
        "pollution_sources" => &["name_zh", "industry_code", "control_level", "status"],
        "drinking_water_sources" => &["name_zh", "source_type", "supply_level"],
        "protection_zones" => &["zone_level", "water_source_id"],
        "ecology_areas" => &["name_zh", "category"],
        "rural_sites" => &["category", "sewage_status"],
        "monitoring_stations" => &["name_zh", "kind", "status"],
        "rivers" => &["name_zh", "name_en"],
        "admin_boundaries" => &["adcode", "name_zh", "name_en", "level"],
        _ => &["name_zh"],
    }
}

/// The lowest zoom at which a layer appears in tiles. Sources, rivers and
/// boundaries make the national and regional views; small features (zones,
/// villages) only mean something closer in and would bloat low-zoom tiles.
pub fn tile_min_zoom(layer_id: &str) -> u8 {
    match layer_id {
        "pollution_sources" | "rivers" | "admin_boundaries" => MIN_ZOOM,
        "drinking_water_sources" | "monitoring_stations" | "ecology_areas" => 5,
        "protection_zones" | "rural_sites" => 8,
        _ => MIN_ZOOM,
    }
}

/// How a layer is tiled: points are thinned below z12 (with `point_count`) and
/// carry all properties from z12; lines and polygons from z10.
pub fn rules_for(schema: &LayerSchema) -> LayerTileRules {
    let points = schema.geometry == GeometryKind::Point;
    LayerTileRules {
        min_zoom: tile_min_zoom(&schema.id),
        full_attributes_from_zoom: if points {
            FULL_ATTRIBUTES_FROM_ZOOM_POINTS
        } else {
            FULL_ATTRIBUTES_FROM_ZOOM_OTHERS
        },
        low_zoom_properties: low_zoom_properties(&schema.id)
            .iter()
            .map(|s| (*s).to_string())
            .collect(),
        point_thinning: points.then(PointThinning::default),
        ..LayerTileRules::default()
    }
}

/// An atlas feature seen by the tile builder.
struct AtlasFeature<'a> {
    feature: &'a Feature,
    schema: &'a LayerSchema,
}

impl TileFeature for AtlasFeature<'_> {
    fn fid(&self) -> u64 {
        u64::try_from(self.feature.fid).unwrap_or(0)
    }

    fn geometry(&self) -> &Geometry<f64> {
        &self.feature.geometry
    }

    fn properties(&self, sink: &mut envatlas_tiles::PropertySink<'_>) {
        if sink.wants("id") {
            sink.add("id", TileValue::Str(&self.feature.id));
        }
        for (def, value) in self.schema.properties.iter().zip(&self.feature.properties) {
            if !sink.wants(&def.name) {
                continue;
            }
            match value {
                Value::Null => {}
                Value::Bool(b) => sink.add(&def.name, TileValue::Bool(*b)),
                Value::Int(i) => sink.add(&def.name, TileValue::Int(*i)),
                Value::Float(f) => sink.add(&def.name, TileValue::Double(*f)),
                Value::Text(s) => sink.add(&def.name, TileValue::Str(s)),
            }
        }
    }
}
