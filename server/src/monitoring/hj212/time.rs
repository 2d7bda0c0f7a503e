//! HJ 212 time stamps: `DataTime`/`SampleTime` (`YYYYMMDDhhmmss`) and `QN`
//! (`YYYYMMDDhhmmsszzz`, milliseconds).
//!
//! The wire carries local wall-clock time without an offset. Chinese devices send Beijing
//! time (UTC+8), which is the default; the offset stays a parameter because the
//! architecture makes it configurable (`[hj212] timezone`). Packets keep the local
//! [`PrimitiveDateTime`] so that re-encoding is exact; [`to_utc`] converts for storage.

use thiserror::Error;
use time::{Date, Month, OffsetDateTime, PrimitiveDateTime, Time, UtcOffset};

/// Beijing time, the offset of HJ 212 stamps unless configured otherwise.
pub const BEIJING: UtcOffset = time::macros::offset!(+8);

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum TimeError {
    #[error("expected {expected} digits, got {got:?}")]
    Format { expected: usize, got: String },
    #[error("{0:?} is not a valid date and time")]
    Invalid(String),
}

/// Parses `YYYYMMDDhhmmss` (DataTime, SampleTime, SystemTime, BeginTime, ...).
pub fn parse_data_time(text: &str) -> Result<PrimitiveDateTime, TimeError> {
    let d = digits(text, 14)?;
    build(text, &d, 0)
}

/// Parses a `QN`: `YYYYMMDDhhmmsszzz`.
pub fn parse_qn(text: &str) -> Result<PrimitiveDateTime, TimeError> {
    let d = digits(text, 17)?;
    let millis = number(&d[14..17]);
    build(text, &d, millis)
}

/// Formats as `YYYYMMDDhhmmss` (sub-seconds are dropped, as the wire format has none).
pub fn format_data_time(t: PrimitiveDateTime) -> String {
    format!(
        "{:04}{:02}{:02}{:02}{:02}{:02}",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    )
}

/// Formats as a `QN`: `YYYYMMDDhhmmsszzz`.
pub fn format_qn(t: PrimitiveDateTime) -> String {
    format!("{}{:03}", format_data_time(t), t.millisecond())
}

/// True when [`format_data_time`] writes `t` back exactly (a year of 4 digits, whole seconds).
pub fn is_wire_time(t: PrimitiveDateTime) -> bool {
    (0..=9999).contains(&t.year()) && t.nanosecond() == 0
}

/// Parses `DataTime` text sent by a device whose clock runs in `offset`, as UTC.
pub fn data_time_utc(text: &str, offset: UtcOffset) -> Result<OffsetDateTime, TimeError> {
    parse_data_time(text).map(|t| to_utc(t, offset))
}

/// Parses a configured offset: `+08:00`, `+8`, `-05:30`, `UTC+8`, `UTC`, `Z`.
pub fn parse_offset(text: &str) -> Result<UtcOffset, TimeError> {
    let bad = || TimeError::Invalid(text.chars().take(32).collect());
    let t = text.trim();
    let t = t
        .strip_prefix("UTC")
        .or_else(|| t.strip_prefix("GMT"))
        .unwrap_or(t);
    if t.is_empty() || t == "Z" {
        return Ok(UtcOffset::UTC);
    }
    let (sign, rest) = match t.as_bytes().first() {
        Some(b'+') => (1i8, &t[1..]),
        Some(b'-') => (-1i8, &t[1..]),
        _ => return Err(bad()),
    };
    let (h, m) = rest.split_once(':').unwrap_or((rest, "0"));
    let two_digits = |s: &str| {
        let ok = !s.is_empty() && s.len() <= 2 && s.bytes().all(|b| b.is_ascii_digit());
        ok.then(|| s.parse::<i8>().ok()).flatten()
    };
    let (h, m) = (
        two_digits(h).ok_or_else(bad)?,
        two_digits(m).ok_or_else(bad)?,
    );
    if h > 14 || m > 59 {
        return Err(bad());
    }
    UtcOffset::from_hms(sign * h, sign * m, 0).map_err(|_| bad())
}

/// A local HJ 212 stamp in `offset` as an instant in UTC.
pub fn to_utc(local: PrimitiveDateTime, offset: UtcOffset) -> OffsetDateTime {
    local.assume_offset(offset).to_offset(UtcOffset::UTC)
}

/// An instant as the local stamp a device in `offset` would send.
pub fn to_local(instant: OffsetDateTime, offset: UtcOffset) -> PrimitiveDateTime {
    let local = instant.to_offset(offset);
    PrimitiveDateTime::new(local.date(), local.time())
}

fn digits(text: &str, expected: usize) -> Result<Vec<u8>, TimeError> {
    let bytes = text.as_bytes();
    if bytes.len() != expected || !bytes.iter().all(u8::is_ascii_digit) {
        return Err(TimeError::Format {
            expected,
            got: text.chars().take(32).collect(),
        });
    }
    Ok(bytes.iter().map(|b| b - b'0').collect())
}

fn number(digits: &[u8]) -> u16 {
    digits.iter().fold(0, |acc, &d| acc * 10 + u16::from(d))
}

fn build(text: &str, d: &[u8], millis: u16) -> Result<PrimitiveDateTime, TimeError> {
    let invalid = || TimeError::Invalid(text.to_string());
    let year = i32::from(number(&d[0..4]));
    // Two digits each, so these fit in u8.
    let [month, day, hour, minute, second] = [4, 6, 8, 10, 12].map(|i| d[i] * 10 + d[i + 1]);
    let month = Month::try_from(month).map_err(|_| invalid())?;
    let date = Date::from_calendar_date(year, month, day).map_err(|_| invalid())?;
    let time = Time::from_hms_milli(hour, minute, second, millis).map_err(|_| invalid())?;
    Ok(PrimitiveDateTime::new(date, time))
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn parses_data_time_and_qn() {
        assert_eq!(
            parse_data_time("20160801085857"),
            Ok(datetime!(2016-08-01 08:58:57))
        );
        assert_eq!(
            parse_qn("20160801085857223"),
            Ok(datetime!(2016-08-01 08:58:57.223))
        );
    }

    #[test]
    fn beijing_to_utc() {
        let local = datetime!(2016-08-01 08:58:57);
        assert_eq!(to_utc(local, BEIJING), datetime!(2016-08-01 00:58:57 UTC));
        // Another configured offset.
        let utc = to_utc(local, time::macros::offset!(+5:30));
        assert_eq!(utc, datetime!(2016-08-01 03:28:57 UTC));
        assert_eq!(to_local(utc, time::macros::offset!(+5:30)), local);
        // Midnight in Beijing is the previous day in UTC.
        let midnight = parse_data_time("20160801000000").map(|t| to_utc(t, BEIJING));
        assert_eq!(midnight, Ok(datetime!(2016-07-31 16:00:00 UTC)));
    }

    #[test]
    fn invalid_dates_are_errors() {
        for bad in [
            "20160230000000",
            "20161301000000",
            "20160801240000",
            "20160801006000",
            "20160801000060",
            "20160800000000",
            "20150229000000",
        ] {
            assert!(
                matches!(parse_data_time(bad), Err(TimeError::Invalid(_))),
                "{bad}"
            );
        }
        assert!(parse_data_time("20160229000000").is_ok());
        for bad in [
            "2016080108585",
            "201608010858577",
            "2016-08-01T08",
            "2016080108585a",
            "",
            "２０１６０８０１０８５８５７",
        ] {
            assert!(
                matches!(parse_data_time(bad), Err(TimeError::Format { .. })),
                "{bad}"
            );
        }
        assert!(parse_qn("20160801085857").is_err());
    }

    #[test]
    fn configured_offsets() {
        use time::macros::offset;
        for (text, expected) in [
            ("+08:00", offset!(+8)),
            ("+8", offset!(+8)),
            ("UTC+8", offset!(+8)),
            ("-05:30", offset!(-5:30)),
            ("UTC", offset!(UTC)),
            ("Z", offset!(UTC)),
            (" +0 ", offset!(UTC)),
        ] {
            assert_eq!(parse_offset(text), Ok(expected), "{text}");
        }
        for bad in ["8", "+", "+15", "+8:60", "Asia/Shanghai", "+008", "+8:0:0"] {
            assert!(parse_offset(bad).is_err(), "{bad}");
        }
        let utc = data_time_utc("20160801085857", BEIJING);
        assert_eq!(utc, Ok(datetime!(2016-08-01 00:58:57 UTC)));
    }

    #[test]
    fn formats_round_trip() {
        let t = datetime!(2016-08-01 08:58:57.223);
        assert_eq!(format_qn(t), "20160801085857223");
        assert_eq!(format_data_time(t), "20160801085857");
        assert_eq!(parse_qn(&format_qn(t)), Ok(t));
        assert!(!is_wire_time(t));
        assert!(is_wire_time(datetime!(2016-08-01 08:58:57)));
    }
}
