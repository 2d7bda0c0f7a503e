//! One monitoring reading: a value of a pollutant at a station at a time.

use time::OffsetDateTime;

/// Reading kinds of HJ 212-2017 suffixes (`-Rtd`, `-Avg`, …), as the API names them.
pub const READING_KINDS: [&str; 7] = ["rtd", "avg", "min", "max", "zs_rtd", "zs_avg", "cou"];

#[derive(Debug, Clone, PartialEq)]
pub struct Reading {
    pub station_id: String,
    /// HJ 212 pollutant code, e.g. `w01018`.
    pub pollutant: String,
    /// One of [`READING_KINDS`].
    pub kind: String,
    pub time: OffsetDateTime,
    pub value: f64,
    /// HJ 212 data flag (`N` normal, `M` maintenance, …).
    pub flag: String,
}
