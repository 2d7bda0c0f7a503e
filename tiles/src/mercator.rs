//! Spherical Web Mercator (EPSG:3857) and the pixel space of one tile.
//!
//! Three coordinate spaces appear in this crate:
//! - lon/lat degrees (WGS84; CGCS2000 is treated as identical), what the atlas stores;
//! - EPSG:3857 metres, what WebMercatorQuad's bounds are written in;
//! - tile pixels: `0..extent` across one tile, x to the east, **y down** (south),
//!   the coordinate space of MVT geometry.
//!
//! Latitudes beyond ±[`MAX_LATITUDE`] are clamped, as every Web Mercator client does.

use geo_types::{coord, Rect};

use crate::coord::TileCoord;

/// Radius of the sphere of EPSG:3857 (the WGS84 semi-major axis), in metres.
pub const EARTH_RADIUS_M: f64 = 6_378_137.0;

/// Half the width of the Web Mercator square, in metres (π·R ≈ 20,037,508.34 m).
pub const HALF_WORLD_M: f64 = std::f64::consts::PI * EARTH_RADIUS_M;

/// The latitude at which Web Mercator becomes a square (≈ 85.0511°).
pub const MAX_LATITUDE: f64 = 85.051_128_779_806_59;

/// Projects lon/lat degrees to EPSG:3857 metres (latitude clamped).
pub fn lonlat_to_mercator(lon: f64, lat: f64) -> (f64, f64) {
    let (wx, wy) = lonlat_to_world(lon, lat);
    world_to_mercator(wx, wy)
}

/// Inverse of [`lonlat_to_mercator`].
pub fn mercator_to_lonlat(x: f64, y: f64) -> (f64, f64) {
    let wx = (x / HALF_WORLD_M + 1.0) / 2.0;
    let wy = (1.0 - y / HALF_WORLD_M) / 2.0;
    world_to_lonlat(wx, wy)
}

/// Projects lon/lat degrees to the unit world square: (0, 0) is the north-west
/// corner (−180°, +85.05°), (1, 1) the south-east one. Latitude is clamped.
#[inline]
pub fn lonlat_to_world(lon: f64, lat: f64) -> (f64, f64) {
    let lat = lat.clamp(-MAX_LATITUDE, MAX_LATITUDE).to_radians();
    // atanh(sin φ) is ln(tan(π/4 + φ/2)) without the cancellation near the poles.
    let y = lat.sin().atanh();
    (
        (lon + 180.0) / 360.0,
        0.5 - y / (2.0 * std::f64::consts::PI),
    )
}

/// Inverse of [`lonlat_to_world`].
#[inline]
pub fn world_to_lonlat(wx: f64, wy: f64) -> (f64, f64) {
    let lon = wx * 360.0 - 180.0;
    let lat = ((0.5 - wy) * 2.0 * std::f64::consts::PI)
        .sinh()
        .atan()
        .to_degrees();
    (lon, lat)
}

/// Unit world square to EPSG:3857 metres.
#[inline]
pub fn world_to_mercator(wx: f64, wy: f64) -> (f64, f64) {
    (
        (wx * 2.0 - 1.0) * HALF_WORLD_M,
        (1.0 - wy * 2.0) * HALF_WORLD_M,
    )
}

/// Maps lon/lat to the pixel space of one tile and back.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TileTransform {
    /// Pixels per world unit: `2^z · extent`.
    scale: f64,
    /// World pixel of the tile's west edge: `x · extent`.
    x0: f64,
    /// World pixel of the tile's north edge: `y · extent`.
    y0: f64,
    extent: u32,
}

impl TileTransform {
    /// The transform of `tile` with `extent` pixels across (4096 in MVT practice).
    pub fn new(tile: TileCoord, extent: u32) -> Self {
        let e = f64::from(extent);
        Self {
            scale: f64::from(tile.matrix_size()) * e,
            x0: f64::from(tile.x()) * e,
            y0: f64::from(tile.y()) * e,
            extent,
        }
    }

    /// Pixels across the tile.
    pub fn extent(&self) -> u32 {
        self.extent
    }

    /// Lon/lat to tile pixels (not rounded, not clipped; y down).
    #[inline]
    pub fn to_pixel(&self, lon: f64, lat: f64) -> (f64, f64) {
        let (wx, wy) = lonlat_to_world(lon, lat);
        (wx * self.scale - self.x0, wy * self.scale - self.y0)
    }

    /// Tile pixels to lon/lat.
    pub fn to_lonlat(&self, px: f64, py: f64) -> (f64, f64) {
        world_to_lonlat((px + self.x0) / self.scale, (py + self.y0) / self.scale)
    }

    /// The lon/lat rectangle of the tile grown by `buffer_px` pixels on every side:
    /// what to ask an R-tree for. Latitudes stay within ±90°.
    pub fn lonlat_bounds(&self, buffer_px: f64) -> Rect<f64> {
        let e = f64::from(self.extent);
        let (west, north) = self.to_lonlat(-buffer_px, -buffer_px);
        let (east, south) = self.to_lonlat(e + buffer_px, e + buffer_px);
        // The top row of tiles reaches the pole: anything north of the clamp line
        // projects onto the tile's edge, so the query must include it.
        let north = if self.y0 <= 0.0 { 90.0 } else { north };
        let south = if self.y0 + e >= self.scale {
            -90.0
        } else {
            south
        };
        Rect::new(coord! { x: west, y: south }, coord! { x: east, y: north })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64, eps: f64) -> bool {
        (a - b).abs() <= eps
    }

    #[test]
    fn world_corners_are_the_quad_bounds() {
        let (x, y) = lonlat_to_mercator(-180.0, MAX_LATITUDE);
        assert!(close(x, -20_037_508.342_789_244, 1e-6), "{x}");
        assert!(close(y, 20_037_508.342_789_244, 1e-3), "{y}");
        let (x, y) = lonlat_to_mercator(180.0, -90.0);
        assert!(close(x, 20_037_508.342_789_244, 1e-6));
        assert!(close(y, -20_037_508.342_789_244, 1e-3), "clamped: {y}");
    }

    #[test]
    fn known_mercator_values() {
        // Yibin centre: x = R·λ, y = R·ln(tan(π/4 + φ/2)).
        let (x, y) = lonlat_to_mercator(104.6, 28.77);
        assert!(close(x, 11_644_018.737, 1e-3), "{x}");
        assert!(close(y, 3_346_404.631, 1e-3), "{y}");
    }

    #[test]
    fn round_trips() {
        for &(lon, lat) in &[(0.0, 0.0), (104.6, 28.77), (-73.9, 40.7), (179.9, -84.0)] {
            let (x, y) = lonlat_to_mercator(lon, lat);
            let (lon2, lat2) = mercator_to_lonlat(x, y);
            assert!(close(lon, lon2, 1e-9) && close(lat, lat2, 1e-9));
            let (wx, wy) = lonlat_to_world(lon, lat);
            let (lon3, lat3) = world_to_lonlat(wx, wy);
            assert!(close(lon, lon3, 1e-9) && close(lat, lat3, 1e-9));
        }
    }

    #[test]
    fn tile_pixels_round_trip() {
        let tile = TileCoord::new(10, 809, 426).expect("valid");
        let t = TileTransform::new(tile, 4096);
        let (px, py) = t.to_pixel(104.6, 28.77);
        assert!((0.0..4096.0).contains(&px) && (0.0..4096.0).contains(&py));
        let (lon, lat) = t.to_lonlat(px, py);
        assert!(close(lon, 104.6, 1e-10) && close(lat, 28.77, 1e-10));
        let b = t.lonlat_bounds(0.0);
        let tb = tile.bounds_lonlat();
        assert!(close(b.min().x, tb.min().x, 1e-12) && close(b.max().y, tb.max().y, 1e-12));
    }

    #[test]
    fn buffered_bounds_grow_and_reach_the_poles_at_the_edges() {
        let t = TileTransform::new(TileCoord::new(0, 0, 0).expect("valid"), 4096);
        let b = t.lonlat_bounds(64.0);
        assert!(b.min().x < -180.0 && b.max().x > 180.0);
        assert_eq!((b.min().y, b.max().y), (-90.0, 90.0));
        let t = TileTransform::new(TileCoord::new(10, 809, 426).expect("valid"), 4096);
        let inner = t.lonlat_bounds(0.0);
        let outer = t.lonlat_bounds(64.0);
        assert!(outer.min().x < inner.min().x && outer.max().y > inner.max().y);
        // 64 of 4096 pixels is 1/64 of the tile's width.
        let w = inner.width();
        assert!(close(outer.width(), w * (1.0 + 2.0 / 64.0), 1e-9));
    }
}
