//! Tile addresses of the WebMercatorQuad tile matrix set (XYZ: y counts from the
//! north), their bounds, their family (parent, children) and the tile ranges that
//! cover a lon/lat box.
//!
//! OGC API Tiles writes the same tile as `{tileMatrix}/{tileRow}/{tileCol}`, that is
//! z/**y**/x; [`TileCoord`] always takes z, x, y in that order.

use std::fmt;

use geo_types::{coord, Rect};

use crate::mercator::{lonlat_to_world, world_to_lonlat, world_to_mercator, TileTransform};

/// The deepest zoom level served (the `max_zoom` limit of the API).
pub const MAX_ZOOM: u8 = 22;

/// A validated tile address: `z` in `0..=22`, `x` and `y` in `0..2^z`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TileCoord {
    z: u8,
    x: u32,
    y: u32,
}

/// Why a tile address is not valid; the message names the part that is wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TileCoordError {
    #[error("zoom level {z} is out of range: expected 0 to {max}")]
    ZoomOutOfRange { z: u64, max: u8 },
    #[error("tile column x={x} is out of range at zoom {z}: expected 0 to {max}")]
    XOutOfRange { x: u64, z: u8, max: u32 },
    #[error("tile row y={y} is out of range at zoom {z}: expected 0 to {max}")]
    YOutOfRange { y: u64, z: u8, max: u32 },
    #[error("{axis} is not a tile number: {value:?}")]
    NotANumber { axis: &'static str, value: String },
    #[error("the bounding box is empty or not finite")]
    InvalidBbox,
}

impl TileCoord {
    /// A tile address, checked.
    pub fn new(z: u8, x: u32, y: u32) -> Result<Self, TileCoordError> {
        Self::checked(u64::from(z), u64::from(x), u64::from(y))
    }

    /// Parses the three path segments of `/tiles/{layers}/{z}/{x}/{y}` (the caller
    /// strips any `.mvt`/`.pbf` extension first).
    pub fn parse(z: &str, x: &str, y: &str) -> Result<Self, TileCoordError> {
        let num = |axis: &'static str, text: &str| {
            // Only plain decimal digits: "+3" or " 3" are not tile numbers.
            if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
                return Err(TileCoordError::NotANumber {
                    axis,
                    value: text.to_string(),
                });
            }
            // Very long digit strings are out of range rather than "not a number".
            Ok(text.parse::<u64>().unwrap_or(u64::MAX))
        };
        Self::checked(num("z", z)?, num("x", x)?, num("y", y)?)
    }

    fn checked(z: u64, x: u64, y: u64) -> Result<Self, TileCoordError> {
        let zz = u8::try_from(z)
            .ok()
            .filter(|&z| z <= MAX_ZOOM)
            .ok_or(TileCoordError::ZoomOutOfRange { z, max: MAX_ZOOM })?;
        let n = 1u64 << zz;
        let max = u32::try_from(n - 1).unwrap_or(u32::MAX);
        let xx = u32::try_from(x)
            .ok()
            .filter(|_| x < n)
            .ok_or(TileCoordError::XOutOfRange { x, z: zz, max })?;
        let yy = u32::try_from(y)
            .ok()
            .filter(|_| y < n)
            .ok_or(TileCoordError::YOutOfRange { y, z: zz, max })?;
        Ok(Self {
            z: zz,
            x: xx,
            y: yy,
        })
    }

    /// The tile at zoom `z` that contains a lon/lat position (clamped onto the
    /// Web Mercator square).
    pub fn containing(lon: f64, lat: f64, z: u8) -> Result<Self, TileCoordError> {
        if z > MAX_ZOOM {
            return Err(TileCoordError::ZoomOutOfRange {
                z: u64::from(z),
                max: MAX_ZOOM,
            });
        }
        let (wx, wy) = lonlat_to_world(lon, lat);
        let n = 1u32 << z;
        Self::new(z, world_to_index(wx, n), world_to_index(wy, n))
    }

    pub fn z(&self) -> u8 {
        self.z
    }

    pub fn x(&self) -> u32 {
        self.x
    }

    pub fn y(&self) -> u32 {
        self.y
    }

    /// Tiles across the matrix at this zoom: `2^z`.
    pub fn matrix_size(&self) -> u32 {
        1u32 << self.z
    }

    /// The tile's bounds in lon/lat degrees.
    pub fn bounds_lonlat(&self) -> Rect<f64> {
        let n = f64::from(self.matrix_size());
        let (west, north) = world_to_lonlat(f64::from(self.x) / n, f64::from(self.y) / n);
        let (east, south) = world_to_lonlat(f64::from(self.x + 1) / n, f64::from(self.y + 1) / n);
        Rect::new(coord! { x: west, y: south }, coord! { x: east, y: north })
    }

    /// The tile's bounds in EPSG:3857 metres (z0 is ±20,037,508.34 m).
    pub fn bounds_mercator(&self) -> Rect<f64> {
        let n = f64::from(self.matrix_size());
        let (west, north) = world_to_mercator(f64::from(self.x) / n, f64::from(self.y) / n);
        let (east, south) = world_to_mercator(f64::from(self.x + 1) / n, f64::from(self.y + 1) / n);
        Rect::new(coord! { x: west, y: south }, coord! { x: east, y: north })
    }

    /// The lon/lat box to query for features of this tile: its bounds grown by
    /// `buffer_px` pixels of an `extent`-pixel tile (64 of 4096 by default).
    pub fn query_bounds(&self, buffer_px: u32, extent: u32) -> Rect<f64> {
        TileTransform::new(*self, extent).lonlat_bounds(f64::from(buffer_px))
    }

    /// The tile one zoom level up that contains this one; `None` at zoom 0.
    pub fn parent(&self) -> Option<TileCoord> {
        (self.z > 0).then(|| Self {
            z: self.z - 1,
            x: self.x / 2,
            y: self.y / 2,
        })
    }

    /// The four tiles one zoom level down (NW, NE, SW, SE); `None` at [`MAX_ZOOM`].
    pub fn children(&self) -> Option<[TileCoord; 4]> {
        if self.z >= MAX_ZOOM {
            return None;
        }
        let (z, x, y) = (self.z + 1, self.x * 2, self.y * 2);
        Some([
            Self { z, x, y },
            Self { z, x: x + 1, y },
            Self { z, x, y: y + 1 },
            Self {
                z,
                x: x + 1,
                y: y + 1,
            },
        ])
    }
}

impl fmt::Display for TileCoord {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}/{}", self.z, self.x, self.y)
    }
}

/// A tile column or row index from a world coordinate in `0..=1`, clamped.
fn world_to_index(w: f64, n: u32) -> u32 {
    let i = (w * f64::from(n)).floor();
    if i.is_nan() || i < 0.0 {
        0
    } else if i >= f64::from(n) {
        n - 1
    } else {
        i as u32
    }
}

/// An inclusive rectangle of tiles at one zoom level.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TileRange {
    pub z: u8,
    pub min_x: u32,
    pub min_y: u32,
    pub max_x: u32,
    pub max_y: u32,
}

impl TileRange {
    /// The tiles at zoom `z` that cover a lon/lat box (no antimeridian crossing;
    /// latitudes beyond ±85.05° fall in the first or last row).
    pub fn covering(bbox: Rect<f64>, z: u8) -> Result<TileRange, TileCoordError> {
        let (min, max) = (bbox.min(), bbox.max());
        if ![min.x, min.y, max.x, max.y].iter().all(|v| v.is_finite()) {
            return Err(TileCoordError::InvalidBbox);
        }
        let nw = TileCoord::containing(min.x, max.y, z)?;
        let se = TileCoord::containing(max.x, min.y, z)?;
        Ok(TileRange {
            z,
            min_x: nw.x,
            min_y: nw.y,
            max_x: se.x,
            max_y: se.y,
        })
    }

    /// The number of tiles in the range.
    pub fn len(&self) -> u64 {
        u64::from(self.max_x - self.min_x + 1) * u64::from(self.max_y - self.min_y + 1)
    }

    /// Never true: a range holds at least one tile.
    pub fn is_empty(&self) -> bool {
        false
    }

    pub fn contains(&self, tile: TileCoord) -> bool {
        tile.z == self.z
            && (self.min_x..=self.max_x).contains(&tile.x)
            && (self.min_y..=self.max_y).contains(&tile.y)
    }

    /// The tiles row by row, from the north-west.
    pub fn iter(&self) -> impl Iterator<Item = TileCoord> + '_ {
        let z = self.z;
        (self.min_y..=self.max_y)
            .flat_map(move |y| (self.min_x..=self.max_x).map(move |x| TileCoord { z, x, y }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tile(z: u8, x: u32, y: u32) -> TileCoord {
        TileCoord::new(z, x, y).expect("valid tile")
    }

    #[test]
    fn validation_names_what_is_wrong() {
        assert!(TileCoord::new(22, (1 << 22) - 1, 0).is_ok());
        assert_eq!(
            TileCoord::new(23, 0, 0),
            Err(TileCoordError::ZoomOutOfRange { z: 23, max: 22 })
        );
        let e = TileCoord::new(3, 8, 0).expect_err("x too big");
        assert_eq!(e, TileCoordError::XOutOfRange { x: 8, z: 3, max: 7 });
        assert_eq!(
            e.to_string(),
            "tile column x=8 is out of range at zoom 3: expected 0 to 7"
        );
        assert!(matches!(
            TileCoord::new(0, 0, 1),
            Err(TileCoordError::YOutOfRange { y: 1, .. })
        ));
    }

    #[test]
    fn parsing_path_segments() {
        assert_eq!(TileCoord::parse("10", "809", "426"), Ok(tile(10, 809, 426)));
        assert!(matches!(
            TileCoord::parse("1x", "0", "0"),
            Err(TileCoordError::NotANumber { axis: "z", .. })
        ));
        assert!(matches!(
            TileCoord::parse("1", "-1", "0"),
            Err(TileCoordError::NotANumber { axis: "x", .. })
        ));
        assert!(matches!(
            TileCoord::parse("1", "0", ""),
            Err(TileCoordError::NotANumber { axis: "y", .. })
        ));
        assert!(matches!(
            TileCoord::parse("99999999999999999999999", "0", "0"),
            Err(TileCoordError::ZoomOutOfRange { .. })
        ));
        assert!(matches!(
            TileCoord::parse("2", "4294967296", "0"),
            Err(TileCoordError::XOutOfRange {
                x: 4_294_967_296,
                ..
            })
        ));
    }

    #[test]
    fn z0_bounds_are_the_whole_quad() {
        let m = tile(0, 0, 0).bounds_mercator();
        let h = 20_037_508.342_789_244;
        assert!((m.min().x + h).abs() < 1e-6 && (m.max().x - h).abs() < 1e-6);
        assert!((m.min().y + h).abs() < 1e-6 && (m.max().y - h).abs() < 1e-6);
        let g = tile(0, 0, 0).bounds_lonlat();
        assert!((g.min().x + 180.0).abs() < 1e-12 && (g.max().x - 180.0).abs() < 1e-12);
        assert!((g.max().y - crate::mercator::MAX_LATITUDE).abs() < 1e-9);
    }

    #[test]
    fn yibin_at_z10() {
        // 104.6°E, 28.77°N: x = floor(284.6/360·1024) = 809,
        // y = floor((1 − asinh(tan φ)/π)/2 · 1024) = floor(426.49) = 426.
        let t = TileCoord::containing(104.6, 28.77, 10).expect("valid");
        assert_eq!((t.x(), t.y()), (809, 426));
        let b = t.bounds_lonlat();
        assert!(b.min().x <= 104.6 && 104.6 < b.max().x);
        assert!(b.min().y <= 28.77 && 28.77 < b.max().y);
        assert_eq!(t.to_string(), "10/809/426");
    }

    #[test]
    fn containing_clamps_to_the_matrix() {
        assert_eq!(TileCoord::containing(180.0, -90.0, 2), Ok(tile(2, 3, 3)));
        assert_eq!(TileCoord::containing(-180.0, 90.0, 2), Ok(tile(2, 0, 0)));
        assert!(TileCoord::containing(0.0, 0.0, 23).is_err());
    }

    #[test]
    fn parent_and_children() {
        let t = tile(10, 809, 426);
        let kids = t.children().expect("not at max zoom");
        assert_eq!(kids[0], tile(11, 1618, 852));
        assert_eq!(kids[3], tile(11, 1619, 853));
        for k in kids {
            assert_eq!(k.parent(), Some(t));
            let (kb, tb) = (k.bounds_mercator(), t.bounds_mercator());
            assert!(kb.min().x >= tb.min().x - 1e-6 && kb.max().y <= tb.max().y + 1e-6);
        }
        assert_eq!(tile(0, 0, 0).parent(), None);
        assert_eq!(tile(22, 0, 0).children(), None);
    }

    #[test]
    fn ranges_cover_a_bbox() {
        // Yibin's extent, roughly.
        let bbox = Rect::new(coord! { x: 103.6, y: 27.8 }, coord! { x: 105.3, y: 29.3 });
        let r = TileRange::covering(bbox, 10).expect("valid");
        assert!(r.contains(tile(10, 809, 426)));
        assert_eq!(r.len(), r.iter().count() as u64);
        assert_eq!(r.iter().next(), Some(tile(10, r.min_x, r.min_y)));
        let z0 = TileRange::covering(bbox, 0).expect("valid");
        assert_eq!(z0.len(), 1);
        let nan = Rect::new(coord! { x: f64::NAN, y: 0.0 }, coord! { x: 1.0, y: 1.0 });
        assert_eq!(
            TileRange::covering(nan, 3),
            Err(TileCoordError::InvalidBbox)
        );
    }

    #[test]
    fn query_bounds_contain_the_tile() {
        let t = tile(14, 12_953, 6_826);
        let b = t.bounds_lonlat();
        let q = t.query_bounds(64, 4096);
        assert!(q.min().x < b.min().x && q.max().x > b.max().x);
        assert!(q.min().y < b.min().y && q.max().y > b.max().y);
    }
}
