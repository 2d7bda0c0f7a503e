//! The HJ 212-2017 TCP listener (`--hj212-listen`): one task per connection reads
//! frames, turns packets into jobs for the group-commit writer, and a reply task per
//! connection sends each 9014 data reply once that packet's job is committed, in
//! order. Devices may pipeline; at most [`IN_FLIGHT`] packets per connection wait for
//! their commit, which is the back-pressure on a fast sender.
//!
//! Refused without reply (counted, logged with the peer): bad CRC, packets that do not
//! parse. Garbage and over-long frames are skipped by the decoder's resynchronisation.
//! Unknown MNs: the segment is committed to the quarantine table and acknowledged.
//! Split packets (`PNUM`/`PNO`): every part carries the header and `DataTime`, so each
//! part is committed and acknowledged as it arrives; the reassembler drops
//! retransmitted parts and counts completed packets.

use std::net::SocketAddr;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use time::{OffsetDateTime, UtcOffset};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, oneshot};

use super::exceedance::{period_of, Observation};
use super::hj212::command::CN_FACILITY_STATUS;
use super::hj212::{
    data_reply, data_upload, facility_states, FrameDecoder, FrameEvent, Mode, Packet, Reassembler,
    ReassemblerConfig, Reassembly,
};
use super::monitor::{Counters, Monitor};
use crate::app::AppState;
use crate::model::Reading;
use crate::store::monitoring::{FacilityState, IngestBatch, QuarantineRow};

/// Packets of one connection waiting for their commit.
const IN_FLIGHT: usize = 256;

/// Accepts connections until the process ends.
pub async fn accept_loop(state: AppState, listener: TcpListener) {
    let live = Arc::new(tokio::sync::Semaphore::new(
        state.config.hj212.max_connections,
    ));
    loop {
        let (stream, peer) = match listener.accept().await {
            Ok(c) => c,
            Err(e) => {
                tracing::warn!(error = %e, "hj212 accept failed");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let Ok(permit) = Arc::clone(&live).try_acquire_owned() else {
            Counters::add(&state.monitoring.counters.connections_refused, 1);
            tracing::warn!(%peer, "hj212 connection refused: too many connections");
            drop(stream);
            continue;
        };
        Counters::add(&state.monitoring.counters.connections, 1);
        let state = state.clone();
        tokio::spawn(async move {
            let _permit = permit;
            serve(state, stream, peer).await;
        });
    }
}

struct Settings {
    mode: Mode,
    offset: UtcOffset,
    idle: Duration,
}

async fn serve(state: AppState, stream: TcpStream, peer: SocketAddr) {
    let _ = stream.set_nodelay(true);
    let cfg = &state.config.hj212;
    let settings = Settings {
        mode: if cfg.mode == "strict" {
            Mode::Strict
        } else {
            Mode::Lenient
        },
        offset: super::hj212::time::parse_offset(&cfg.timezone).unwrap_or(super::hj212::BEIJING),
        idle: Duration::from_secs(cfg.idle_timeout_s.max(1)),
    };
    let (mut read, mut write) = stream.into_split();
    let (tx, mut rx) = mpsc::channel::<(oneshot::Receiver<Result<(), String>>, String)>(IN_FLIGHT);
    let monitor = Arc::clone(&state.monitoring);
    let idle = settings.idle;
    let replies = tokio::spawn(async move {
        while let Some((ack, reply)) = rx.recv().await {
            if !matches!(ack.await, Ok(Ok(()))) {
                // Not committed: no reply, the device retries.
                continue;
            }
            // A peer that stops reading must not hold its slot for ever: once a
            // reply cannot be written within the idle time, this task ends, the
            // channel closes and the read loop's next send closes the connection.
            match tokio::time::timeout(idle, write.write_all(reply.as_bytes())).await {
                Ok(Ok(())) => {}
                _ => break,
            }
            Counters::add(&monitor.counters.replies, 1);
        }
    });
    let mut decoder = FrameDecoder::new(settings.mode);
    let mut reassembler = Reassembler::new(ReassemblerConfig::default());
    let mut buf = vec![0u8; 8192];
    let m = &state.monitoring;
    loop {
        let n = match tokio::time::timeout(settings.idle, read.read(&mut buf)).await {
            Err(_) => {
                tracing::info!(%peer, "hj212 connection idle; closed");
                break;
            }
            Ok(Err(_)) | Ok(Ok(0)) => break,
            Ok(Ok(n)) => n,
        };
        decoder.push(&buf[..n]);
        while let Some(event) = decoder.next_event() {
            match event {
                FrameEvent::Frame(frame) => {
                    Counters::add(&m.counters.frames, 1);
                    if frame.length_mismatch.is_some() {
                        Counters::add(&m.counters.lenient, 1);
                    }
                    let parsed = match Packet::parse(&frame.segment, settings.mode) {
                        Ok(p) => p,
                        Err(e) => {
                            Counters::add(&m.counters.bad_packets, 1);
                            tracing::warn!(%peer, error = %e, "hj212 packet refused");
                            continue;
                        }
                    };
                    if !parsed.warnings.is_empty() {
                        Counters::add(&m.counters.lenient, 1);
                    }
                    let packet = parsed.packet;
                    if packet.is_split() {
                        match reassembler.push(packet.clone(), Instant::now()) {
                            Reassembly::Duplicate => {
                                // Already committed: acknowledge again.
                                if let Some(reply) = reply_for(&packet) {
                                    let (ack, rx_ack) = oneshot::channel();
                                    let _ = ack.send(Ok(()));
                                    if tx.send((rx_ack, reply)).await.is_err() {
                                        break;
                                    }
                                }
                                continue;
                            }
                            Reassembly::Rejected { .. } => {
                                Counters::add(&m.counters.bad_packets, 1);
                                continue;
                            }
                            Reassembly::Complete(_) | Reassembly::Pending { .. } => {}
                        }
                    }
                    let Some(batch) = job_for(m, &packet, &frame.segment, peer, settings.offset)
                    else {
                        continue;
                    };
                    let reply = reply_for(&packet);
                    match m.enqueue(batch).await {
                        Ok(ack) => {
                            if let Some(reply) = reply {
                                if tx.send((ack, reply)).await.is_err() {
                                    break;
                                }
                            }
                        }
                        Err(_) => break,
                    }
                }
                FrameEvent::BadCrc {
                    received, computed, ..
                } => {
                    Counters::add(&m.counters.bad_crc, 1);
                    tracing::warn!(
                        %peer,
                        received = format!("{received:04X}"),
                        computed = format!("{computed:04X}"),
                        "hj212 frame with a bad CRC refused"
                    );
                }
                FrameEvent::Skipped { bytes, reason } => {
                    Counters::add(
                        &m.counters.skipped_bytes,
                        u64::try_from(bytes).unwrap_or(u64::MAX),
                    );
                    tracing::debug!(%peer, bytes, ?reason, "hj212 bytes skipped");
                }
            }
        }
        reassembler.expire(Instant::now());
    }
    // Let the replies of committed packets go out, then close.
    drop(tx);
    let _ = replies.await;
    tracing::debug!(%peer, frames = m.counters.frames.load(Ordering::Relaxed), "hj212 connection closed");
}

fn reply_for(packet: &Packet) -> Option<String> {
    if packet.wants_reply() {
        data_reply(packet).ok()
    } else {
        None
    }
}

/// What to commit for a packet: readings, facility states or a quarantined segment.
/// The MN is looked up in the stations as the atlas holds them now.
fn job_for(
    m: &Monitor,
    packet: &Packet,
    segment: &str,
    peer: SocketAddr,
    offset: UtcOffset,
) -> Option<IngestBatch> {
    let Some(station) = m.station_of_mn(&packet.mn) else {
        Counters::add(&m.counters.unknown_mn, 1);
        tracing::warn!(%peer, mn = %packet.mn, cn = packet.cn, "hj212 upload from an unknown MN quarantined");
        let batch = IngestBatch {
            quarantine: vec![QuarantineRow {
                received_at: OffsetDateTime::now_utc(),
                peer: peer.to_string(),
                mn: packet.mn.clone(),
                cn: packet.cn,
                segment: segment.to_string(),
            }],
            ..IngestBatch::default()
        };
        return Some(batch);
    };
    if packet.cn == CN_FACILITY_STATUS {
        let time = packet
            .data_time(offset)
            .unwrap_or_else(OffsetDateTime::now_utc);
        let facility = facility_states(&packet.cp)
            .into_iter()
            .map(|(f, s)| FacilityState {
                station_id: station.clone(),
                facility: f.to_string(),
                time,
                state: s.to_string(),
            })
            .collect();
        return Some(IngestBatch {
            facility,
            ..IngestBatch::default()
        });
    }
    let upload = match data_upload(packet, offset) {
        Ok(u) => u,
        Err(e) => {
            Counters::add(&m.counters.bad_packets, 1);
            tracing::debug!(%peer, cn = packet.cn, error = %e, "hj212 packet not stored");
            return None;
        }
    };
    let period = period_of(upload.command.interval());
    let readings: Vec<Observation> = upload
        .records
        .into_iter()
        .map(|r| Observation {
            reading: Reading {
                station_id: station.clone(),
                pollutant: r.pollutant,
                kind: r.kind.as_str().to_string(),
                time: r.time,
                value: r.value,
                flag: r.flag.unwrap_or_else(|| "N".to_string()),
            },
            period,
        })
        .collect();
    Some(IngestBatch {
        readings,
        ..IngestBatch::default()
    })
}
