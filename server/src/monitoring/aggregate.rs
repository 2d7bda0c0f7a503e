//! Hourly and daily aggregates of a series, computed on query: mean, min, max and
//! count of the `N`-flagged values in each bucket. Days are local days in the
//! configured HJ 212 offset (Beijing by default), hours are clock hours.

use serde::Serialize;
use time::{OffsetDateTime, UtcOffset};

use crate::model::Reading;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Agg {
    Raw,
    Hour,
    Day,
}

impl Agg {
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "raw" => Some(Agg::Raw),
            "hour" => Some(Agg::Hour),
            "day" => Some(Agg::Day),
            _ => None,
        }
    }
}

/// One bucket of an aggregated series.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Bucket {
    /// The start of the bucket.
    #[serde(skip)]
    pub start: OffsetDateTime,
    pub mean: f64,
    pub min: f64,
    pub max: f64,
    pub count: usize,
}

fn bucket_start(t: OffsetDateTime, agg: Agg, offset: UtcOffset) -> i64 {
    let unix = t.unix_timestamp();
    let off = i64::from(offset.whole_seconds());
    match agg {
        Agg::Raw => unix,
        Agg::Hour => unix.div_euclid(3600) * 3600,
        Agg::Day => (unix + off).div_euclid(86_400) * 86_400 - off,
    }
}

/// Buckets readings (oldest first) by hour or local day; values not flagged `N`
/// are left out, and a bucket without any is not returned.
pub fn aggregate(readings: &[Reading], agg: Agg, offset: UtcOffset) -> Vec<Bucket> {
    let mut out: Vec<(i64, Bucket)> = Vec::new();
    for r in readings.iter().filter(|r| r.flag == "N") {
        let key = bucket_start(r.time, agg, offset);
        match out.last_mut() {
            Some((k, b)) if *k == key => {
                b.mean += r.value;
                b.min = b.min.min(r.value);
                b.max = b.max.max(r.value);
                b.count += 1;
            }
            _ => out.push((
                key,
                Bucket {
                    start: OffsetDateTime::from_unix_timestamp(key).unwrap_or(r.time),
                    mean: r.value,
                    min: r.value,
                    max: r.value,
                    count: 1,
                },
            )),
        }
    }
    out.into_iter()
        .map(|(_, mut b)| {
            b.mean /= b.count as f64;
            b
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::{datetime, offset};

    fn r(t: OffsetDateTime, v: f64, flag: &str) -> Reading {
        Reading {
            station_id: "s".into(),
            pollutant: "w01018".into(),
            kind: "rtd".into(),
            time: t,
            value: v,
            flag: flag.into(),
        }
    }

    #[test]
    fn hours_and_beijing_days() {
        let rows = [
            r(datetime!(2026-11-01 15:10 UTC), 10.0, "N"),
            r(datetime!(2026-11-01 15:50 UTC), 20.0, "N"),
            r(datetime!(2026-11-01 15:55 UTC), 99.0, "D"),
            r(datetime!(2026-11-01 16:05 UTC), 40.0, "N"),
        ];
        let hours = aggregate(&rows, Agg::Hour, offset!(+8));
        assert_eq!(hours.len(), 2);
        assert_eq!(
            (hours[0].mean, hours[0].count, hours[0].max),
            (15.0, 2, 20.0)
        );
        assert_eq!(hours[0].start, datetime!(2026-11-01 15:00 UTC));
        // 16:05 UTC is 00:05 on 2 November in Beijing: a new day.
        let days = aggregate(&rows, Agg::Day, offset!(+8));
        assert_eq!(days.len(), 2);
        assert_eq!(days[1].start, datetime!(2026-11-01 16:00 UTC));
        assert_eq!(days[1].mean, 40.0);
    }
}
