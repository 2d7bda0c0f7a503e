//! Row mapping shared by both monitoring stores: which columns a query selects and
//! how a row becomes a [`Reading`], [`Observation`], [`Limit`] or [`Exceedance`].
//!
//! The backends differ only in how a time column comes back (Unix seconds in the
//! embedded store, Unix microseconds computed by SQL on PostGIS), so each implements
//! the small [`MonitoringRow`] accessor trait and the mapping itself lives here once.

use time::OffsetDateTime;

use super::{Basis, Exceedance, Limit, Observation, Period};
use crate::model::Reading;
use crate::store::StoreError;

/// Columns of a reading, in the order the stores select them; `time` columns are
/// wrapped by the PostGIS store to come back as Unix microseconds.
pub(crate) const READING_COLUMNS: [&str; 6] =
    ["station_id", "pollutant", "kind", "time", "value", "flag"];

/// Columns of a limit (no time columns).
pub(crate) const LIMIT_COLUMNS: &str =
    "station_id, pollutant, value, unit, standard, basis, ref_o2";

/// Columns of an exceedance, each with whether it is a time column.
pub(crate) const EXCEEDANCE_COLUMNS: [(&str, bool); 9] = [
    ("station_id", false),
    ("pollutant", false),
    ("start_time", true),
    ("end_time", true),
    ("peak", false),
    ("peak_time", true),
    ("limit_value", false),
    ("unit", false),
    ("basis", false),
];

/// The typed columns a monitoring row offers; implemented for each backend's row.
pub(crate) trait MonitoringRow {
    fn text(&self, column: &str) -> Result<String, StoreError>;
    fn real(&self, column: &str) -> Result<f64, StoreError>;
    fn opt_real(&self, column: &str) -> Result<Option<f64>, StoreError>;
    fn opt_time(&self, column: &str) -> Result<Option<OffsetDateTime>, StoreError>;

    fn time(&self, column: &str) -> Result<OffsetDateTime, StoreError> {
        self.opt_time(column)?
            .ok_or_else(|| StoreError::Corrupt(format!("{column} is NULL")))
    }
}

fn basis(text: &str) -> Result<Basis, StoreError> {
    Basis::parse(text).ok_or_else(|| StoreError::Corrupt(format!("limit basis '{text}'")))
}

pub(crate) fn reading(row: &impl MonitoringRow) -> Result<Reading, StoreError> {
    Ok(Reading {
        station_id: row.text("station_id")?,
        pollutant: row.text("pollutant")?,
        kind: row.text("kind")?,
        time: row.time("time")?,
        value: row.real("value")?,
        flag: row.text("flag")?,
    })
}

/// A reading and its `period` column.
pub(crate) fn observation(row: &impl MonitoringRow) -> Result<Observation, StoreError> {
    let text = row.text("period")?;
    let period =
        Period::parse(&text).ok_or_else(|| StoreError::Corrupt(format!("period '{text}'")))?;
    Ok(Observation {
        reading: reading(row)?,
        period,
    })
}

pub(crate) fn limit(row: &impl MonitoringRow) -> Result<Limit, StoreError> {
    Ok(Limit {
        station_id: row.text("station_id")?,
        pollutant: row.text("pollutant")?,
        value: row.real("value")?,
        unit: row.text("unit")?,
        standard: row.text("standard")?,
        basis: basis(&row.text("basis")?)?,
        ref_o2: row.opt_real("ref_o2")?,
    })
}

pub(crate) fn exceedance(row: &impl MonitoringRow) -> Result<Exceedance, StoreError> {
    Ok(Exceedance {
        station_id: row.text("station_id")?,
        pollutant: row.text("pollutant")?,
        start: row.time("start_time")?,
        end: row.opt_time("end_time")?,
        peak: row.real("peak")?,
        peak_time: row.time("peak_time")?,
        limit: row.real("limit_value")?,
        unit: row.text("unit")?,
        basis: basis(&row.text("basis")?)?,
    })
}

/// A select list of `columns`, each time column passed through `time` (which
/// names the result after the column).
pub(crate) fn select_list<'a>(
    columns: impl IntoIterator<Item = (&'a str, bool)>,
    time: impl Fn(&str) -> String,
) -> String {
    columns
        .into_iter()
        .map(|(c, is_time)| if is_time { time(c) } else { c.to_string() })
        .collect::<Vec<_>>()
        .join(", ")
}

/// The select list of a reading (and, with `period`, its period).
pub(crate) fn reading_list(time: impl Fn(&str) -> String, period: bool) -> String {
    let mut list = select_list(READING_COLUMNS.map(|c| (c, c == "time")), time);
    if period {
        list.push_str(", period");
    }
    list
}
