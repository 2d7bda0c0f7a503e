//! Cross-module tests: the standard's messages end to end, and round-trip properties of
//! the encoder, the frame decoder and the reassembler.

mod appendix_c;

use std::time::Instant;

use ::time::macros::datetime;
use ::time::{Date, Month, PrimitiveDateTime};
use proptest::prelude::*;
use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

pub(super) use appendix_c::APPENDIX_C;

use super::encode::segment;
use super::time::format_qn;
use super::*;

pub(super) fn drain(d: &mut FrameDecoder) -> Vec<FrameEvent> {
    std::iter::from_fn(|| d.next_event()).collect()
}

fn frames_of(bytes: &[u8], mode: Mode) -> Vec<FrameEvent> {
    let mut d = FrameDecoder::new(mode);
    d.push(bytes);
    drain(&mut d)
}

fn ok(segment: &str) -> FrameEvent {
    FrameEvent::Frame(Frame {
        segment: segment.to_string(),
        length_mismatch: None,
    })
}

/// The messages with typos the strict parser must refuse, and why.
fn strict_refuses(segment: &str) -> bool {
    segment.contains(",ST=32")        // C.22, C.48: "QN=...534,ST=32"
        || segment.contains("Flag=5CP") // C.19: no ';' before CP
        || segment.contains("e01001-Rtd=2.2") // C.29: e01001-Rtd twice
}

#[test]
fn appendix_c_messages_decode() {
    assert_eq!(APPENDIX_C.len(), 78);
    for &(table, seg) in APPENDIX_C {
        let framed = frame_segment(seg).expect("fits a frame");
        assert_eq!(
            frames_of(framed.as_bytes(), Mode::Strict),
            [ok(seg)],
            "{table}"
        );
        let lenient = Packet::parse(seg, Mode::Lenient);
        if seg.contains(",ST=32") {
            assert!(
                matches!(&lenient, Err(PacketError::Invalid { field, .. }) if field == "QN"),
                "{table}"
            );
        } else {
            let p = lenient.unwrap_or_else(|e| panic!("{table}: {e}")).packet;
            assert_eq!(p.mn, "010000A8900016F000169DC0", "{table}");
            assert!(seg.contains(&format!("CN={:04};", p.cn)), "{table}");
        }
        let strict = Packet::parse(seg, Mode::Strict);
        assert_eq!(strict.is_err(), strict_refuses(seg), "{table}: {strict:?}");
    }
}

fn find(table: &str, needle: &str) -> Packet {
    let (_, seg) = APPENDIX_C
        .iter()
        .find(|(t, s)| *t == table && s.contains(needle))
        .unwrap_or_else(|| panic!("{table} {needle}"));
    Packet::parse(seg, Mode::Lenient).expect("parses").packet
}

#[test]
fn appendix_c_values() {
    // C.14 real-time upload; its "01018-Rtd" is a typo of the text, kept as the code sent.
    let p = find("C.14", "CN=2011");
    let up = data_upload(&p, BEIJING).expect("data");
    assert_eq!(up.time, datetime!(2016-08-01 00:58:57 UTC));
    let got: Vec<_> = up
        .records
        .iter()
        .map(|r| (r.pollutant.as_str(), r.kind, r.value, r.flag.as_deref()))
        .collect();
    assert_eq!(
        got,
        [
            ("w01001", ReadingKind::Rtd, 7.1, Some("N")),
            ("01018", ReadingKind::Rtd, 2.2, None)
        ]
    );
    let cod = p.cp.pollutant("w01018").expect("w01018");
    assert_eq!(
        (cod.flag.as_deref(), cod.eflag.as_deref()),
        (Some("N"), Some("A01"))
    );
    assert_eq!(cod.sample_time, Some(datetime!(2016-08-01 07:00:00)));

    // C.17 hourly upload.
    let p = find("C.17", "CN=2061");
    let up = data_upload(&p, BEIJING).expect("data");
    assert_eq!(
        (up.command.interval(), up.records.len(), up.ignored),
        (Interval::Hour, 11, 0)
    );
    assert_eq!(up.time, datetime!(2016-08-01 00:00:00 UTC));
    let flow = p.cp.pollutant("w00000").expect("flow");
    assert_eq!(flow.value(ReadingKind::Cou), Some(63.0));
    assert_eq!(flow.value(ReadingKind::Max), Some(20.1));

    // C.18 daily and C.16 minute uploads.
    let up = data_upload(&find("C.18", "CN=2031"), BEIJING).expect("data");
    assert_eq!(
        (up.command, up.time),
        (DataCommand::Daily, datetime!(2016-07-31 16:00:00 UTC))
    );
    assert_eq!(
        data_upload(&find("C.16", "CN=2051"), BEIJING).map(|u| u.records.len()),
        Ok(11)
    );

    // Noise (C.25, C.26), facility status (C.15), device information (C.40).
    let p = find("C.25", "LA-Rtd");
    assert_eq!(
        p.cp.pollutant("LA").and_then(|l| l.value(ReadingKind::Rtd)),
        Some(50.1)
    );
    let p = find("C.26", "L5-Data");
    assert!(p.cp.pollutants.is_empty());
    assert_eq!(p.cp.get("L5-Data"), Some("53.0"));
    assert_eq!(
        facility_states(&find("C.15", "SB1-RS").cp),
        [("SB1", "1"), ("SB2", "0")]
    );
    assert_eq!(
        find("C.40", "i11001").cp.get("i11001-Info"),
        Some("//清洗管路//")
    );
    let p = find("C.1", "OverTime");
    assert_eq!(
        (p.cp.get("OverTime"), p.cp.get("ReCount")),
        (Some("5"), Some("3"))
    );

    // C.29 names e01001-Rtd twice: lenient keeps the first.
    let (_, seg) = APPENDIX_C.iter().find(|(t, _)| *t == "C.29").expect("C.29");
    let parsed = Packet::parse(seg, Mode::Lenient).expect("parses");
    assert_eq!(
        parsed
            .packet
            .cp
            .pollutant("e01001")
            .and_then(|e| e.value(ReadingKind::Rtd)),
        Some(1.1)
    );
    assert_eq!(
        parsed.warnings,
        [ParseWarning::DuplicateField("e01001-Rtd".into())]
    );
}

#[test]
fn appendix_c_replies_are_ours() {
    // Every data reply (9014) of the appendix is what we answer to the message before it.
    let mut checked = 0;
    for pair in APPENDIX_C.windows(2) {
        let [(table, upload), (_, reply)] = pair else {
            continue;
        };
        if !reply.contains("CN=9014") {
            continue;
        }
        let Ok(parsed) = Packet::parse(upload, Mode::Lenient) else {
            continue;
        };
        assert!(parsed.packet.wants_reply(), "{table}");
        assert_eq!(data_reply(&parsed.packet), frame_segment(reply), "{table}");
        checked += 1;
    }
    assert_eq!(checked, 5);
}

#[test]
fn appendix_c_split_with_replies() {
    let parts: Vec<_> = APPENDIX_C
        .iter()
        .filter(|(t, s)| *t == "C.50" && s.contains("PNUM"))
        .map(|(_, s)| Packet::parse(s, Mode::Strict).expect("parses").packet)
        .collect();
    assert_eq!(parts.len(), 2);
    let mut r = Reassembler::default();
    let now = Instant::now();
    let mut done = None;
    for part in parts {
        // Each part is answered on arrival, echoing its own QN.
        let reply = data_reply(&part).expect("reply");
        assert!(reply.contains(&format!(
            "QN={};ST=91;CN=9014",
            part.qn.as_deref().unwrap_or("")
        )));
        if let Reassembly::Complete(p) = r.push(part, now) {
            done = Some(p);
        }
    }
    let whole = done.expect("complete");
    assert_eq!(
        data_upload(&whole, BEIJING).map(|u| u.records.len()),
        Ok(11)
    );
}

// ---- properties -------------------------------------------------------------------

fn arb_time() -> impl Strategy<Value = PrimitiveDateTime> {
    (2000i32..2100, 1u8..=12, 1u8..=28, 0u8..24, 0u8..60, 0u8..60).prop_filter_map(
        "valid",
        |(y, mo, d, h, mi, s)| {
            let date = Date::from_calendar_date(y, Month::try_from(mo).ok()?, d).ok()?;
            date.with_hms(h, mi, s).ok()
        },
    )
}

fn arb_value() -> impl Strategy<Value = f64> {
    (-10_000_000i64..10_000_000, 0u32..4).prop_map(|(n, scale)| n as f64 / 10f64.powi(scale as i32))
}

fn arb_pollutant(code: String) -> impl Strategy<Value = PollutantValues> {
    (
        prop::sample::subsequence(ReadingKind::ALL.to_vec(), 0..=7),
        prop::collection::vec(arb_value(), 7),
        prop::option::of("[NFMSDCTB]"),
        prop::option::of("[A-Z0-9]{1,4}"),
        prop::option::of(arb_time()),
    )
        .prop_map(
            move |(kinds, values, flag, eflag, sample_time)| PollutantValues {
                code: code.clone(),
                values: kinds.into_iter().zip(values).collect(),
                flag,
                eflag,
                sample_time,
            },
        )
        .prop_filter("some field", |p| {
            !p.values.is_empty() || p.flag.is_some() || p.eflag.is_some() || p.sample_time.is_some()
        })
}

fn arb_cp() -> impl Strategy<Value = Cp> {
    let codes = prop::collection::btree_set("[aw][0-9]{5}", 0..6);
    let pollutants =
        codes.prop_flat_map(|codes| codes.into_iter().map(arb_pollutant).collect::<Vec<_>>());
    let key = prop_oneof!["[A-Z][a-z]{1,8}", "SB[1-9]-R[ST]"];
    let other = prop::collection::vec((key, "[0-9A-Za-z.]{0,10}"), 0..4);
    (prop::option::of(arb_time()), pollutants, other).prop_map(|(data_time, pollutants, other)| {
        Cp {
            data_time,
            pollutants,
            other,
        }
    })
}

/// Packets the strict parser accepts.
fn arb_packet() -> impl Strategy<Value = Packet> {
    let split = prop_oneof![
        Just(None),
        (1u32..50)
            .prop_flat_map(|n| (Just(n), 1..=n))
            .prop_map(Some)
    ];
    (
        arb_time(),
        0u16..1000,
        "[0-9A-Z]{2}",
        0u16..=9999,
        "[0-9A-Za-z]{1,6}",
        "[0-9A-F]{1,24}",
        any::<bool>(),
        split,
        arb_cp(),
    )
        .prop_map(|(sent, ms, st, cn, pw, mn, a, split, cp)| {
            let sent = sent.replace_millisecond(ms).unwrap_or(sent);
            Packet {
                qn: Some(format_qn(sent)),
                st,
                cn,
                pw,
                mn,
                flag: Some(Flag {
                    version: 1,
                    d: split.is_some(),
                    a,
                }),
                pnum: split.map(|(n, _)| n),
                pno: split.map(|(_, i)| i),
                cp,
            }
        })
}

proptest! {
    #[test]
    fn parse_inverts_encode(p in arb_packet()) {
        let s = segment(&p).expect("encodes");
        for mode in [Mode::Strict, Mode::Lenient] {
            let parsed = Packet::parse(&s, mode).expect("parses");
            prop_assert_eq!(&parsed.packet, &p);
            prop_assert!(parsed.warnings.is_empty(), "{:?}", parsed.warnings);
        }
    }

    #[test]
    fn frames_survive_any_chunking_and_garbage(
        packets in prop::collection::vec(arb_packet(), 1..4),
        garbage in prop::collection::vec("[^#]{0,40}", 4),
        cuts in prop::collection::vec(1usize..200, 1..20),
    ) {
        let mut stream = Vec::new();
        let mut expected = Vec::new();
        for (p, junk) in packets.iter().zip(&garbage) {
            let Ok(framed) = encode_packet(p) else { continue };
            stream.extend_from_slice(junk.as_bytes());
            stream.extend_from_slice(framed.as_bytes());
            expected.push(p.clone());
        }
        let mut d = FrameDecoder::new(Mode::Strict);
        let mut got = Vec::new();
        let mut rest = &stream[..];
        for cut in cuts.iter().cycle() {
            if rest.is_empty() {
                break;
            }
            let (chunk, tail) = rest.split_at((*cut).min(rest.len()));
            rest = tail;
            d.push(chunk);
            for event in drain(&mut d) {
                if let FrameEvent::Frame(f) = event {
                    got.push(Packet::parse(&f.segment, Mode::Strict).expect("parses").packet);
                }
            }
            prop_assert!(d.buffered() < MAX_FRAME);
        }
        prop_assert_eq!(got, expected);
    }

    #[test]
    fn split_then_reassemble_in_any_order(
        mut p in arb_packet(),
        max in 200usize..=MAX_SEGMENT,
        seed: u64,
    ) {
        p.pnum = None;
        p.pno = None;
        p.flag = p.flag.map(|f| Flag { d: false, ..f });
        let Ok(mut parts) = split_packet(&p, max) else { return Ok(()) };
        for part in &parts {
            let s = segment(part).expect("encodes");
            prop_assert!(s.len() <= max);
            prop_assert_eq!(&Packet::parse(&s, Mode::Strict).expect("parses").packet, part);
        }
        parts.shuffle(&mut ChaCha8Rng::seed_from_u64(seed));
        let config = ReassemblerConfig { max_parts: 9999, ..ReassemblerConfig::default() };
        let mut r = Reassembler::new(config);
        let now = Instant::now();
        let mut done = Vec::new();
        for part in parts {
            if let Reassembly::Complete(whole) = r.push(part, now) {
                done.push(whole);
            }
        }
        prop_assert_eq!(done, vec![p]);
        prop_assert_eq!(r.pending(), 0);
    }

    #[test]
    fn arbitrary_bytes_never_panic(
        bytes in prop::collection::vec(any::<u8>(), 0..3000),
        chunk in 1usize..600,
    ) {
        for mode in [Mode::Lenient, Mode::Strict] {
            let mut d = FrameDecoder::new(mode);
            for piece in bytes.chunks(chunk) {
                d.push(piece);
                for event in drain(&mut d) {
                    if let FrameEvent::Frame(f) = event {
                        let _ = Packet::parse(&f.segment, mode);
                    }
                }
                prop_assert!(d.buffered() < MAX_FRAME);
            }
            let _ = Packet::parse(&String::from_utf8_lossy(&bytes), mode);
        }
    }
}
