//! Fuzzing on stable Rust: a seeded mutation loop over real frames (the standard's
//! messages, encoded packets, split parts, a 2005-style upload) feeding the frame
//! decoder in random chunks, then the parser, the record conversion, the data reply and
//! the reassembler. Checked on every input: nothing panics, the decoder holds less than
//! one frame between pushes, the reassembler stays within its bound, a reply can be
//! built for every parsed packet, and re-encoding a parsed packet reads back the same.
//!
//! `ENVATLAS_FUZZ_CASES` sets the number of inputs (default 20,000, a few seconds in a
//! debug build) and `ENVATLAS_FUZZ_SEED` the seed; `scripts/bench fuzz` runs a million
//! in release.

use std::time::{Duration, Instant};

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::encode::segment;
use super::tests::{drain, APPENDIX_C};
use super::*;

const DEFAULT_CASES: u64 = 20_000;

fn env_u64(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.trim().replace('_', "").parse().ok())
        .unwrap_or(default)
}

/// Raw frame around arbitrary segment bytes, with the right length and CRC, so that
/// mutated segments reach the parser.
fn raw_frame(seg: &[u8]) -> Vec<u8> {
    let mut out = format!("##{:04}", seg.len() % 10_000).into_bytes();
    out.extend_from_slice(seg);
    out.extend_from_slice(format!("{:04X}\r\n", crc16(seg)).as_bytes());
    out
}

fn corpus() -> Vec<Vec<u8>> {
    let mut segments: Vec<String> = APPENDIX_C.iter().map(|(_, s)| s.to_string()).collect();
    segments.push(
        "QN=20160801085857223;ST=32;CN=1062;PW=100000;MN=010000A8900016F000169DC0;Flag=5;\
         CP=&&RtdInterval=30&&"
            .into(),
    );
    segments.push(
        "ST=31;CN=2011;PW=123456;MN=88888880000001;CP=&&DataTime=20160801085857;\
                   01-Rtd=12.5,01-Flag=N;02-Rtd=35.1,02-ZsRtd=40,02-Flag=N;S01-Rtd=9.1&&"
            .into(),
    );
    // A long hourly upload, split into parts.
    let pollutants = (0..30)
        .map(|i| {
            let mut p = PollutantValues::new(format!("a{:05}", 21000 + i));
            p.values = ReadingKind::ALL
                .iter()
                .map(|&k| (k, f64::from(i) * 1.25))
                .collect();
            p.flag = Some("N".into());
            p
        })
        .collect();
    let cp = Cp {
        data_time: super::time::parse_data_time("20240101080000").ok(),
        pollutants,
        other: vec![],
    };
    let sent = super::time::parse_qn("20240101090000001").ok();
    if let Some(sent) = sent {
        let upload = Packet::upload("31", DataCommand::Hourly, "123456", "MNFUZZ0001", sent, cp);
        for part in split_packet(&upload, 400).unwrap_or_default() {
            segments.extend(segment(&part).ok());
        }
    }
    segments
        .into_iter()
        .map(|s| raw_frame(s.as_bytes()))
        .collect()
}

const TOKENS: &[&[u8]] = &[
    b"##",
    b"\r\n",
    b"&&",
    b";",
    b",",
    b"=",
    b"-",
    b"CP=&&",
    b"-Rtd=",
    b"-Flag=N",
    b"DataTime=",
    b"PNUM=2;PNO=1;",
    b"Flag=7;",
    b"9999",
    b"0000",
    b"1024",
    b"\xff\xfe",
    b"1e999",
    b"NaN",
    b"\0",
];

fn mutate(rng: &mut ChaCha8Rng, data: &mut Vec<u8>, corpus: &[Vec<u8>]) {
    for _ in 0..rng.gen_range(1..=4) {
        let len = data.len();
        let at = rng.gen_range(0..=len);
        match rng.gen_range(0..10) {
            0 if len > 0 => data[at.min(len - 1)] ^= 1 << rng.gen_range(0..8),
            1 if len > 0 => data[at.min(len - 1)] = rng.gen(),
            2 => data.truncate(at),
            3 => {
                let junk: Vec<u8> = (0..rng.gen_range(1..16)).map(|_| rng.gen()).collect();
                data.splice(at..at, junk);
            }
            4 => {
                data.splice(at..at, *b"##");
            }
            5 => {
                let end = rng.gen_range(at..=len);
                data.drain(at..end);
            }
            6 => {
                let end = rng.gen_range(at..=len.min(at + 200));
                let copy = data[at..end].to_vec();
                data.splice(at..at, copy);
            }
            7 => {
                let other = &corpus[rng.gen_range(0..corpus.len())];
                let from = rng.gen_range(0..=other.len());
                data.truncate(at);
                data.extend_from_slice(&other[from..]);
            }
            8 => {
                let token = TOKENS[rng.gen_range(0..TOKENS.len())];
                data.splice(at..at, token.iter().copied());
            }
            _ if len >= 6 => {
                let n: u16 = rng.gen_range(0..10_000);
                data[2..6].copy_from_slice(format!("{n:04}").as_bytes());
            }
            _ => {}
        }
    }
}

/// The input for one case: mutated frames, or a mutated segment framed correctly so
/// that it passes the CRC, with valid frames around it.
fn input(rng: &mut ChaCha8Rng, corpus: &[Vec<u8>]) -> Vec<u8> {
    let pick = |rng: &mut ChaCha8Rng| corpus[rng.gen_range(0..corpus.len())].clone();
    let mut out = Vec::new();
    for _ in 0..rng.gen_range(1..=3) {
        let mut frame = pick(rng);
        match rng.gen_range(0..3) {
            0 => mutate(rng, &mut frame, corpus),
            1 => {
                let mut seg = frame[6..frame.len().saturating_sub(6).max(6)].to_vec();
                mutate(rng, &mut seg, corpus);
                frame = raw_frame(&seg);
            }
            _ => {}
        }
        out.extend_from_slice(&frame);
    }
    out
}

#[derive(Debug, Default)]
struct Tally {
    bytes: u64,
    frames: u64,
    parsed: u64,
    bad_crc: u64,
    skips: u64,
    uploads: u64,
    completed: u64,
}

fn check_packet(parsed: &Parsed, mode: Mode) {
    let p = &parsed.packet;
    // A packet we could parse can always be answered.
    let reply = data_reply(p).unwrap_or_else(|e| panic!("no reply to {p:?}: {e}"));
    assert!(reply.ends_with("\r\n"));
    // What we write back reads back the same.
    if let Ok(s) = segment(p) {
        let again = Packet::parse(&s, mode).map(|x| x.packet);
        let lenient = Packet::parse(&s, Mode::Lenient).map(|x| x.packet);
        assert!(again.as_ref().is_err() || again.as_ref() == Ok(p), "{s}");
        assert_eq!(lenient.as_ref(), Ok(p), "{s}");
    }
}

#[test]
fn decoder_and_parser_survive_mutations() {
    let cases = env_u64("ENVATLAS_FUZZ_CASES", DEFAULT_CASES);
    let seed = env_u64("ENVATLAS_FUZZ_SEED", 212);
    let corpus = corpus();
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let config = ReassemblerConfig {
        max_pending: 16,
        max_parts: 8,
        timeout: Duration::from_secs(5),
    };
    let mut reassembler = Reassembler::new(config);
    let mut tally = Tally::default();
    let start = Instant::now();
    for case in 0..cases {
        let bytes = input(&mut rng, &corpus);
        tally.bytes += bytes.len() as u64;
        let mode = if case % 2 == 0 {
            Mode::Lenient
        } else {
            Mode::Strict
        };
        let mut decoder = FrameDecoder::new(mode);
        let mut rest = &bytes[..];
        while !rest.is_empty() {
            let (chunk, tail) = rest.split_at(rng.gen_range(1..=rest.len()));
            rest = tail;
            decoder.push(chunk);
            for event in drain(&mut decoder) {
                match event {
                    FrameEvent::Frame(frame) => {
                        tally.frames += 1;
                        let Ok(parsed) = Packet::parse(&frame.segment, mode) else {
                            continue;
                        };
                        tally.parsed += 1;
                        check_packet(&parsed, mode);
                        tally.uploads += u64::from(data_upload(&parsed.packet, BEIJING).is_ok());
                        // Simulated clock: one millisecond per case.
                        let now = start + Duration::from_millis(case);
                        let outcome = reassembler.push(parsed.packet, now);
                        tally.completed += u64::from(matches!(outcome, Reassembly::Complete(_)));
                        assert!(reassembler.pending() <= config.max_pending);
                    }
                    FrameEvent::BadCrc { .. } => tally.bad_crc += 1,
                    FrameEvent::Skipped { .. } => tally.skips += 1,
                }
            }
            assert!(
                decoder.buffered() < MAX_FRAME,
                "decoder holds {} bytes",
                decoder.buffered()
            );
        }
        // The parser also sees the raw input, whatever the framing made of it.
        let _ = Packet::parse(&String::from_utf8_lossy(&bytes), mode);
    }
    let secs = start.elapsed().as_secs_f64();
    eprintln!(
        "hj212 fuzz: {cases} inputs ({} KiB) in {secs:.2} s = {:.0} inputs/s, seed {seed}; \
         {tally:?}",
        tally.bytes / 1024,
        cases as f64 / secs.max(1e-9),
    );
    // The corpus keeps the mutations near real frames: many must still parse.
    assert!(cases < 1000 || tally.parsed * 10 > cases, "{tally:?}");
}
