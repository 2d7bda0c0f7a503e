//! `ecology_areas`: nature reserves, ecological red-line areas (some as corridors along the main
//! rivers) and scenic forests, including a bamboo-sea scenic area in the south (where the real
//! 蜀南竹海 is; the name stays generic). Irregular star-shaped outlines, clipped to the city in
//! Yibin, kept apart from each other and from county seats.

use geo::{BooleanOps, BoundingRect, Buffer, Coord, InteriorPoint, Intersects, MultiPolygon, Rect};
use rand::Rng;

use super::geom::{blob, drop_slivers, is_valid_nonempty, round_coord, round_multi, LocalFrame};
use super::region::{
    Spot, Yibin, CHANGNING, GAOXIAN, GONGXIAN, JUNLIAN, MAIN_RIVERS, PINGSHAN, XINGWEN, XUZHOU,
};
use super::writer::{Geom, LayerWriter, Props};
use super::{Ctx, Region, SampleError};

#[derive(Clone, Copy, PartialEq, Eq)]
enum Shape {
    /// The bamboo-sea scenic area (Yibin only).
    BambooSea,
    Blob,
    /// A buffered stretch of a main river (Yibin only; a blob elsewhere).
    Corridor,
}

/// (category, Chinese / English name stem, shape, how many, mean radius range in metres).
type Plan = (
    &'static str,
    &'static str,
    &'static str,
    Shape,
    usize,
    (f64, f64),
);
const PLAN: [Plan; 5] = [
    (
        "scenic_forest",
        "竹海风景区",
        "Bamboo Sea Scenic Area",
        Shape::BambooSea,
        1,
        (5_500.0, 6_500.0),
    ),
    (
        "scenic_forest",
        "森林风景区",
        "Forest Scenic Area",
        Shape::Blob,
        3,
        (2_000.0, 4_000.0),
    ),
    (
        "nature_reserve",
        "自然保护区",
        "Nature Reserve",
        Shape::Blob,
        12,
        (2_500.0, 6_000.0),
    ),
    (
        "ecological_redline",
        "生态保护红线区",
        "Ecological Red-line Area",
        Shape::Corridor,
        10,
        (300.0, 900.0),
    ),
    (
        "ecological_redline",
        "生态保护红线区",
        "Ecological Red-line Area",
        Shape::Blob,
        14,
        (1_500.0, 4_000.0),
    ),
];

/// Reserves and forests lie in the hills, away from the urban core.
const HILL_COUNTIES: [&str; 7] = [
    PINGSHAN, XINGWEN, JUNLIAN, GONGXIAN, CHANGNING, GAOXIAN, XUZHOU,
];
/// Roughly where the real bamboo sea is (Changning/Jiang'an); the outline is synthetic.
const BAMBOO_SEA: Coord = Coord {
    x: 104.99,
    y: 28.49,
};
const ATTEMPTS: u32 = 500;

/// Writes one copy's ecology areas.
pub(crate) fn generate(ctx: &Ctx<'_>, w: &mut LayerWriter) -> Result<(), SampleError> {
    let mut rng = ctx.rng(super::STREAM_ECOLOGY);
    let mut taken: Vec<(Rect, MultiPolygon)> = Vec::new();
    let mut n = 0;
    // Running number per name stem, so red-line corridors and blobs share one sequence.
    let mut numbers: Vec<(&'static str, usize)> = Vec::new();
    for (category, stem_zh, stem_en, shape, count, radius) in PLAN {
        for _ in 0..count {
            n += 1;
            let (geom, county, frame) = match ctx.region {
                Region::Yibin(y) => yibin_area(&mut rng, y, shape, radius, &taken)?,
                Region::China(china) => {
                    let (c, county) = china.sample(&mut rng);
                    let frame = LocalFrame::new(c);
                    let r = rng.gen_range(radius.0..radius.1).max(1_500.0);
                    let g = round_multi(&MultiPolygon::new(vec![blob(&mut rng, &frame, r)]));
                    (g, county.to_owned(), frame)
                }
            };
            if ctx.copy == 0 {
                if let Some(bb) = geom.bounding_rect() {
                    taken.push((bb, geom.clone()));
                }
            }
            let (name_zh, name_en) = if shape == Shape::BambooSea && ctx.copy == 0 {
                (format!("示例{stem_zh}"), format!("Demo {stem_en}"))
            } else {
                // Elsewhere in China the bamboo sea's slot is an ordinary forest.
                let (zh, en) = match shape {
                    Shape::BambooSea => (PLAN[1].1, PLAN[1].2),
                    _ => (stem_zh, stem_en),
                };
                let num = match numbers.iter_mut().find(|(s, _)| *s == zh) {
                    Some((_, k)) => {
                        *k += 1;
                        *k
                    }
                    None => {
                        numbers.push((zh, 1));
                        1
                    }
                };
                (format!("示例{zh} {num:02}"), format!("Demo {en} {num:02}"))
            };
            let props = Props::new()
                .str("name_zh", name_zh)
                .str("name_en", name_en)
                .str("category", category)
                .str("county", county)
                .num1("area_m2", frame.area_m2(&geom));
            w.feature(&ctx.id("eco", n, 4), Geom::Area(&geom), props)?;
        }
    }
    Ok(())
}

/// One area inside Yibin: clipped to the city, valid after rounding, apart from the others.
fn yibin_area<R: Rng>(
    rng: &mut R,
    y: &Yibin,
    shape: Shape,
    radius: (f64, f64),
    taken: &[(Rect, MultiPolygon)],
) -> Result<(MultiPolygon, String, LocalFrame), SampleError> {
    for attempt in 0..ATTEMPTS {
        let r = rng.gen_range(radius.0..radius.1);
        let (raw, frame) = match shape {
            Shape::BambooSea if attempt < ATTEMPTS / 2 => {
                let frame = LocalFrame::new(BAMBOO_SEA);
                let c = round_coord(frame.offset(
                    rng.gen_range(-1500.0..1500.0),
                    rng.gen_range(-1500.0..1500.0),
                ));
                let frame = LocalFrame::new(c);
                (MultiPolygon::new(vec![blob(rng, &frame, r)]), frame)
            }
            Shape::Corridor => {
                let name = MAIN_RIVERS[rng.gen_range(0..MAIN_RIVERS.len())];
                let Some((line, (a, b))) = y.river(name) else {
                    continue;
                };
                let d = rng.gen_range(*a..*b);
                let len = rng.gen_range(6_000.0..18_000.0);
                let frame = LocalFrame::new(line.point_at(d));
                let sub = frame.line_project(&line.sub_line(d - len / 2.0, d + len / 2.0));
                (
                    frame.multi_unproject(&sub.buffer(line.width_m / 2.0 + r)),
                    frame,
                )
            }
            _ => {
                let spot = if shape == Shape::BambooSea {
                    Spot::Counties(&[CHANGNING, super::region::JIANGAN])
                } else {
                    Spot::Counties(&HILL_COUNTIES)
                };
                let (c, _) = y.sample(rng, &spot)?;
                let frame = LocalFrame::new(c);
                // Keep towns out of reserves.
                let near_seat = y.counties.iter().any(|k| {
                    let v = frame.project(k.seat);
                    v.x.hypot(v.y) < r * 1.5 + 1_500.0
                });
                if near_seat {
                    continue;
                }
                (MultiPolygon::new(vec![blob(rng, &frame, r)]), frame)
            }
        };
        let clipped = drop_slivers(raw.intersection(&y.city_inner), &frame);
        if !is_valid_nonempty(&clipped) {
            continue;
        }
        let geom = round_multi(&clipped);
        // Mostly inside the city, not a fragment of a shape centred outside it.
        let kept = frame.area_m2(&geom) / frame.area_m2(&raw).max(1.0);
        if kept < 0.6 || !is_valid_nonempty(&geom) {
            continue;
        }
        let Some(bb) = geom.bounding_rect() else {
            continue;
        };
        if taken
            .iter()
            .any(|(r, m)| r.intersects(&bb) && m.intersects(&geom))
        {
            continue;
        }
        let Some(county) = geom.interior_point().and_then(|p| y.county_at(p.0)) else {
            continue;
        };
        return Ok((geom, county.adcode.clone(), frame));
    }
    Err(SampleError::Placement {
        what: "an ecology area".into(),
        attempts: ATTEMPTS,
    })
}
