//! Seeding an empty store from a sample data directory (`layers/<id>.geojson`
//! and `readings.csv.gz`), as `envatlas sample` writes one.
//!
//! The sample's readings end at a fixed instant; when seeding, they are shifted
//! so that the newest falls on the current hour and a fresh atlas looks live.
//! The shift applies to sample data only, never to imported readings.

use std::io::BufReader;
use std::path::{Path, PathBuf};

use flate2::read::GzDecoder;
use time::format_description::well_known::Rfc3339;
use time::{Duration, OffsetDateTime};

use super::{Store, StoreError};
use crate::model::catalog::builtin_schemas;
use crate::model::geojson::feature_from_json;
use crate::model::{LayerSchema, NewFeature, Reading};

/// The `meta` key recording when the store was seeded.
pub const SEEDED_AT: &str = "seeded_at";

/// Rows per transaction while seeding readings: bounded memory, few commits.
const READINGS_PER_TRANSACTION: usize = 50_000;

/// What seeding wrote.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct SeedReport {
    pub features: Vec<(String, usize)>,
    pub readings: usize,
    /// How far the readings were moved forward.
    pub shift: Duration,
}

/// Registers the built-in layers and, unless `with_data` is false (`--no-sample`),
/// fills them from `dir`. Does nothing to a store that was already seeded.
pub async fn seed_if_empty(
    store: &dyn Store,
    dir: &Path,
    with_data: bool,
    now: OffsetDateTime,
) -> Result<Option<SeedReport>, StoreError> {
    if store.meta(SEEDED_AT).await?.is_some() {
        return Ok(None);
    }
    let schemas = builtin_schemas();
    for schema in &schemas {
        store.put_schema(schema).await?;
    }
    let mut report = SeedReport::default();
    if with_data {
        for schema in &schemas {
            let features = read_layer_file(
                &dir.join("layers").join(format!("{}.geojson", schema.id)),
                schema,
            )?;
            store.upsert_features(schema, &features).await?;
            report.features.push((schema.id.clone(), features.len()));
        }
        let readings_path = dir.join("readings.csv.gz");
        if readings_path.exists() {
            let mut readings = read_readings(&readings_path)?;
            report.shift = shift_to(&mut readings, now);
            for chunk in readings.chunks(READINGS_PER_TRANSACTION) {
                store.upsert_readings(chunk).await?;
            }
            report.readings = readings.len();
        }
    }
    // Written last: a seed interrupted half-way is simply done again (upserts).
    let stamp = now.format(&Rfc3339).unwrap_or_default();
    store.set_meta(SEEDED_AT, &stamp).await?;
    Ok(Some(report))
}

fn sample_err(path: &Path, reason: impl std::fmt::Display) -> StoreError {
    StoreError::Sample {
        path: path.display().to_string(),
        reason: reason.to_string(),
    }
}

/// Reads one layer's GeoJSON FeatureCollection; a missing file is an empty layer.
pub fn read_layer_file(path: &Path, schema: &LayerSchema) -> Result<Vec<NewFeature>, StoreError> {
    let file = match std::fs::File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(source) => {
            return Err(StoreError::Io {
                path: path.display().to_string(),
                source,
            })
        }
    };
    let json: serde_json::Value =
        serde_json::from_reader(BufReader::new(file)).map_err(|e| sample_err(path, e))?;
    let features = json
        .get("features")
        .and_then(serde_json::Value::as_array)
        .ok_or_else(|| sample_err(path, "not a GeoJSON FeatureCollection"))?;
    features
        .iter()
        .enumerate()
        .map(|(i, f)| {
            feature_from_json(f, schema).map_err(|e| sample_err(path, format!("feature {i}: {e}")))
        })
        .collect()
}

/// Reads `readings.csv.gz` (`station_id,pollutant,kind,time,value,flag`).
pub fn read_readings(path: &Path) -> Result<Vec<Reading>, StoreError> {
    let file = std::fs::File::open(path).map_err(|source| StoreError::Io {
        path: path.display().to_string(),
        source,
    })?;
    let mut reader = csv::Reader::from_reader(GzDecoder::new(BufReader::new(file)));
    let mut readings = Vec::new();
    for (i, record) in reader.records().enumerate() {
        let line = i + 2;
        let record = record.map_err(|e| sample_err(path, format!("line {line}: {e}")))?;
        let field = |n: usize| record.get(n).unwrap_or("");
        let time = OffsetDateTime::parse(field(3), &Rfc3339)
            .map_err(|e| sample_err(path, format!("line {line}: time '{}': {e}", field(3))))?;
        let value: f64 = field(4)
            .parse()
            .map_err(|e| sample_err(path, format!("line {line}: value '{}': {e}", field(4))))?;
        readings.push(Reading {
            station_id: field(0).to_string(),
            pollutant: field(1).to_string(),
            kind: field(2).to_string(),
            time,
            value,
            flag: field(5).to_string(),
        });
    }
    Ok(readings)
}

/// Moves every reading forward by whole hours so the newest lands on the hour
/// that contains `now`. Returns the shift.
fn shift_to(readings: &mut [Reading], now: OffsetDateTime) -> Duration {
    let Some(newest) = readings.iter().map(|r| r.time).max() else {
        return Duration::ZERO;
    };
    let hours = ((now - newest).whole_seconds()).div_euclid(3600);
    let shift = Duration::hours(hours.max(0));
    for r in readings.iter_mut() {
        r.time += shift;
    }
    shift
}

/// The data directory's store file.
pub fn database_path(data_dir: &Path) -> PathBuf {
    data_dir.join("envatlas.db")
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn readings_shift_by_whole_hours_to_now() {
        let mut readings = vec![
            Reading {
                station_id: "s".into(),
                pollutant: "w01018".into(),
                kind: "avg".into(),
                time: datetime!(2026-10-31 22:00 UTC),
                value: 1.0,
                flag: "N".into(),
            };
            2
        ];
        readings[1].time = datetime!(2026-10-31 23:00 UTC);
        let shift = shift_to(&mut readings, datetime!(2026-11-29 03:37:12 UTC));
        assert_eq!(readings[1].time, datetime!(2026-11-29 03:00 UTC));
        assert_eq!(readings[0].time, datetime!(2026-11-29 02:00 UTC));
        assert_eq!(shift.whole_seconds() % 3600, 0);
    }
}
