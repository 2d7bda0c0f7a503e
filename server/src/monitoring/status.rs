//! Station and source `status` (contracts): `exceeding` > `offline` > `normal` > `no_data`.

use std::fmt;

use time::{Duration, OffsetDateTime};

/// A status, ordered from least to most severe, so the worst is the maximum.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Status {
    /// Never reported, or not monitored.
    NoData,
    Normal,
    /// Has reported, silent longer than `[monitoring] offline_after_s`.
    Offline,
    /// An exceedance is open.
    Exceeding,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::NoData => "no_data",
            Status::Normal => "normal",
            Status::Offline => "offline",
            Status::Exceeding => "exceeding",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        [
            Status::NoData,
            Status::Normal,
            Status::Offline,
            Status::Exceeding,
        ]
        .into_iter()
        .find(|s| s.as_str() == text)
    }

    /// A station's status from its last report and whether an exceedance is open.
    pub fn of_station(
        last_seen: Option<OffsetDateTime>,
        exceeding: bool,
        now: OffsetDateTime,
        offline_after: Duration,
    ) -> Status {
        match (exceeding, last_seen) {
            (true, _) => Status::Exceeding,
            (false, None) => Status::NoData,
            (false, Some(t)) if now - t > offline_after => Status::Offline,
            (false, Some(_)) => Status::Normal,
        }
    }

    /// A source's status: the worst of its stations' (`no_data` without stations).
    pub fn worst(statuses: impl IntoIterator<Item = Status>) -> Status {
        statuses.into_iter().max().unwrap_or(Status::NoData)
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn the_worst_station_decides_a_source() {
        use Status::*;
        assert_eq!(Status::worst([Normal, Offline, NoData]), Offline);
        assert_eq!(Status::worst([Normal, Exceeding, Offline]), Exceeding);
        assert_eq!(Status::worst([NoData, Normal]), Normal);
        assert_eq!(Status::worst([]), NoData);
        assert_eq!(Status::parse("offline"), Some(Offline));
    }

    #[test]
    fn stations_go_offline_after_the_configured_silence() {
        let now = datetime!(2026-11-01 12:00 UTC);
        let after = Duration::seconds(600);
        let seen = |s: i64| Some(now - Duration::seconds(s));
        assert_eq!(
            Status::of_station(seen(599), false, now, after),
            Status::Normal
        );
        assert_eq!(
            Status::of_station(seen(601), false, now, after),
            Status::Offline
        );
        assert_eq!(
            Status::of_station(seen(601), true, now, after),
            Status::Exceeding
        );
        assert_eq!(Status::of_station(None, false, now, after), Status::NoData);
    }
}
