//! Geometry helpers of the generator: a local metric frame around a point, 6-decimal rounding
//! with RFC 7946 orientation, circle templates, irregular "blob" polygons and areas in m².
//!
//! Everything the generator writes goes through [`round_multi`] (polygons) or [`round_coord`]
//! (points, lines), so the coordinates checked for validity are exactly the ones written.

use geo::orient::{Direction, Orient};
use geo::{Area, Coord, LineString, MultiPolygon, Polygon, Validation};
use rand::Rng;

/// Coordinates are written with 6 decimals (~0.1 m on the ground).
const COORD_SCALE: f64 = 1e6;

/// WGS84 semi-major axis and first eccentricity squared.
const WGS84_A: f64 = 6_378_137.0;
const WGS84_E2: f64 = 0.006_694_379_990_14;

/// Polygon parts smaller than this (m²) are slivers of boolean operations, not features.
pub(crate) const MIN_PART_M2: f64 = 1.0;

/// An equirectangular frame centred on (`lon0`, `lat0`), in metres.
///
/// The map is affine (a scale per axis), so boolean operations give the same topology in degrees
/// as in metres; over the ~10 km of a protection zone its scale error is far below 0.1%.
#[derive(Debug, Clone, Copy)]
pub(crate) struct LocalFrame {
    lon0: f64,
    lat0: f64,
    /// Metres per degree of longitude / latitude at `lat0` (ellipsoidal radii of curvature).
    kx: f64,
    ky: f64,
}

impl LocalFrame {
    pub(crate) fn new(origin: Coord) -> Self {
        let phi = origin.y.to_radians();
        let w = (1.0 - WGS84_E2 * phi.sin().powi(2)).sqrt();
        let n = WGS84_A / w;
        let m = WGS84_A * (1.0 - WGS84_E2) / (w * w * w);
        let deg = std::f64::consts::PI / 180.0;
        LocalFrame {
            lon0: origin.x,
            lat0: origin.y,
            kx: n * phi.cos() * deg,
            ky: m * deg,
        }
    }

    pub(crate) fn project(&self, c: Coord) -> Coord {
        Coord {
            x: (c.x - self.lon0) * self.kx,
            y: (c.y - self.lat0) * self.ky,
        }
    }

    pub(crate) fn unproject(&self, c: Coord) -> Coord {
        Coord {
            x: self.lon0 + c.x / self.kx,
            y: self.lat0 + c.y / self.ky,
        }
    }

    /// The point `dx` metres east and `dy` metres north of the origin.
    pub(crate) fn offset(&self, dx: f64, dy: f64) -> Coord {
        self.unproject(Coord { x: dx, y: dy })
    }

    pub(crate) fn line_project(&self, ls: &LineString) -> LineString {
        ls.coords().map(|c| self.project(*c)).collect()
    }

    pub(crate) fn multi_unproject(&self, mp: &MultiPolygon) -> MultiPolygon {
        let ring =
            |ls: &LineString| -> LineString { ls.coords().map(|c| self.unproject(*c)).collect() };
        mp.iter()
            .map(|p| Polygon::new(ring(p.exterior()), p.interiors().iter().map(ring).collect()))
            .collect()
    }

    /// Area in m² of a lon/lat polygon near the origin.
    pub(crate) fn area_m2(&self, mp: &MultiPolygon) -> f64 {
        mp.unsigned_area() * self.kx * self.ky
    }
}

pub(crate) fn round_value(v: f64) -> f64 {
    (v * COORD_SCALE).round() / COORD_SCALE
}

pub(crate) fn round_coord(c: Coord) -> Coord {
    Coord {
        x: round_value(c.x),
        y: round_value(c.y),
    }
}

/// Rounds a line, dropping the repeated points rounding may create.
pub(crate) fn round_line(ls: &LineString) -> LineString {
    let mut out: Vec<Coord> = Vec::with_capacity(ls.0.len());
    for c in ls.coords() {
        let r = round_coord(*c);
        if out.last() != Some(&r) {
            out.push(r);
        }
    }
    LineString::new(out)
}

/// Rounds a ring; `None` when fewer than 3 distinct points survive.
fn round_ring(ls: &LineString) -> Option<LineString> {
    let mut r = round_line(ls);
    if r.0.len() > 1 && r.0.first() == r.0.last() {
        r.0.pop();
    }
    if r.0.len() < 3 {
        return None;
    }
    r.close();
    Some(r)
}

/// Rounds to 6 decimals and orients as RFC 7946 asks (exterior counter-clockwise, holes
/// clockwise). Parts whose exterior collapses are dropped; collapsed holes are dropped.
pub(crate) fn round_multi(mp: &MultiPolygon) -> MultiPolygon {
    let polys: Vec<Polygon> = mp
        .iter()
        .filter_map(|p| {
            let ext = round_ring(p.exterior())?;
            let holes = p.interiors().iter().filter_map(round_ring).collect();
            Some(Polygon::new(ext, holes))
        })
        .collect();
    MultiPolygon::new(polys).orient(Direction::Default)
}

/// Drops the parts (and holes) of a lon/lat multipolygon smaller than [`MIN_PART_M2`].
pub(crate) fn drop_slivers(mp: MultiPolygon, frame: &LocalFrame) -> MultiPolygon {
    let min_deg2 = MIN_PART_M2 / (frame.kx * frame.ky);
    mp.into_iter()
        .filter(|p| p.unsigned_area() >= min_deg2)
        .map(|p| {
            let (ext, holes) = p.into_inner();
            let holes = holes
                .into_iter()
                .filter(|h| Polygon::new(h.clone(), vec![]).unsigned_area() >= min_deg2)
                .collect();
            Polygon::new(ext, holes)
        })
        .collect()
}

/// Valid per OGC rules (geo's `Validation`) and not empty.
pub(crate) fn is_valid_nonempty(mp: &MultiPolygon) -> bool {
    !mp.0.is_empty() && mp.is_valid()
}

/// Unit circle vertices, counter-clockwise, without the closing point. Computing the sines once
/// keeps circle zones cheap at `--scale 1000`.
pub(crate) struct CircleTemplate(Vec<(f64, f64)>);

impl CircleTemplate {
    pub(crate) fn new(vertices: usize) -> Self {
        let n = vertices.max(8);
        CircleTemplate(
            (0..n)
                .map(|i| {
                    let a = std::f64::consts::TAU * i as f64 / n as f64;
                    (a.cos(), a.sin())
                })
                .collect(),
        )
    }

    /// A closed, rounded, counter-clockwise ring of `radius_m` around the frame's origin.
    pub(crate) fn ring(&self, frame: &LocalFrame, radius_m: f64) -> LineString {
        let mut ring: Vec<Coord> = self
            .0
            .iter()
            .map(|(c, s)| round_coord(frame.offset(c * radius_m, s * radius_m)))
            .collect();
        ring.dedup();
        let mut ls = LineString::new(ring);
        ls.close();
        ls
    }
}

/// Reverses a closed ring (to turn a counter-clockwise exterior into a clockwise hole).
pub(crate) fn reversed(ls: &LineString) -> LineString {
    LineString::new(ls.0.iter().rev().copied().collect())
}

/// An irregular, star-shaped (hence simple) polygon of mean radius `radius_m` around the frame's
/// origin: a sum of a few low harmonics looks like a natural area, not a regular shape.
pub(crate) fn blob<R: Rng>(rng: &mut R, frame: &LocalFrame, radius_m: f64) -> Polygon {
    const VERTICES: usize = 40;
    let harmonics: Vec<(f64, f64, f64)> = (2..=5)
        .map(|k| {
            let amp = rng.gen_range(0.03..0.14);
            let phase = rng.gen_range(0.0..std::f64::consts::TAU);
            (k as f64, amp, phase)
        })
        .collect();
    let stretch = rng.gen_range(0.7..1.3);
    let ring: Vec<Coord> = (0..VERTICES)
        .map(|i| {
            let t = std::f64::consts::TAU * (i as f64 + rng.gen_range(-0.3..0.3)) / VERTICES as f64;
            let wobble: f64 = harmonics
                .iter()
                .map(|(k, a, p)| a * (k * t + p).sin())
                .sum();
            let r = radius_m * (1.0 + wobble) * rng.gen_range(0.96..1.04);
            frame.offset(r * t.cos() * stretch, r * t.sin() / stretch)
        })
        .collect();
    let mut ls = LineString::new(ring);
    ls.close();
    Polygon::new(ls, vec![])
}

/// A standard normal variate (Box–Muller; `rand_distr` is not a dependency).
pub(crate) fn normal<R: Rng>(rng: &mut R) -> f64 {
    let u1: f64 = rng.gen_range(f64::EPSILON..1.0);
    let u2: f64 = rng.gen();
    (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
}

#[cfg(test)]
mod tests {
    use super::*;
    use geo::Winding;
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    #[test]
    fn frame_scales_match_known_values() {
        let f = LocalFrame::new(Coord { x: 104.6, y: 28.8 });
        // One degree of latitude near 29°N is ~110.8 km; of longitude ~97.6 km.
        assert!((f.ky - 110_800.0).abs() < 300.0, "{}", f.ky);
        assert!((f.kx - 97_600.0).abs() < 400.0, "{}", f.kx);
        let back = f.unproject(f.project(Coord { x: 104.7, y: 28.9 }));
        assert!((back.x - 104.7).abs() < 1e-12 && (back.y - 28.9).abs() < 1e-12);
    }

    #[test]
    fn circles_are_valid_after_rounding_at_all_latitudes() {
        let t = CircleTemplate::new(64);
        for lat in [18.0, 28.8, 40.0, 53.5] {
            let f = LocalFrame::new(Coord { x: 110.0, y: lat });
            for r in [50.0, 300.0, 500.0, 1500.0, 3000.0] {
                let ring = t.ring(&f, r);
                let mp = round_multi(&MultiPolygon::new(vec![Polygon::new(ring, vec![])]));
                assert!(is_valid_nonempty(&mp), "r {r} lat {lat}");
                let area = f.area_m2(&mp);
                let expected = std::f64::consts::PI * r * r;
                assert!((area / expected - 1.0).abs() < 0.01, "{area} vs {expected}");
            }
        }
    }

    #[test]
    fn blobs_are_valid_and_counter_clockwise() {
        let mut rng = ChaCha8Rng::seed_from_u64(7);
        let f = LocalFrame::new(Coord { x: 104.6, y: 28.8 });
        for _ in 0..200 {
            let r = rng.gen_range(500.0..8000.0);
            let mp = round_multi(&MultiPolygon::new(vec![blob(&mut rng, &f, r)]));
            assert!(is_valid_nonempty(&mp));
            assert!(mp.0[0].exterior().is_ccw());
        }
    }

    #[test]
    fn rounding_orients_clockwise_input() {
        let cw: LineString =
            vec![(0.0, 0.0), (0.0, 1.0), (1.0, 1.0), (1.0, 0.0), (0.0, 0.0)].into();
        let out = round_multi(&MultiPolygon::new(vec![Polygon::new(cw, vec![])]));
        assert!(out.0[0].exterior().is_ccw());
    }
}
