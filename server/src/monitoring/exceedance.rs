//! Exceedance detection, pure: which values are compared with a limit, oxygen
//! correction, and the open/close state of each station's pollutant.
//!
//! Rules (docs/monitoring.md):
//! - only `N`-flagged values count;
//! - the basis picks the values by their [`Period`]: `rtd` real-time values, `hourly`
//!   hourly averages (CN 2061, or `avg` rows of the HTTP ingest and the sample's
//!   hourly data), `daily` daily averages (CN 2031); minute data (CN 2051) is never
//!   compared;
//! - a limit at reference O2 compares the converted value: the device's `zs_` value
//!   when it sent one, else `C × (21 − O2_ref) / (21 − O2_measured)` with the O2
//!   (`a19001`) of the same station, kind and time; without either the value is skipped;
//! - a value above the limit opens an episode (start = its time), later values above
//!   raise the peak, the first compliant value closes it (end = its time). Values
//!   older than the last one evaluated for the pair are ignored (late data does not
//!   rewrite history).

use std::collections::HashMap;

use time::OffsetDateTime;

use super::hj212::Interval;
use crate::store::monitoring::{Basis, Exceedance, Limit, Period};

pub use crate::store::monitoring::Observation;

/// HJ 212 code of oxygen in flue gas.
pub const OXYGEN: &str = "a19001";

/// The period of the values of an HJ 212 data command.
pub fn period_of(interval: Interval) -> Period {
    match interval {
        Interval::Instant => Period::Instant,
        Interval::Minutes => Period::Minute,
        Interval::Hour => Period::Hour,
        Interval::Day => Period::Day,
    }
}

/// `C_converted = C × (21 − O2_ref) / (21 − O2_measured)`; `None` when the measured
/// oxygen makes the formula meaningless (≥ 21 % or negative).
pub fn o2_corrected(value: f64, o2_measured: f64, o2_ref: f64) -> Option<f64> {
    if !(0.0..21.0).contains(&o2_measured) || !(0.0..21.0).contains(&o2_ref) {
        return None;
    }
    Some(value * (21.0 - o2_ref) / (21.0 - o2_measured))
}

fn basis_accepts(basis: Basis, kind: &str, period: Period) -> bool {
    let plain = kind.strip_prefix("zs_").unwrap_or(kind);
    match basis {
        Basis::Rtd => plain == "rtd",
        Basis::Hourly => plain == "avg" && period == Period::Hour,
        Basis::Daily => plain == "avg" && period == Period::Day,
    }
}

/// One value to compare with a limit.
#[derive(Debug, Clone, PartialEq)]
pub struct Compared {
    pub station_id: String,
    pub pollutant: String,
    pub time: OffsetDateTime,
    /// The value compared (O2-corrected where the limit says so).
    pub value: f64,
}

/// The values of a batch that count toward the limits, in time order.
pub fn compared_values(
    batch: &[Observation],
    limit_of: impl Fn(&str, &str) -> Option<Limit>,
) -> Vec<Compared> {
    // Oxygen and converted values of the batch, keyed by (station, kind, time).
    let mut oxygen: HashMap<(&str, &str, OffsetDateTime), f64> = HashMap::new();
    let mut has_zs: HashMap<(&str, &str, &str, OffsetDateTime), ()> = HashMap::new();
    for o in batch {
        let r = &o.reading;
        if r.pollutant == OXYGEN && r.flag == "N" {
            oxygen.insert((&r.station_id, &r.kind, r.time), r.value);
        }
        if let Some(plain) = r.kind.strip_prefix("zs_") {
            has_zs.insert((&r.station_id, &r.pollutant, plain, r.time), ());
        }
    }
    let mut out = Vec::new();
    for o in batch {
        let r = &o.reading;
        if r.flag != "N" {
            continue;
        }
        let Some(limit) = limit_of(&r.station_id, &r.pollutant) else {
            continue;
        };
        if !basis_accepts(limit.basis, &r.kind, o.period) {
            continue;
        }
        let converted = r.kind.starts_with("zs_");
        let value = match (limit.ref_o2, converted) {
            (None, false) => Some(r.value),
            (None, true) => None,
            (Some(_), true) => Some(r.value),
            (Some(o2_ref), false) => {
                if has_zs.contains_key(&(&r.station_id, &r.pollutant, &r.kind, r.time)) {
                    None
                } else {
                    oxygen
                        .get(&(r.station_id.as_str(), r.kind.as_str(), r.time))
                        .and_then(|&o2| o2_corrected(r.value, o2, o2_ref))
                }
            }
        };
        if let Some(value) = value {
            out.push(Compared {
                station_id: r.station_id.clone(),
                pollutant: r.pollutant.clone(),
                time: r.time,
                value,
            });
        }
    }
    out.sort_by_key(|c| c.time);
    out
}

/// What one compared value did to its pair's episode.
#[derive(Debug, Clone, PartialEq)]
pub enum Transition {
    Opened(Exceedance),
    /// A new peak in an open episode.
    Peak(Exceedance),
    Closed(Exceedance),
}

#[derive(Debug, Default, Clone)]
struct PairState {
    last: Option<OffsetDateTime>,
    open: Option<Exceedance>,
}

/// The open episodes of every station's pollutants.
#[derive(Debug, Default, Clone)]
pub struct Detector {
    pairs: HashMap<(String, String), PairState>,
}

impl Detector {
    /// Compares one value with its limit.
    pub fn observe(&mut self, c: &Compared, limit: &Limit) -> Option<Transition> {
        let state = self
            .pairs
            .entry((c.station_id.clone(), c.pollutant.clone()))
            .or_default();
        if state.last.is_some_and(|last| c.time < last) {
            return None;
        }
        state.last = Some(c.time);
        let above = c.value > limit.value;
        match (&mut state.open, above) {
            (None, true) => {
                let e = Exceedance {
                    station_id: c.station_id.clone(),
                    pollutant: c.pollutant.clone(),
                    start: c.time,
                    end: None,
                    peak: c.value,
                    peak_time: c.time,
                    limit: limit.value,
                    unit: limit.unit.clone(),
                    basis: limit.basis,
                };
                state.open = Some(e.clone());
                Some(Transition::Opened(e))
            }
            (Some(open), true) if c.value > open.peak => {
                open.peak = c.value;
                open.peak_time = c.time;
                Some(Transition::Peak(open.clone()))
            }
            (Some(_), true) | (None, false) => None,
            (Some(_), false) => {
                let mut closed = state.open.take()?;
                closed.end = Some(c.time);
                Some(Transition::Closed(closed))
            }
        }
    }

    /// Whether a station has an open episode.
    pub fn is_exceeding(&self, station_id: &str) -> bool {
        self.pairs
            .iter()
            .any(|((s, _), st)| s == station_id && st.open.is_some())
    }

    /// Every open episode.
    pub fn open(&self) -> impl Iterator<Item = &Exceedance> {
        self.pairs.values().filter_map(|s| s.open.as_ref())
    }

    /// Re-opens an episode read from the store (start-up), unless one is open already.
    pub fn restore(&mut self, e: Exceedance) {
        let state = self
            .pairs
            .entry((e.station_id.clone(), e.pollutant.clone()))
            .or_default();
        if state.open.is_none() {
            state.last = Some(state.last.map_or(e.peak_time, |l| l.max(e.peak_time)));
            state.open = Some(e);
        }
    }

    /// Drops the state of a pair whose limit went away or changed.
    pub fn forget(&mut self, station_id: &str, pollutant: &str) -> Option<Exceedance> {
        self.pairs
            .remove(&(station_id.to_string(), pollutant.to_string()))
            .and_then(|s| s.open)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;
    use time::Duration;

    const T0: OffsetDateTime = datetime!(2026-11-01 00:00 UTC);

    fn obs(pollutant: &str, kind: &str, hour: i64, value: f64, flag: &str) -> Observation {
        Observation::implied(crate::model::Reading {
            station_id: "ms-1".into(),
            pollutant: pollutant.into(),
            kind: kind.into(),
            time: T0 + Duration::hours(hour),
            value,
            flag: flag.into(),
        })
    }

    fn limit(pollutant: &str, value: f64, basis: Basis, ref_o2: Option<f64>) -> Limit {
        Limit {
            station_id: "ms-1".into(),
            pollutant: pollutant.into(),
            value,
            unit: "mg/L".into(),
            standard: "test".into(),
            basis,
            ref_o2,
        }
    }

    fn run(batch: &[Observation], l: &Limit) -> (Detector, Vec<Transition>) {
        let mut d = Detector::default();
        let values = compared_values(batch, |s, p| {
            (s == l.station_id && p == l.pollutant).then(|| l.clone())
        });
        let t = values.iter().filter_map(|c| d.observe(c, l)).collect();
        (d, t)
    }

    #[test]
    fn only_normal_values_count() {
        let l = limit("w01018", 100.0, Basis::Hourly, None);
        let batch = [
            obs("w01018", "avg", 0, 150.0, "M"),
            obs("w01018", "avg", 1, 180.0, "D"),
            obs("w01018", "avg", 2, 90.0, "N"),
        ];
        let (d, t) = run(&batch, &l);
        assert!(t.is_empty(), "{t:?}");
        assert!(!d.is_exceeding("ms-1"));
    }

    #[test]
    fn an_episode_has_start_end_and_peak() {
        let l = limit("w01018", 100.0, Basis::Hourly, None);
        let batch = [
            obs("w01018", "avg", 0, 90.0, "N"),
            obs("w01018", "avg", 1, 120.0, "N"),
            obs("w01018", "avg", 2, 160.0, "N"),
            obs("w01018", "avg", 3, 200.0, "C"),
            obs("w01018", "avg", 4, 130.0, "N"),
            obs("w01018", "avg", 5, 100.0, "N"),
        ];
        let (d, t) = run(&batch, &l);
        assert!(matches!(&t[0], Transition::Opened(e) if e.start == T0 + Duration::hours(1)));
        assert!(matches!(&t[1], Transition::Peak(e) if e.peak == 160.0));
        let Transition::Closed(e) = &t[2] else {
            panic!("{t:?}")
        };
        assert_eq!(e.start, T0 + Duration::hours(1));
        assert_eq!(e.end, Some(T0 + Duration::hours(5)), "100 is not above 100");
        assert_eq!((e.peak, e.peak_time), (160.0, T0 + Duration::hours(2)));
        assert_eq!(t.len(), 3);
        assert!(!d.is_exceeding("ms-1"));
    }

    #[test]
    fn hourly_basis_ignores_real_time_and_minute_values() {
        let l = limit("w01018", 100.0, Basis::Hourly, None);
        let mut minute = obs("w01018", "avg", 1, 500.0, "N");
        minute.period = period_of(Interval::Minutes);
        let mut hourly = obs("w01018", "avg", 2, 101.0, "N");
        hourly.period = period_of(Interval::Hour);
        let batch = [obs("w01018", "rtd", 0, 500.0, "N"), minute, hourly];
        let (_, t) = run(&batch, &l);
        assert_eq!(t.len(), 1);
        assert!(matches!(&t[0], Transition::Opened(e) if e.peak == 101.0));
    }

    #[test]
    fn oxygen_correction_applies_at_reference_o2() {
        // 80 mg/m3 measured at 12 % O2 is 80 × 15 / 9 = 133.3 at 6 %: above 100.
        let l = limit("a21026", 100.0, Basis::Hourly, Some(6.0));
        let batch = [
            obs("a21026", "avg", 0, 80.0, "N"),
            obs("a19001", "avg", 0, 12.0, "N"),
        ];
        let (_, t) = run(&batch, &l);
        let Transition::Opened(e) = &t[0] else {
            panic!("{t:?}")
        };
        assert!((e.peak - 80.0 * 15.0 / 9.0).abs() < 1e-9);
        // The same value at 3 % O2 is 80 × 15 / 18 = 66.7: compliant.
        let batch = [
            obs("a21026", "avg", 0, 80.0, "N"),
            obs("a19001", "avg", 0, 3.0, "N"),
        ];
        assert!(run(&batch, &l).1.is_empty());
    }

    #[test]
    fn converted_values_are_preferred_and_missing_oxygen_skips() {
        let l = limit("a21026", 100.0, Basis::Hourly, Some(6.0));
        // The device's zs value wins over converting the measured one.
        let batch = [
            obs("a21026", "avg", 0, 200.0, "N"),
            obs("a21026", "zs_avg", 0, 90.0, "N"),
            obs("a19001", "avg", 0, 12.0, "N"),
        ];
        assert!(run(&batch, &l).1.is_empty());
        // No O2 and no zs value: nothing to compare.
        assert!(run(&[obs("a21026", "avg", 0, 500.0, "N")], &l).1.is_empty());
        // A limit without reference O2 ignores zs values.
        let plain = limit("a21026", 100.0, Basis::Hourly, None);
        assert!(run(&[obs("a21026", "zs_avg", 0, 500.0, "N")], &plain)
            .1
            .is_empty());
        assert!(o2_corrected(10.0, 21.0, 6.0).is_none());
    }

    #[test]
    fn daily_and_real_time_bases_pick_their_values() {
        let l = limit("w01018", 20.0, Basis::Daily, None);
        let mut daily = obs("w01018", "avg", 0, 25.0, "N");
        daily.period = period_of(Interval::Day);
        let batch = [obs("w01018", "avg", 1, 50.0, "N"), daily];
        let (_, t) = run(&batch, &l);
        assert_eq!(t.len(), 1);
        let rtd = limit("w01018", 20.0, Basis::Rtd, None);
        let (_, t) = run(&[obs("w01018", "rtd", 0, 21.0, "N")], &rtd);
        assert_eq!(t.len(), 1);
    }

    #[test]
    fn late_values_do_not_rewrite_history() {
        let l = limit("w01018", 100.0, Basis::Hourly, None);
        let mut d = Detector::default();
        let c = |h: i64, v: f64| Compared {
            station_id: "ms-1".into(),
            pollutant: "w01018".into(),
            time: T0 + Duration::hours(h),
            value: v,
        };
        assert!(d.observe(&c(5, 150.0), &l).is_some());
        assert!(d.observe(&c(4, 50.0), &l).is_none(), "older than the last");
        assert!(d.is_exceeding("ms-1"));
    }
}
