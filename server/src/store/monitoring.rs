//! The monitoring tables of a store: what the HJ 212 listener and the HTTP ingest
//! commit, and what the monitoring API reads.
//!
//! [`MonitoringStore`] is implemented by both backends (`sqlite_monitoring.rs`,
//! `postgis_monitoring.rs`); [`super::Store::monitoring`] hands it out. Tables (migration
//! 0030): `readings` (existing; plus a time index for retention), `latest_readings`
//! (newest value per station, pollutant and kind, maintained by [`MonitoringStore::commit`]),
//! `quarantine` (uploads from unknown MNs), `facility_status` (CN 2021),
//! `monitoring_limits`, `exceedances`.
//!
//! Hourly and daily aggregates are computed on query (`monitoring::aggregate`) from a
//! primary-key range scan of one station's pollutant and kind: a month of minute data
//! is ~43k rows, which the range scan returns in milliseconds, and nothing has to be
//! kept consistent when late or corrected readings arrive.

pub(crate) mod rows;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use super::StoreError;
use crate::model::Reading;

/// What interval a value stands for. The contracts' reading kinds (`avg`, `min`, …)
/// do not say whether an average is a minute (CN 2051), hourly (CN 2061) or daily
/// (CN 2031) one, and all three may carry the same `DataTime` at a full hour, so the
/// period is part of a reading's key (`readings.period`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Period {
    /// A real-time value (CN 2011: `rtd`, `zs_rtd`).
    Instant,
    /// A minute-data value (CN 2051, the device's `MinInterval`).
    Minute,
    /// An hourly value (CN 2061; `avg` rows of the HTTP ingest and the sample).
    Hour,
    /// A daily value (CN 2031).
    Day,
}

impl Period {
    pub const ALL: [Period; 4] = [Period::Instant, Period::Minute, Period::Hour, Period::Day];

    pub fn as_str(self) -> &'static str {
        match self {
            Period::Instant => "instant",
            Period::Minute => "minute",
            Period::Hour => "hour",
            Period::Day => "day",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Period::ALL.into_iter().find(|p| p.as_str() == text)
    }

    /// The period of a reading that came without one (HTTP ingest, the data
    /// directory's `readings.csv.gz`): real-time kinds are instants, every other
    /// kind an hourly value (the contracts' convention for `avg`).
    pub fn implied_by(kind: &str) -> Self {
        if kind.strip_prefix("zs_").unwrap_or(kind) == "rtd" {
            Period::Instant
        } else {
            Period::Hour
        }
    }
}

/// A reading as ingested, with the [`Period`] its value stands for.
#[derive(Debug, Clone, PartialEq)]
pub struct Observation {
    pub reading: Reading,
    pub period: Period,
}

impl Observation {
    /// A reading with the period its kind implies (see [`Period::implied_by`]).
    pub fn implied(reading: Reading) -> Self {
        let period = Period::implied_by(&reading.kind);
        Self { reading, period }
    }
}

/// An upload from a device whose MN names no station: kept durably, not shown.
#[derive(Debug, Clone, PartialEq)]
pub struct QuarantineRow {
    pub received_at: OffsetDateTime,
    /// The peer's address, for the log and for whoever registers the device.
    pub peer: String,
    pub mn: String,
    pub cn: u16,
    /// The data segment as received.
    pub segment: String,
}

/// One treatment-facility state of a CN 2021 upload.
#[derive(Debug, Clone, PartialEq)]
pub struct FacilityState {
    pub station_id: String,
    /// The facility code (`SB1`).
    pub facility: String,
    pub time: OffsetDateTime,
    /// 0 off, 1 running, 2 calibration, 3 maintenance, 4 alarm, 5 back-flushing.
    pub state: String,
}

/// Everything one group commit writes, in one transaction.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct IngestBatch {
    pub readings: Vec<Observation>,
    pub quarantine: Vec<QuarantineRow>,
    pub facility: Vec<FacilityState>,
}

impl IngestBatch {
    pub fn is_empty(&self) -> bool {
        self.readings.is_empty() && self.quarantine.is_empty() && self.facility.is_empty()
    }

    pub fn append(&mut self, other: IngestBatch) {
        self.readings.extend(other.readings);
        self.quarantine.extend(other.quarantine);
        self.facility.extend(other.facility);
    }
}

/// What a limit is compared with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Basis {
    /// Each real-time value (`rtd`, or `zs_rtd` at reference O2).
    Rtd,
    /// Each hourly average (`avg`/`zs_avg` of hourly data).
    Hourly,
    /// Each daily average.
    Daily,
}

impl Basis {
    pub fn as_str(self) -> &'static str {
        match self {
            Basis::Rtd => "rtd",
            Basis::Hourly => "hourly",
            Basis::Daily => "daily",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "rtd" => Some(Basis::Rtd),
            "hourly" => Some(Basis::Hourly),
            "daily" => Some(Basis::Daily),
            _ => None,
        }
    }
}

/// The limit of one pollutant at one station.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Limit {
    pub station_id: String,
    pub pollutant: String,
    pub value: f64,
    pub unit: String,
    /// The standard and row the value comes from (`GB 13223-2011 table 1`).
    pub standard: String,
    pub basis: Basis,
    /// Reference oxygen in percent when the limit applies at reference O2.
    pub ref_o2: Option<f64>,
}

/// One exceedance episode of a pollutant at a station.
#[derive(Debug, Clone, PartialEq)]
pub struct Exceedance {
    pub station_id: String,
    pub pollutant: String,
    pub start: OffsetDateTime,
    /// The first compliant value after the episode; `None` while open.
    pub end: Option<OffsetDateTime>,
    pub peak: f64,
    pub peak_time: OffsetDateTime,
    pub limit: f64,
    pub unit: String,
    pub basis: Basis,
}

/// Which exceedances to list.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ExceedanceQuery {
    /// Episodes that end at or after `from` (or are open).
    pub from: Option<OffsetDateTime>,
    /// Episodes that start before `to`.
    pub to: Option<OffsetDateTime>,
    pub open_only: bool,
    /// At most this many, newest start first.
    pub limit: usize,
}

/// Readings of one station's pollutant in `[from, to)`, oldest first.
#[derive(Debug, Clone, PartialEq)]
pub struct SeriesQuery {
    pub station_id: String,
    pub pollutant: String,
    pub kind: String,
    /// Only values of this period; `None`: any (real-time kinds have only one).
    pub period: Option<Period>,
    pub from: OffsetDateTime,
    pub to: OffsetDateTime,
    /// At most this many rows (the caller asks for one more to detect truncation).
    pub limit: usize,
}

/// The monitoring side of a store.
#[async_trait]
pub trait MonitoringStore: Send + Sync {
    /// Writes a batch in one transaction: readings (idempotent upserts), the
    /// newest-reading table, quarantined uploads and facility states. When this
    /// returns `Ok`, the batch is durable.
    async fn commit(&self, batch: &IngestBatch) -> Result<(), StoreError>;

    /// Rebuilds `latest_readings` from `readings` when it is empty (a freshly
    /// seeded store). Returns the number of rows written.
    async fn rebuild_latest_if_empty(&self) -> Result<u64, StoreError>;

    /// The newest reading of every station, pollutant and kind.
    async fn latest(&self) -> Result<Vec<Reading>, StoreError>;

    /// Readings of one station's pollutant and kind in a time range, oldest first.
    async fn series(&self, query: &SeriesQuery) -> Result<Vec<Reading>, StoreError>;

    /// Every reading at or after `since` with its period, oldest first (start-up
    /// evaluation).
    async fn readings_since(&self, since: OffsetDateTime) -> Result<Vec<Observation>, StoreError>;

    async fn limits(&self) -> Result<Vec<Limit>, StoreError>;

    /// Inserts or replaces limits (matched by station and pollutant) in one transaction.
    async fn put_limits(&self, limits: &[Limit]) -> Result<(), StoreError>;

    /// Inserts or replaces exceedances (matched by station, pollutant and start).
    async fn put_exceedances(&self, exceedances: &[Exceedance]) -> Result<(), StoreError>;

    async fn exceedances(&self, query: &ExceedanceQuery) -> Result<Vec<Exceedance>, StoreError>;

    /// Deletes readings, closed exceedances and quarantined uploads older than
    /// `before`. Returns the number of readings deleted.
    async fn delete_before(&self, before: OffsetDateTime) -> Result<u64, StoreError>;

    async fn quarantine_count(&self) -> Result<u64, StoreError>;

    async fn facility_count(&self) -> Result<u64, StoreError>;
}

/// Keeps the last of items sharing a key, in their original order: one
/// statement may not upsert the same row twice, and a later write wins.
pub(crate) fn dedup_last<T: Clone, K: std::hash::Hash + Eq>(
    items: &[T],
    key: impl Fn(&T) -> K,
) -> Vec<T> {
    let mut last = std::collections::HashMap::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        last.insert(key(item), i);
    }
    items
        .iter()
        .enumerate()
        .filter(|(i, item)| last.get(&key(item)) == Some(i))
        .map(|(_, item)| item.clone())
        .collect()
}

/// The readings of a batch to write: the last of those sharing a key (station,
/// pollutant, kind, period, time) wins; `time_key` is the time as the store keeps it.
pub(crate) fn unique_readings(
    batch: &[Observation],
    time_key: impl Fn(OffsetDateTime) -> i64,
) -> Vec<Observation> {
    dedup_last(batch, |o| {
        let r = &o.reading;
        (
            r.station_id.clone(),
            r.pollutant.clone(),
            r.kind.clone(),
            o.period,
            time_key(r.time),
        )
    })
}

/// The newest reading per (station, pollutant, kind) of a batch; ties go to the later one.
pub(crate) fn newest_of_each(batch: &[Observation]) -> Vec<Observation> {
    let mut best: std::collections::HashMap<(&str, &str, &str), usize> =
        std::collections::HashMap::new();
    for (i, o) in batch.iter().enumerate() {
        let r = &o.reading;
        let key = (r.station_id.as_str(), r.pollutant.as_str(), r.kind.as_str());
        match best.get(&key) {
            Some(&j) if batch[j].reading.time > r.time => {}
            _ => {
                best.insert(key, i);
            }
        }
    }
    let mut idx: Vec<usize> = best.into_values().collect();
    idx.sort_unstable();
    idx.into_iter().map(|i| batch[i].clone()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    fn r(station: &str, t: OffsetDateTime, v: f64) -> Observation {
        Observation::implied(Reading {
            station_id: station.into(),
            pollutant: "w01018".into(),
            kind: "avg".into(),
            time: t,
            value: v,
            flag: "N".into(),
        })
    }

    #[test]
    fn newest_wins_even_when_sent_out_of_order() {
        let a = datetime!(2026-01-01 00:00 UTC);
        let b = datetime!(2026-01-01 01:00 UTC);
        let rows = [r("s1", b, 2.0), r("s1", a, 1.0), r("s2", a, 3.0)];
        let newest = newest_of_each(&rows);
        assert_eq!(newest, vec![r("s1", b, 2.0), r("s2", a, 3.0)]);
    }

    #[test]
    fn later_duplicates_win() {
        let a = datetime!(2026-01-01 00:00 UTC);
        let rows = [r("s1", a, 1.0), r("s2", a, 3.0), r("s1", a, 2.0)];
        let kept = unique_readings(&rows, OffsetDateTime::unix_timestamp);
        assert_eq!(kept, vec![r("s2", a, 3.0), r("s1", a, 2.0)]);
    }

    #[test]
    fn minute_and_hourly_averages_at_the_same_time_are_both_kept() {
        let a = datetime!(2026-01-01 00:00 UTC);
        let mut minute = r("s1", a, 1.0);
        minute.period = Period::Minute;
        let hourly = r("s1", a, 2.0);
        let kept = unique_readings(&[minute.clone(), hourly.clone()], |t| t.unix_timestamp());
        assert_eq!(kept, vec![minute, hourly]);
    }

    #[test]
    fn periods_are_named_and_implied() {
        for p in Period::ALL {
            assert_eq!(Period::parse(p.as_str()), Some(p));
        }
        assert_eq!(Period::implied_by("zs_rtd"), Period::Instant);
        assert_eq!(Period::implied_by("avg"), Period::Hour);
        assert_eq!(Period::implied_by("cou"), Period::Hour);
    }
}
