//! What the caller hands to the tile builder: features it already has in memory,
//! seen through the [`TileFeature`] trait so that nothing is copied or converted
//! before the builder knows the feature is in the tile and survives thinning.

use geo_types::Geometry;

use crate::dict::PropertySink;

/// A typed MVT property value, borrowed from the caller's data.
///
/// Integers are written as `uint_value` when non-negative and `sint_value`
/// (zigzag) when negative; `Int(5)` and `UInt(5)` are the same value.
/// MVT has no null: leave absent properties out.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum TileValue<'a> {
    Str(&'a str),
    Int(i64),
    UInt(u64),
    Double(f64),
    Float(f32),
    Bool(bool),
}

impl<'a> From<&'a str> for TileValue<'a> {
    fn from(v: &'a str) -> Self {
        TileValue::Str(v)
    }
}

impl From<i64> for TileValue<'_> {
    fn from(v: i64) -> Self {
        TileValue::Int(v)
    }
}

impl From<i32> for TileValue<'_> {
    fn from(v: i32) -> Self {
        TileValue::Int(i64::from(v))
    }
}

impl From<u64> for TileValue<'_> {
    fn from(v: u64) -> Self {
        TileValue::UInt(v)
    }
}

impl From<u32> for TileValue<'_> {
    fn from(v: u32) -> Self {
        TileValue::UInt(u64::from(v))
    }
}

impl From<f64> for TileValue<'_> {
    fn from(v: f64) -> Self {
        TileValue::Double(v)
    }
}

impl From<f32> for TileValue<'_> {
    fn from(v: f32) -> Self {
        TileValue::Float(v)
    }
}

impl From<bool> for TileValue<'_> {
    fn from(v: bool) -> Self {
        TileValue::Bool(v)
    }
}

/// A feature that can go into a tile: an id, a lon/lat geometry and properties.
///
/// `properties` is called only for the features that end up in the tile (after
/// clipping, thinning and the feature cap), and writes them into the sink; the
/// sink drops the ones the layer's rules leave out at this zoom.
pub trait TileFeature {
    /// The MVT feature id (the atlas' `fid`).
    fn fid(&self) -> u64;
    /// The geometry in lon/lat degrees, in any ring orientation.
    fn geometry(&self) -> &Geometry<f64>;
    /// Writes the properties: `sink.add("name_zh", TileValue::Str(..))`.
    fn properties(&self, sink: &mut PropertySink<'_>);
}

impl<T: TileFeature + ?Sized> TileFeature for &T {
    fn fid(&self) -> u64 {
        (**self).fid()
    }

    fn geometry(&self) -> &Geometry<f64> {
        (**self).geometry()
    }

    fn properties(&self, sink: &mut PropertySink<'_>) {
        (**self).properties(sink);
    }
}

/// An owned property value, for [`OwnedFeature`].
#[derive(Debug, Clone, PartialEq)]
pub enum OwnedValue {
    Str(String),
    Int(i64),
    UInt(u64),
    Double(f64),
    Bool(bool),
}

impl OwnedValue {
    pub fn as_tile_value(&self) -> TileValue<'_> {
        match self {
            OwnedValue::Str(s) => TileValue::Str(s),
            OwnedValue::Int(v) => TileValue::Int(*v),
            OwnedValue::UInt(v) => TileValue::UInt(*v),
            OwnedValue::Double(v) => TileValue::Double(*v),
            OwnedValue::Bool(v) => TileValue::Bool(*v),
        }
    }
}

/// A self-contained feature: handy for tests, benchmarks and one-off tiles.
#[derive(Debug, Clone, PartialEq)]
pub struct OwnedFeature {
    pub fid: u64,
    pub geometry: Geometry<f64>,
    pub properties: Vec<(String, OwnedValue)>,
}

impl OwnedFeature {
    /// A feature without properties.
    pub fn new(fid: u64, geometry: impl Into<Geometry<f64>>) -> Self {
        Self {
            fid,
            geometry: geometry.into(),
            properties: Vec::new(),
        }
    }

    /// Adds a property (builder style).
    pub fn with(mut self, key: &str, value: OwnedValue) -> Self {
        self.properties.push((key.to_string(), value));
        self
    }
}

impl TileFeature for OwnedFeature {
    fn fid(&self) -> u64 {
        self.fid
    }

    fn geometry(&self) -> &Geometry<f64> {
        &self.geometry
    }

    fn properties(&self, sink: &mut PropertySink<'_>) {
        for (k, v) in &self.properties {
            sink.add(k, v.as_tile_value());
        }
    }
}
