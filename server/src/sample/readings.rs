//! `readings.csv.gz`: hourly averages (`kind` `avg`) for every Yibin station and pollutant over
//! `days` days ending at [`SAMPLE_END`](super::SAMPLE_END) (that hour included).
//!
//! Values follow a diurnal cycle with autocorrelated noise. Source values stay below the
//! strictest limit of domain.md §3 (ultra-low emission, GB 18918 class 1A) except in a handful of
//! exceedance episodes at national-level sources, where they exceed the laxest listed limit too,
//! so the episodes are exceedances whichever row is configured. Gaps: ~2% missing hours and some
//! outages; flags: maintenance blocks (M), weekly calibration of water analysers (C) and rare
//! faults (D, often spikes: only N values may count toward exceedances).
//!
//! Units: water mg/L (pH none, flow `w00000` L/s), flue gas mg/m³ (O2 %), ambient air µg/m³
//! (CO mg/m³).

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;

use flate2::write::GzEncoder;
use flate2::Compression;
use rand::Rng;
use rand_chacha::ChaCha8Rng;
use time::format_description::well_known::Rfc3339;
use time::Duration;

use super::geom::normal;
use super::stations::{Station, StationKind};
use super::{SampleError, SAMPLE_END};

pub(crate) const HEADER: &str = "station_id,pollutant,kind,time,value,flag";

/// (mean, diurnal amplitude as a fraction, peak hour UTC, noise, decimals, cap).
/// Beijing time is UTC+8: a 14:00 local peak is 06 UTC.
struct Model {
    mean: f64,
    amp: f64,
    peak_utc: f64,
    noise: f64,
    decimals: usize,
    cap: f64,
}

const fn m(mean: f64, amp: f64, peak_utc: f64, noise: f64, decimals: usize, cap: f64) -> Model {
    Model {
        mean,
        amp,
        peak_utc,
        noise,
        decimals,
        cap,
    }
}

fn model(kind: &StationKind, pollutant: &str) -> Model {
    let sewage = matches!(
        kind,
        StationKind::SourceOnline {
            industry: "4620",
            ..
        }
    );
    match (kind, pollutant) {
        (StationKind::SourceOnline { .. }, "w01018") if sewage => m(24.0, 0.15, 3.0, 0.12, 1, 45.0),
        (StationKind::SourceOnline { .. }, "w01018") => m(32.0, 0.2, 4.0, 0.15, 1, 45.0),
        (StationKind::SourceOnline { .. }, "w21003") if sewage => m(1.2, 0.2, 3.0, 0.2, 2, 4.5),
        (StationKind::SourceOnline { .. }, "w21003") => m(2.0, 0.2, 4.0, 0.2, 2, 4.5),
        (StationKind::SourceOnline { .. }, "w00000") => m(60.0, 0.3, 3.0, 0.1, 1, 1e9),
        (StationKind::SourceOnline { .. }, "a21026") => m(18.0, 0.1, 5.0, 0.15, 1, 32.0),
        (StationKind::SourceOnline { .. }, "a21002") => m(32.0, 0.1, 5.0, 0.12, 1, 46.0),
        (StationKind::SourceOnline { .. }, "a34013") => m(4.5, 0.1, 5.0, 0.2, 2, 9.0),
        (StationKind::SourceOnline { .. }, "a19001") => m(8.5, 0.05, 5.0, 0.05, 1, 18.0),
        (StationKind::AirQuality, "a21026") => m(9.0, 0.2, 3.0, 0.2, 0, 1e9),
        (StationKind::AirQuality, "a21002") => m(38.0, 0.35, 0.0, 0.2, 0, 1e9),
        (StationKind::AirQuality, "a34002") => m(62.0, 0.2, 0.0, 0.2, 0, 1e9),
        (StationKind::AirQuality, "a34004") => m(40.0, 0.2, 0.0, 0.2, 0, 1e9),
        (StationKind::AirQuality, "a21005") => m(0.8, 0.2, 0.0, 0.15, 2, 1e9),
        (StationKind::AirQuality, "a05024") => m(55.0, 0.7, 7.0, 0.2, 0, 1e9),
        (StationKind::WaterSection, "w01018") => m(11.0, 0.05, 6.0, 0.08, 1, 1e9),
        (StationKind::WaterSection, "w21003") => m(0.25, 0.05, 6.0, 0.15, 3, 1e9),
        (StationKind::WaterSection, "w21011") => m(0.08, 0.05, 6.0, 0.12, 3, 1e9),
        (StationKind::WaterSection, "w01001") => m(7.8, 0.01, 8.0, 0.01, 2, 9.0),
        _ => m(10.0, 0.1, 6.0, 0.1, 2, 1e9),
    }
}

/// The laxest limit of domain.md §3 per pollutant: episode values exceed it.
fn lax_limit(pollutant: &str) -> Option<f64> {
    match pollutant {
        "w01018" => Some(100.0),
        "w21003" => Some(15.0),
        "a21026" | "a21002" => Some(100.0),
        "a34013" => Some(30.0),
        _ => None,
    }
}

/// An exceedance episode: station index, pollutants, first hour index, length in hours.
struct Episode {
    station: usize,
    pollutants: &'static [&'static str],
    start: usize,
    hours: usize,
}

/// Targets: a desulphurisation upset at a power plant (SO2), then NOx at the same plant, a
/// sewage plant overload (COD + ammonia), a cement kiln filter failure (dust), and a chemical
/// plant's wastewater (COD).
const TARGETS: [(&[&str], &[&str]); 5] = [
    (&["4411"], &["a21026"]),
    (&["4411"], &["a21002"]),
    (&["4620"], &["w01018", "w21003"]),
    (&["3011"], &["a34013"]),
    (&["2612", "2651"], &["w01018"]),
];

fn plan_episodes(rng: &mut ChaCha8Rng, stations: &[Station], hours: usize) -> Vec<Episode> {
    let mut out: Vec<Episode> = Vec::new();
    for (industries, pollutants) in TARGETS {
        let fits = |s: &Station, strict: bool| match s.kind {
            StationKind::SourceOnline {
                national: true,
                industry,
            } => {
                pollutants.iter().all(|p| s.pollutants.contains(p))
                    && (!strict || industries.contains(&industry))
            }
            _ => false,
        };
        // Same industry if possible (the same plant for the second power-plant episode),
        // else any national source measuring the pollutant.
        let pick = stations
            .iter()
            .position(|s| fits(s, true))
            .or_else(|| stations.iter().position(|s| fits(s, false)));
        let Some(station) = pick else { continue };
        let len = rng.gen_range(3..=6).min(hours);
        let mut start = rng.gen_range(0..=hours - len);
        // Two episodes at one station must not overlap.
        if let Some(prev) = out.iter().find(|e| e.station == station) {
            if start < prev.start + prev.hours && prev.start < start + len {
                start = (prev.start + prev.hours + 24) % (hours - len + 1);
            }
        }
        out.push(Episode {
            station,
            pollutants,
            start,
            hours: len,
        });
    }
    out
}

/// Writes the readings file; returns the number of rows.
pub(crate) fn write(
    path: &Path,
    stations: &[Station],
    days: u32,
    seed: u64,
) -> Result<usize, SampleError> {
    let mut rng = super::stream_rng(seed, 0, super::STREAM_READINGS);
    let hours = days as usize * 24;
    let times: Vec<String> = (0..hours)
        .map(|h| (SAMPLE_END - Duration::hours((hours - 1 - h) as i64)).format(&Rfc3339))
        .collect::<Result<_, _>>()?;
    let episodes = plan_episodes(&mut rng, stations, hours);

    let file = File::create(path).map_err(|e| SampleError::io(path, e))?;
    // Buffer before the encoder: flate2 compresses on every write call, and rows are tiny.
    let mut gz = BufWriter::with_capacity(1 << 18, GzEncoder::new(file, Compression::new(6)));
    let io = |e| SampleError::io(path, e);
    writeln!(gz, "{HEADER}").map_err(io)?;
    let mut rows = 0;
    for (si, st) in stations.iter().enumerate() {
        // Station-wide gaps (all pollutants): scattered hours plus, for some, one outage.
        let mut missing: Vec<bool> = (0..hours).map(|_| rng.gen_bool(0.02)).collect();
        if rng.gen_bool(0.3) {
            block(&mut rng, &mut missing, 3..19);
        }
        let mut maintenance = vec![false; hours];
        if rng.gen_bool(0.4) {
            block(&mut rng, &mut maintenance, 2..5);
        }
        let calibration_hour = rng.gen_range(0..168usize);
        let scale = match st.kind {
            // Flows differ by plant size.
            StationKind::SourceOnline { .. } => rng.gen_range(0.3..4.0),
            _ => 1.0,
        };
        for &p in st.pollutants {
            let md = model(&st.kind, p);
            let mean = if p == "w00000" {
                md.mean * scale
            } else {
                md.mean * rng.gen_range(0.8..1.2)
            };
            let calibrated = p.starts_with('w') && p != "w00000" && p != "w01001";
            let mut ar = 0.0;
            for h in 0..hours {
                ar = 0.9 * ar + normal(&mut rng) * md.noise * 0.45;
                let episode = episodes.iter().find(|e| {
                    e.station == si
                        && e.pollutants.contains(&p)
                        && (e.start..e.start + e.hours).contains(&h)
                });
                let in_any_episode = episodes
                    .iter()
                    .any(|e| e.station == si && (e.start..e.start + e.hours).contains(&h));
                if missing[h] && !in_any_episode {
                    continue;
                }
                let hour_utc = ((24 - (hours - 1 - h) % 24) % 24) as f64;
                let phase = std::f64::consts::TAU * (hour_utc - md.peak_utc) / 24.0;
                let mut v = mean * (1.0 + md.amp * phase.cos()) * ar.exp();
                v = v.min(md.cap * rng.gen_range(0.9..1.0)).max(0.0);
                let mut flag = 'N';
                if let (Some(e), Some(lim)) = (episode, lax_limit(p)) {
                    let j = (h - e.start) as f64 + 0.5;
                    let bump = (std::f64::consts::PI * j / e.hours as f64).sin();
                    v = lim * (1.15 + 0.6 * bump) * rng.gen_range(0.97..1.03);
                } else if !in_any_episode {
                    if maintenance[h] {
                        flag = 'M';
                    } else if calibrated && h % 168 == calibration_hour {
                        flag = 'C';
                    } else if rng.gen_bool(0.003) {
                        flag = 'D';
                        // Stuck at zero or a spike, within what the analyser can report.
                        v = if rng.gen_bool(0.5) {
                            0.0
                        } else {
                            v * rng.gen_range(2.0..5.0)
                        };
                        v = match p {
                            "w01001" => v.min(14.0),
                            "a19001" => v.min(21.0),
                            _ => v,
                        };
                    }
                }
                writeln!(
                    gz,
                    "{},{p},avg,{},{v:.prec$},{flag}",
                    st.id,
                    times[h],
                    prec = md.decimals
                )
                .map_err(io)?;
                rows += 1;
            }
        }
    }
    let encoder = gz.into_inner().map_err(|e| io(e.into_error()))?;
    encoder.finish().map_err(io)?.flush().map_err(io)?;
    Ok(rows)
}

/// Marks one random block of `len` hours.
fn block(rng: &mut ChaCha8Rng, mask: &mut [bool], len: std::ops::Range<usize>) {
    let n = rng.gen_range(len).min(mask.len());
    let start = rng.gen_range(0..=mask.len() - n);
    mask[start..start + n].iter_mut().for_each(|x| *x = true);
}
