//! Drafted drinking-water protection zones (HJ 338-2018 defaults, domain.md §2 and §7) as three
//! disjoint bands: level 1 holds the intake, level 2 surrounds level 1, the quasi zone surrounds
//! level 2.
//!
//! River intakes: the centreline from `UP` metres upstream to `DOWN` metres downstream of the
//! intake, buffered by half the river width plus the land width, in a local metric frame. The
//! bands are differences of rounded outlines, so each band's hole is exactly the rounded outline
//! of the band inside it: they share their boundary and never overlap, after rounding too.
//! Reservoirs and wells: concentric circles from one precomputed template (cheap at scale 1000).

use geo::{BooleanOps, Buffer, Coord, Intersects, MultiPolygon, Point, Polygon};

use super::geom::{
    drop_slivers, is_valid_nonempty, reversed, round_coord, round_multi, CircleTemplate, LocalFrame,
};
use super::rivers::RiverLine;

/// Along-river extent (upstream, downstream) and land width beyond the bank, per band.
/// Level 1: 1000 m up, 100 m down, 50 m land; level 2: 2000 m / 200 m further, 1000 m land;
/// quasi: another 2000 m / 200 m and 1000 m of land beyond level 2 [assumption, domain.md §2].
const RIVER_BANDS: [(f64, f64, f64); 3] = [
    (1_000.0, 100.0, 50.0),
    (3_000.0, 300.0, 1_000.0),
    (5_000.0, 500.0, 2_000.0),
];

/// How far the quasi zone reaches upstream and downstream of an intake (for placement checks).
pub(crate) const RIVER_REACH_M: (f64, f64) = (RIVER_BANDS[2].0, RIVER_BANDS[2].1);

/// Circle radii (level 1, level 2, quasi outer) in metres.
pub(crate) const RESERVOIR_RADII: [f64; 3] = [300.0, 2_000.0, 3_000.0];
pub(crate) const WELL_RADII: [f64; 3] = [50.0, 500.0, 1_500.0];

/// The three bands of one water source, rounded, oriented and valid.
pub(crate) struct Bands {
    pub level1: MultiPolygon,
    pub level2: MultiPolygon,
    pub quasi: MultiPolygon,
    /// Outline of all three bands (to keep different sources' zones apart).
    pub outline: MultiPolygon,
    pub frame: LocalFrame,
}

impl Bands {
    /// (`zone_level`, Chinese suffix, geometry) in output order.
    pub(crate) fn levels(&self) -> [(&'static str, &'static str, &MultiPolygon); 3] {
        [
            ("level1", "一级保护区", &self.level1),
            ("level2", "二级保护区", &self.level2),
            ("quasi", "准保护区", &self.quasi),
        ]
    }
}

/// Concentric circle bands around `centre` (already rounded).
pub(crate) fn circle_bands(template: &CircleTemplate, centre: Coord, radii: [f64; 3]) -> Bands {
    let frame = LocalFrame::new(centre);
    let [r1, r2, r3] = radii.map(|r| template.ring(&frame, r));
    let one = |p: Polygon| MultiPolygon::new(vec![p]);
    Bands {
        level1: one(Polygon::new(r1.clone(), vec![])),
        level2: one(Polygon::new(r2.clone(), vec![reversed(&r1)])),
        quasi: one(Polygon::new(r3.clone(), vec![reversed(&r2)])),
        outline: one(Polygon::new(r3, vec![])),
        frame,
    }
}

/// Bands of a river intake at distance `d` along `line`; `None` if the reach leaves the line or
/// a band is invalid before or after rounding (the caller then tries another position).
pub(crate) fn river_bands(line: &RiverLine, d: f64) -> Option<Bands> {
    let (up, down) = RIVER_REACH_M;
    if d - up < 0.0 || d + down > line.length_m() {
        return None;
    }
    let intake = round_coord(line.point_at(d));
    let frame = LocalFrame::new(intake);
    let buffers: Vec<MultiPolygon> = RIVER_BANDS
        .iter()
        .map(|&(up, down, land)| {
            let sub = frame.line_project(&line.sub_line(d - up, d + down));
            sub.buffer(line.width_m / 2.0 + land)
        })
        .collect();
    let (b1, b2, b3) = (&buffers[0], &buffers[1], &buffers[2]);
    // Each outline is the union with the smaller ones, so the differences below are bands.
    let outlines = [
        frame.multi_unproject(b1),
        frame.multi_unproject(&b2.union(b1)),
        frame.multi_unproject(&b3.union(&b2.union(b1))),
    ];
    let [u1, u2, u3] = [0, 1, 2].map(|i| round_multi(&outlines[i]));
    // Subtracting rounded outlines: the holes are exactly the inner bands' rounded rings.
    let raw2 = drop_slivers(u2.difference(&u1), &frame);
    let raw3 = drop_slivers(u3.difference(&u2), &frame);
    let (level2, quasi) = (round_multi(&raw2), round_multi(&raw3));
    // Valid before rounding (outlines, differences) and after (everything written).
    let all_valid = outlines
        .iter()
        .chain([&u1, &u2, &u3, &raw2, &raw3, &level2, &quasi])
        .all(is_valid_nonempty);
    if !all_valid || !u1.intersects(&Point::from(intake)) {
        return None;
    }
    Some(Bands {
        level1: u1,
        level2,
        quasi,
        outline: u3,
        frame,
    })
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use geo::{Area, Relate};

    /// Checks the band contract on one source; used by the generator-wide tests as well.
    pub(crate) fn assert_disjoint_bands(
        intake: Coord,
        l1: &MultiPolygon,
        l2: &MultiPolygon,
        q: &MultiPolygon,
    ) {
        for m in [l1, l2, q] {
            assert!(is_valid_nonempty(m), "invalid band");
        }
        assert!(
            l1.intersects(&Point::from(intake)),
            "intake outside level 1"
        );
        let tiny = |a: &MultiPolygon, b: &MultiPolygon| {
            let inter = a.intersection(b).unsigned_area();
            inter <= 1e-6 * a.unsigned_area().min(b.unsigned_area())
        };
        assert!(tiny(l1, l2) && tiny(l2, q) && tiny(l1, q), "bands overlap");
        assert!(
            l1.relate(l2).is_touches() || l1.intersects(l2),
            "level1/level2 do not touch"
        );
        assert!(l2.intersects(q), "level2/quasi do not touch");
    }

    #[test]
    fn circle_bands_are_disjoint_and_touch() {
        let t = CircleTemplate::new(48);
        let c = round_coord(Coord { x: 104.9, y: 28.4 });
        for radii in [RESERVOIR_RADII, WELL_RADII] {
            let b = circle_bands(&t, c, radii);
            assert_disjoint_bands(c, &b.level1, &b.level2, &b.quasi);
            let a1 = b.frame.area_m2(&b.level1);
            assert!((a1 / (std::f64::consts::PI * radii[0] * radii[0]) - 1.0).abs() < 0.01);
        }
    }

    #[test]
    fn river_bands_on_a_bent_river() {
        let ls: geo::LineString = vec![
            (104.50, 28.70),
            (104.56, 28.72),
            (104.60, 28.78),
            (104.70, 28.79),
        ]
        .into();
        let line = RiverLine::new("Chang Jiang", &ls);
        let mut built = 0;
        for k in 0..12 {
            let d = 5_500.0 + k as f64 * 1_500.0;
            if let Some(b) = river_bands(&line, d) {
                let intake = round_coord(line.point_at(d));
                assert_disjoint_bands(intake, &b.level1, &b.level2, &b.quasi);
                let w = b.frame.area_m2(&b.level1);
                // ~1100 m of 900 m wide water+land plus round caps.
                assert!(w > 0.8e6 && w < 2.0e6, "{w}");
                built += 1;
            }
        }
        assert!(built >= 10, "{built}");
    }
}
