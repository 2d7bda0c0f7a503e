//! GCJ-02 ("Mars coordinates", used by Chinese web maps) to WGS84.
//!
//! GCJ-02 is WGS84 plus a deliberate, smooth, position-dependent offset of a few
//! hundred metres, published only as its forward formula (WGS84 → GCJ-02).
//! The inverse has no closed form, so [`to_wgs84`] solves `forward(w) = g` by
//! fixed-point iteration; the offset changes slowly, so a few steps bring the
//! residual far below a millimetre. Outside China the offset is zero.

/// Semi-major axis of the Krasovsky 1940 ellipsoid the formula is built on.
const A: f64 = 6_378_245.0;
/// Its first eccentricity squared.
const EE: f64 = 0.006_693_421_622_965_943;

/// The rough bounding box inside which the offset applies.
pub fn in_china(lon: f64, lat: f64) -> bool {
    (72.004..=137.8347).contains(&lon) && (0.8293..=55.8271).contains(&lat)
}

fn offset_lat(x: f64, y: f64) -> f64 {
    use std::f64::consts::PI;
    let mut r = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * x.abs().sqrt();
    r += (20.0 * (6.0 * x * PI).sin() + 20.0 * (2.0 * x * PI).sin()) * 2.0 / 3.0;
    r += (20.0 * (y * PI).sin() + 40.0 * (y / 3.0 * PI).sin()) * 2.0 / 3.0;
    r += (160.0 * (y / 12.0 * PI).sin() + 320.0 * (y * PI / 30.0).sin()) * 2.0 / 3.0;
    r
}

fn offset_lon(x: f64, y: f64) -> f64 {
    use std::f64::consts::PI;
    let mut r = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * x.abs().sqrt();
    r += (20.0 * (6.0 * x * PI).sin() + 20.0 * (2.0 * x * PI).sin()) * 2.0 / 3.0;
    r += (20.0 * (x * PI).sin() + 40.0 * (x / 3.0 * PI).sin()) * 2.0 / 3.0;
    r += (150.0 * (x / 12.0 * PI).sin() + 300.0 * (x / 30.0 * PI).sin()) * 2.0 / 3.0;
    r
}

/// WGS84 → GCJ-02 (the published forward formula).
pub fn from_wgs84(lon: f64, lat: f64) -> (f64, f64) {
    if !in_china(lon, lat) {
        return (lon, lat);
    }
    let dlat = offset_lat(lon - 105.0, lat - 35.0);
    let dlon = offset_lon(lon - 105.0, lat - 35.0);
    let rad = lat.to_radians();
    let magic = 1.0 - EE * rad.sin() * rad.sin();
    let sqrt_magic = magic.sqrt();
    let dlat = (dlat * 180.0) / ((A * (1.0 - EE)) / (magic * sqrt_magic) * std::f64::consts::PI);
    let dlon = (dlon * 180.0) / (A / sqrt_magic * rad.cos() * std::f64::consts::PI);
    (lon + dlon, lat + dlat)
}

/// GCJ-02 → WGS84 by iterating `w ← w − (forward(w) − g)` until the forward
/// transform of the answer lands within 1e-10° (~0.01 mm) of the input.
pub fn to_wgs84(lon: f64, lat: f64) -> (f64, f64) {
    if !in_china(lon, lat) {
        return (lon, lat);
    }
    let (mut x, mut y) = (lon, lat);
    for _ in 0..30 {
        let (fx, fy) = from_wgs84(x, y);
        let (dx, dy) = (fx - lon, fy - lat);
        x -= dx;
        y -= dy;
        if dx.abs() < 1e-10 && dy.abs() < 1e-10 {
            break;
        }
    }
    (x, y)
}

#[cfg(test)]
mod tests {
    use super::*;
    use geo::{Distance, Geodesic, Point};
    use rand::{Rng, SeedableRng};

    #[test]
    fn forward_matches_a_published_pair() {
        // The example of the widely used `coordtransform` library (Beijing).
        let (lon, lat) = from_wgs84(116.404, 39.915);
        assert!((lon - 116.410_244_499_169_38).abs() < 1e-9, "{lon}");
        assert!((lat - 39.916_404_281_501_64).abs() < 1e-9, "{lat}");
    }

    #[test]
    fn inverse_round_trips_within_a_millimetre_over_china() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(7);
        for _ in 0..20_000 {
            let w = (rng.gen_range(73.0..135.0), rng.gen_range(18.0..53.0));
            let g = from_wgs84(w.0, w.1);
            // The offset itself is hundreds of metres: the test means something.
            let (back_lon, back_lat) = to_wgs84(g.0, g.1);
            let error_m = Geodesic.distance(Point::new(w.0, w.1), Point::new(back_lon, back_lat));
            assert!(error_m < 0.001, "{w:?}: {error_m} m");
        }
    }

    #[test]
    fn yibin_offset_is_hundreds_of_metres_and_undone() {
        let wgs = (104.6417, 28.7513);
        let gcj = from_wgs84(wgs.0, wgs.1);
        let offset_m = Geodesic.distance(Point::new(wgs.0, wgs.1), Point::new(gcj.0, gcj.1));
        assert!((100.0..1000.0).contains(&offset_m), "{offset_m}");
        let back = to_wgs84(gcj.0, gcj.1);
        let error_m = Geodesic.distance(Point::new(wgs.0, wgs.1), Point::new(back.0, back.1));
        assert!(error_m < 1.0, "{error_m}");
    }

    #[test]
    fn outside_china_nothing_moves() {
        assert_eq!(from_wgs84(2.35, 48.85), (2.35, 48.85));
        assert_eq!(to_wgs84(-74.0, 40.7), (-74.0, 40.7));
    }
}
