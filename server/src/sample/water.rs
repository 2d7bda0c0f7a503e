//! `drinking_water_sources` and their `protection_zones`: in Yibin, river intakes on the Min,
//! Jinsha and Chang Jiang centrelines near the city and county seats, reservoirs and wells
//! elsewhere; in the `--scale` copies (no rivers there) reservoirs and wells only.
//! Each source gets three zone features (`pz-0003-level1`, `-level2`, `-quasi`).

use geo::{BoundingRect, Contains, Coord, Intersects, MultiPolygon, Rect};
use rand::Rng;

use super::geom::{round_coord, CircleTemplate};
use super::region::{
    Spot, Yibin, CHANGNING, CUIPING, GAOXIAN, GONGXIAN, JIANGAN, JUNLIAN, NANXI, PINGSHAN, XINGWEN,
    XUZHOU,
};
use super::writer::{Geom, LayerWriter, Props};
use super::zones::{circle_bands, river_bands, Bands, RESERVOIR_RADII, WELL_RADII};
use super::{Ctx, Region, SampleError};

/// Water sources per copy.
pub(crate) const PER_COPY: usize = 30;

#[derive(Clone, Copy, PartialEq, Eq)]
enum Supply {
    City,
    County,
    Township,
}

/// Planned river intakes in Yibin: (river, nearby seat, supply level). Intakes go near (mostly
/// upstream of) their seat; without a seat anywhere along the river inside the city. The Jinsha
/// is the provincial border above Xuzhou, so only two intakes use its inner reach.
const INTAKES: [(&str, Option<&str>, Supply); 10] = [
    ("Min", Some(CUIPING), Supply::City),
    ("Jinsha", Some(CUIPING), Supply::City),
    ("Chang Jiang", Some(CUIPING), Supply::City),
    ("Jinsha", Some(XUZHOU), Supply::County),
    ("Min", Some(PINGSHAN), Supply::County),
    ("Chang Jiang", Some(NANXI), Supply::County),
    ("Chang Jiang", Some(JIANGAN), Supply::County),
    ("Min", None, Supply::Township),
    ("Min", None, Supply::Township),
    ("Chang Jiang", None, Supply::Township),
];

/// Reservoirs favour the hilly south; wells anywhere rural.
const RESERVOIR_COUNTIES: [&str; 9] = [
    CHANGNING, GAOXIAN, GONGXIAN, JUNLIAN, XINGWEN, PINGSHAN, JIANGAN, XUZHOU, NANXI,
];
const RESERVOIRS_YIBIN: usize = 12;
const RESERVOIRS_CHINA: usize = 18;
const ATTEMPTS: u32 = 400;

enum Kind {
    River(String),
    Reservoir,
    Well,
}

struct Planned {
    kind: Kind,
    supply: Supply,
    coord: Coord,
    county: String,
    bands: Bands,
}

/// Writes one copy's water sources and their zones.
pub(crate) fn generate(
    ctx: &Ctx<'_>,
    sources: &mut LayerWriter,
    zones: &mut LayerWriter,
    template: &CircleTemplate,
) -> Result<(), SampleError> {
    let mut rng = ctx.rng(super::STREAM_WATER);
    let planned = match ctx.region {
        Region::Yibin(y) => plan_yibin(&mut rng, y, template)?,
        Region::China(china) => (0..PER_COPY)
            .map(|i| {
                let (coord, county) = china.sample(&mut rng);
                let reservoir = i < RESERVOIRS_CHINA;
                let supply = match (reservoir, rng.gen_range(0..10)) {
                    (true, 0) => Supply::City,
                    (true, 1..=4) => Supply::County,
                    _ => Supply::Township,
                };
                let (kind, radii) = if reservoir {
                    (Kind::Reservoir, RESERVOIR_RADII)
                } else {
                    (Kind::Well, WELL_RADII)
                };
                Planned {
                    kind,
                    supply,
                    coord,
                    county: county.to_owned(),
                    bands: circle_bands(template, coord, radii),
                }
            })
            .collect(),
    };
    for (i, p) in planned.iter().enumerate() {
        write_source(ctx, &mut rng, sources, zones, i + 1, p)?;
    }
    Ok(())
}

fn write_source<R: Rng>(
    ctx: &Ctx<'_>,
    rng: &mut R,
    sources: &mut LayerWriter,
    zones: &mut LayerWriter,
    n: usize,
    p: &Planned,
) -> Result<(), SampleError> {
    let id = ctx.id("ws", n, 4);
    let population: i64 = match (&p.kind, p.supply) {
        (_, Supply::City) => rng.gen_range(250_000..600_000),
        (_, Supply::County) => rng.gen_range(60_000..250_000),
        (Kind::Well, _) => rng.gen_range(2_000..15_000),
        _ => rng.gen_range(5_000..40_000),
    };
    // 0.18–0.30 m³ per person and day, rounded to 100 m³.
    let capacity = ((population as f64 * rng.gen_range(0.18..0.30)) / 100.0).round() as i64 * 100;
    let (source_type, river) = match &p.kind {
        Kind::River(name) => ("river", Some(name.as_str())),
        Kind::Reservoir => ("reservoir", None),
        Kind::Well => ("groundwater", None),
    };
    let props = Props::new()
        .str("name_zh", format!("示例水源 {n:02}"))
        .str("name_en", format!("Demo Water Source {n:02}"))
        .str("source_type", source_type)
        .str(
            "supply_level",
            match p.supply {
                Supply::City => "city",
                Supply::County => "county",
                Supply::Township => "township",
            },
        )
        .int("population_served", population)
        .int("capacity_m3_per_day", capacity.max(100))
        .str("county", p.county.as_str())
        .opt_str("river", river);
    sources.feature(&id, Geom::Point(p.coord), props)?;
    for (level, suffix, geom) in p.bands.levels() {
        let zid = format!("{}-{level}", ctx.id("pz", n, 4));
        let props = Props::new()
            .str("water_source_id", id.as_str())
            .str("zone_level", level)
            .str("name_zh", format!("示例水源 {n:02} {suffix}"))
            .num1("area_m2", p.bands.frame.area_m2(geom));
        zones.feature(&zid, Geom::Area(geom), props)?;
    }
    Ok(())
}

/// Zone outlines accepted so far: different sources' zones stay apart.
struct Taken(Vec<(Rect, MultiPolygon)>);

impl Taken {
    fn free(&self, outline: &MultiPolygon) -> bool {
        let Some(bb) = outline.bounding_rect() else {
            return false;
        };
        !self
            .0
            .iter()
            .any(|(r, m)| r.intersects(&bb) && m.intersects(outline))
    }

    fn take(&mut self, outline: &MultiPolygon) {
        if let Some(bb) = outline.bounding_rect() {
            self.0.push((bb, outline.clone()));
        }
    }
}

fn plan_yibin<R: Rng>(
    rng: &mut R,
    y: &Yibin,
    template: &CircleTemplate,
) -> Result<Vec<Planned>, SampleError> {
    let mut out = Vec::with_capacity(PER_COPY);
    let mut taken = Taken(Vec::new());
    let fits =
        |b: &Bands, taken: &Taken| y.city_inner.contains(&b.outline) && taken.free(&b.outline);
    let mut fallback_reservoirs = 0;
    for (river, seat, supply) in INTAKES {
        match place_intake(rng, y, river, seat, |b| fits(b, &taken)) {
            Some((d, bands)) => {
                let (line, _) = y.river(river).ok_or_else(|| missing(river))?;
                let coord = round_coord(line.point_at(d));
                let county = y
                    .county_at(coord)
                    .map(|k| k.adcode.clone())
                    .ok_or_else(|| missing(river))?;
                taken.take(&bands.outline);
                out.push(Planned {
                    kind: Kind::River(river.to_owned()),
                    supply,
                    coord,
                    county,
                    bands,
                });
            }
            // No room on that reach: a reservoir serves instead (keeps the count).
            None => fallback_reservoirs += 1,
        }
    }
    let reservoirs = RESERVOIRS_YIBIN + fallback_reservoirs;
    for i in 0..PER_COPY - out.len() {
        let (kind, radii, spot, min_water_m) = if i < reservoirs {
            (
                Kind::Reservoir,
                RESERVOIR_RADII,
                Spot::Counties(&RESERVOIR_COUNTIES),
                4_000.0,
            )
        } else {
            (Kind::Well, WELL_RADII, Spot::Rural, 2_000.0)
        };
        let supply = match (&kind, i % 3) {
            (Kind::Reservoir, 0) => Supply::County,
            _ => Supply::Township,
        };
        let mut placed = None;
        for _ in 0..ATTEMPTS {
            let (coord, county) = y.sample(rng, &spot)?;
            let far = y
                .rivers
                .iter()
                .all(|(r, _)| r.locate(coord).1 > min_water_m);
            if !far {
                continue;
            }
            let bands = circle_bands(template, coord, radii);
            if fits(&bands, &taken) {
                placed = Some(Planned {
                    kind,
                    supply,
                    coord,
                    county: county.adcode.clone(),
                    bands,
                });
                break;
            }
        }
        let p = placed.ok_or_else(|| SampleError::Placement {
            what: "a reservoir or well with its zones".into(),
            attempts: ATTEMPTS,
        })?;
        taken.take(&p.bands.outline);
        out.push(p);
    }
    Ok(out)
}

fn missing(river: &str) -> SampleError {
    SampleError::Placement {
        what: format!("a water source on the {river}"),
        attempts: 0,
    }
}

/// A position along `river` (near `seat` first, then anywhere in the city) whose bands are
/// valid, whose intake is inside the city, and that `fits`.
fn place_intake<R: Rng>(
    rng: &mut R,
    y: &Yibin,
    river: &str,
    seat: Option<&str>,
    fits: impl Fn(&Bands) -> bool,
) -> Option<(f64, Bands)> {
    let (line, (a, b)) = y.river(river)?;
    let near = seat
        .and_then(|s| y.county(s))
        .map(|k| line.locate(k.seat))
        .filter(|(_, dist)| *dist < 10_000.0)
        .map(|(d, _)| d);
    for attempt in 0..ATTEMPTS {
        let d = match near {
            // Mostly upstream of the seat (intakes sit above the town's outfalls).
            Some(d0) if attempt < ATTEMPTS / 2 => d0 - rng.gen_range(-6_000.0..12_000.0),
            Some(d0) if attempt < ATTEMPTS * 3 / 4 => d0 + rng.gen_range(-25_000.0..25_000.0),
            _ => rng.gen_range(*a..*b),
        };
        if !y.inside(round_coord(line.point_at(d))) {
            continue;
        }
        if let Some(bands) = river_bands(line, d) {
            if fits(&bands) {
                return Some((d, bands));
            }
        }
    }
    None
}
