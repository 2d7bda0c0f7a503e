//! The command parameters `CP=&&...&&`: `DataTime`, per-pollutant values and any other
//! key (`RtdInterval=30`, `SB1-RS=1`, `QnRtn=1`, ...).
//!
//! Groups are separated by `;` and fields inside a group by `,`, but devices disagree on
//! which they use where, so both are treated as field separators and fields are
//! gathered by pollutant code (`w01018-Rtd` and `w01018-Flag` belong together wherever
//! they stand).

use time::PrimitiveDateTime;

use super::codes;
use super::error::{invalid, name, PacketError, ParseWarning};
use super::time::parse_data_time;
use super::Mode;

/// The kind of a value, from its field suffix; [`ReadingKind::as_str`] gives the API name
/// (`crate::model::reading::READING_KINDS`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ReadingKind {
    Rtd,
    Avg,
    Min,
    Max,
    ZsRtd,
    ZsAvg,
    Cou,
}

impl ReadingKind {
    pub const ALL: [ReadingKind; 7] = [
        ReadingKind::Rtd,
        ReadingKind::Avg,
        ReadingKind::Min,
        ReadingKind::Max,
        ReadingKind::ZsRtd,
        ReadingKind::ZsAvg,
        ReadingKind::Cou,
    ];

    /// The API name: `rtd`, `avg`, `min`, `max`, `zs_rtd`, `zs_avg`, `cou`.
    pub fn as_str(self) -> &'static str {
        match self {
            ReadingKind::Rtd => "rtd",
            ReadingKind::Avg => "avg",
            ReadingKind::Min => "min",
            ReadingKind::Max => "max",
            ReadingKind::ZsRtd => "zs_rtd",
            ReadingKind::ZsAvg => "zs_avg",
            ReadingKind::Cou => "cou",
        }
    }

    /// The field suffix on the wire (`w01018-Rtd`).
    pub fn suffix(self) -> &'static str {
        match self {
            ReadingKind::Rtd => "Rtd",
            ReadingKind::Avg => "Avg",
            ReadingKind::Min => "Min",
            ReadingKind::Max => "Max",
            ReadingKind::ZsRtd => "ZsRtd",
            ReadingKind::ZsAvg => "ZsAvg",
            ReadingKind::Cou => "Cou",
        }
    }

    pub fn from_suffix(suffix: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.suffix() == suffix)
    }
}

/// Data flags of table 8 (`xxxxxx-Flag`); the standard lets it be extended, so flags are
/// kept as text. Only `N` values count toward exceedance decisions.
pub const DATA_FLAGS: [(&str, &str); 8] = [
    ("N", "normal"),
    ("F", "instrument stopped"),
    ("M", "maintenance"),
    ("S", "manually entered"),
    ("D", "instrument fault"),
    ("C", "calibration"),
    ("T", "over the measuring range"),
    ("B", "communication failure with the data logger"),
];

/// All fields of one pollutant code in a CP.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct PollutantValues {
    /// HJ 212-2017 code (2005 codes are mapped in lenient mode).
    pub code: String,
    /// Values in the order they arrived; at most one per kind.
    pub values: Vec<(ReadingKind, f64)>,
    /// `-Flag`: data flag (`N`, `F`, `M`, `S`, `D`, `C`, `T`, `B`, or an extension).
    pub flag: Option<String>,
    /// `-EFlag`: device-defined extended flag.
    pub eflag: Option<String>,
    /// `-SampleTime`, local time as sent.
    pub sample_time: Option<PrimitiveDateTime>,
}

impl PollutantValues {
    pub fn new(code: impl Into<String>) -> Self {
        Self {
            code: code.into(),
            ..Self::default()
        }
    }

    pub fn value(&self, kind: ReadingKind) -> Option<f64> {
        self.values
            .iter()
            .find(|(k, _)| *k == kind)
            .map(|&(_, v)| v)
    }
}

/// The parsed `CP=&&...&&`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Cp {
    /// `DataTime`, local time as sent (see [`super::time`]).
    pub data_time: Option<PrimitiveDateTime>,
    /// One record per pollutant code, in order of first appearance.
    pub pollutants: Vec<PollutantValues>,
    /// Every other field as (key, value), in order: `RtdInterval`, `SB1-RS`, `QnRtn`,
    /// `BeginTime`, `w01018-ZsMin`, noise `-Data`, ...
    pub other: Vec<(String, String)>,
}

impl Cp {
    pub fn pollutant(&self, code: &str) -> Option<&PollutantValues> {
        self.pollutants.iter().find(|p| p.code == code)
    }

    /// The value of the first other field named `key`.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.other
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }
}

/// What a pollutant field suffix says.
enum Suffix {
    Value(ReadingKind),
    Flag,
    EFlag,
    SampleTime,
}

fn suffix(s: &str) -> Option<Suffix> {
    Some(match s {
        "Flag" => Suffix::Flag,
        "EFlag" => Suffix::EFlag,
        "SampleTime" => Suffix::SampleTime,
        _ => Suffix::Value(ReadingKind::from_suffix(s)?),
    })
}

/// A pollutant code: ASCII letters and digits (`w01018`, `a34004`, `LA`, `e12001`, `011`).
pub(crate) fn is_code(code: &str) -> bool {
    (1..=16).contains(&code.len()) && code.bytes().all(|b| b.is_ascii_alphanumeric())
}

/// A data flag or extended flag: the standard gives 1 (`Flag`) and 4 (`EFlag`) characters;
/// lenient mode allows longer device-specific ones.
fn is_flag(text: &str, max: usize) -> bool {
    (1..=max).contains(&text.len()) && text.bytes().all(|b| b.is_ascii_alphanumeric())
}

/// A finite decimal number (`N14.2` in the standard's notation, exponents tolerated).
pub(crate) fn parse_number(text: &str) -> Option<f64> {
    // Only the characters of a decimal number: f64::from_str would also take "inf", "NaN".
    let numeric = !text.is_empty()
        && text
            .bytes()
            .all(|b| b.is_ascii_digit() || matches!(b, b'+' | b'-' | b'.' | b'e' | b'E'));
    text.parse::<f64>()
        .ok()
        .filter(|v| numeric && v.is_finite())
}

/// Parses the text between `CP=&&` and the final `&&`.
pub(crate) fn parse_cp(
    text: &str,
    mode: Mode,
    warnings: &mut Vec<ParseWarning>,
) -> Result<Cp, PacketError> {
    let mut cp = Cp::default();
    for field in text.split([';', ',']) {
        let field = field.trim();
        if field.is_empty() {
            continue;
        }
        let Some((key, value)) = field.split_once('=') else {
            return Err(invalid(field, "expected NAME=value"));
        };
        let (key, value) = (key.trim(), value.trim());
        if key.is_empty() {
            return Err(invalid(field, "empty field name"));
        }
        if key == "DataTime" {
            if cp.data_time.is_some() {
                return Err(PacketError::Duplicate(key.to_string()));
            }
            let t = parse_data_time(value).map_err(|e| invalid(key, e.to_string()))?;
            cp.data_time = Some(t);
            continue;
        }
        let pollutant_field = key
            .split_once('-')
            .and_then(|(code, s)| Some((code, suffix(s)?)))
            .filter(|(code, _)| is_code(code));
        match pollutant_field {
            Some((code, suffix)) => pollutant(&mut cp, key, code, suffix, value, mode, warnings)?,
            None => cp.other.push((key.to_string(), value.to_string())),
        }
    }
    Ok(cp)
}

fn pollutant(
    cp: &mut Cp,
    key: &str,
    code: &str,
    suffix: Suffix,
    value: &str,
    mode: Mode,
    warnings: &mut Vec<ParseWarning>,
) -> Result<(), PacketError> {
    let code = match codes::from_legacy(code) {
        None => code,
        Some(_) if mode == Mode::Strict => return Err(PacketError::LegacyCode(code.to_string())),
        Some(new) => {
            warnings.push(ParseWarning::LegacyCode {
                old: code.to_string(),
                new,
            });
            new
        }
    };
    // In lenient mode a bad field loses that field, not the other pollutants' values.
    let bad = |reason: String, warnings: &mut Vec<ParseWarning>| match mode {
        Mode::Strict => Err(invalid(key, reason)),
        Mode::Lenient => {
            warnings.push(ParseWarning::SkippedField {
                field: name(key),
                reason,
            });
            Ok(())
        }
    };
    let index = match cp.pollutants.iter().position(|p| p.code == code) {
        Some(i) => i,
        None => {
            cp.pollutants.push(PollutantValues::new(code));
            cp.pollutants.len() - 1
        }
    };
    let record = &mut cp.pollutants[index];
    let duplicate = match suffix {
        Suffix::Value(kind) => record.value(kind).is_some(),
        Suffix::Flag => record.flag.is_some(),
        Suffix::EFlag => record.eflag.is_some(),
        Suffix::SampleTime => record.sample_time.is_some(),
    };
    if duplicate {
        return match mode {
            Mode::Strict => Err(PacketError::Duplicate(name(key))),
            Mode::Lenient => {
                // The first value wins (a re-sent field is a device bug either way).
                warnings.push(ParseWarning::DuplicateField(name(key)));
                Ok(())
            }
        };
    }
    let long_flags = mode == Mode::Lenient;
    match suffix {
        Suffix::Value(kind) => match parse_number(value) {
            Some(v) => record.values.push((kind, v)),
            None => bad("not a finite decimal number".to_string(), warnings)?,
        },
        Suffix::Flag if is_flag(value, if long_flags { 8 } else { 1 }) => {
            record.flag = Some(value.to_string());
        }
        Suffix::EFlag if is_flag(value, if long_flags { 16 } else { 4 }) => {
            record.eflag = Some(value.to_string());
        }
        Suffix::Flag | Suffix::EFlag => bad("not a data flag".to_string(), warnings)?,
        Suffix::SampleTime => match parse_data_time(value) {
            Ok(t) => record.sample_time = Some(t),
            Err(e) => bad(e.to_string(), warnings)?,
        },
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    fn lenient(text: &str) -> (Cp, Vec<ParseWarning>) {
        let mut w = Vec::new();
        let cp = parse_cp(text, Mode::Lenient, &mut w).unwrap_or_else(|e| panic!("{text}: {e}"));
        (cp, w)
    }

    fn strict(text: &str) -> Result<Cp, PacketError> {
        parse_cp(text, Mode::Strict, &mut Vec::new())
    }

    #[test]
    fn every_suffix_is_mapped() {
        let (cp, w) = lenient(
            "DataTime=20160801085857;w01018-Rtd=1.5,w01018-Avg=2,w01018-Min=-0.5,\
             w01018-Max=3e1,w01018-ZsRtd=4.25,w01018-ZsAvg=5,w01018-Cou=+6.0,w01018-Flag=N,\
             w01018-EFlag=A01,w01018-SampleTime=20160801070000",
        );
        assert!(w.is_empty(), "{w:?}");
        assert_eq!(cp.data_time, Some(datetime!(2016-08-01 08:58:57)));
        let p = &cp.pollutants[0];
        assert_eq!(p.code, "w01018");
        let expected = [1.5, 2.0, -0.5, 30.0, 4.25, 5.0, 6.0];
        for (kind, v) in ReadingKind::ALL.into_iter().zip(expected) {
            assert_eq!(p.value(kind), Some(v), "{kind:?}");
        }
        assert_eq!(p.values.len(), 7);
        assert_eq!(p.flag.as_deref(), Some("N"));
        assert_eq!(p.eflag.as_deref(), Some("A01"));
        assert_eq!(p.sample_time, Some(datetime!(2016-08-01 07:00:00)));
        assert!(cp.other.is_empty());
        let names: Vec<_> = ReadingKind::ALL.iter().map(|k| k.as_str()).collect();
        assert_eq!(names, crate::model::reading::READING_KINDS);
    }

    #[test]
    fn every_data_flag_is_kept() {
        for (flag, _) in DATA_FLAGS {
            let cp = strict(&format!("w21003-Rtd=0.9,w21003-Flag={flag}")).expect(flag);
            assert_eq!(cp.pollutants[0].flag.as_deref(), Some(flag));
        }
    }

    #[test]
    fn fields_of_a_code_gather_across_groups_and_others_are_kept() {
        let (cp, _) = lenient(
            "RtdInterval=30;w01018-Rtd=2.2;SB1-RS=1;w01018-Flag=N;w01018-ZsMin=1;a21026-Rtd=3",
        );
        assert_eq!(cp.pollutants.len(), 2);
        assert_eq!(cp.pollutants[0].flag.as_deref(), Some("N"));
        assert_eq!(cp.get("RtdInterval"), Some("30"));
        assert_eq!(cp.get("SB1-RS"), Some("1"));
        assert_eq!(cp.get("w01018-ZsMin"), Some("1"));
        assert_eq!(
            cp.pollutant("a21026")
                .and_then(|p| p.value(ReadingKind::Rtd)),
            Some(3.0)
        );
    }

    #[test]
    fn legacy_codes_are_mapped_in_lenient_mode_only() {
        let (cp, w) = lenient("011-Rtd=40.1,011-Flag=N;060-Rtd=1.2;02-Rtd=35;B01-Cou=10");
        let codes: Vec<_> = cp.pollutants.iter().map(|p| p.code.as_str()).collect();
        assert_eq!(codes, ["w01018", "w21003", "a21026", "w00000"]);
        let mapped = w
            .iter()
            .filter(|w| matches!(w, ParseWarning::LegacyCode { .. }))
            .count();
        assert_eq!(mapped, 5);
        assert_eq!(
            strict("011-Rtd=40.1"),
            Err(PacketError::LegacyCode("011".into()))
        );
    }

    #[test]
    fn bad_values_name_the_field() {
        for (text, field) in [
            ("w01018-Rtd=abc", "w01018-Rtd"),
            ("w01018-Rtd=", "w01018-Rtd"),
            ("w01018-Avg=inf", "w01018-Avg"),
            ("w01018-Max=NaN", "w01018-Max"),
            ("w01018-Cou=1e999", "w01018-Cou"),
            ("w01018-Flag=NN", "w01018-Flag"),
            ("w01018-SampleTime=20160231000000", "w01018-SampleTime"),
            ("DataTime=2016", "DataTime"),
            ("w01018", "w01018"),
        ] {
            match strict(text) {
                Err(PacketError::Invalid { field: f, .. }) => assert_eq!(f, field, "{text}"),
                other => panic!("{text}: {other:?}"),
            }
        }
        assert_eq!(
            strict("w01018-Rtd=1;w01018-Rtd=2"),
            Err(PacketError::Duplicate("w01018-Rtd".into()))
        );
        assert_eq!(
            strict("DataTime=20160801085857;DataTime=20160801085857"),
            Err(PacketError::Duplicate("DataTime".into()))
        );
    }

    #[test]
    fn lenient_mode_skips_a_bad_field_and_keeps_the_rest() {
        let (cp, w) = lenient("w01018-Rtd=,w01018-Flag=N;w21003-Rtd=0.9;w21003-Rtd=1.0");
        assert_eq!(cp.pollutants[0].values, []);
        assert_eq!(cp.pollutants[0].flag.as_deref(), Some("N"));
        assert_eq!(cp.pollutants[1].values, [(ReadingKind::Rtd, 0.9)]);
        assert!(matches!(&w[0], ParseWarning::SkippedField { field, .. } if field == "w01018-Rtd"));
        assert_eq!(w[1], ParseWarning::DuplicateField("w21003-Rtd".into()));
        // A wrong DataTime is never skipped: every value depends on it.
        assert!(parse_cp("DataTime=x", Mode::Lenient, &mut Vec::new()).is_err());
    }

    #[test]
    fn spaces_and_empty_groups_are_tolerated() {
        let (cp, _) = lenient(" PolId=w01018; ;SystemTime=20160801085857;");
        assert_eq!(cp.get("PolId"), Some("w01018"));
        assert_eq!(cp.get("SystemTime"), Some("20160801085857"));
        assert_eq!(lenient("").0, Cp::default());
        assert_eq!(lenient(" ").0, Cp::default());
    }
}
