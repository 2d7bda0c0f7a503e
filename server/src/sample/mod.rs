//! The deterministic sample-data generator behind `envatlas sample`: it writes a complete data
//! directory (`layers/<id>.geojson` for the 8 layers, `readings.csv.gz`, `README.md`) for
//! Yibin, and with `--scale K` K−1 more copies of the synthetic layers spread over China.
//!
//! - [`reference`]: the embedded real inputs (`server/reference/`), parsed.
//! - [`region`]: where features go: Yibin (counties, seats, rivers, point-in-polygon) and China
//!   (district picked by area).
//! - [`rivers`]: river centrelines measured along their length.
//! - [`geom`]: local metric frame, 6-decimal rounding and RFC 7946 orientation, circles, blobs.
//! - [`writer`]: the streaming GeoJSON writer.
//! - [`real`]: the real layers (`admin_boundaries`, `rivers`).
//! - [`sources`], [`water`] (+ [`zones`]), [`ecology`], [`rural`], [`stations`]: the synthetic
//!   layers, one copy at a time.
//! - [`readings`]: the Yibin stations' hourly readings; [`readme`]: the directory's README.
//!
//! Determinism: every (copy, layer) pair draws from its own ChaCha8 stream of `--seed`, so the
//! Yibin copy is the same whatever `--scale` is, and the same options give byte-identical files.
//! Ids: the Yibin copy `ps-000123`; copy `c` ≥ 1 `ps-c0421-000123` (prefixes `ps` sources, `ws`
//! water sources, `pz` zones, `eco` ecology, `rs` rural sites, `ms` stations).

mod ecology;
mod geom;
mod readings;
mod readme;
mod real;
mod reference;
mod region;
mod rivers;
mod rural;
mod sources;
mod stations;
#[cfg(test)]
mod tests;
mod water;
mod writer;
mod zones;

use std::path::{Path, PathBuf};

use geo::Coord;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use time::macros::datetime;
use time::OffsetDateTime;

use region::{China, Spot, Yibin};
use writer::LayerWriter;

/// The readings end at this hour (included). Stores shift them to the seeding time.
pub const SAMPLE_END: OffsetDateTime = datetime!(2026-11-01 00:00:00 UTC);

/// Largest accepted `--scale` (6 million sources, several GB of GeoJSON).
pub const MAX_SCALE: u32 = 10_000;
/// Largest accepted `--days`.
pub const MAX_DAYS: u32 = 366;

/// The layers, in the order of the contracts and of [`SampleSummary::counts`].
pub const LAYERS: [&str; 8] = [
    "admin_boundaries",
    "rivers",
    "pollution_sources",
    "drinking_water_sources",
    "protection_zones",
    "ecology_areas",
    "rural_sites",
    "monitoring_stations",
];

/// Options of `envatlas sample`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SampleOptions {
    pub seed: u64,
    /// Copies of the synthetic layers (1 = Yibin only).
    pub scale: u32,
    /// Days of hourly readings.
    pub days: u32,
}

impl Default for SampleOptions {
    fn default() -> Self {
        SampleOptions {
            seed: 42,
            scale: 1,
            days: 30,
        }
    }
}

/// What was written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SampleSummary {
    /// Features per layer id, in [`LAYERS`] order.
    pub counts: Vec<(String, usize)>,
    /// Rows of `readings.csv.gz`.
    pub readings: usize,
}

#[derive(Debug, thiserror::Error)]
pub enum SampleError {
    #[error("invalid sample options: {0}")]
    InvalidOptions(String),
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("embedded reference data {name} is malformed: {reason}")]
    Reference { name: &'static str, reason: String },
    #[error("could not place {what} after {attempts} attempts")]
    Placement { what: String, attempts: u32 },
    #[error("formatting a reading time failed: {0}")]
    Time(#[from] time::error::Format),
}

impl SampleError {
    pub(crate) fn io(path: &Path, source: std::io::Error) -> Self {
        SampleError::Io {
            path: path.to_path_buf(),
            source,
        }
    }
}

/// Random streams per (copy, layer).
pub(crate) const STREAM_SOURCES: u64 = 1;
pub(crate) const STREAM_WATER: u64 = 2;
pub(crate) const STREAM_ECOLOGY: u64 = 3;
pub(crate) const STREAM_RURAL: u64 = 4;
pub(crate) const STREAM_STATIONS: u64 = 5;
pub(crate) const STREAM_READINGS: u64 = 6;

pub(crate) fn stream_rng(seed: u64, copy: u32, stream: u64) -> ChaCha8Rng {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    rng.set_stream((u64::from(copy) << 8) | stream);
    rng
}

/// Where a copy's features go.
pub(crate) enum Region<'a> {
    Yibin(&'a Yibin),
    China(&'a China),
}

/// One copy being generated.
pub(crate) struct Ctx<'a> {
    pub copy: u32,
    pub seed: u64,
    pub region: Region<'a>,
}

impl Ctx<'_> {
    pub(crate) fn rng(&self, stream: u64) -> ChaCha8Rng {
        stream_rng(self.seed, self.copy, stream)
    }

    /// `ps-000123` in the Yibin copy, `ps-c0421-000123` in copy 421.
    pub(crate) fn id(&self, prefix: &str, n: usize, width: usize) -> String {
        if self.copy == 0 {
            format!("{prefix}-{n:0width$}")
        } else {
            format!("{prefix}-c{:04}-{n:0width$}", self.copy)
        }
    }

    /// A rounded point and its county adcode: per `spot` in Yibin, by district area elsewhere.
    pub(crate) fn place<R: Rng>(
        &self,
        rng: &mut R,
        spot: &Spot<'_>,
    ) -> Result<(Coord, String), SampleError> {
        match self.region {
            Region::Yibin(y) => y.sample(rng, spot).map(|(c, k)| (c, k.adcode.clone())),
            Region::China(china) => {
                let (c, adcode) = china.sample(rng);
                Ok((c, adcode.to_owned()))
            }
        }
    }
}

/// Writes a complete data directory into `out` (created if missing; files overwritten; nothing
/// else in it, such as `envatlas.db`, is touched).
pub fn generate(opts: &SampleOptions, out: &Path) -> Result<SampleSummary, SampleError> {
    if opts.scale == 0 || opts.scale > MAX_SCALE {
        return Err(SampleError::InvalidOptions(format!(
            "scale must be 1..={MAX_SCALE}, got {}",
            opts.scale
        )));
    }
    if opts.days == 0 || opts.days > MAX_DAYS {
        return Err(SampleError::InvalidOptions(format!(
            "days must be 1..={MAX_DAYS}, got {}",
            opts.days
        )));
    }
    let layers_dir = out.join("layers");
    std::fs::create_dir_all(&layers_dir).map_err(|e| SampleError::io(&layers_dir, e))?;
    let reference = reference::Reference::load()?;
    let yibin = Yibin::new(&reference)?;
    let china = China::new(reference.districts.clone());
    let layer = |i: usize, synthetic: bool| {
        LayerWriter::create(
            &layers_dir.join(format!("{}.geojson", LAYERS[i])),
            synthetic,
        )
    };

    let mut admin = layer(0, false)?;
    real::write_admin(&reference, &mut admin)?;
    let mut rivers = layer(1, false)?;
    real::write_rivers(&reference, &mut rivers)?;
    let mut ps = layer(2, true)?;
    let mut ws = layer(3, true)?;
    let mut pz = layer(4, true)?;
    let mut eco = layer(5, true)?;
    let mut rs = layer(6, true)?;
    let mut ms = layer(7, true)?;
    let template = geom::CircleTemplate::new(48);
    let mut yibin_stations = Vec::new();
    // One copy at a time, written as generated: memory stays at one copy's worth.
    for copy in 0..opts.scale {
        let region = if copy == 0 {
            Region::Yibin(&yibin)
        } else {
            Region::China(&china)
        };
        let ctx = Ctx {
            copy,
            seed: opts.seed,
            region,
        };
        let online = sources::generate(&ctx, &mut ps)?;
        water::generate(&ctx, &mut ws, &mut pz, &template)?;
        ecology::generate(&ctx, &mut eco)?;
        rural::generate(&ctx, &mut rs)?;
        let stations = stations::generate(&ctx, &online, &mut ms)?;
        if copy == 0 {
            yibin_stations = stations;
        }
    }
    let counts = [admin, rivers, ps, ws, pz, eco, rs, ms]
        .into_iter()
        .zip(LAYERS)
        .map(|(lw, id)| Ok((id.to_owned(), lw.finish()?)))
        .collect::<Result<Vec<_>, SampleError>>()?;
    let rows = readings::write(
        &out.join("readings.csv.gz"),
        &yibin_stations,
        opts.days,
        opts.seed,
    )?;
    let summary = SampleSummary {
        counts,
        readings: rows,
    };
    let dir_name = out
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "data".into());
    readme::write(&out.join("README.md"), opts, &dir_name, &summary)?;
    Ok(summary)
}
