//! The data segment: `QN=..;ST=..;CN=..;PW=..;MN=..;Flag=..;[PNUM=..;PNO=..;]CP=&&...&&`
//! parsed into a [`Packet`].
//!
//! The header fields are split on `;` only before `CP=&&`: the CP itself contains `;`.
//! Strict mode accepts what HJ 212-2017 allows; lenient mode (the default) also accepts
//! what real devices send (no `QN`/`Flag`, HJ/T 212-2005 codes, a missing `;` before
//! `CP`, unknown header fields, a bad value among good ones) and reports each relaxation
//! as a [`ParseWarning`] so that it can be counted.

use time::{OffsetDateTime, PrimitiveDateTime, UtcOffset};

use super::cp::{parse_cp, Cp};
use super::error::{invalid, name, PacketError, ParseWarning};
use super::time::{parse_qn, to_utc};
use super::Mode;

/// The `Flag` bit field: bits 7..2 the protocol version, bit 1 `D`, bit 0 `A`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Flag {
    /// 0 = HJ/T 212-2005, 1 = HJ 212-2017.
    pub version: u8,
    /// `D`: the packet is one of several (`PNUM`, `PNO` present).
    pub d: bool,
    /// `A`: the sender wants a data reply.
    pub a: bool,
}

impl Flag {
    /// `Flag=4`: HJ 212-2017, not split, no reply wanted (what replies carry).
    pub const NO_REPLY: Flag = Flag {
        version: 1,
        d: false,
        a: false,
    };
    /// `Flag=5`: HJ 212-2017, not split, reply wanted.
    pub const REPLY: Flag = Flag {
        version: 1,
        d: false,
        a: true,
    };

    pub fn from_bits(bits: u8) -> Self {
        Flag {
            version: bits >> 2,
            d: bits & 2 != 0,
            a: bits & 1 != 0,
        }
    }

    /// The wire value; the version is truncated to its 6 bits.
    pub fn bits(self) -> u8 {
        (self.version & 0x3F) << 2 | u8::from(self.d) << 1 | u8::from(self.a)
    }
}

/// One parsed data segment. Text fields are kept as sent so replies can echo them.
#[derive(Debug, Clone, PartialEq)]
pub struct Packet {
    /// Request id `YYYYMMDDhhmmsszzz`; optional for HJ/T 212-2005 devices.
    pub qn: Option<String>,
    /// System code: 21 surface water, 22 air, 31 flue gas, 32 wastewater, 91 replies, ...
    pub st: String,
    /// Command code: 2011 real-time data, 2061 hourly, 9014 data reply, ...
    pub cn: u16,
    pub pw: String,
    /// Device id (24 hex digits in the standard; shorter in practice).
    pub mn: String,
    /// Absent only from HJ/T 212-2005 devices (lenient mode).
    pub flag: Option<Flag>,
    /// Total packets of a split transmission, and this one's number (1-based).
    pub pnum: Option<u32>,
    pub pno: Option<u32>,
    pub cp: Cp,
}

impl Packet {
    /// Parses a data segment (the text between the length and the CRC of a frame).
    pub fn parse(segment: &str, mode: Mode) -> Result<Parsed, PacketError> {
        parse_packet(segment, mode)
    }

    /// True when the sender asked for a data reply (`Flag` bit A).
    pub fn wants_reply(&self) -> bool {
        self.flag.is_some_and(|f| f.a)
    }

    /// True when this is one part of a split transmission (see `super::reassemble`).
    pub fn is_split(&self) -> bool {
        self.pnum.is_some_and(|n| n > 1)
    }

    /// The `QN` as an instant, taking the device's clock to run in `offset`.
    pub fn qn_time(&self, offset: UtcOffset) -> Option<OffsetDateTime> {
        let qn = parse_qn(self.qn.as_deref()?).ok()?;
        Some(to_utc(qn, offset))
    }

    /// The CP's `DataTime` as an instant, taking the device's clock to run in `offset`.
    pub fn data_time(&self, offset: UtcOffset) -> Option<OffsetDateTime> {
        self.cp.data_time.map(|t| to_utc(t, offset))
    }

    /// The CP's local `DataTime` as sent.
    pub fn local_data_time(&self) -> Option<PrimitiveDateTime> {
        self.cp.data_time
    }
}

/// A parsed packet and what lenient mode had to forgive.
#[derive(Debug, Clone, PartialEq)]
pub struct Parsed {
    pub packet: Packet,
    pub warnings: Vec<ParseWarning>,
}

/// A byte allowed in header values and CP values the encoder writes: printable ASCII
/// except the separators.
pub(crate) fn is_text_byte(b: u8) -> bool {
    b.is_ascii_graphic() && !matches!(b, b';' | b',' | b'=' | b'&')
}

fn text_ok(value: &str, min: usize, max: usize) -> bool {
    (min..=max).contains(&value.len()) && value.bytes().all(is_text_byte)
}

/// Parses a data segment.
pub fn parse_packet(segment: &str, mode: Mode) -> Result<Parsed, PacketError> {
    let strict = mode == Mode::Strict;
    let mut warnings = Vec::new();
    let (header, cp_text) = split_cp(segment, mode, &mut warnings)?;

    let mut fields: [Option<&str>; 8] = [None; 8];
    const NAMES: [&str; 8] = ["QN", "ST", "CN", "PW", "MN", "Flag", "PNUM", "PNO"];
    for field in header.split(';') {
        let field = field.trim();
        if field.is_empty() {
            continue;
        }
        let Some((key, value)) = field.split_once('=') else {
            return Err(invalid(field, "expected NAME=value"));
        };
        let (key, value) = (key.trim(), value.trim());
        match NAMES.iter().position(|n| *n == key) {
            Some(i) if fields[i].is_some() => return Err(PacketError::Duplicate(name(key))),
            Some(i) => fields[i] = Some(value),
            None if strict => return Err(PacketError::Unknown(name(key))),
            None => warnings.push(ParseWarning::UnknownField(name(key))),
        }
    }
    let [qn, st, cn, pw, mn, flag, pnum, pno] = fields;

    let qn = match qn {
        Some(qn) if strict && parse_qn(qn).is_err() => {
            return Err(invalid("QN", "expected YYYYMMDDhhmmsszzz"));
        }
        Some(qn) if !text_ok(qn, 1, 32) => return Err(invalid("QN", "not a request id")),
        Some(qn) => Some(qn.to_string()),
        None if strict => return Err(PacketError::Missing("QN")),
        None => {
            warnings.push(ParseWarning::MissingQn);
            None
        }
    };
    let st = st.ok_or(PacketError::Missing("ST"))?;
    let st_len = if strict { 2..=2 } else { 1..=5 };
    if !st_len.contains(&st.len()) || !st.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return Err(invalid("ST", "expected a system code such as 32"));
    }
    let cn_text = cn.ok_or(PacketError::Missing("CN"))?;
    let cn_len = if strict { 4..=4 } else { 1..=4 };
    let cn = match number(cn_text, cn_len) {
        Some(cn) => u16::try_from(cn).map_err(|_| invalid("CN", "out of range"))?,
        None => return Err(invalid("CN", "expected a 4-digit command code")),
    };
    let pw = pw.ok_or(PacketError::Missing("PW"))?;
    if !text_ok(pw, usize::from(strict), if strict { 6 } else { 32 }) {
        return Err(invalid("PW", "not a password"));
    }
    let mn = mn.ok_or(PacketError::Missing("MN"))?;
    let mn_ok = if strict {
        (1..=24).contains(&mn.len()) && mn.bytes().all(|b| b.is_ascii_alphanumeric())
    } else {
        text_ok(mn, 1, 32)
    };
    if !mn_ok {
        return Err(invalid("MN", "not a device id"));
    }
    let flag = match flag {
        Some(text) => {
            let bits = number(text, 1..=3).and_then(|n| u8::try_from(n).ok());
            let flag = Flag::from_bits(bits.ok_or_else(|| invalid("Flag", "expected 0-255"))?);
            if strict && flag.version != 1 {
                return Err(invalid("Flag", "strict mode takes protocol version 1 only"));
            }
            Some(flag)
        }
        None if strict => return Err(PacketError::Missing("Flag")),
        None => {
            warnings.push(ParseWarning::MissingFlag);
            None
        }
    };
    let part = |name, text: Option<&str>| {
        text.map(|t| number(t, 1..=9).ok_or_else(|| invalid(name, "expected a packet count")))
            .transpose()
    };
    let (pnum, pno) = match (part("PNUM", pnum)?, part("PNO", pno)?) {
        (Some(n), Some(i)) if n == 0 || i == 0 || i > n => {
            return Err(invalid("PNO", format!("packet {i} of {n}")));
        }
        (Some(_), None) => return Err(PacketError::Missing("PNO")),
        (None, Some(_)) => return Err(PacketError::Missing("PNUM")),
        pair => pair,
    };
    if flag.is_some_and(|f| f.d) != pnum.is_some() {
        if strict {
            return Err(invalid("Flag", "bit D disagrees with PNUM/PNO"));
        }
        warnings.push(ParseWarning::SplitFlagMismatch);
    }

    let cp = parse_cp(cp_text, mode, &mut warnings)?;
    let packet = Packet {
        qn,
        st: st.to_string(),
        cn,
        pw: pw.to_string(),
        mn: mn.to_string(),
        flag,
        pnum,
        pno,
        cp,
    };
    Ok(Parsed { packet, warnings })
}

/// Splits `header;CP=&&cp&&` into `header` and `cp`.
fn split_cp<'a>(
    segment: &'a str,
    mode: Mode,
    warnings: &mut Vec<ParseWarning>,
) -> Result<(&'a str, &'a str), PacketError> {
    const CP: &str = "CP=&&";
    let separated = segment
        .match_indices(CP)
        .map(|(i, _)| i)
        .find(|&i| i == 0 || segment[..i].ends_with(';'));
    let start = match (separated, segment.find(CP)) {
        (Some(i), _) => i,
        (None, Some(i)) if mode == Mode::Lenient => {
            warnings.push(ParseWarning::CpSeparator);
            i
        }
        (None, _) => return Err(PacketError::Missing("CP")),
    };
    let body = &segment[start + CP.len()..];
    let cp = body
        .strip_suffix("&&")
        .ok_or_else(|| invalid("CP", "must end with &&"))?;
    Ok((&segment[..start], cp))
}

/// A decimal number of `len` digits.
fn number(text: &str, len: std::ops::RangeInclusive<usize>) -> Option<u32> {
    if !len.contains(&text.len()) || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEAD: &str = "QN=20160801085857223;ST=32;CN=2011;PW=123456;MN=010000A8900016F000169DC0";

    fn parse(segment: &str, mode: Mode) -> Result<Parsed, PacketError> {
        parse_packet(segment, mode)
    }

    #[test]
    fn flag_bits() {
        for bits in 0..=255u8 {
            assert_eq!(Flag::from_bits(bits).bits(), bits);
        }
        assert_eq!(Flag::from_bits(5), Flag::REPLY);
        assert_eq!(Flag::from_bits(4), Flag::NO_REPLY);
        assert_eq!(
            Flag::from_bits(7),
            Flag {
                version: 1,
                d: true,
                a: true
            }
        );
        assert_eq!(
            Flag::from_bits(6),
            Flag {
                version: 1,
                d: true,
                a: false
            }
        );
    }

    #[test]
    fn header_fields() {
        let seg =
            format!("{HEAD};Flag=7;PNUM=2;PNO=1;CP=&&DataTime=20160801085857;w01018-Rtd=2.2&&");
        let p = parse(&seg, Mode::Strict).expect("parses").packet;
        assert_eq!(p.qn.as_deref(), Some("20160801085857223"));
        assert_eq!((p.st.as_str(), p.cn, p.pw.as_str()), ("32", 2011, "123456"));
        assert_eq!(p.mn, "010000A8900016F000169DC0");
        assert_eq!(
            p.flag,
            Some(Flag {
                version: 1,
                d: true,
                a: true
            })
        );
        assert_eq!((p.pnum, p.pno), (Some(2), Some(1)));
        assert!(p.wants_reply() && p.is_split());
        assert_eq!(
            p.qn_time(super::super::time::BEIJING)
                .map(|t| t.to_string()),
            Some("2016-08-01 0:58:57.223 +00:00:00".to_string())
        );
    }

    #[test]
    fn errors_name_the_field() {
        let cases = [
            (
                "ST=32;CN=2011;PW=1;MN=1;Flag=4;CP=&&&&",
                PacketError::Missing("QN"),
            ),
            (
                "QN=20160801085857223;CN=2011;PW=1;MN=1;Flag=4;CP=&&&&",
                PacketError::Missing("ST"),
            ),
            (
                "QN=20160801085857223;ST=32;PW=1;MN=1;Flag=4;CP=&&&&",
                PacketError::Missing("CN"),
            ),
            (
                "QN=20160801085857223;ST=32;CN=2011;MN=1;Flag=4;CP=&&&&",
                PacketError::Missing("PW"),
            ),
            (
                "QN=20160801085857223;ST=32;CN=2011;PW=1;Flag=4;CP=&&&&",
                PacketError::Missing("MN"),
            ),
            (
                "QN=20160801085857223;ST=32;CN=2011;PW=1;MN=1;CP=&&&&",
                PacketError::Missing("Flag"),
            ),
            (
                "QN=20160801085857223;ST=32;CN=2011;PW=1;MN=1;Flag=4",
                PacketError::Missing("CP"),
            ),
            (
                "QN=20160801085857223;ST=32;CN=2011;PW=1;MN=1;Flag=4;CP=&&",
                invalid("CP", ""),
            ),
            (
                "QN=2016;ST=32;CN=2011;PW=1;MN=1;Flag=4;CP=&&&&",
                invalid("QN", ""),
            ),
            (
                "QN=20160801085857223;ST=3x2;CN=2011;PW=1;MN=1;Flag=4;CP=&&&&",
                invalid("ST", ""),
            ),
            (
                "QN=20160801085857223;ST=32;CN=20x1;PW=1;MN=1;Flag=4;CP=&&&&",
                invalid("CN", ""),
            ),
            (
                "QN=20160801085857223;ST=32;CN=2011;PW=1;MN=1;Flag=256;CP=&&&&",
                invalid("Flag", ""),
            ),
            (
                "QN=20160801085857223;ST=32;CN=2011;PW=1;MN=1;Flag=0;CP=&&&&",
                invalid("Flag", ""),
            ),
            (
                "QN=20160801085857223;ST=32;CN=2011;PW=1;MN=1;Flag=6;CP=&&&&",
                invalid("Flag", ""),
            ),
            (
                "QN=20160801085857223;ST=32;CN=2011;PW=1;MN=1;Flag=6;PNUM=2;CP=&&&&",
                PacketError::Missing("PNO"),
            ),
            (
                "QN=20160801085857223;ST=32;CN=2011;PW=1;MN=1;Flag=6;PNUM=2;PNO=3;CP=&&&&",
                invalid("PNO", ""),
            ),
            (
                "QN=20160801085857223;ST=32;ST=32;CN=2011;PW=1;MN=1;Flag=4;CP=&&&&",
                PacketError::Duplicate("ST".into()),
            ),
            (
                "QN=20160801085857223;ST=32;CN=2011;PW=1;MN=1;Flag=4;XX=1;CP=&&&&",
                PacketError::Unknown("XX".into()),
            ),
            (
                "QN=20160801085857223;ST=32;CN=2011;PW=1;MN=1;Flag=4;garbage;CP=&&&&",
                invalid("garbage", ""),
            ),
        ];
        for (seg, expected) in cases {
            let got = parse(seg, Mode::Strict).err();
            let same = match (&got, &expected) {
                (
                    Some(PacketError::Invalid { field: a, .. }),
                    PacketError::Invalid { field: b, .. },
                ) => a == b,
                (Some(a), b) => a == b,
                (None, _) => false,
            };
            assert!(same, "{seg}: got {got:?}, expected {expected:?}");
        }
    }

    #[test]
    fn lenient_relaxations_are_warnings() {
        let old = "ST=32;CN=2011;PW=123456;MN=88888880000001;XX=1;\
                   CP=&&DataTime=20160801085857;011-Rtd=40&&";
        let p = parse(old, Mode::Lenient).expect("lenient parses a 2005-style packet");
        assert_eq!(p.packet.qn, None);
        assert_eq!(p.packet.flag, None);
        assert!(!p.packet.wants_reply());
        assert_eq!(p.packet.cp.pollutants[0].code, "w01018");
        assert_eq!(
            p.warnings,
            [
                ParseWarning::UnknownField("XX".into()),
                ParseWarning::MissingQn,
                ParseWarning::MissingFlag,
                ParseWarning::LegacyCode {
                    old: "011".into(),
                    new: "w01018"
                },
            ]
        );
        // Example C.19 of the standard lacks the ';' before CP.
        let p = parse(
            &format!("{HEAD};Flag=5CP=&&DataTime=20160801000000;SB1-RT=1.1&&"),
            Mode::Lenient,
        )
        .expect("parses");
        assert_eq!(p.packet.flag, Some(Flag::REPLY));
        assert_eq!(p.warnings, [ParseWarning::CpSeparator]);
        assert!(parse(&format!("{HEAD};Flag=5CP=&&&&"), Mode::Strict).is_err());
        // PNUM/PNO without bit D: the fields decide.
        let p = parse(
            &format!("{HEAD};Flag=5;PNUM=2;PNO=2;CP=&&&&"),
            Mode::Lenient,
        )
        .expect("parses");
        assert!(p.packet.is_split());
        assert_eq!(p.warnings, [ParseWarning::SplitFlagMismatch]);
    }

    #[test]
    fn cp_may_contain_separators_and_header_keys() {
        let seg = format!("{HEAD};Flag=4;CP=&&QN=1;CN=2;PW=3;ST=4;a=b,c=d&&");
        let p = parse(&seg, Mode::Strict).expect("parses").packet;
        assert_eq!(p.cn, 2011);
        assert_eq!(p.cp.get("QN"), Some("1"));
        assert_eq!(p.cp.get("c"), Some("d"));
    }

    #[test]
    fn garbage_is_an_error_not_a_panic() {
        for seg in [
            "",
            ";",
            "=",
            "CP=&&",
            "CP=&&&&",
            "CP=&&&",
            "é;CP=&&é&&",
            "QN=;CP=&&&&",
            "\u{0}CP=&&&&",
            "ST=32;CN=99999;PW=1;MN=1;CP=&&&&",
        ] {
            for mode in [Mode::Strict, Mode::Lenient] {
                assert!(parse(seg, mode).is_err(), "{seg:?} {mode:?}");
            }
        }
    }
}
