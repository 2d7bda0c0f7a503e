//! Cheap lower bounds of the distance from a fixed origin to R-tree boxes
//! (lon/lat rectangles), for best-first nearest search and buffer pruning.
//!
//! Bounds are kept in haversine form, h = sin²(θ/2) for the central angle θ
//! on the unit sphere, which grows with θ, so boxes and points can be ranked
//! and compared without inverse trigonometry. For a point of latitude φ₀ and
//! any point of a box,
//!
//! h = hav(Δφ) + cos φ₀ · cos φ · hav(Δλ) ≥ hav(gap φ) + cos φ₀ · cos φ_far · hav(gap λ)
//!
//! where the gaps are the smallest latitude and (wrapped) longitude
//! differences to the box and φ_far its latitude farthest from the equator.
//! The sines and cosines of the box are replaced by polynomial lower bounds
//! (Taylor series cut after a negative term), so a box costs a few
//! multiplications and no trigonometric call.
//!
//! Lines and polygons have great-circle edges, which bulge poleward out of the
//! lon/lat box of their vertices; for such layers every box is first widened
//! in latitude by a bound of that bulge ([`BoxBound::new`] with `arcs`).
//!
//! [`max_hav_within`] turns a geodesic (WGS84) distance into the largest h any
//! pair that close can have, so "h bound > max_hav_within(d)" proves a
//! geodesic distance greater than `d`.

use geo_types::Point;

use super::geodesy::{MEAN_RADIUS_M, SPHERE_SLACK, SPHERE_SLACK_M};

/// sin x ≥ x − x³/6 for x ≥ 0 (and ≥ 0 on 0 ≤ x ≤ π/2, the only use here).
fn sin_lower(x: f64) -> f64 {
    (x - x * x * x / 6.0).max(0.0)
}

/// cos x ≥ 1 − x²/2 + x⁴/24 − x⁶/720 on 0 ≤ x ≤ π/2 (the remainder x⁸/8!·cos ξ
/// is not negative there).
fn cos_lower(x: f64) -> f64 {
    let x2 = x * x;
    (1.0 - x2 / 2.0 * (1.0 - x2 / 12.0 * (1.0 - x2 / 30.0))).max(0.0)
}

/// The largest h = sin²(θ/2) of two points at most `distance_m` apart on the
/// WGS84 ellipsoid (a geodesic distance `d` has a sphere angle of at most
/// (d + slack)·[`SPHERE_SLACK`]/R); 1 (the antipode) when the angle reaches π.
pub fn max_hav_within(distance_m: f64) -> f64 {
    let theta = (distance_m.max(0.0) + SPHERE_SLACK_M) * SPHERE_SLACK / MEAN_RADIUS_M;
    if theta >= std::f64::consts::PI || theta.is_nan() {
        return 1.0;
    }
    let s = (theta / 2.0).sin();
    s * s
}

/// Lower bounds of h from one origin to boxes.
#[derive(Debug, Clone, Copy)]
pub struct BoxBound {
    lon: f64,
    lat: f64,
    cos_lat: f64,
    /// Whether boxes hold great-circle edges (widen them by the bulge).
    arcs: bool,
}

impl BoxBound {
    /// Bounds from `origin`; `arcs` when the boxes hold lines or polygons
    /// (points and multipoints need no widening).
    pub fn new(origin: Point<f64>, arcs: bool) -> Self {
        BoxBound {
            lon: origin.x(),
            lat: origin.y(),
            cos_lat: origin.y().to_radians().cos().max(0.0),
            arcs,
        }
    }

    /// A lower bound of h = sin²(θ/2) from the origin to any point of the box
    /// `[min, max]` (degrees; for `arcs`, to any point of an edge between two
    /// vertices in the box).
    pub fn to_box(&self, min: [f64; 2], max: [f64; 2]) -> f64 {
        let (mut lat_lo, mut lat_hi) = (min[1], max[1]);
        let width = max[0] - min[0];
        if self.arcs && width > 0.0 {
            // A minor arc spanning Δλ < 180° stays within its endpoints'
            // longitudes and rises at most (sec(Δλ/2) − 1) rad above the higher
            // of them (twice the bound (sec − 1)·sin φ·cos φ of the symmetric
            // arc, for safety); a box 180° wide or more may hold any arc.
            if width >= 180.0 {
                return 0.0;
            }
            let bulge = (1.0 / (width.to_radians() / 2.0).cos() - 1.0).to_degrees();
            lat_lo = (lat_lo - bulge).max(-90.0);
            lat_hi = (lat_hi + bulge).min(90.0);
        }
        let lat_gap = if self.lat < lat_lo {
            lat_lo - self.lat
        } else if self.lat > lat_hi {
            self.lat - lat_hi
        } else {
            0.0
        };
        // The other way round the globe may be shorter; never more than 180°.
        let lon_gap = if self.lon < min[0] {
            (min[0] - self.lon).min(self.lon + 360.0 - max[0])
        } else if self.lon > max[0] {
            (self.lon - max[0]).min(min[0] + 360.0 - self.lon)
        } else {
            0.0
        }
        .clamp(0.0, 180.0);
        let far = lat_lo.abs().max(lat_hi.abs()).min(90.0);
        let s_lat = sin_lower(lat_gap.to_radians() / 2.0);
        let s_lon = sin_lower(lon_gap.to_radians() / 2.0);
        s_lat * s_lat + self.cos_lat * cos_lower(far.to_radians()) * s_lon * s_lon
    }

    /// A lower bound of h from the origin to a point.
    pub fn to_point(&self, p: Point<f64>) -> f64 {
        let c = [p.x(), p.y()];
        BoxBound {
            arcs: false,
            ..*self
        }
        .to_box(c, c)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::geodesy::{closest_on_arc, geodesic_distance_m, UnitVec};
    use geo_types::point;
    use rand::{Rng, SeedableRng};

    fn hav(a: Point<f64>, b: Point<f64>) -> f64 {
        let s = (UnitVec::from_point(a).angle(UnitVec::from_point(b)) / 2.0).sin();
        s * s
    }

    #[test]
    fn polynomial_bounds_stay_below_sin_and_cos() {
        for i in 0..=1000 {
            let x = f64::from(i) / 1000.0 * std::f64::consts::FRAC_PI_2;
            assert!(sin_lower(x) <= x.sin() + 1e-15, "{x}");
            assert!(cos_lower(x) <= x.cos() + 1e-15, "{x}");
        }
    }

    /// Every point of a box is at least as far as the box's bound, at every
    /// latitude and across the antimeridian; and the bound is tight for points.
    #[test]
    fn box_bounds_hold_for_random_boxes_and_points() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(23);
        for _ in 0..20_000 {
            let o = point!(x: rng.gen_range(-180.0..180.0), y: rng.gen_range(-89.0..89.0));
            let w = 10f64.powf(rng.gen_range(-4.0..1.5));
            let lo = [
                rng.gen_range(-180.0..180.0 - w),
                rng.gen_range(-90.0..90.0 - w),
            ];
            let hi = [lo[0] + w, (lo[1] + w).min(90.0)];
            let bound = BoxBound::new(o, false).to_box(lo, hi);
            let q = point!(x: rng.gen_range(lo[0]..=hi[0]), y: rng.gen_range(lo[1]..=hi[1]));
            assert!(
                bound <= hav(o, q) * (1.0 + 1e-12) + 1e-18,
                "{o:?} {lo:?} {hi:?} {q:?}"
            );
            let exact = hav(o, q);
            let at_point = BoxBound::new(o, false).to_point(q);
            assert!(at_point <= exact * (1.0 + 1e-12) + 1e-18);
            // Tight enough to rank candidates: within 1% of h for nearby points.
            if exact < 1e-4 {
                assert!(at_point >= exact * 0.99, "{at_point} vs {exact}");
            }
        }
    }

    /// For lines, every point of every great-circle edge between vertices in
    /// a box is at least as far as the widened box's bound.
    #[test]
    fn arc_bounds_cover_the_bulge_of_edges() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(29);
        for _ in 0..5_000 {
            let lat = rng.gen_range(-85.0..85.0);
            let w = 10f64.powf(rng.gen_range(-2.0..1.3));
            let lo = [rng.gen_range(-170.0..170.0 - w), lat];
            let hi = [lo[0] + w, (lat + rng.gen_range(0.0..w)).min(89.0)];
            let a = point!(x: lo[0], y: rng.gen_range(lo[1]..=hi[1]));
            let b = point!(x: hi[0], y: rng.gen_range(lo[1]..=hi[1]));
            // An origin just poleward of the box, where the bulge matters most.
            let o = point!(x: rng.gen_range(lo[0]..=hi[0]), y: if lat > 0.0 { (hi[1] + rng.gen_range(0.0..0.5)).min(89.5) } else { (lo[1] - rng.gen_range(0.0..0.5)).max(-89.5) });
            let bound = BoxBound::new(o, true).to_box(lo, hi);
            let (ov, av, bv) = (
                UnitVec::from_point(o),
                UnitVec::from_point(a),
                UnitVec::from_point(b),
            );
            let c = closest_on_arc(ov, av, bv).to_point();
            assert!(
                bound <= hav(o, c) * (1.0 + 1e-12) + 1e-18,
                "{o:?} {a:?} {b:?}"
            );
        }
    }

    #[test]
    fn max_hav_within_bounds_geodesic_pairs() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(31);
        for _ in 0..5_000 {
            let a = point!(x: rng.gen_range(-180.0..180.0), y: rng.gen_range(-89.9..89.9));
            let dy: f64 = rng.gen_range(-1.0..1.0);
            let b = point!(x: a.x() + rng.gen_range(-1.0..1.0), y: (a.y() + dy).clamp(-89.9, 89.9));
            let d = geodesic_distance_m(a, b);
            assert!(hav(a, b) <= max_hav_within(d));
        }
        assert_eq!(max_hav_within(3.0e7), 1.0);
    }
}
