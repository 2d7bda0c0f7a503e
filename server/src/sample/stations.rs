//! `monitoring_stations`: an online monitor at every online-monitored source (at the source),
//! ambient air-quality stations at the county seats, and water-quality sections on the main
//! rivers. Each has a unique 24-character HJ 212 `mn`.

use geo::Coord;
use rand::Rng;

use super::geom::round_coord;
use super::region::{Spot, Yibin, CUIPING, MAIN_RIVERS};
use super::sources::{Discharge, OnlineSource};
use super::writer::{Geom, LayerWriter, Props};
use super::{Ctx, Region, SampleError};

/// Ambient air stations per copy (one per county seat plus two more in the central district)
/// and river sections per copy (six per main river).
pub(crate) const AIR_STATIONS: usize = 12;
pub(crate) const SECTIONS: usize = 18;

pub(crate) const WATER_SOURCE_POLLUTANTS: &[&str] = &["w01018", "w21003", "w00000"];
pub(crate) const AIR_SOURCE_POLLUTANTS: &[&str] = &["a21026", "a21002", "a34013", "a19001"];
pub(crate) const BOTH_SOURCE_POLLUTANTS: &[&str] = &[
    "w01018", "w21003", "w00000", "a21026", "a21002", "a34013", "a19001",
];
pub(crate) const AIR_QUALITY_POLLUTANTS: &[&str] =
    &["a21026", "a21002", "a34002", "a34004", "a21005", "a05024"];
pub(crate) const SECTION_POLLUTANTS: &[&str] = &["w01018", "w21003", "w21011", "w01001"];

/// What the readings generator needs to know about a station.
pub(crate) enum StationKind {
    SourceOnline {
        national: bool,
        industry: &'static str,
    },
    AirQuality,
    WaterSection,
}

pub(crate) struct Station {
    pub id: String,
    pub kind: StationKind,
    pub pollutants: &'static [&'static str],
}

/// Writes one copy's stations; returns them (the Yibin copy's feed the readings).
pub(crate) fn generate(
    ctx: &Ctx<'_>,
    online: &[OnlineSource],
    w: &mut LayerWriter,
) -> Result<Vec<Station>, SampleError> {
    let mut rng = ctx.rng(super::STREAM_STATIONS);
    let mut out = Vec::with_capacity(online.len() + AIR_STATIONS + SECTIONS);
    let mut n = 0;
    let mut write = |n: usize,
                     coord: Coord,
                     county: &str,
                     name: (String, String),
                     kind: StationKind,
                     pollutants: &'static [&'static str],
                     extra: (Option<&str>, Option<&str>)|
     -> Result<Station, SampleError> {
        let id = ctx.id("ms", n, 4);
        let (kind_str, st) = match &kind {
            StationKind::SourceOnline { .. } if pollutants == WATER_SOURCE_POLLUTANTS => {
                ("source_online", 32)
            }
            StationKind::SourceOnline { .. } => ("source_online", 31),
            StationKind::AirQuality => ("air_quality", 22),
            StationKind::WaterSection => ("water_section", 21),
        };
        let props = Props::new()
            .str("name_zh", name.0)
            .str("name_en", name.1)
            .str("kind", kind_str)
            .str("mn", mn(county, st, ctx.copy, n))
            .opt_str("source_id", extra.0)
            .str("pollutants", pollutants.join(","))
            .str("county", county)
            .opt_str("river", extra.1)
            .str("status", "no_data");
        w.feature(&id, Geom::Point(coord), props)?;
        Ok(Station {
            id,
            kind,
            pollutants,
        })
    };

    for s in online {
        n += 1;
        let pollutants = match s.discharge {
            Discharge::Water => WATER_SOURCE_POLLUTANTS,
            Discharge::Air => AIR_SOURCE_POLLUTANTS,
            Discharge::Both => BOTH_SOURCE_POLLUTANTS,
        };
        let name = (
            format!("{} 在线监测", s.name_zh),
            format!("{} online monitor", s.name_en),
        );
        let kind = StationKind::SourceOnline {
            national: s.national,
            industry: s.industry,
        };
        out.push(write(
            n,
            s.coord,
            &s.county,
            name,
            kind,
            pollutants,
            (Some(&s.id), None),
        )?);
    }
    for k in 0..AIR_STATIONS {
        n += 1;
        let (coord, county) = match ctx.region {
            Region::Yibin(y) => {
                let seats: Vec<&str> = y.counties.iter().map(|c| c.adcode.as_str()).collect();
                let (code, sigma) = match seats.get(k) {
                    Some(code) => (*code, 800.0),
                    None => (CUIPING, 3_000.0),
                };
                let weights = [(code, 1.0)];
                ctx.place(&mut rng, &Spot::Seats(&weights, sigma))?
            }
            Region::China(_) => ctx.place(&mut rng, &Spot::Rural)?,
        };
        let name = (
            format!("示例空气站 {:02}", k + 1),
            format!("Demo Air Quality Station {:02}", k + 1),
        );
        out.push(write(
            n,
            coord,
            &county,
            name,
            StationKind::AirQuality,
            AIR_QUALITY_POLLUTANTS,
            (None, None),
        )?);
    }
    let mut placed: Vec<(&str, f64)> = Vec::new();
    for k in 0..SECTIONS {
        n += 1;
        let (coord, county, river) = match ctx.region {
            Region::Yibin(y) => {
                let river = MAIN_RIVERS[k * MAIN_RIVERS.len() / SECTIONS];
                section_on_river(&mut rng, y, river, &mut placed)?
            }
            // No river lines outside Yibin: the section has no `river`.
            Region::China(_) => {
                let (c, county) = ctx.place(&mut rng, &Spot::Rural)?;
                (c, county, None)
            }
        };
        let name = (
            format!("示例水质断面 {:02}", k + 1),
            format!("Demo Water Quality Section {:02}", k + 1),
        );
        let station = write(
            n,
            coord,
            &county,
            name,
            StationKind::WaterSection,
            SECTION_POLLUTANTS,
            (None, river),
        )?;
        out.push(station);
    }
    Ok(out)
}

/// A section on `river`'s centreline inside the city, spread out: at least 4 km along the river
/// from the sections already `placed` on it (the spacing relaxes if the reach is short).
fn section_on_river<R: Rng>(
    rng: &mut R,
    y: &Yibin,
    river: &'static str,
    placed: &mut Vec<(&'static str, f64)>,
) -> Result<(Coord, String, Option<&'static str>), SampleError> {
    const ATTEMPTS: u32 = 2_000;
    if let Some((line, (a, b))) = y.river(river) {
        for attempt in 0..ATTEMPTS {
            let spacing = 4_000.0 / f64::from(1 + attempt / 500);
            let d = rng.gen_range(*a..*b);
            let crowded = placed
                .iter()
                .any(|(r, x)| *r == river && (x - d).abs() < spacing);
            let c = round_coord(line.point_at(d));
            if crowded || !y.inside(c) {
                continue;
            }
            if let Some(county) = y.county_at(c) {
                placed.push((river, d));
                return Ok((c, county.adcode.clone(), Some(river)));
            }
        }
    }
    Err(SampleError::Placement {
        what: format!("a water section on the {river}"),
        attempts: ATTEMPTS,
    })
}

/// An HJ 212 device id: county adcode (6) + system code (2) + copy (8 hex) + serial (8 hex).
/// Unique because (copy, serial) is.
fn mn(county: &str, st: u32, copy: u32, n: usize) -> String {
    let mut code: String = county
        .chars()
        .filter(char::is_ascii_digit)
        .take(6)
        .collect();
    while code.len() < 6 {
        code.push('0');
    }
    format!("{code}{st:02}{copy:08X}{n:08X}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mn_has_24_upper_hex_characters() {
        let m = mn("511502", 32, 421, 17);
        assert_eq!(m, "51150232000001A500000011");
        assert_eq!(m.len(), 24);
        assert!(m
            .chars()
            .all(|c| c.is_ascii_digit() || ('A'..='F').contains(&c)));
    }
}
