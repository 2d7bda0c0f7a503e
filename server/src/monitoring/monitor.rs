//! The monitoring runtime shared through `AppState`: the station index (MN → station,
//! station → source), the limits, the exceedance detector, last-seen times and the
//! statuses as stored, the event channel, and the queue of the group-commit writer.
//!
//! The engine sits behind a `std::sync::Mutex` that is only held for in-memory work,
//! never across an `.await`.

use std::collections::{HashMap, HashSet};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use time::{Duration, OffsetDateTime};
use tokio::sync::{broadcast, mpsc, oneshot};

use super::events::{rfc3339, Event, EventData, EventKind};
use super::exceedance::{compared_values, Detector, Observation, Transition};
use super::status::Status;
use crate::atlas::Layer;
use crate::config::Config;
use crate::store::monitoring::{Exceedance, IngestBatch, Limit, MonitoringStore};

pub const STATIONS: &str = "monitoring_stations";
pub const SOURCES: &str = "pollution_sources";

/// One unit of work for the writer: committed together with others, then acknowledged.
#[derive(Debug)]
pub struct Job {
    pub observations: Vec<Observation>,
    pub batch: IngestBatch,
    pub ack: oneshot::Sender<Result<(), String>>,
}

/// A station as the monitor knows it.
#[derive(Debug, Clone, PartialEq)]
pub struct StationInfo {
    pub id: String,
    pub source_id: Option<String>,
    pub county: String,
}

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

#[derive(Debug, Default)]
pub(crate) struct Engine {
    pub detector: Detector,
    pub limits: HashMap<(String, String), Limit>,
    pub open_per_station: HashMap<String, usize>,
    pub last_seen: HashMap<String, OffsetDateTime>,
    /// Station statuses as stored in the layer.
    pub status: HashMap<String, Status>,
    /// Source statuses as stored in the layer.
    pub source_status: HashMap<String, Status>,
    /// Episodes seen (station, pollutant, start), and their starts per source, for
    /// the risk score's recent-exceedance counts (`counts.rs`).
    pub episodes: HashSet<(String, String, i64)>,
    pub starts_by_source: HashMap<String, Vec<OffsetDateTime>>,
    pub generation: u64,
}

impl Engine {
    /// Remembers an episode for the recent-exceedance counts.
    pub(crate) fn record_episode(&mut self, e: &Exceedance, source: Option<&str>) {
        let key = (
            e.station_id.clone(),
            e.pollutant.clone(),
            e.start.unix_timestamp(),
        );
        if !self.episodes.insert(key) {
            return;
        }
        if let Some(source) = source {
            self.starts_by_source
                .entry(source.to_string())
                .or_default()
                .push(e.start);
            self.generation += 1;
        }
    }
}

/// What evaluating a committed batch produced.
#[derive(Debug, Default)]
pub(crate) struct Outcome {
    pub exceedances: Vec<Exceedance>,
    pub events: Vec<Event>,
    pub stations: Vec<(String, Status)>,
    pub sources: Vec<(String, Status)>,
}

#[derive(Debug)]
pub struct Monitor {
    pub(crate) db: Arc<dyn MonitoringStore>,
    pub(crate) engine: Mutex<Engine>,
    pub(crate) stations: HashMap<String, StationInfo>,
    pub(crate) by_mn: HashMap<String, String>,
    pub(crate) stations_of_source: HashMap<String, Vec<String>>,
    pub(crate) offline_after: Duration,
    pub(crate) max_batch: usize,
    pub events: broadcast::Sender<Event>,
    pub(crate) queue: mpsc::Sender<Job>,
    pub(crate) queue_rx: Mutex<Option<mpsc::Receiver<Job>>>,
    pub(crate) hj212: Mutex<Option<tokio::net::TcpListener>>,
    /// The bound HJ 212 address (port 0 resolved), when listening.
    pub hj212_addr: Option<SocketAddr>,
    pub counters: Counters,
}

impl std::fmt::Debug for dyn MonitoringStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("MonitoringStore")
    }
}

pub(crate) fn lock(m: &Mutex<Engine>) -> MutexGuard<'_, Engine> {
    // A panic while holding the lock leaves plain maps behind: keep using them.
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Monitor {
    /// Indexes the stations of the loaded atlas; binds nothing yet.
    pub fn new(
        db: Arc<dyn MonitoringStore>,
        stations: Option<&Layer>,
        config: &Config,
        hj212: Option<tokio::net::TcpListener>,
    ) -> Self {
        let mut index = HashMap::new();
        let mut by_mn = HashMap::new();
        let mut stations_of_source: HashMap<String, Vec<String>> = HashMap::new();
        if let Some(layer) = stations {
            let schema = &layer.schema;
            for f in layer.features() {
                let id = f.id.to_string();
                let mn = f.text(schema, "mn");
                if !mn.is_empty() {
                    by_mn.insert(mn.to_string(), id.clone());
                }
                let source = Some(f.text(schema, "source_id"))
                    .filter(|s| !s.is_empty())
                    .map(str::to_string);
                if let Some(s) = &source {
                    stations_of_source
                        .entry(s.clone())
                        .or_default()
                        .push(id.clone());
                }
                index.insert(
                    id.clone(),
                    StationInfo {
                        id,
                        source_id: source,
                        county: f.text(schema, "county").to_string(),
                    },
                );
            }
        }
        let (queue, rx) = mpsc::channel(4096);
        let (events, _) = broadcast::channel(1024);
        let hj212_addr = hj212.as_ref().and_then(|l| l.local_addr().ok());
        Self {
            db,
            engine: Mutex::new(Engine::default()),
            stations: index,
            by_mn,
            stations_of_source,
            offline_after: Duration::seconds(
                i64::try_from(config.monitoring.offline_after_s).unwrap_or(i64::MAX),
            ),
            max_batch: config.monitoring.max_batch,
            events,
            queue,
            queue_rx: Mutex::new(Some(rx)),
            hj212: Mutex::new(hj212),
            hj212_addr,
            counters: Counters::default(),
        }
    }

    /// The station an MN belongs to.
    pub fn station_of_mn(&self, mn: &str) -> Option<&str> {
        self.by_mn.get(mn).map(String::as_str)
    }

    pub fn station(&self, id: &str) -> Option<&StationInfo> {
        self.stations.get(id)
    }

    /// Queues a job for the writer and waits until it is committed.
    pub async fn submit(
        &self,
        observations: Vec<Observation>,
        batch: IngestBatch,
    ) -> Result<(), String> {
        let rx = self.enqueue(observations, batch).await?;
        rx.await.map_err(|_| "the writer stopped".to_string())?
    }

    /// Queues a job; the receiver resolves once it is committed (or failed).
    pub async fn enqueue(
        &self,
        observations: Vec<Observation>,
        batch: IngestBatch,
    ) -> Result<oneshot::Receiver<Result<(), String>>, String> {
        let (ack, rx) = oneshot::channel();
        self.queue
            .send(Job {
                observations,
                batch,
                ack,
            })
            .await
            .map_err(|_| "the writer stopped".to_string())?;
        Ok(rx)
    }

    /// The current limits.
    pub fn limits(&self) -> Vec<Limit> {
        let mut v: Vec<Limit> = lock(&self.engine).limits.values().cloned().collect();
        v.sort_by(|a, b| (&a.station_id, &a.pollutant).cmp(&(&b.station_id, &b.pollutant)));
        v
    }

    /// Replaces limits in memory (after the store committed them).
    pub fn set_limits(&self, limits: &[Limit]) {
        let mut e = lock(&self.engine);
        for l in limits {
            e.limits
                .insert((l.station_id.clone(), l.pollutant.clone()), l.clone());
        }
    }

    /// Station statuses as currently stored (for tests and the API).
    pub fn station_status(&self, id: &str) -> Status {
        lock(&self.engine)
            .status
            .get(id)
            .copied()
            .unwrap_or(Status::NoData)
    }

    /// Number of open exceedances per station.
    pub fn open_exceedances(&self) -> HashMap<String, usize> {
        lock(&self.engine).open_per_station.clone()
    }

    /// Records the statuses the layers hold at start-up.
    pub(crate) fn set_stored_statuses(
        &self,
        stations: HashMap<String, Status>,
        sources: HashMap<String, Status>,
    ) {
        let mut e = lock(&self.engine);
        e.status = stations;
        e.source_status = sources;
    }

    /// Runs committed observations through the detector and recomputes the statuses
    /// of the stations they touch. `emit` is false during start-up replay.
    pub(crate) fn evaluate(
        &self,
        observations: &[Observation],
        received: Option<OffsetDateTime>,
        now: OffsetDateTime,
        emit: bool,
    ) -> Outcome {
        let mut out = Outcome::default();
        let mut e = lock(&self.engine);
        let engine = &mut *e;
        let limits = &engine.limits;
        let values = compared_values(observations, |s, p| {
            limits.get(&(s.to_string(), p.to_string())).cloned()
        });
        let mut touched: HashSet<String> = HashSet::new();
        for o in observations {
            let s = &o.reading.station_id;
            let seen = received.unwrap_or(o.reading.time);
            let entry = engine.last_seen.entry(s.clone()).or_insert(seen);
            if seen > *entry {
                *entry = seen;
            }
            if !touched.contains(s) {
                touched.insert(s.clone());
            }
        }
        for c in &values {
            let Some(limit) = engine
                .limits
                .get(&(c.station_id.clone(), c.pollutant.clone()))
            else {
                continue;
            };
            let Some(t) = engine.detector.observe(c, limit) else {
                continue;
            };
            let (kind, ex) = match t {
                Transition::Opened(ex) => {
                    let source = self.source_of(&ex.station_id);
                    engine.record_episode(&ex, source.as_deref());
                    *engine
                        .open_per_station
                        .entry(ex.station_id.clone())
                        .or_default() += 1;
                    (Some(EventKind::ExceedanceOpened), ex)
                }
                Transition::Peak(ex) => (None, ex),
                Transition::Closed(ex) => {
                    if let Some(n) = engine.open_per_station.get_mut(&ex.station_id) {
                        *n = n.saturating_sub(1);
                    }
                    (Some(EventKind::ExceedanceClosed), ex)
                }
            };
            if let (Some(kind), true) = (kind, emit) {
                out.events.push(Event {
                    kind,
                    data: EventData {
                        station_id: ex.station_id.clone(),
                        source_id: self.source_of(&ex.station_id),
                        pollutant: Some(ex.pollutant.clone()),
                        time: rfc3339(c.time),
                        value: Some(c.value),
                        limit: Some(ex.limit),
                    },
                });
            }
            out.exceedances.push(ex);
        }
        self.restatus(engine, touched, now, emit, &mut out);
        out
    }

    /// Recomputes the statuses of every station (the offline ticker).
    pub(crate) fn tick(&self, now: OffsetDateTime) -> Outcome {
        let mut out = Outcome::default();
        let mut e = lock(&self.engine);
        let all: HashSet<String> = self.stations.keys().cloned().collect();
        self.restatus(&mut e, all, now, true, &mut out);
        out
    }

    fn source_of(&self, station: &str) -> Option<String> {
        self.stations.get(station).and_then(|s| s.source_id.clone())
    }

    fn restatus(
        &self,
        engine: &mut Engine,
        stations: HashSet<String>,
        now: OffsetDateTime,
        emit: bool,
        out: &mut Outcome,
    ) {
        let mut sources: HashSet<String> = HashSet::new();
        for s in stations {
            if !self.stations.contains_key(&s) {
                continue;
            }
            let exceeding = engine.open_per_station.get(&s).copied().unwrap_or(0) > 0;
            let new = Status::of_station(
                engine.last_seen.get(&s).copied(),
                exceeding,
                now,
                self.offline_after,
            );
            let old = engine.status.get(&s).copied().unwrap_or(Status::NoData);
            if new == old {
                continue;
            }
            engine.status.insert(s.clone(), new);
            if emit && (new == Status::Offline) != (old == Status::Offline) {
                let kind = if new == Status::Offline {
                    EventKind::StationOffline
                } else {
                    EventKind::StationOnline
                };
                if new == Status::Offline || old == Status::Offline {
                    out.events.push(Event {
                        kind,
                        data: EventData {
                            station_id: s.clone(),
                            source_id: self.source_of(&s),
                            pollutant: None,
                            time: rfc3339(now),
                            value: None,
                            limit: None,
                        },
                    });
                }
            }
            if let Some(src) = self.source_of(&s) {
                sources.insert(src);
            }
            out.stations.push((s, new));
        }
        for src in sources {
            let statuses = self
                .stations_of_source
                .get(&src)
                .into_iter()
                .flatten()
                .map(|s| engine.status.get(s).copied().unwrap_or(Status::NoData));
            let new = Status::worst(statuses);
            let old = engine
                .source_status
                .get(&src)
                .copied()
                .unwrap_or(Status::NoData);
            if new != old {
                engine.source_status.insert(src.clone(), new);
                out.sources.push((src, new));
            }
        }
        out.stations.sort();
        out.sources.sort();
    }

    /// Restores open exceedances read from the store.
    pub(crate) fn restore(&self, open: Vec<Exceedance>) {
        let mut e = lock(&self.engine);
        for ex in open {
            let station = ex.station_id.clone();
            let source = self.source_of(&station);
            e.record_episode(&ex, source.as_deref());
            let before = e.detector.open().count();
            e.detector.restore(ex);
            if e.detector.open().count() > before {
                *e.open_per_station.entry(station).or_default() += 1;
            }
        }
    }

    /// Remembers stored episodes (start-up) for the recent-exceedance counts.
    pub(crate) fn remember(&self, episodes: &[Exceedance]) {
        let mut e = lock(&self.engine);
        for ex in episodes {
            let source = self.source_of(&ex.station_id);
            e.record_episode(ex, source.as_deref());
        }
    }

    /// Sets last-seen times (start-up: the newest stored reading of each station).
    pub(crate) fn seed_last_seen(&self, seen: HashMap<String, OffsetDateTime>) {
        let mut e = lock(&self.engine);
        for (s, t) in seen {
            let entry = e.last_seen.entry(s).or_insert(t);
            if t > *entry {
                *entry = t;
            }
        }
    }
}
