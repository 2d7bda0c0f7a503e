//! The threat-zone polygon: where the ground-level concentration exceeds the
//! level of concern, drawn in the wind's frame (x downwind, y crosswind) and
//! placed on the ellipsoid with a local azimuthal-equidistant frame around the
//! release point (distances from the source exact).

use geo::orient::{Direction, Orient};
use geo_types::{Coord, Geometry, LineString, MultiPolygon, Point, Polygon};

use super::model::Release;
use crate::analysis::aeqd::Aeqd;

/// Samples along the downwind axis (denser near the source).
const SAMPLES: usize = 400;
/// Bisection steps for the zone's downwind ends.
const REFINE_STEPS: usize = 40;
/// The first downwind distance sampled, metres.
const MIN_X_M: f64 = 1.0;

/// The wind's frame at the release point.
#[derive(Debug, Clone, Copy)]
pub struct WindFrame {
    frame: Aeqd,
    /// Downwind unit vector (east, north).
    down: (f64, f64),
}

impl WindFrame {
    /// `wind_from_deg`: where the wind blows from (0 north, 90 east).
    pub fn new(release: Point<f64>, wind_from_deg: f64) -> Self {
        let toward = (wind_from_deg + 180.0).to_radians();
        WindFrame {
            frame: Aeqd::new(release),
            down: (toward.sin(), toward.cos()),
        }
    }

    /// Lon/lat of the point `x` downwind and `y` to the right of the axis.
    pub fn to_lonlat(&self, x: f64, y: f64) -> Coord<f64> {
        let (dx, dy) = self.down;
        // Right of the downwind direction (dx, dy) is (dy, -dx).
        self.frame.inverse(Coord {
            x: x * dx + y * dy,
            y: x * dy - y * dx,
        })
    }

    /// (downwind, crosswind) metres of a lon/lat point.
    pub fn to_wind(&self, p: Point<f64>) -> (f64, f64) {
        let c = self.frame.forward(p.0);
        let (dx, dy) = self.down;
        (c.x * dx + c.y * dy, c.x * dy - c.y * dx)
    }
}

/// The zone out to `max_distance_m` downwind; `None` when the level of
/// concern is nowhere reached. Also returns the farthest downwind extent.
pub fn threat_zone(
    release: &Release,
    level_mg_m3: f64,
    max_distance_m: f64,
    wind: &WindFrame,
) -> Option<(Geometry<f64>, f64)> {
    let above = |x: f64| release.concentration_mg_m3(x, 0.0) > level_mg_m3;
    let xs: Vec<f64> = (0..=SAMPLES)
        .map(|i| {
            let t = i as f64 / SAMPLES as f64;
            MIN_X_M + (max_distance_m - MIN_X_M).max(0.0) * t * t
        })
        .collect();
    // Runs of consecutive samples above the level, each refined at its ends.
    let mut runs: Vec<(f64, f64, Vec<f64>)> = Vec::new();
    let mut i = 0;
    while i < xs.len() {
        if !above(xs[i]) {
            i += 1;
            continue;
        }
        let start = if i == 0 {
            0.0
        } else {
            bisect(xs[i - 1], xs[i], &above)
        };
        let mut inner = Vec::new();
        while i < xs.len() && above(xs[i]) {
            inner.push(xs[i]);
            i += 1;
        }
        let end = if i < xs.len() {
            bisect(xs[i], xs[i - 1], &above)
        } else {
            xs[xs.len() - 1]
        };
        runs.push((start, end, inner));
    }
    let extent = runs.last().map(|r| r.1)?;
    let polygons: Vec<Polygon<f64>> = runs
        .into_iter()
        .map(|(start, end, inner)| {
            let widths: Vec<(f64, f64)> = inner
                .iter()
                .map(|&x| (x, release.half_width_m(x, level_mg_m3)))
                .collect();
            let mut ring = vec![wind.to_lonlat(start, 0.0)];
            ring.extend(widths.iter().map(|&(x, w)| wind.to_lonlat(x, -w)));
            ring.push(wind.to_lonlat(end, 0.0));
            ring.extend(widths.iter().rev().map(|&(x, w)| wind.to_lonlat(x, w)));
            ring.push(ring[0]);
            Polygon::new(LineString(ring), Vec::new()).orient(Direction::Default)
        })
        .collect();
    let geometry = if polygons.len() == 1 {
        Geometry::Polygon(polygons.into_iter().next()?)
    } else {
        Geometry::MultiPolygon(MultiPolygon(polygons))
    };
    Some((geometry, extent))
}

/// The boundary between `outside` (below the level) and `inside` (above).
fn bisect(mut outside: f64, mut inside: f64, above: &impl Fn(f64) -> bool) -> f64 {
    for _ in 0..REFINE_STEPS {
        let mid = 0.5 * (outside + inside);
        if above(mid) {
            inside = mid;
        } else {
            outside = mid;
        }
    }
    inside
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::geodesy::geodesic_distance_m;
    use crate::analysis::plume::briggs::Stability;
    use geo::{Area, Contains};
    use geo_types::point;

    fn release() -> Release {
        Release {
            rate_g_s: 1000.0,
            height_m: 0.0,
            wind_speed_mps: 2.0,
            stability: Stability::D,
        }
    }

    #[test]
    fn the_zone_lies_downwind_and_ends_at_the_level() {
        let origin = point!(x: 104.6, y: 28.8);
        // Wind from the west: the plume goes east.
        let wind = WindFrame::new(origin, 270.0);
        let level = 10.0;
        let (zone, extent) = threat_zone(&release(), level, 50_000.0, &wind).expect("zone");
        let Geometry::Polygon(p) = &zone else {
            panic!("one polygon expected: {zone:?}");
        };
        assert!(p.signed_area() > 0.0, "counter-clockwise exterior");
        // The centreline concentration at the far end equals the level.
        let c = release().concentration_mg_m3(extent, 0.0);
        assert!((c - level).abs() / level < 1e-6, "{c}");
        let far = wind.to_lonlat(extent, 0.0);
        // A geodesic heading east drifts slightly toward the equator.
        assert!(far.x > origin.x() && (far.y - origin.y()).abs() < 1e-3);
        assert!((geodesic_distance_m(origin, Point(far)) - extent).abs() < 0.01);
        // Inside along the axis, outside upwind and far off the axis.
        assert!(p.contains(&Point(wind.to_lonlat(extent / 2.0, 0.0))));
        assert!(!p.contains(&Point(wind.to_lonlat(-100.0, 0.0))));
        assert!(!p.contains(&Point(wind.to_lonlat(extent / 2.0, 5_000.0))));
        let (x, y) = wind.to_wind(Point(wind.to_lonlat(1234.0, -56.0)));
        assert!((x - 1234.0).abs() < 1e-6 && (y + 56.0).abs() < 1e-6);
    }

    #[test]
    fn no_zone_when_the_level_is_never_reached() {
        let wind = WindFrame::new(point!(x: 104.6, y: 28.8), 0.0);
        assert!(threat_zone(&release(), 1e9, 10_000.0, &wind).is_none());
        // Elevated release: the zone starts downwind of the stack.
        let high = Release {
            height_m: 100.0,
            ..release()
        };
        let (zone, _) = threat_zone(&high, 1.0, 20_000.0, &wind).expect("zone");
        let Geometry::Polygon(p) = zone else {
            panic!("polygon");
        };
        assert!(!p.contains(&Point(wind.to_lonlat(20.0, 0.0))));
    }
}
