//! The encoder: [`Packet`] → data segment → frame. The simulator and the server's replies
//! use it, and the round-trip property `parse(encode(p)) == p` holds for every packet it
//! accepts, so it refuses what would not read back the same (separators inside values,
//! a time with sub-seconds, duplicate kinds, ...).

use std::fmt::Write as _;

use thiserror::Error;

use super::cp::{is_code, Cp, PollutantValues, ReadingKind};
use super::crc::{crc16, format_crc};
use super::frame::MAX_SEGMENT;
use super::packet::{is_text_byte, Flag, Packet};
use super::time::{format_data_time, is_wire_time};

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum EncodeError {
    #[error("data segment of {len} bytes is longer than {MAX_SEGMENT}")]
    TooLong { len: usize },
    #[error("field {field} cannot be written: {reason}")]
    Invalid { field: String, reason: &'static str },
}

fn invalid(field: &str, reason: &'static str) -> EncodeError {
    EncodeError::Invalid {
        field: field.chars().take(40).collect(),
        reason,
    }
}

/// Frames a data segment: `##` + 4-digit length + segment + CRC + CR LF.
pub fn frame_segment(segment: &str) -> Result<String, EncodeError> {
    let len = segment.len();
    if len > MAX_SEGMENT {
        return Err(EncodeError::TooLong { len });
    }
    let crc = format_crc(crc16(segment.as_bytes()));
    Ok(format!("##{len:04}{segment}{crc}\r\n"))
}

/// The packet as a framed line, ready to send.
pub fn encode_packet(packet: &Packet) -> Result<String, EncodeError> {
    frame_segment(&segment(packet)?)
}

impl Packet {
    /// The packet as a framed line, ready to send.
    pub fn encode(&self) -> Result<String, EncodeError> {
        encode_packet(self)
    }
}

fn header_text(field: &str, value: &str, allow_empty: bool) -> Result<(), EncodeError> {
    if (value.is_empty() && !allow_empty) || value.len() > 32 || !value.bytes().all(is_text_byte) {
        return Err(invalid(
            field,
            "expected 1 to 32 printable ASCII characters, no ; , = &",
        ));
    }
    Ok(())
}

/// The data segment of a packet, in the standard's field order.
pub fn segment(p: &Packet) -> Result<String, EncodeError> {
    let mut s = String::with_capacity(256);
    if let Some(qn) = &p.qn {
        header_text("QN", qn, false)?;
        let _ = write!(s, "QN={qn};");
    }
    if p.st.is_empty() || p.st.len() > 5 || !p.st.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return Err(invalid("ST", "expected 1 to 5 letters or digits"));
    }
    if p.cn > 9999 {
        return Err(invalid("CN", "more than 4 digits"));
    }
    header_text("PW", &p.pw, true)?;
    header_text("MN", &p.mn, false)?;
    let _ = write!(s, "ST={};CN={:04};PW={};MN={};", p.st, p.cn, p.pw, p.mn);
    if let Some(flag) = p.flag {
        if flag.version > 0x3F {
            return Err(invalid("Flag", "version has 6 bits"));
        }
        let _ = write!(s, "Flag={};", flag.bits());
    }
    match (p.pnum, p.pno) {
        (Some(n), Some(i)) if (1..=n).contains(&i) && n <= 999_999_999 => {
            let _ = write!(s, "PNUM={n};PNO={i};");
        }
        (None, None) => {}
        _ => return Err(invalid("PNO", "PNUM and PNO go together, 1 <= PNO <= PNUM")),
    }
    s.push_str("CP=&&");
    write_cp(&mut s, &p.cp)?;
    s.push_str("&&");
    Ok(s)
}

fn write_cp(s: &mut String, cp: &Cp) -> Result<(), EncodeError> {
    let mut groups: Vec<String> = Vec::with_capacity(cp.pollutants.len() + cp.other.len() + 1);
    if let Some(t) = cp.data_time {
        if !is_wire_time(t) {
            return Err(invalid(
                "DataTime",
                "needs a 4-digit year and whole seconds",
            ));
        }
        groups.push(format!("DataTime={}", format_data_time(t)));
    }
    for (i, p) in cp.pollutants.iter().enumerate() {
        if cp.pollutants[..i].iter().any(|q| q.code == p.code) {
            // The parser gathers fields by code: two records would read back as one.
            return Err(invalid(&p.code, "pollutant given twice"));
        }
        groups.push(pollutant_group(p)?);
    }
    for (key, value) in &cp.other {
        // A key that would read back as DataTime or as a pollutant field is not "other".
        let pollutant_like = key
            .split_once('-')
            .is_some_and(|(code, suffix)| is_code(code) && is_pollutant_suffix(suffix));
        if key.is_empty() || key == "DataTime" || pollutant_like || !key.bytes().all(is_text_byte) {
            return Err(invalid(key, "not a free CP key"));
        }
        // Values may hold UTF-8 (device information) but no separators, and no spaces at
        // the ends, which the parser trims.
        let bad = |c: char| matches!(c, ';' | ',' | '=' | '&') || c.is_control();
        if value.contains(bad) || value.trim() != value {
            return Err(invalid(key, "value holds a separator"));
        }
        groups.push(format!("{key}={value}"));
    }
    s.push_str(&groups.join(";"));
    Ok(())
}

fn is_pollutant_suffix(suffix: &str) -> bool {
    matches!(suffix, "Flag" | "EFlag" | "SampleTime") || ReadingKind::from_suffix(suffix).is_some()
}

fn pollutant_group(p: &PollutantValues) -> Result<String, EncodeError> {
    let code = &p.code;
    if !is_code(code) || super::codes::from_legacy(code).is_some() {
        return Err(invalid(code, "not an HJ 212-2017 pollutant code"));
    }
    let mut fields = Vec::with_capacity(p.values.len() + 3);
    if let Some(t) = p.sample_time {
        if !is_wire_time(t) {
            return Err(invalid(
                &format!("{code}-SampleTime"),
                "needs whole seconds",
            ));
        }
        fields.push(format!("{code}-SampleTime={}", format_data_time(t)));
    }
    for (i, &(kind, value)) in p.values.iter().enumerate() {
        let key = format!("{code}-{}", kind.suffix());
        if !value.is_finite() {
            return Err(invalid(&key, "not a finite number"));
        }
        if p.values[..i].iter().any(|(k, _)| *k == kind) {
            return Err(invalid(&key, "kind given twice"));
        }
        // Display writes the shortest text that parses back to the same f64.
        fields.push(format!("{key}={value}"));
    }
    for (suffix, flag, max) in [("Flag", &p.flag, 8), ("EFlag", &p.eflag, 16)] {
        if let Some(flag) = flag {
            if flag.is_empty()
                || flag.len() > max
                || !flag.bytes().all(|b| b.is_ascii_alphanumeric())
            {
                return Err(invalid(&format!("{code}-{suffix}"), "not a data flag"));
            }
            fields.push(format!("{code}-{suffix}={flag}"));
        }
    }
    if fields.is_empty() {
        // Nothing would be written and the code would vanish on the way back.
        return Err(invalid(code, "no fields"));
    }
    Ok(fields.join(","))
}

/// One group of a CP, as [`split_packet`] distributes them.
enum Item<'a> {
    Pollutant(&'a PollutantValues),
    Other(&'a (String, String)),
}

impl Item<'_> {
    fn add_to(&self, cp: &mut Cp) {
        match self {
            Item::Pollutant(p) => cp.pollutants.push((*p).clone()),
            Item::Other(kv) => cp.other.push((*kv).clone()),
        }
    }
}

fn candidate_alone(template: &Packet, item: &Item) -> Packet {
    let mut part = template.clone();
    item.add_to(&mut part.cp);
    part
}

/// Splits a packet whose segment is too long for one frame into parts of at most
/// `max_segment` bytes (`Flag` bit D, `PNUM`, `PNO`), each with the packet's header and
/// `DataTime`. A packet that fits is returned unchanged.
pub fn split_packet(packet: &Packet, max_segment: usize) -> Result<Vec<Packet>, EncodeError> {
    let max_segment = max_segment.min(MAX_SEGMENT);
    let whole = segment(packet)?;
    if whole.len() <= max_segment {
        return Ok(vec![packet.clone()]);
    }
    let flag = packet.flag.unwrap_or(Flag::NO_REPLY);
    let template = Packet {
        flag: Some(Flag { d: true, ..flag }),
        // The widest numbers a part may carry, so a part measured now still fits later.
        pnum: Some(9999),
        pno: Some(9999),
        cp: Cp {
            data_time: packet.cp.data_time,
            ..Cp::default()
        },
        ..packet.clone()
    };
    let fits =
        |part: &Packet| -> Result<bool, EncodeError> { Ok(segment(part)?.len() <= max_segment) };
    let items = packet.cp.pollutants.iter().map(Item::Pollutant);
    let items = items.chain(packet.cp.other.iter().map(Item::Other));
    let mut parts: Vec<Packet> = Vec::new();
    let mut current = template.clone();
    for item in items {
        let mut candidate = current.clone();
        item.add_to(&mut candidate.cp);
        if fits(&candidate)? {
            current = candidate;
            continue;
        }
        let empty = current.cp.pollutants.is_empty() && current.cp.other.is_empty();
        if empty || !fits(&candidate_alone(&template, &item))? {
            // This item does not fit a part of its own.
            return Err(EncodeError::TooLong {
                len: segment(&candidate)?.len(),
            });
        }
        parts.push(std::mem::replace(&mut current, template.clone()));
        item.add_to(&mut current.cp);
    }
    parts.push(current);
    let total = u32::try_from(parts.len()).ok().filter(|&n| n <= 9999);
    let total = total.ok_or(EncodeError::TooLong { len: whole.len() })?;
    for (i, part) in (1..).zip(parts.iter_mut()) {
        part.pnum = Some(total);
        part.pno = Some(i);
    }
    Ok(parts)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::monitoring::hj212::Mode;
    use time::macros::datetime;

    fn sample() -> Packet {
        let mut cod = PollutantValues::new("w01018");
        cod.values = vec![(ReadingKind::Rtd, 2.2)];
        cod.flag = Some("N".into());
        cod.sample_time = Some(datetime!(2016-08-01 07:00:00));
        Packet {
            qn: Some("20160801085857223".into()),
            st: "32".into(),
            cn: 2011,
            pw: "123456".into(),
            mn: "010000A8900016F000169DC0".into(),
            flag: Some(Flag::REPLY),
            pnum: None,
            pno: None,
            cp: Cp {
                data_time: Some(datetime!(2016-08-01 08:58:57)),
                pollutants: vec![cod],
                other: vec![("RtdInterval".into(), "30".into())],
            },
        }
    }

    #[test]
    fn writes_the_standard_layout() {
        let s = segment(&sample()).expect("encodes");
        assert_eq!(
            s,
            "QN=20160801085857223;ST=32;CN=2011;PW=123456;MN=010000A8900016F000169DC0;Flag=5;\
             CP=&&DataTime=20160801085857;w01018-SampleTime=20160801070000,w01018-Rtd=2.2,\
             w01018-Flag=N;RtdInterval=30&&"
        );
        let framed = frame_segment(&s).expect("frames");
        assert!(framed.starts_with(&format!("##{:04}QN=", s.len())) && framed.ends_with("\r\n"));
        let back = Packet::parse(&s, Mode::Strict).expect("parses");
        assert_eq!(back.packet, sample());
        assert!(back.warnings.is_empty());
    }

    #[test]
    fn the_standards_example_frame() {
        let seg = "QN=20160801085857223;ST=32;CN=1062;PW=100000;MN=010000A8900016F000169DC0;\
                   Flag=5;CP=&&RtdInterval=30&&";
        assert_eq!(
            frame_segment(seg).expect("frames"),
            format!("##0101{seg}1C80\r\n")
        );
    }

    #[test]
    fn refuses_what_would_not_read_back() {
        let cases: &[fn(&mut Packet)] = &[
            |p| p.mn = "a;b".into(),
            |p| p.qn = Some(String::new()),
            |p| p.st = String::new(),
            |p| p.cn = 10000,
            |p| p.pnum = Some(2),
            |p| p.cp.pollutants[0].values.push((ReadingKind::Rtd, 1.0)),
            |p| p.cp.pollutants[0].values.push((ReadingKind::Avg, f64::NAN)),
            |p| p.cp.pollutants[0].code = "011".into(),
            |p| p.cp.pollutants[0].code = "w-1".into(),
            |p| p.cp.pollutants[0].flag = Some("N,".into()),
            |p| p.cp.other.push(("w01018-Avg".into(), "1".into())),
            |p| p.cp.other.push(("A".into(), "x&&".into())),
            |p| p.cp.other.push(("A".into(), " x".into())),
            |p| p.cp.data_time = Some(datetime!(2016-08-01 08:58:57.5)),
            |p| p.cp.pollutants.push(PollutantValues::new("w21003")),
            |p| {
                let again = p.cp.pollutants[0].clone();
                p.cp.pollutants.push(again);
            },
        ];
        for (i, change) in cases.iter().enumerate() {
            let mut p = sample();
            change(&mut p);
            assert!(segment(&p).is_err(), "case {i}: {p:?}");
        }
        let mut p = sample();
        p.cp.other.push(("Info".into(), "x".repeat(1000)));
        assert!(matches!(
            encode_packet(&p),
            Err(EncodeError::TooLong { .. })
        ));
    }

    #[test]
    fn splits_a_long_packet() {
        let mut p = sample();
        p.cn = 2061;
        p.cp.pollutants = (0..40)
            .map(|i| {
                let mut v = PollutantValues::new(format!("w{:05}", 30000 + i));
                v.values = ReadingKind::ALL
                    .iter()
                    .map(|&k| (k, f64::from(i) + 0.125))
                    .collect();
                v.flag = Some("N".into());
                v
            })
            .collect();
        assert!(matches!(
            encode_packet(&p),
            Err(EncodeError::TooLong { .. })
        ));
        let parts = split_packet(&p, MAX_SEGMENT).expect("splits");
        assert!(parts.len() > 1);
        let n = u32::try_from(parts.len()).expect("few");
        let mut pollutants = Vec::new();
        for (i, part) in (1..).zip(&parts) {
            let framed = encode_packet(part).expect("each part fits");
            assert!(framed.len() <= MAX_SEGMENT + 12);
            assert_eq!((part.pnum, part.pno), (Some(n), Some(i)));
            assert!(part.flag.is_some_and(|f| f.d && f.a));
            assert_eq!(part.cp.data_time, p.cp.data_time);
            pollutants.extend(part.cp.pollutants.iter().cloned());
        }
        assert_eq!(pollutants, p.cp.pollutants);
        assert_eq!(
            parts.last().map(|l| l.cp.other.clone()),
            Some(p.cp.other.clone())
        );
        // A packet that fits is left alone.
        assert_eq!(split_packet(&sample(), MAX_SEGMENT), Ok(vec![sample()]));
    }
}
