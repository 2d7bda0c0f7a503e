//! The HJ 212 listener's and the ingest writer's counters, exported on `/metrics`.

use std::sync::atomic::{AtomicU64, Ordering};

/// Counters exported on `/metrics`.
#[derive(Debug, Default)]
pub struct Counters {
    pub connections: AtomicU64,
    pub connections_refused: AtomicU64,
    pub frames: AtomicU64,
    pub bad_crc: AtomicU64,
    pub skipped_bytes: AtomicU64,
    pub bad_packets: AtomicU64,
    pub lenient: AtomicU64,
    pub unknown_mn: AtomicU64,
    pub replies: AtomicU64,
    pub readings: AtomicU64,
    pub commits: AtomicU64,
    pub commit_errors: AtomicU64,
}

impl Counters {
    pub fn add(counter: &AtomicU64, n: u64) {
        counter.fetch_add(n, Ordering::Relaxed);
    }

    /// The counters as Prometheus samples for `/metrics`.
    pub fn samples(&self) -> Vec<crate::metrics::Sample> {
        let c = |name, help, v: &AtomicU64| crate::metrics::Sample {
            name,
            help,
            kind: "counter",
            value: v.load(Ordering::Relaxed) as f64,
        };
        vec![
            c(
                "envatlas_hj212_connections_total",
                "HJ 212 connections accepted.",
                &self.connections,
            ),
            c(
                "envatlas_hj212_connections_refused_total",
                "HJ 212 connections refused (max_connections).",
                &self.connections_refused,
            ),
            c(
                "envatlas_hj212_frames_total",
                "HJ 212 frames with a valid CRC.",
                &self.frames,
            ),
            c(
                "envatlas_hj212_bad_crc_total",
                "HJ 212 frames refused for a bad CRC.",
                &self.bad_crc,
            ),
            c(
                "envatlas_hj212_skipped_bytes_total",
                "Bytes skipped while resynchronising on ##.",
                &self.skipped_bytes,
            ),
            c(
                "envatlas_hj212_bad_packets_total",
                "HJ 212 packets refused (parse errors, no data).",
                &self.bad_packets,
            ),
            c(
                "envatlas_hj212_lenient_total",
                "HJ 212 packets accepted only in lenient mode.",
                &self.lenient,
            ),
            c(
                "envatlas_hj212_unknown_mn_total",
                "HJ 212 uploads from unknown MNs (quarantined).",
                &self.unknown_mn,
            ),
            c(
                "envatlas_hj212_replies_total",
                "HJ 212 data replies (9014) sent after commit.",
                &self.replies,
            ),
            c(
                "envatlas_monitoring_readings_total",
                "Readings committed (TCP and HTTP ingest).",
                &self.readings,
            ),
            c(
                "envatlas_monitoring_commits_total",
                "Group commits.",
                &self.commits,
            ),
            c(
                "envatlas_monitoring_commit_errors_total",
                "Group commits that failed.",
                &self.commit_errors,
            ),
        ]
    }
}
