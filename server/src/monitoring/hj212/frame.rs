//! The incremental frame decoder for a TCP byte stream:
//! `##` + 4-digit length + data segment (≤ 1024 bytes) + 4 hex CRC + CR LF.
//!
//! Push bytes as they arrive ([`FrameDecoder::push`]) and pop outcomes
//! ([`FrameDecoder::next_event`]) until `None`. Anything that is not a frame is skipped
//! by resynchronising on the next `##`, so one bad frame never costs the frames after
//! it. A frame whose length field is wrong but whose real segment (up to `&&` + CRC +
//! CR LF) is well formed is accepted in lenient mode and counted; strict mode skips it.
//! A wrong CRC refuses the frame ([`FrameEvent::BadCrc`]); the standard says no reply.
//!
//! Memory is bounded: after the events are drained the decoder holds less than
//! [`MAX_FRAME`] bytes, because a frame cannot be longer and anything without a
//! terminator by then is skipped.

use super::crc::{crc16, parse_crc};
use super::Mode;

/// Longest data segment the standard allows.
pub const MAX_SEGMENT: usize = 1024;
/// `##` and the 4-digit length.
const HEADER: usize = 6;
/// CRC and CR LF.
const TRAILER: usize = 6;
/// Longest frame: 1036 bytes.
pub const MAX_FRAME: usize = HEADER + MAX_SEGMENT + TRAILER;

/// A frame whose CRC matched.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frame {
    /// The data segment. Bytes that are not UTF-8 (a GBK device) become U+FFFD; the CRC
    /// was checked on the bytes as received.
    pub segment: String,
    /// Set when the length field disagreed with the real segment (lenient mode only).
    pub length_mismatch: Option<LengthMismatch>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LengthMismatch {
    pub declared: usize,
    pub actual: usize,
}

/// What [`FrameDecoder::next_event`] found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FrameEvent {
    Frame(Frame),
    /// A well-formed frame whose CRC does not match: refuse it, send no reply.
    BadCrc {
        segment: String,
        received: u16,
        computed: u16,
    },
    /// Bytes dropped while looking for the next frame.
    Skipped {
        bytes: usize,
        reason: SkipReason,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SkipReason {
    /// Bytes before a `##`.
    Garbage,
    /// The 4 characters after `##` are not digits.
    BadLength,
    /// The length field is over 1024.
    LengthTooLarge,
    /// A new `##` began before this frame's CR LF.
    Truncated,
    /// No CR LF within the longest possible frame.
    MissingTerminator,
    /// A CR LF, but not after `&&` and 4 hex digits (or the segment is over 1024).
    Malformed,
    /// The length field is wrong (strict mode).
    LengthMismatch,
}

/// Counters since the decoder was created.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FrameStats {
    pub frames: u64,
    pub bad_crc: u64,
    pub length_mismatches: u64,
    /// Skip events, and the bytes they dropped.
    pub skips: u64,
    pub skipped_bytes: u64,
}

/// One decoder per connection.
#[derive(Debug, Default)]
pub struct FrameDecoder {
    buf: Vec<u8>,
    mode: Mode,
    stats: FrameStats,
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

impl FrameDecoder {
    pub fn new(mode: Mode) -> Self {
        Self {
            buf: Vec::with_capacity(MAX_FRAME),
            mode,
            stats: FrameStats::default(),
        }
    }

    /// Appends received bytes. Drain [`Self::next_event`] after each push: the bound on
    /// memory holds between pushes, so push chunks of a socket read's size.
    pub fn push(&mut self, bytes: &[u8]) {
        self.buf.extend_from_slice(bytes);
    }

    /// Bytes held, waiting for the rest of a frame.
    pub fn buffered(&self) -> usize {
        self.buf.len()
    }

    pub fn stats(&self) -> FrameStats {
        self.stats
    }

    /// The next outcome, or `None` when more bytes are needed.
    pub fn next_event(&mut self) -> Option<FrameEvent> {
        match find(&self.buf, b"##") {
            Some(0) => {}
            Some(p) => return Some(self.skip(p, SkipReason::Garbage)),
            None => {
                // A trailing '#' may be the first half of the next "##".
                let keep = usize::from(self.buf.last() == Some(&b'#'));
                let drop = self.buf.len() - keep;
                return (drop > 0).then(|| self.skip(drop, SkipReason::Garbage));
            }
        }
        if self.buf.len() < HEADER {
            return None;
        }
        let declared = match parse_length(&self.buf[2..HEADER]) {
            None => return Some(self.resync(SkipReason::BadLength)),
            Some(n) if n > MAX_SEGMENT => return Some(self.resync(SkipReason::LengthTooLarge)),
            Some(n) => n,
        };

        // By the length field, unless that would swallow a CR LF: a length too long by
        // exactly the next frame must not cost the next frame.
        let end = HEADER + declared + TRAILER;
        if self.buf.len() >= end && &self.buf[end - 2..end] == b"\r\n" {
            let crc = parse_crc(&self.buf[end - TRAILER..end - 2]);
            let swallows = find(&self.buf[HEADER..end - 2], b"\r\n").is_some();
            if let (Some(crc), false) = (crc, swallows) {
                return Some(self.finish(HEADER + declared, crc, end, None));
            }
        }

        // By the real end: the first CR LF, unless a new frame begins before it. The
        // segment holds no CR LF (the protocol is line-based ASCII); a `##` followed by
        // 4 digits is taken as the next frame's header (a lone `##` could be in a password).
        let window = &self.buf[..self.buf.len().min(MAX_FRAME)];
        let next_start = next_header(window, HEADER);
        let crlf = find(&window[HEADER..], b"\r\n").map(|i| i + HEADER);
        let frame_end = crlf.filter(|&e| next_start.is_none_or(|s| s > e));
        match (frame_end, next_start) {
            (Some(e), _) => {
                let shaped = (e >= HEADER + 4).then(|| e - 4).and_then(|seg_end| {
                    let crc = parse_crc(&self.buf[seg_end..e])?;
                    let segment = &self.buf[HEADER..seg_end];
                    (segment.ends_with(b"&&") && segment.len() <= MAX_SEGMENT)
                        .then_some((seg_end, crc))
                });
                let Some((seg_end, crc)) = shaped else {
                    return Some(self.skip(e + 2, SkipReason::Malformed));
                };
                let actual = seg_end - HEADER;
                if self.mode == Mode::Strict {
                    return Some(self.skip(e + 2, SkipReason::LengthMismatch));
                }
                self.stats.length_mismatches += 1;
                Some(self.finish(
                    seg_end,
                    crc,
                    e + 2,
                    Some(LengthMismatch { declared, actual }),
                ))
            }
            (None, Some(s)) => Some(self.skip(s, SkipReason::Truncated)),
            (None, None) if self.buf.len() >= MAX_FRAME => {
                Some(self.resync(SkipReason::MissingTerminator))
            }
            (None, None) => None,
        }
    }

    /// Consumes a frame of `consumed` bytes whose segment ends at `seg_end`.
    fn finish(
        &mut self,
        seg_end: usize,
        received: u16,
        consumed: usize,
        length_mismatch: Option<LengthMismatch>,
    ) -> FrameEvent {
        let bytes = &self.buf[HEADER..seg_end];
        let computed = crc16(bytes);
        let segment = String::from_utf8_lossy(bytes).into_owned();
        self.buf.drain(..consumed);
        if computed == received {
            self.stats.frames += 1;
            FrameEvent::Frame(Frame {
                segment,
                length_mismatch,
            })
        } else {
            self.stats.bad_crc += 1;
            FrameEvent::BadCrc {
                segment,
                received,
                computed,
            }
        }
    }

    fn skip(&mut self, bytes: usize, reason: SkipReason) -> FrameEvent {
        self.buf.drain(..bytes);
        self.stats.skips += 1;
        self.stats.skipped_bytes += bytes as u64;
        FrameEvent::Skipped { bytes, reason }
    }

    /// Drops the `##` at the front and everything up to the next `##`.
    fn resync(&mut self, reason: SkipReason) -> FrameEvent {
        let bytes = match find(&self.buf[1..], b"##") {
            Some(i) => i + 1,
            None => self.buf.len() - usize::from(self.buf.last() == Some(&b'#')),
        };
        // The buffer starts with "##", so at least one byte goes.
        self.skip(bytes.max(1), reason)
    }
}

/// The first `##` at or after `from` followed by 4 digits. A `##` at the end of the
/// buffer is decided when its digits arrive.
fn next_header(buf: &[u8], from: usize) -> Option<usize> {
    let mut at = from;
    while let Some(i) = find(&buf[at..], b"##") {
        let p = at + i;
        if buf
            .get(p + 2..p + HEADER)
            .is_some_and(|d| d.iter().all(u8::is_ascii_digit))
        {
            return Some(p);
        }
        at = p + 1;
    }
    None
}

fn parse_length(digits: &[u8]) -> Option<usize> {
    digits.iter().try_fold(0usize, |acc, &b| {
        b.is_ascii_digit().then(|| acc * 10 + usize::from(b - b'0'))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::monitoring::hj212::encode::frame_segment;

    const SEGMENT: &str = "QN=20160801085857223;ST=32;CN=1062;PW=100000;\
        MN=010000A8900016F000169DC0;Flag=5;CP=&&RtdInterval=30&&";
    const EXAMPLE: &str = "##0101QN=20160801085857223;ST=32;CN=1062;PW=100000;\
        MN=010000A8900016F000169DC0;Flag=5;CP=&&RtdInterval=30&&1C80\r\n";

    fn drain(d: &mut FrameDecoder) -> Vec<FrameEvent> {
        std::iter::from_fn(|| d.next_event()).collect()
    }

    fn decode(mode: Mode, bytes: &[u8]) -> Vec<FrameEvent> {
        let mut d = FrameDecoder::new(mode);
        d.push(bytes);
        let events = drain(&mut d);
        assert!(d.buffered() < MAX_FRAME);
        events
    }

    fn ok(segment: &str) -> FrameEvent {
        FrameEvent::Frame(Frame {
            segment: segment.to_string(),
            length_mismatch: None,
        })
    }

    fn skipped(bytes: usize, reason: SkipReason) -> FrameEvent {
        FrameEvent::Skipped { bytes, reason }
    }

    #[test]
    fn the_standards_example() {
        let mut d = FrameDecoder::new(Mode::Strict);
        d.push(EXAMPLE.as_bytes());
        assert_eq!(drain(&mut d), [ok(SEGMENT)]);
        assert_eq!(d.buffered(), 0);
        assert_eq!(
            d.stats(),
            FrameStats {
                frames: 1,
                ..FrameStats::default()
            }
        );
    }

    #[test]
    fn lower_case_crc_is_accepted() {
        let lower = EXAMPLE.replace("1C80", "1c80");
        assert_eq!(decode(Mode::Strict, lower.as_bytes()), [ok(SEGMENT)]);
    }

    #[test]
    fn a_bad_crc_is_refused() {
        let bad = EXAMPLE.replace("1C80", "1C81");
        let events = decode(Mode::Lenient, bad.as_bytes());
        let refused = FrameEvent::BadCrc {
            segment: SEGMENT.into(),
            received: 0x1C81,
            computed: 0x1C80,
        };
        assert_eq!(events, [refused]);
        // A changed byte in the segment too.
        let bad = EXAMPLE.replace("RtdInterval=30", "RtdInterval=31");
        assert!(matches!(
            decode(Mode::Lenient, bad.as_bytes())[..],
            [FrameEvent::BadCrc { .. }]
        ));
    }

    #[test]
    fn a_wrong_length_is_lenient_only() {
        for wrong in ["0100", "0102", "0050", "1024", "0000", "0214"] {
            let framed = EXAMPLE.replacen("0101", wrong, 1);
            let declared: usize = wrong.parse().expect("digits");
            let events = decode(Mode::Lenient, framed.as_bytes());
            let mismatch = Some(LengthMismatch {
                declared,
                actual: 101,
            });
            let expected = FrameEvent::Frame(Frame {
                segment: SEGMENT.into(),
                length_mismatch: mismatch,
            });
            assert_eq!(events, [expected], "{wrong}");
            // Strict mode refuses it and still decodes the next frame.
            let two = format!("{framed}{EXAMPLE}");
            let events = decode(Mode::Strict, two.as_bytes());
            assert_eq!(
                events,
                [
                    skipped(framed.len(), SkipReason::LengthMismatch),
                    ok(SEGMENT)
                ],
                "{wrong}"
            );
        }
        let mut d = FrameDecoder::new(Mode::Lenient);
        d.push(EXAMPLE.replacen("0101", "0100", 1).as_bytes());
        drain(&mut d);
        assert_eq!(d.stats().length_mismatches, 1);
    }

    #[test]
    fn garbage_then_a_frame() {
        let input = format!("hello\r\n#garbage##x{EXAMPLE}");
        let events = decode(Mode::Strict, input.as_bytes());
        assert_eq!(
            events,
            [
                skipped(15, SkipReason::Garbage),
                skipped(3, SkipReason::BadLength),
                ok(SEGMENT),
            ]
        );
        // A stray '#' right before the frame.
        let events = decode(Mode::Strict, format!("#{EXAMPLE}").as_bytes());
        assert_eq!(events, [skipped(1, SkipReason::BadLength), ok(SEGMENT)]);
    }

    #[test]
    fn split_at_every_point() {
        let bytes = format!("{EXAMPLE}{EXAMPLE}").into_bytes();
        for cut in 0..=bytes.len() {
            let mut d = FrameDecoder::new(Mode::Strict);
            d.push(&bytes[..cut]);
            let mut events = drain(&mut d);
            d.push(&bytes[cut..]);
            events.extend(drain(&mut d));
            assert_eq!(events, [ok(SEGMENT), ok(SEGMENT)], "cut at {cut}");
        }
        let mut d = FrameDecoder::new(Mode::Strict);
        let mut events = Vec::new();
        for b in &bytes {
            d.push(std::slice::from_ref(b));
            events.extend(drain(&mut d));
        }
        assert_eq!(events, [ok(SEGMENT), ok(SEGMENT)]);
    }

    #[test]
    fn a_length_over_1024_is_skipped() {
        let long = format!("##2000{SEGMENT}1C80\r\n");
        let events = decode(Mode::Lenient, format!("{long}{EXAMPLE}").as_bytes());
        assert_eq!(
            events,
            [skipped(long.len(), SkipReason::LengthTooLarge), ok(SEGMENT)]
        );
        // A real segment over 1024 bytes, declared honestly or not.
        let big = format!("CP=&&{}&&", "x".repeat(1100));
        for declared in ["1024", "0100"] {
            let framed = format!("##{declared}{big}0000\r\n");
            let events = decode(Mode::Lenient, format!("{framed}{EXAMPLE}").as_bytes());
            assert_eq!(events.last(), Some(&ok(SEGMENT)), "{declared}");
            assert!(events[..events.len() - 1]
                .iter()
                .all(|e| matches!(e, FrameEvent::Skipped { .. })));
        }
        // The longest legal segment decodes.
        let max = format!("CP=&&{}&&", "x".repeat(MAX_SEGMENT - 7));
        let framed = frame_segment(&max).expect("fits");
        assert_eq!(decode(Mode::Strict, framed.as_bytes()), [ok(&max)]);
    }

    #[test]
    fn bad_lengths_and_terminators_resync() {
        for broken in [
            format!("##01a1{SEGMENT}1C80\r\n"), // non-digit length
            format!("## 101{SEGMENT}1C80\r\n"),
            format!("##0101{SEGMENT}1C80"), // no CR LF, the next frame follows
            format!("##0101{SEGMENT}1C80\n"), // LF only
            format!("##0101{SEGMENT}1C80\r"),
            format!("##0101{SEGMENT}1CX0\r\n"),       // not hex
            format!("##0101{SEGMENT}\r\n"),           // no CRC
            "##0101QN=1;CP=&&&&1C80\r\n".to_string(), // short: wrong length and CRC
            "##0101\r\n".to_string(),
        ] {
            for mode in [Mode::Lenient, Mode::Strict] {
                let events = decode(mode, format!("{broken}{EXAMPLE}").as_bytes());
                assert_eq!(events.last(), Some(&ok(SEGMENT)), "{broken:?} {mode:?}");
                let frames = events
                    .iter()
                    .filter(|e| !matches!(e, FrameEvent::Skipped { .. }))
                    .count();
                assert!(
                    frames == 1 || mode == Mode::Lenient,
                    "{broken:?}: {events:?}"
                );
            }
        }
    }

    #[test]
    fn a_lone_hash_pair_inside_a_segment_is_not_a_frame_start() {
        let seg = "ST=32;CN=2011;PW=##ab;MN=1;CP=&&&&";
        let framed = frame_segment(seg).expect("fits");
        let mut d = FrameDecoder::new(Mode::Strict);
        let mut events = Vec::new();
        for b in framed.as_bytes() {
            d.push(std::slice::from_ref(b));
            events.extend(drain(&mut d));
        }
        assert_eq!(events, [ok(seg)]);
    }

    #[test]
    fn memory_stays_bounded() {
        let mut d = FrameDecoder::new(Mode::Lenient);
        for _ in 0..100 {
            d.push(&[b'a'; 4096]);
            drain(&mut d);
            assert_eq!(d.buffered(), 0);
        }
        d.push(b"##0100");
        for _ in 0..10 {
            d.push(&[b'b'; 500]);
            drain(&mut d);
            assert!(d.buffered() < MAX_FRAME, "{}", d.buffered());
        }
        d.push(EXAMPLE.as_bytes());
        assert_eq!(drain(&mut d).last(), Some(&ok(SEGMENT)));
        // Waiting for the rest of a frame holds the partial frame only.
        d.push(&EXAMPLE.as_bytes()[..50]);
        assert_eq!(drain(&mut d), []);
        assert_eq!(d.buffered(), 50);
    }

    #[test]
    fn non_utf8_segment_keeps_its_crc() {
        let mut seg = b"ST=32;CN=2011;PW=1;MN=1;CP=&&Info=".to_vec();
        seg.extend_from_slice(&[0xC4, 0xE3]); // GBK
        seg.extend_from_slice(b"&&");
        let mut bytes = format!("##{:04}", seg.len()).into_bytes();
        bytes.extend_from_slice(&seg);
        bytes.extend_from_slice(format!("{:04X}\r\n", crc16(&seg)).as_bytes());
        let events = decode(Mode::Lenient, &bytes);
        assert!(matches!(&events[..], [FrameEvent::Frame(f)] if f.segment.contains('\u{FFFD}')));
    }
}
