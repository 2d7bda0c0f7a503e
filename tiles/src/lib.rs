//! `envatlas-tiles`: Mapbox Vector Tiles (MVT 2.1) from lon/lat features, and a
//! tile cache. No HTTP, no database, no I/O.
//!
//! The server asks its R-tree for the features of each layer inside
//! [`TileBuilder::query_bounds`], hands them to [`TileBuilder::add_layer`] through
//! the [`TileFeature`] trait, and caches the bytes of [`TileBuilder::finish`] in a
//! [`TileCache`]. A builder can be kept per worker thread and reused
//! ([`TileBuilder::reset`], [`TileBuilder::take`]) to spare allocations.
//!
//! Contents, in the order a feature goes through them:
//! - [`coord`]: [`TileCoord`] (validated z/x/y of WebMercatorQuad, XYZ rows from
//!   the north), tile bounds, parent/children, [`TileRange`]s covering a bbox.
//! - [`mercator`]: lon/lat ↔ EPSG:3857 metres ↔ tile pixels ([`TileTransform`]).
//! - [`feature`]: what the caller provides: [`TileFeature`], [`TileValue`].
//! - [`rules`]: per-layer, per-zoom rules: [`LayerTileRules`], [`PointThinning`].
//! - [`clip`]: clipping to the buffered tile in pixel space (Sutherland–Hodgman for
//!   rings, Liang–Barsky for lines) after dropping far-away vertices.
//! - [`simplify`]: Douglas–Peucker in pixels, snapping to the integer grid,
//!   removal of repeated vertices and collapsed parts.
//! - `prepare`: the pipeline above for one geometry, with ring orientation
//!   (exterior positive area in tile coordinates, holes negative).
//! - [`thin`]: deterministic grid thinning of dense points and the feature cap;
//!   [`PointGrid`]: the same thinning done once per point layer and zoom.
//! - [`encode`]: the protobuf and geometry command encoding.
//! - `dict`: per-layer key/value dictionaries ([`PropertySink`]);
//!   `encoded`: property values numbered and encoded once per layer
//!   ([`EncodedProperties`]), for [`TileBuilder::add_encoded_points`].
//! - [`builder`]: [`TileBuilder`], tying it together per tile and layer;
//!   `scratch`: its working buffers, pooled across builders.
//! - [`cache`]: [`TileCache`], bounded LRU keyed by layers, versions, tile and
//!   [`TileEncoding`]; [`gzip`].
//! - [`decode`]: a strict decoder for tests and checks.
#![forbid(unsafe_code)]

pub mod builder;
pub mod cache;
pub mod clip;
pub mod coord;
pub mod decode;
mod dict;
pub mod encode;
mod encoded;
pub mod feature;
mod hash;
pub mod mercator;
mod pointgrid;
mod prepare;
pub mod rules;
mod scratch;
pub mod simplify;
pub mod thin;

pub use builder::{LayerStats, TileBuilder, TileError, TileOptions};
pub use cache::{gzip, gzip_with_level, CacheStats, TileCache, TileEncoding, TileKey};
pub use coord::{TileCoord, TileCoordError, TileRange, MAX_ZOOM};
pub use dict::PropertySink;
pub use encode::GeomType;
pub use encoded::{EncodedProperties, EncodedPropertiesBuilder, ABSENT};
pub use feature::{OwnedFeature, OwnedValue, TileFeature, TileValue};
pub use mercator::TileTransform;
pub use pointgrid::{spatial_order, PlacedPoint, PointGrid, WorldPoint};
pub use rules::{LayerTileRules, PointThinning, DEFAULT_MAX_FEATURES};
