//! Geodesy primitives: geodesic (WGS84 ellipsoid) point distances and bearings,
//! great-circle arcs on the unit sphere, and conservative metre → degree
//! envelopes for R-tree pre-filtering.
//!
//! Model, as in PostGIS `geography`: edges are great-circle arcs; the closest
//! point of an arc is found on the sphere, then the distance to it is measured
//! on the ellipsoid (Karney's geodesics through geo's [`Geodesic`]).

use geo::{Bearing, Distance, Geodesic, GeodesicBearing};
use geo_types::{Point, Rect};
use rstar::AABB;

/// Mean Earth radius (IUGG, metres): converts sphere angles to metres, only to
/// rank candidates before the ellipsoidal measure.
pub const MEAN_RADIUS_M: f64 = 6_371_008.8;

/// WGS84 equatorial radius (metres); the prime-vertical radius N is never less.
const EQUATORIAL_RADIUS_M: f64 = 6_378_137.0;

/// Fewest metres per degree of latitude anywhere on WGS84 (110,574 m at the
/// equator), rounded down so that latitude spans come out conservative.
const MIN_M_PER_DEG_LAT: f64 = 110_000.0;

/// Beyond this latitude an envelope spans every longitude (meridians converge).
const POLAR_CAP_DEG: f64 = 89.0;

/// How far an ellipsoidal distance can be from the sphere distance (mean
/// radius R, geodetic latitude taken as spherical). In the same coordinates
/// the ellipsoid's line element is √(M²dφ² + N²cos²φ dλ²) and the sphere's
/// R·√(dφ² + cos²φ dλ²), so along any path their ratio lies between the
/// smallest radius of curvature, M at the equator = a(1 − e²) = 6,335,439 m
/// (R/M = 1.00561), and the largest, N = M at the poles = a/√(1 − e²) =
/// 6,399,594 m (N/R = 1.00449). The geodesic distance is the shortest path,
/// so it lies within [Rθ/1.00562, Rθ·1.00449] for a central angle θ: a
/// factor of 1.006 each way, plus 2 m for rounding, is safe.
pub const SPHERE_SLACK: f64 = 1.006;
pub const SPHERE_SLACK_M: f64 = 2.0;

/// WGS84 first eccentricity squared, f(2 − f) for f = 1/298.257223563.
const WGS84_E2: f64 = 0.006_694_379_990_141_317;

/// The meridional radius of curvature M(φ) = a(1 − e²)/(1 − e² sin²φ)^(3/2),
/// metres: the smaller of the two radii of curvature, growing from the
/// equator (6,335,439 m) toward the poles. Rounded down by 1e-9.
fn meridional_radius_m(abs_lat_deg: f64) -> f64 {
    let s = abs_lat_deg.clamp(0.0, 90.0).to_radians().sin();
    let w = 1.0 - WGS84_E2 * s * s;
    EQUATORIAL_RADIUS_M * (1.0 - WGS84_E2) / (w * w.sqrt()) * (1.0 - 1e-9)
}

/// Metres per radian of central angle that no geodesic of length at most
/// `reach_m` from a point at latitude `lat_deg` can fall below.
///
/// In geodetic coordinates the ellipsoid's line element √(M²dφ² + N²cos²φ dλ²)
/// is at least M(φ)/R times the sphere's R·√(dφ² + cos²φ dλ²) (M ≤ N), and a
/// path of length L moves at most L/M(0) radians in latitude. So a geodesic
/// of length ≤ `reach_m` stays poleward of |φ| − reach/M(0), where M is at
/// least its value there, and its length is at least that M times the
/// central angle. Tighter than the global R/[`SPHERE_SLACK`] away from the
/// equator (0.32% below R·θ at 29° instead of 0.56%); with an unbounded
/// reach, the equator's M.
pub fn lower_m_per_rad(lat_deg: f64, reach_m: f64) -> f64 {
    let equator = meridional_radius_m(0.0);
    let band = (reach_m / equator).to_degrees();
    if !band.is_finite() {
        return equator;
    }
    meridional_radius_m(lat_deg.abs() - band)
}

/// A lower bound of the geodesic (WGS84) distance, metres, for a central
/// angle (radians) between two points on the unit sphere.
pub fn sphere_lower_bound_m(angle_rad: f64) -> f64 {
    (angle_rad * MEAN_RADIUS_M / SPHERE_SLACK - SPHERE_SLACK_M).max(0.0)
}

/// An upper bound of the geodesic (WGS84) distance, metres, for a central angle.
pub fn sphere_upper_bound_m(angle_rad: f64) -> f64 {
    angle_rad * MEAN_RADIUS_M * SPHERE_SLACK + SPHERE_SLACK_M
}

/// Geodesic distance in metres between two lon/lat points (WGS84).
pub fn geodesic_distance_m(a: Point<f64>, b: Point<f64>) -> f64 {
    Geodesic.distance(a, b)
}

/// Initial geodesic bearing from `from` to `to` in degrees, 0 ≤ bearing < 360
/// (north 0, east 90); `None` when the points coincide (no direction).
pub fn geodesic_bearing_deg(from: Point<f64>, to: Point<f64>) -> Option<f64> {
    if from == to {
        return None;
    }
    let b = Geodesic.bearing(from, to).rem_euclid(360.0);
    // rem_euclid can return 360.0 itself for tiny negative inputs.
    Some(if b >= 360.0 { 0.0 } else { b })
}

/// Geodesic distance (metres) and initial bearing (as [`geodesic_bearing_deg`])
/// from `from` to `to`, from one solution of the inverse problem.
pub fn geodesic_distance_bearing(from: Point<f64>, to: Point<f64>) -> (f64, Option<f64>) {
    if from == to {
        return (0.0, None);
    }
    let (bearing, distance) = from.geodesic_bearing_distance(to);
    let b = bearing.rem_euclid(360.0);
    (distance, Some(if b >= 360.0 { 0.0 } else { b }))
}

/// A point on the unit sphere (x toward lon 0, z toward the north pole).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct UnitVec([f64; 3]);

impl UnitVec {
    /// The unit vector of a lon/lat point (geodetic latitude used as spherical,
    /// as PostGIS does for arcs).
    pub fn from_lonlat(lon: f64, lat: f64) -> Self {
        let (lon, lat) = (lon.to_radians(), lat.to_radians());
        UnitVec([lat.cos() * lon.cos(), lat.cos() * lon.sin(), lat.sin()])
    }

    pub fn from_point(p: Point<f64>) -> Self {
        Self::from_lonlat(p.x(), p.y())
    }

    /// Back to lon/lat degrees.
    pub fn to_point(self) -> Point<f64> {
        let [x, y, z] = self.0;
        Point::new(y.atan2(x).to_degrees(), z.atan2(x.hypot(y)).to_degrees())
    }

    pub fn dot(self, o: Self) -> f64 {
        self.0[0] * o.0[0] + self.0[1] * o.0[1] + self.0[2] * o.0[2]
    }

    fn cross(self, o: Self) -> [f64; 3] {
        let ([a, b, c], [d, e, f]) = (self.0, o.0);
        [b * f - c * e, c * d - a * f, a * e - b * d]
    }

    /// Central angle to another unit vector, radians (stable for tiny angles).
    pub fn angle(self, o: Self) -> f64 {
        norm(self.cross(o)).atan2(self.dot(o))
    }

    /// The midpoint of the minor arc to `o`; `None` for antipodal points.
    pub fn midpoint(self, o: Self) -> Option<Self> {
        normalized([0, 1, 2].map(|i| self.0[i] + o.0[i])).map(UnitVec)
    }

    /// The point a fraction `t` of the way along the great-circle arc to `o`.
    pub fn slerp(self, o: Self, t: f64) -> Self {
        let omega = self.angle(o);
        if omega < 1e-12 {
            return self;
        }
        let (wa, wb) = (((1.0 - t) * omega).sin(), (t * omega).sin());
        let v = [0, 1, 2].map(|i| wa * self.0[i] + wb * o.0[i]);
        normalized(v).map_or(self, UnitVec)
    }
}

fn norm(v: [f64; 3]) -> f64 {
    (v[0] * v[0] + v[1] * v[1] + v[2] * v[2]).sqrt()
}

fn normalized(v: [f64; 3]) -> Option<[f64; 3]> {
    let n = norm(v);
    (n > 1e-15).then(|| v.map(|c| c / n))
}

/// The closest point to `p` on the (minor) great-circle arc from `a` to `b`,
/// on the unit sphere: the perpendicular foot when it falls within the arc,
/// else the nearer endpoint (cross-track with endpoint fallback).
pub fn closest_on_arc(p: UnitVec, a: UnitVec, b: UnitVec) -> UnitVec {
    let nearer_end = || if p.angle(a) <= p.angle(b) { a } else { b };
    let Some(n) = normalized(a.cross(b)) else {
        return nearer_end(); // zero-length (or antipodal) edge
    };
    let n = UnitVec(n);
    let s = p.dot(n);
    // Project p onto the arc's plane; a pole of the great circle projects to 0.
    let Some(foot) = normalized([0, 1, 2].map(|i| p.0[i] - s * n.0[i])) else {
        return nearer_end();
    };
    let foot = UnitVec(foot);
    let within = UnitVec(a.cross(foot)).dot(n) >= 0.0 && UnitVec(foot.cross(b)).dot(n) >= 0.0;
    if within {
        foot
    } else {
        nearer_end()
    }
}

/// Distance in metres from a point to the great-circle arc `a`–`b`: the closest
/// point is found on the sphere, the distance to it measured geodesically on
/// the ellipsoid (PostGIS `geography` does the same).
pub fn point_arc_distance_m(p: Point<f64>, a: Point<f64>, b: Point<f64>) -> f64 {
    let c = closest_on_arc(
        UnitVec::from_point(p),
        UnitVec::from_point(a),
        UnitVec::from_point(b),
    );
    geodesic_distance_m(p, c.to_point())
}

/// A lon/lat envelope that holds every point within `distance_m` (geodesic,
/// WGS84) of any point of `bbox`: latitude grows by the fewest metres per
/// degree anywhere, longitude by the fewest metres per degree at the highest
/// latitude reached. Near a pole, or where the span would cross the
/// antimeridian, the envelope covers every longitude (still conservative).
pub fn search_envelope(bbox: Rect<f64>, distance_m: f64) -> AABB<[f64; 2]> {
    let d = distance_m.max(0.0);
    let dlat = d / MIN_M_PER_DEG_LAT;
    let lat_lo = (bbox.min().y - dlat).max(-90.0);
    let lat_hi = (bbox.max().y + dlat).min(90.0);
    let phi_max = lat_lo.abs().max(lat_hi.abs());
    let whole = AABB::from_corners([-180.0, lat_lo], [180.0, lat_hi]);
    if phi_max >= POLAR_CAP_DEG {
        return whole;
    }
    // A path spanning Δλ inside |lat| ≤ φmax is at least N·cos φmax·Δλ ≥ a·cos φmax·Δλ
    // long; the 1e-6 margin absorbs rounding.
    let m_per_deg_lon =
        EQUATORIAL_RADIUS_M * phi_max.to_radians().cos() * (1.0 - 1e-6) * std::f64::consts::PI
            / 180.0;
    let dlon = d / m_per_deg_lon;
    let (lon_lo, lon_hi) = (bbox.min().x - dlon, bbox.max().x + dlon);
    if lon_lo < -180.0 || lon_hi > 180.0 {
        return whole;
    }
    AABB::from_corners([lon_lo, lat_lo], [lon_hi, lat_hi])
}

#[cfg(test)]
mod tests {
    use super::*;
    use geo::{Destination, InterpolatePoint};
    use geo_types::{coord, point};
    use rstar::Envelope;

    const YIBIN: Point<f64> = Point(geo_types::Coord {
        x: 104.6417,
        y: 28.7513,
    });
    const CHENGDU: Point<f64> = Point(geo_types::Coord {
        x: 104.0657,
        y: 30.6595,
    });

    #[test]
    fn known_geodesic_distances_and_bearings() {
        // Yibin → Chengdu: 218,738.95 m at 345.379° (Vincenty's inverse formula,
        // computed independently; it agrees with Karney's to well under a mm here).
        let d = geodesic_distance_m(YIBIN, CHENGDU);
        assert!((d - 218_738.95).abs() < 0.01, "{d}");
        let b = geodesic_bearing_deg(YIBIN, CHENGDU).expect("bearing");
        assert!((b - 345.379_03).abs() < 1e-4, "{b}");
        // One degree of latitude at the equator is 110,574.4 m on WGS84.
        let one = geodesic_distance_m(point!(x: 0.0, y: 0.0), point!(x: 0.0, y: 1.0));
        assert!((one - 110_574.4).abs() < 1.0, "{one}");
        // Cardinal bearings, all in 0..360.
        let o = point!(x: 104.0, y: 28.0);
        for (to, want) in [
            (point!(x: 104.0, y: 28.1), 0.0),
            (point!(x: 104.1, y: 28.0), 90.0),
            (point!(x: 104.0, y: 27.9), 180.0),
            (point!(x: 103.9, y: 28.0), 270.0),
        ] {
            let b = geodesic_bearing_deg(o, to).expect("bearing");
            assert!((0.0..360.0).contains(&b));
            let diff = (b - want).abs().min(360.0 - (b - want).abs());
            assert!(diff < 0.1, "{want}: {b}");
        }
        assert_eq!(geodesic_bearing_deg(o, o), None);
    }

    /// The sphere bounds hold for random pairs at every latitude and distance.
    #[test]
    fn sphere_bounds_enclose_geodesic_distances() {
        use rand::{Rng, SeedableRng};
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(17);
        for _ in 0..5_000 {
            let a = point!(x: rng.gen_range(-180.0..180.0), y: rng.gen_range(-89.9..89.9));
            let d = 10f64.powf(rng.gen_range(-1.0..6.0));
            let b = Geodesic.destination(a, rng.gen_range(0.0..360.0), d);
            let angle = UnitVec::from_point(a).angle(UnitVec::from_point(b));
            let g = geodesic_distance_m(a, b);
            assert!(sphere_lower_bound_m(angle) <= g, "{a:?} {b:?}");
            assert!(sphere_upper_bound_m(angle) >= g, "{a:?} {b:?}");
        }
    }

    /// The bounds hold where the ellipsoid is farthest from the mean sphere:
    /// north–south at the equator (radius M = 6,335 km) and near the poles
    /// (6,400 km), over short and long distances.
    #[test]
    fn sphere_bounds_hold_at_the_extreme_curvatures() {
        for (a, b) in [
            (point!(x: 10.0, y: -0.005), point!(x: 10.0, y: 0.005)),
            (point!(x: 10.0, y: -1.0), point!(x: 10.0, y: 1.0)),
            (point!(x: 10.0, y: 89.99), point!(x: 10.0, y: 89.999)),
            (point!(x: 10.0, y: 89.99), point!(x: 190.0, y: 89.99)),
            (point!(x: 0.0, y: 85.0), point!(x: 90.0, y: 85.0)),
            (point!(x: 0.0, y: 0.0), point!(x: 0.01, y: 0.0)),
        ] {
            let angle = UnitVec::from_point(a).angle(UnitVec::from_point(b));
            let g = geodesic_distance_m(a, b);
            let (lo, hi) = (sphere_lower_bound_m(angle), sphere_upper_bound_m(angle));
            assert!(lo <= g && g <= hi, "{a:?} {b:?}: {lo} {g} {hi}");
            // Without the 2 m, the factor alone still bounds them.
            let r = angle * MEAN_RADIUS_M;
            assert!(
                r / SPHERE_SLACK <= g && g <= r * SPHERE_SLACK,
                "{a:?} {b:?}"
            );
        }
    }

    /// The latitude-band bound holds for random short pairs at every
    /// latitude, and is tighter than the global one away from the equator.
    #[test]
    fn band_bounds_stay_below_geodesic_distances() {
        use rand::{Rng, SeedableRng};
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(19);
        for _ in 0..20_000 {
            let a = point!(x: rng.gen_range(-180.0..180.0), y: rng.gen_range(-89.9..89.9));
            let d = 10f64.powf(rng.gen_range(0.0..5.0));
            let b = Geodesic.destination(a, rng.gen_range(0.0..360.0), d);
            let angle = UnitVec::from_point(a).angle(UnitVec::from_point(b));
            let g = geodesic_distance_m(a, b);
            let m = lower_m_per_rad(a.y(), g * 1.0001);
            assert!(angle * m <= g + 1e-6, "{a:?} {b:?}: {} > {g}", angle * m);
        }
        let at_29 = lower_m_per_rad(29.0, 10_000.0);
        assert!(
            at_29 > MEAN_RADIUS_M / 1.0033 && at_29 < MEAN_RADIUS_M,
            "{at_29}"
        );
        assert_eq!(
            lower_m_per_rad(29.0, f64::INFINITY),
            meridional_radius_m(0.0)
        );
        assert!(meridional_radius_m(0.0) >= MEAN_RADIUS_M / SPHERE_SLACK);
    }

    #[test]
    fn distance_and_bearing_together_equal_each_alone() {
        let (d, b) = geodesic_distance_bearing(YIBIN, CHENGDU);
        assert!((d - geodesic_distance_m(YIBIN, CHENGDU)).abs() < 1e-6);
        let alone = geodesic_bearing_deg(YIBIN, CHENGDU).expect("bearing");
        assert!(b.is_some_and(|b| (b - alone).abs() < 1e-9), "{b:?}");
        assert_eq!(geodesic_distance_bearing(YIBIN, YIBIN), (0.0, None));
    }

    #[test]
    fn unit_vectors_round_trip() {
        for (lon, lat) in [(104.6, 28.8), (-179.9, -60.0), (0.0, 89.9), (45.0, 0.0)] {
            let p = UnitVec::from_lonlat(lon, lat).to_point();
            assert!((p.x() - lon).abs() < 1e-9 && (p.y() - lat).abs() < 1e-9);
        }
    }

    /// The arc distance matches the minimum over a dense great-circle sampling.
    #[test]
    fn point_to_arc_matches_dense_sampling() {
        let cases = [
            (
                point!(x: 104.60, y: 28.70),
                point!(x: 104.50, y: 28.60),
                point!(x: 104.80, y: 28.90),
            ),
            (
                point!(x: 104.00, y: 28.00),
                point!(x: 104.50, y: 28.60),
                point!(x: 104.80, y: 28.90),
            ),
            (
                point!(x: 10.00, y: 60.30),
                point!(x: 9.00, y: 60.00),
                point!(x: 11.00, y: 60.00),
            ),
            (
                point!(x: 0.50, y: 0.001),
                point!(x: 0.0, y: 0.0),
                point!(x: 1.0, y: 0.0),
            ),
            (
                point!(x: 20.0, y: 80.2),
                point!(x: 10.0, y: 80.0),
                point!(x: 30.0, y: 80.0),
            ),
        ];
        for (p, a, b) in cases {
            let got = point_arc_distance_m(p, a, b);
            let sampled = (0..=4000)
                .map(|i| {
                    let q = geo::Haversine.point_at_ratio_between(a, b, f64::from(i) / 4000.0);
                    geodesic_distance_m(p, q)
                })
                .fold(f64::INFINITY, f64::min);
            let tolerance = (sampled * 0.005).max(5.0);
            assert!(
                (got - sampled).abs() < tolerance,
                "{p:?}: {got} vs {sampled}"
            );
            assert!(
                got <= sampled + 1e-6 * sampled + 0.01,
                "never above a sampled point"
            );
        }
        // A zero-length edge is a point.
        let p = point!(x: 104.6, y: 28.8);
        let a = point!(x: 104.7, y: 28.8);
        assert!((point_arc_distance_m(p, a, a) - geodesic_distance_m(p, a)).abs() < 1e-6);
    }

    /// Every point within the distance lies inside the envelope, at any latitude.
    #[test]
    fn envelopes_are_conservative() {
        for lat in [0.0, 28.8, 45.0, 60.0, 80.0, 88.5, -70.0] {
            let c = point!(x: 104.0, y: lat);
            let d = 100_000.0;
            let env = search_envelope(Rect::new(c.0, c.0), d);
            for i in 0..360 {
                let q = Geodesic.destination(c, f64::from(i), d);
                assert!(
                    env.contains_point(&[q.x(), q.y()]),
                    "lat {lat} bearing {i}: {q:?} outside {env:?}"
                );
            }
            // ... and not absurdly larger than needed (except near the poles).
            if lat.abs() < 70.0 {
                let (lo, hi) = (env.lower(), env.upper());
                assert!(hi[1] - lo[1] < 2.0 * d / 110_000.0 * 1.02);
            }
        }
        let near_pole = search_envelope(
            Rect::new(coord! {x: 0.0, y: 88.9}, coord! {x: 1.0, y: 89.0}),
            50_000.0,
        );
        assert_eq!(near_pole.lower()[0], -180.0);
        let dateline = search_envelope(
            Rect::new(coord! {x: 179.9, y: 0.0}, coord! {x: 179.9, y: 0.0}),
            50_000.0,
        );
        assert_eq!((dateline.lower()[0], dateline.upper()[0]), (-180.0, 180.0));
    }
}
