//! `pollution_sources`: ~600 plants per copy over the industries of domain.md §6 in Yibin-like
//! proportions (a liquor city), exactly 47 national-level (国控), clustered around county seats
//! and along the main rivers, with plausible discharge, permit, credit and contact fields.

use geo::Coord;
use rand::seq::index::sample as sample_indices;
use rand::seq::SliceRandom;
use rand::Rng;

use super::region::{
    Spot, CHANGNING, CUIPING, GAOXIAN, GONGXIAN, JIANGAN, JUNLIAN, MAIN_RIVERS, NANXI, PINGSHAN,
    XINGWEN, XUZHOU,
};
use super::writer::{Geom, LayerWriter, Props};
use super::{Ctx, SampleError};

/// Provincial-level sources per copy, and how many of them are monitored online.
const PROVINCIAL: usize = 138;
const PROVINCIAL_ONLINE: usize = 53;

/// What a source discharges, which decides its online monitor's pollutants.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Discharge {
    Water,
    Air,
    Both,
}

impl Discharge {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Discharge::Water => "water",
            Discharge::Air => "air",
            Discharge::Both => "both",
        }
    }
}

pub(crate) struct Industry {
    pub code: &'static str,
    zh: &'static str,
    en: &'static str,
    /// Generic plant word for the synthetic names (`示例白酒厂 07`).
    plant_zh: &'static str,
    plant_en: &'static str,
    /// Plants per copy, and how many of them are national-level.
    count: usize,
    national: usize,
    /// Weights of water / air / both.
    discharge: [u32; 3],
}

/// GB/T 4754-2017 classes of domain.md §6; counts sum to 600, national (国控) quotas to 47.
pub(crate) const INDUSTRIES: [Industry; 10] = [
    ind(
        "1512",
        "白酒制造",
        "Liquor manufacturing",
        "白酒厂",
        "Liquor Distillery",
        230,
        9,
        [8, 0, 2],
    ),
    ind(
        "0313",
        "猪的饲养",
        "Pig farming",
        "养猪场",
        "Pig Farm",
        130,
        2,
        [1, 0, 0],
    ),
    ind(
        "4620",
        "污水处理及其再生利用",
        "Sewage treatment",
        "污水处理厂",
        "Sewage Treatment Plant",
        48,
        11,
        [1, 0, 0],
    ),
    ind(
        "0610",
        "烟煤和无烟煤开采洗选",
        "Coal mining and washing",
        "煤矿",
        "Coal Mine",
        65,
        5,
        [7, 0, 3],
    ),
    ind(
        "3841",
        "锂离子电池制造",
        "Lithium-ion battery manufacturing",
        "锂电池厂",
        "Lithium Battery Plant",
        44,
        2,
        [6, 0, 4],
    ),
    ind(
        "2221",
        "机制纸及纸板制造",
        "Paper and paperboard manufacturing",
        "造纸厂",
        "Paper Mill",
        36,
        2,
        [6, 0, 4],
    ),
    ind(
        "3011",
        "水泥制造",
        "Cement manufacturing",
        "水泥厂",
        "Cement Plant",
        22,
        4,
        [0, 8, 2],
    ),
    ind(
        "2612",
        "无机碱制造",
        "Chlor-alkali (inorganic alkali) manufacturing",
        "氯碱化工厂",
        "Chlor-alkali Plant",
        10,
        4,
        [1, 1, 8],
    ),
    ind(
        "2651",
        "初级形态塑料及合成树脂制造",
        "Primary plastics and resins (PVC)",
        "树脂厂",
        "Resin Plant",
        8,
        3,
        [1, 1, 8],
    ),
    ind(
        "4411",
        "火力发电",
        "Thermal power generation",
        "火电厂",
        "Thermal Power Plant",
        7,
        5,
        [0, 3, 7],
    ),
];

#[allow(clippy::too_many_arguments)]
const fn ind(
    code: &'static str,
    zh: &'static str,
    en: &'static str,
    plant_zh: &'static str,
    plant_en: &'static str,
    count: usize,
    national: usize,
    discharge: [u32; 3],
) -> Industry {
    Industry {
        code,
        zh,
        en,
        plant_zh,
        plant_en,
        count,
        national,
        discharge,
    }
}

/// Seat weights: the urban core (Cuiping, Xuzhou, Nanxi) is heaviest.
const ALL_SEATS: [(&str, f64); 10] = [
    (CUIPING, 0.30),
    (XUZHOU, 0.18),
    (NANXI, 0.15),
    (JIANGAN, 0.07),
    (CHANGNING, 0.06),
    (GAOXIAN, 0.06),
    (GONGXIAN, 0.06),
    (JUNLIAN, 0.04),
    (XINGWEN, 0.04),
    (PINGSHAN, 0.04),
];
const CHEMICAL_SEATS: [(&str, f64); 3] = [(XUZHOU, 0.45), (CUIPING, 0.35), (NANXI, 0.20)];
const BATTERY_SEATS: [(&str, f64); 4] = [
    (XUZHOU, 0.35),
    (CUIPING, 0.30),
    (NANXI, 0.25),
    (JIANGAN, 0.10),
];
const CEMENT_SEATS: [(&str, f64); 7] = [
    (XUZHOU, 0.2),
    (GAOXIAN, 0.15),
    (GONGXIAN, 0.15),
    (CHANGNING, 0.15),
    (XINGWEN, 0.15),
    (JUNLIAN, 0.1),
    (PINGSHAN, 0.1),
];
/// The coal field is in the south.
const COAL_MAIN: [&str; 3] = [GONGXIAN, JUNLIAN, XINGWEN];
const COAL_FRINGE: [&str; 2] = [GAOXIAN, CHANGNING];

/// Where plant `nth` (0-based) of an industry goes in Yibin.
fn spot<R: Rng>(rng: &mut R, code: &str, nth: usize) -> Spot<'static> {
    match code {
        "1512" if rng.gen_bool(0.65) => Spot::Seats(&ALL_SEATS, 5_000.0),
        "1512" => Spot::River(&MAIN_RIVERS, 2_000.0),
        "0313" => Spot::Rural,
        // One main plant next to every county seat, then township plants.
        "4620" if nth < ALL_SEATS.len() => {
            Spot::Seats(std::slice::from_ref(&ALL_SEATS[nth]), 1_200.0)
        }
        "4620" => Spot::Seats(&ALL_SEATS, 9_000.0),
        "0610" if rng.gen_bool(0.85) => Spot::Counties(&COAL_MAIN),
        "0610" => Spot::Counties(&COAL_FRINGE),
        "3841" => Spot::Seats(&BATTERY_SEATS, 5_000.0),
        "2221" if rng.gen_bool(0.7) => Spot::River(&MAIN_RIVERS, 2_000.0),
        "3011" => Spot::Seats(&CEMENT_SEATS, 9_000.0),
        "2612" | "2651" if rng.gen_bool(0.6) => Spot::Seats(&CHEMICAL_SEATS, 4_000.0),
        "2612" | "2651" => Spot::River(&["Jinsha", "Min"], 1_500.0),
        // Thermal plants need cooling water, or sit at the mines.
        "4411" if rng.gen_bool(0.6) => Spot::River(&MAIN_RIVERS, 3_000.0),
        "4411" => Spot::Counties(&[GONGXIAN, JUNLIAN]),
        _ => Spot::Seats(&ALL_SEATS, 6_000.0),
    }
}

/// An online-monitored source, remembered for its `source_online` station.
pub(crate) struct OnlineSource {
    pub id: String,
    pub name_zh: String,
    pub name_en: String,
    pub coord: Coord,
    pub county: String,
    pub discharge: Discharge,
    pub national: bool,
    pub industry: &'static str,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Level {
    National,
    Provincial,
    Municipal,
}

/// Writes one copy's sources; returns the online-monitored ones in id order.
pub(crate) fn generate(
    ctx: &Ctx<'_>,
    w: &mut LayerWriter,
) -> Result<Vec<OnlineSource>, SampleError> {
    let mut rng = ctx.rng(super::STREAM_SOURCES);
    // (industry, number within the industry, national): shuffled so ids do not encode industry.
    let mut plan: Vec<(usize, usize, bool)> = Vec::with_capacity(600);
    for (i, ind) in INDUSTRIES.iter().enumerate() {
        let national: Vec<usize> = if ind.code == "4620" {
            (0..ind.national).collect()
        } else {
            sample_indices(&mut rng, ind.count, ind.national).into_vec()
        };
        plan.extend((0..ind.count).map(|n| (i, n, national.contains(&n))));
    }
    plan.shuffle(&mut rng);
    let others: Vec<usize> = (0..plan.len()).filter(|&k| !plan[k].2).collect();
    let mut level = vec![Level::Municipal; plan.len()];
    let mut online = vec![false; plan.len()];
    for (k, p) in plan.iter().enumerate() {
        if p.2 {
            level[k] = Level::National;
            online[k] = true;
        }
    }
    let provincial =
        sample_indices(&mut rng, others.len(), PROVINCIAL.min(others.len())).into_vec();
    for (j, &o) in provincial.iter().enumerate() {
        level[others[o]] = Level::Provincial;
        online[others[o]] = j < PROVINCIAL_ONLINE;
    }

    let mut monitored = Vec::new();
    for (k, &(i, nth, _)) in plan.iter().enumerate() {
        let ind = &INDUSTRIES[i];
        let id = ctx.id("ps", k + 1, 6);
        let spot = spot(&mut rng, ind.code, nth);
        let (coord, county) = ctx.place(&mut rng, &spot)?;
        let discharge = match weighted(&mut rng, &ind.discharge) {
            0 => Discharge::Water,
            1 => Discharge::Air,
            _ => Discharge::Both,
        };
        let (rating, violations) = credit(&mut rng);
        let name_zh = format!("示例{} {:02}", ind.plant_zh, nth + 1);
        let name_en = format!("Demo {} {:02}", ind.plant_en, nth + 1);
        let props = Props::new()
            .str("name_zh", name_zh.as_str())
            .str("name_en", name_en.as_str())
            .str("industry_code", ind.code)
            .str("industry_zh", ind.zh)
            .str("industry_en", ind.en)
            .str(
                "control_level",
                match level[k] {
                    Level::National => "national",
                    Level::Provincial => "provincial",
                    Level::Municipal => "municipal",
                },
            )
            .str("county", county.as_str())
            .str("discharge", discharge.as_str())
            .str("permit_no", permit_no(&county, ctx.copy, k + 1))
            .bool("online_monitored", online[k])
            .str("credit_rating", rating)
            .int("violations", violations)
            .str("contact", contact(&mut rng, ctx.copy))
            .str("status", "no_data");
        w.feature(&id, Geom::Point(coord), props)?;
        if online[k] {
            monitored.push(OnlineSource {
                id,
                name_zh,
                name_en,
                coord,
                county,
                discharge,
                national: level[k] == Level::National,
                industry: ind.code,
            });
        }
    }
    Ok(monitored)
}

/// Index picked with the given integer weights.
pub(crate) fn weighted<R: Rng>(rng: &mut R, weights: &[u32]) -> usize {
    let total: u32 = weights.iter().sum();
    let mut u = rng.gen_range(0..total.max(1));
    for (i, w) in weights.iter().enumerate() {
        if u < *w {
            return i;
        }
        u -= w;
    }
    weights.len().saturating_sub(1)
}

/// Mostly green/blue, some yellow, few red; violations in the last years follow the rating.
fn credit<R: Rng>(rng: &mut R) -> (&'static str, i64) {
    match weighted(rng, &[45, 37, 13, 5]) {
        0 => ("green", i64::from(rng.gen_bool(0.05))),
        1 => ("blue", [0, 0, 0, 1, 1, 2][rng.gen_range(0..6)]),
        2 => ("yellow", rng.gen_range(1..=4)),
        _ => ("red", rng.gen_range(3..=9)),
    }
}

/// Synthetic permit number shaped like a real one (`91` + adcode + `MA6` + 7 characters +
/// `001P`). The 7 characters are a bijective scramble of (copy, number), so they never repeat.
fn permit_no(county: &str, copy: u32, n: usize) -> String {
    const BASE: u64 = 36u64.pow(7);
    let unique = u64::from(copy) * 1_000 + n as u64;
    // 1_000_003 is coprime with 36, so this is a bijection modulo 36^7.
    let mut x = (unique.wrapping_mul(1_000_003) + 49_037_411) % BASE;
    let mut chars = [b'0'; 7];
    for ch in chars.iter_mut().rev() {
        let d = (x % 36) as u8;
        *ch = if d < 10 { b'0' + d } else { b'A' + d - 10 };
        x /= 36;
    }
    format!("91{county}MA6{}001P", String::from_utf8_lossy(&chars))
}

/// A synthetic landline: Yibin's area code 0831 for the Yibin copy, a random one elsewhere.
fn contact<R: Rng>(rng: &mut R, copy: u32) -> String {
    let area = if copy == 0 {
        831
    } else {
        rng.gen_range(10..1000)
    };
    format!(
        "0{area}-{}{:06}",
        rng.gen_range(2..9),
        rng.gen_range(0..1_000_000)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_adds_up() {
        assert_eq!(INDUSTRIES.iter().map(|i| i.count).sum::<usize>(), 600);
        // Exactly 47 national-level sources per copy.
        assert_eq!(INDUSTRIES.iter().map(|i| i.national).sum::<usize>(), 47);
    }

    #[test]
    fn permit_numbers_are_unique_and_shaped() {
        let mut seen = std::collections::BTreeSet::new();
        for copy in [0, 1, 999] {
            for n in 1..=600 {
                let p = permit_no("511502", copy, n);
                assert_eq!(p.len(), 22, "{p}");
                assert!(p.starts_with("91511502MA6") && p.ends_with("001P"));
                assert!(seen.insert(p));
            }
        }
    }
}
