//! Reassembly of split transmissions (`Flag` bit D, `PNUM`, `PNO`).
//!
//! Which parts belong together? The standard's own examples (C.49, C.50) give every part
//! its own `QN` (…534, …535) and repeat `DataTime`; other devices repeat the `QN`. So a
//! part joins a pending packet of the same `MN`, `ST`, `CN` and `PNUM` that shares its
//! `QN` or its `DataTime`. Memory is bounded: at most `max_pending` packets of at most
//! `max_parts` parts each (a part is at most 1024 bytes), the oldest evicted first, and
//! a pending packet expires `timeout` after its first part. Time comes from the caller,
//! so this stays free of clocks and I/O.
//!
//! Use one per connection: a device sends the parts of a transmission on one connection,
//! and one device then cannot evict another's parts. A parsed part takes at most about
//! 20 KB (1024 bytes of one-field groups), so the defaults hold at most ~5 MB per
//! connection, and a few KB in practice.

use std::time::{Duration, Instant};

use super::cp::Cp;
use super::packet::{Flag, Packet};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReassemblerConfig {
    pub max_pending: usize,
    pub max_parts: u32,
    pub timeout: Duration,
}

impl Default for ReassemblerConfig {
    fn default() -> Self {
        // A device waits up to 10 s for each data reply and retries 3 times (table 1), so
        // two minutes covers a few parts sent one reply apart. The standard's example has
        // 2 parts; 32 leaves room for long history uploads.
        Self {
            max_pending: 8,
            max_parts: 32,
            timeout: Duration::from_secs(120),
        }
    }
}

/// What happened to a pushed packet.
#[derive(Debug, Clone, PartialEq)]
pub enum Reassembly {
    /// A whole packet: an unsplit one as it came, or the merged parts.
    Complete(Packet),
    /// Stored; `received` of `total` parts are in.
    Pending { received: u32, total: u32 },
    /// A part already received (a retransmission); dropped.
    Duplicate,
    /// `PNUM` over the configured maximum, or `PNO` outside `1..=PNUM`; dropped.
    Rejected { pnum: u32, pno: u32 },
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ReassemblyStats {
    pub completed: u64,
    pub duplicates: u64,
    pub rejected: u64,
    /// Incomplete packets dropped after the timeout, or to make room.
    pub expired: u64,
    pub evicted: u64,
}

#[derive(Debug)]
struct PendingPacket {
    started: Instant,
    parts: Vec<Option<Packet>>,
    received: u32,
}

impl PendingPacket {
    fn accepts(&self, packet: &Packet) -> bool {
        let mut parts = self.parts.iter().flatten();
        let Some(first) = parts.clone().next() else {
            return false;
        };
        let same_source = first.mn == packet.mn
            && first.st == packet.st
            && first.cn == packet.cn
            && first.pnum == packet.pnum;
        same_source
            && parts.any(|q| {
                (q.qn.is_some() && q.qn == packet.qn)
                    || (q.cp.data_time.is_some() && q.cp.data_time == packet.cp.data_time)
            })
    }
}

#[derive(Debug, Default)]
pub struct Reassembler {
    config: ReassemblerConfig,
    pending: Vec<PendingPacket>,
    stats: ReassemblyStats,
}

impl Reassembler {
    pub fn new(config: ReassemblerConfig) -> Self {
        Self {
            config,
            pending: Vec::new(),
            stats: ReassemblyStats::default(),
        }
    }

    pub fn stats(&self) -> ReassemblyStats {
        self.stats
    }

    /// Incomplete packets held.
    pub fn pending(&self) -> usize {
        self.pending.len()
    }

    /// Takes a parsed packet received at `now`.
    pub fn push(&mut self, packet: Packet, now: Instant) -> Reassembly {
        self.expire(now);
        let (Some(total), Some(pno)) = (packet.pnum, packet.pno) else {
            return Reassembly::Complete(packet);
        };
        if total > self.config.max_parts || pno == 0 || pno > total {
            self.stats.rejected += 1;
            return Reassembly::Rejected { pnum: total, pno };
        }
        if total == 1 {
            self.stats.completed += 1;
            return Reassembly::Complete(merge(vec![packet]));
        }
        let index = match self.pending.iter().position(|p| p.accepts(&packet)) {
            Some(i) => i,
            None => {
                if self.pending.len() >= self.config.max_pending.max(1) {
                    self.evict_oldest();
                }
                // total <= max_parts, a u32 that fits memory by configuration.
                let parts = vec![None; total as usize];
                self.pending.push(PendingPacket {
                    started: now,
                    parts,
                    received: 0,
                });
                self.pending.len() - 1
            }
        };
        let pending = &mut self.pending[index];
        let slot = &mut pending.parts[(pno - 1) as usize];
        if slot.is_some() {
            self.stats.duplicates += 1;
            return Reassembly::Duplicate;
        }
        *slot = Some(packet);
        pending.received += 1;
        if pending.received < total {
            return Reassembly::Pending {
                received: pending.received,
                total,
            };
        }
        let done = self.pending.swap_remove(index);
        self.stats.completed += 1;
        Reassembly::Complete(merge(done.parts.into_iter().flatten().collect()))
    }

    /// Drops packets whose first part came `timeout` or longer before `now`; returns how
    /// many. [`Self::push`] calls it too.
    pub fn expire(&mut self, now: Instant) -> usize {
        let timeout = self.config.timeout;
        let before = self.pending.len();
        self.pending
            .retain(|p| now.saturating_duration_since(p.started) < timeout);
        let expired = before - self.pending.len();
        self.stats.expired += expired as u64;
        expired
    }

    fn evict_oldest(&mut self) {
        let oldest = self
            .pending
            .iter()
            .enumerate()
            .min_by_key(|(_, p)| p.started)
            .map(|(i, _)| i);
        if let Some(i) = oldest {
            self.pending.swap_remove(i);
            self.stats.evicted += 1;
        }
    }
}

/// Merges parts in `PNO` order: the header of the first, every part's CP.
fn merge(parts: Vec<Packet>) -> Packet {
    let mut parts = parts.into_iter();
    let Some(mut whole) = parts.next() else {
        // Unreachable: callers pass at least one part. An empty packet is a safe answer.
        return Packet {
            qn: None,
            st: String::new(),
            cn: 0,
            pw: String::new(),
            mn: String::new(),
            flag: None,
            pnum: None,
            pno: None,
            cp: Cp::default(),
        };
    };
    whole.pnum = None;
    whole.pno = None;
    whole.flag = whole.flag.map(|f| Flag { d: false, ..f });
    for part in parts {
        merge_cp(&mut whole.cp, part.cp);
    }
    whole
}

/// Adds `from` to `into`: a pollutant already present gains the kinds and flags it lacks.
pub fn merge_cp(into: &mut Cp, from: Cp) {
    into.data_time = into.data_time.or(from.data_time);
    for p in from.pollutants {
        match into.pollutants.iter_mut().find(|q| q.code == p.code) {
            Some(q) => {
                for (kind, value) in p.values {
                    if q.value(kind).is_none() {
                        q.values.push((kind, value));
                    }
                }
                q.flag = q.flag.take().or(p.flag);
                q.eflag = q.eflag.take().or(p.eflag);
                q.sample_time = q.sample_time.or(p.sample_time);
            }
            None => into.pollutants.push(p),
        }
    }
    into.other.extend(from.other);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::monitoring::hj212::cp::ReadingKind;
    use crate::monitoring::hj212::Mode;
    use time::macros::datetime;

    /// Appendix C.49 (the "…" of the text removed): two parts, each with its own QN.
    const PART1: &str = "QN=20160801085857534;ST=32;CN=2061;PW=123456;MN=010000A8900016F000169DC0;\
        Flag=6;PNUM=2;PNO=1;CP=&&DataTime=20160801080000;w00000-Cou=63.0,w00000-Min=16.4,\
        w00000-Avg=17.5,w00000-Max=20.1,w00000-Flag=N;w01001-Min=7.1,w01001-Avg=7.5,\
        w01001-Max=7.8,w01001-Flag=N&&";
    const PART2: &str = "QN=20160801085857535;ST=32;CN=2061;PW=123456;MN=010000A8900016F000169DC0;\
        Flag=6;PNUM=2;PNO=2;CP=&&DataTime=20160801080000;w01018-Cou=63.0,w01018-Min=40.1,\
        w01018-Avg=40.1,w01018-Max=40.1,w01018-Flag=N&&";

    fn packet(segment: &str) -> Packet {
        Packet::parse(segment, Mode::Strict).expect("parses").packet
    }

    fn codes(p: &Packet) -> Vec<&str> {
        p.cp.pollutants.iter().map(|p| p.code.as_str()).collect()
    }

    #[test]
    fn the_standards_split_example_in_and_out_of_order() {
        for order in [[PART1, PART2], [PART2, PART1]] {
            let mut r = Reassembler::default();
            let now = Instant::now();
            assert_eq!(
                r.push(packet(order[0]), now),
                Reassembly::Pending {
                    received: 1,
                    total: 2
                }
            );
            let Reassembly::Complete(whole) = r.push(packet(order[1]), now) else {
                panic!("incomplete")
            };
            assert_eq!(codes(&whole), ["w00000", "w01001", "w01018"]);
            assert_eq!(whole.qn.as_deref(), Some("20160801085857534"));
            assert_eq!((whole.pnum, whole.pno), (None, None));
            assert_eq!(
                whole.flag,
                Some(Flag {
                    version: 1,
                    d: false,
                    a: false
                })
            );
            assert_eq!(whole.cp.data_time, Some(datetime!(2016-08-01 08:00:00)));
            assert_eq!(
                whole
                    .cp
                    .pollutant("w01018")
                    .and_then(|p| p.value(ReadingKind::Avg)),
                Some(40.1)
            );
            assert_eq!(r.pending(), 0);
            assert_eq!(r.stats().completed, 1);
        }
    }

    #[test]
    fn parts_sharing_only_the_qn() {
        let mut p1 = packet(PART1);
        let mut p2 = packet(PART2);
        p2.qn = p1.qn.clone();
        p2.cp.data_time = None;
        p1.cp.data_time = Some(datetime!(2016-08-01 08:00:00));
        let mut r = Reassembler::default();
        let now = Instant::now();
        r.push(p2, now);
        assert!(matches!(r.push(p1, now), Reassembly::Complete(w) if codes(&w).len() == 3));
    }

    #[test]
    fn unsplit_duplicates_rejected_and_interleaved() {
        let mut r = Reassembler::default();
        let now = Instant::now();
        let whole = packet("QN=20160801085857534;ST=32;CN=2011;PW=1;MN=1;Flag=5;CP=&&&&");
        assert_eq!(r.push(whole.clone(), now), Reassembly::Complete(whole));

        let mut other = packet(PART1);
        other.mn = "OTHER".into();
        assert!(matches!(
            r.push(packet(PART1), now),
            Reassembly::Pending { .. }
        ));
        assert_eq!(r.push(packet(PART1), now), Reassembly::Duplicate);
        assert!(matches!(r.push(other, now), Reassembly::Pending { .. }));
        assert_eq!(r.pending(), 2);
        assert!(matches!(
            r.push(packet(PART2), now),
            Reassembly::Complete(_)
        ));
        assert_eq!(r.pending(), 1);

        let mut huge = packet(PART1);
        huge.pnum = Some(1000);
        assert_eq!(
            r.push(huge, now),
            Reassembly::Rejected { pnum: 1000, pno: 1 }
        );
        let mut zero = packet(PART1);
        zero.pno = Some(0);
        assert!(matches!(r.push(zero, now), Reassembly::Rejected { .. }));
        assert_eq!(
            r.stats(),
            ReassemblyStats {
                completed: 1,
                duplicates: 1,
                rejected: 2,
                expired: 0,
                evicted: 0
            }
        );
    }

    #[test]
    fn pending_packets_expire_and_are_evicted() {
        let config = ReassemblerConfig {
            max_pending: 2,
            max_parts: 8,
            timeout: Duration::from_secs(60),
        };
        let mut r = Reassembler::new(config);
        let t0 = Instant::now();
        r.push(packet(PART1), t0);
        assert_eq!(r.expire(t0 + Duration::from_secs(59)), 0);
        // The second part arrives too late: it starts a new pending packet.
        let late = t0 + Duration::from_secs(60);
        assert_eq!(
            r.push(packet(PART2), late),
            Reassembly::Pending {
                received: 1,
                total: 2
            }
        );
        assert_eq!(r.stats().expired, 1);
        for (i, mn) in ["A", "B", "C"].into_iter().enumerate() {
            let mut p = packet(PART1);
            p.mn = mn.into();
            r.push(p, late + Duration::from_secs(i as u64 + 1));
        }
        assert_eq!(r.pending(), 2);
        assert_eq!(r.stats().evicted, 2);
    }
}
