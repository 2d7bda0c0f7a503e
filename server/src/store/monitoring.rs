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

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use super::StoreError;
use crate::model::Reading;

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
    pub readings: Vec<Reading>,
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

    /// Every reading at or after `since`, oldest first (start-up evaluation).
    async fn readings_since(&self, since: OffsetDateTime) -> Result<Vec<Reading>, StoreError>;

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

/// The newest reading per (station, pollutant, kind) of a batch; ties go to the later one.
pub(crate) fn newest_of_each(readings: &[Reading]) -> Vec<Reading> {
    let mut best: std::collections::HashMap<(&str, &str, &str), usize> =
        std::collections::HashMap::new();
    for (i, r) in readings.iter().enumerate() {
        let key = (r.station_id.as_str(), r.pollutant.as_str(), r.kind.as_str());
        match best.get(&key) {
            Some(&j) if readings[j].time > r.time => {}
            _ => {
                best.insert(key, i);
            }
        }
    }
    let mut idx: Vec<usize> = best.into_values().collect();
    idx.sort_unstable();
    idx.into_iter().map(|i| readings[i].clone()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    fn r(station: &str, t: OffsetDateTime, v: f64) -> Reading {
        Reading {
            station_id: station.into(),
            pollutant: "w01018".into(),
            kind: "avg".into(),
            time: t,
            value: v,
            flag: "N".into(),
        }
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
        let kept = dedup_last(&rows, |x| (x.station_id.clone(), x.time));
        assert_eq!(kept, vec![r("s2", a, 3.0), r("s1", a, 2.0)]);
    }
}
