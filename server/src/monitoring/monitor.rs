//! The monitoring runtime shared through `AppState`: the live station index (MN →
//! station, station → source; `stations.rs`), the limits, the exceedance detector,
//! last-seen times and the statuses last computed, the event channel, and the queue
//! of the group-commit writer.
//!
//! The engine sits behind a `std::sync::Mutex` that is only held for in-memory work,
//! never across an `.await`.

use std::collections::{HashMap, HashSet};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};

use time::{Duration, OffsetDateTime};
use tokio::sync::{broadcast, mpsc, oneshot};

use super::events::{rfc3339, Event, EventData, EventKind};
use super::exceedance::{compared_values, Detector, Observation, Transition};
use super::stations::{LiveStations, StationIndex, StoredStatuses};
use super::status::Status;
use crate::atlas::Atlas;
use crate::config::Config;
use crate::store::monitoring::{Exceedance, IngestBatch, Limit, MonitoringStore};

pub use super::counters::Counters;
pub use super::stations::{StationInfo, SOURCES, STATIONS};

/// One unit of work for the writer: committed together with others, then acknowledged.
/// Its readings are evaluated (exceedances, statuses) after the commit.
#[derive(Debug)]
pub struct Job {
    pub batch: IngestBatch,
    pub ack: oneshot::Sender<Result<(), String>>,
}

#[derive(Debug, Default)]
pub(crate) struct Engine {
    pub detector: Detector,
    pub limits: HashMap<(String, String), Limit>,
    pub open_per_station: HashMap<String, usize>,
    pub last_seen: HashMap<String, OffsetDateTime>,
    /// Station statuses as last computed (the stored ones at start-up); offline and
    /// online events are sent on their changes.
    pub status: HashMap<String, Status>,
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

/// What a status recomputation compares with.
struct Restatus<'a> {
    index: &'a StationIndex,
    stored: &'a StoredStatuses,
    now: OffsetDateTime,
    emit: bool,
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
    pub(crate) live: LiveStations,
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
    /// Follows the stations of `atlas`; binds nothing yet.
    pub fn new(
        db: Arc<dyn MonitoringStore>,
        atlas: Arc<Atlas>,
        config: &Config,
        hj212: Option<tokio::net::TcpListener>,
    ) -> Self {
        let (queue, rx) = mpsc::channel(4096);
        let (events, _) = broadcast::channel(1024);
        let hj212_addr = hj212.as_ref().and_then(|l| l.local_addr().ok());
        Self {
            db,
            engine: Mutex::new(Engine::default()),
            live: LiveStations::new(atlas),
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

    /// The stations as the atlas holds them now (rebuilt after a station edit).
    pub fn stations(&self) -> Arc<StationIndex> {
        self.live.index()
    }

    /// The station an MN belongs to, now.
    pub fn station_of_mn(&self, mn: &str) -> Option<String> {
        self.stations().station_of_mn(mn).map(str::to_string)
    }

    /// A station as it is now.
    pub fn station(&self, id: &str) -> Option<StationInfo> {
        self.stations().station(id).cloned()
    }

    /// After this monitor's own status write took the stations layer from version
    /// `before` to `after`: the index stays valid (see [`LiveStations::carry_over`]).
    pub(crate) fn status_written(&self, before: u64, after: u64) {
        self.live.carry_over(before, after);
    }

    /// Queues a job for the writer and waits until it is committed.
    pub async fn submit(&self, batch: IngestBatch) -> Result<(), String> {
        let rx = self.enqueue(batch).await?;
        rx.await.map_err(|_| "the writer stopped".to_string())?
    }

    /// Queues a job; the receiver resolves once it is committed (or failed).
    pub async fn enqueue(
        &self,
        batch: IngestBatch,
    ) -> Result<oneshot::Receiver<Result<(), String>>, String> {
        let (ack, rx) = oneshot::channel();
        self.queue
            .send(Job { batch, ack })
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
    /// Replaces every limit (start-up: keyed while the atlas loaded).
    pub(crate) fn install_limits(&self, limits: super::runtime::LimitMap) {
        lock(&self.engine).limits = limits;
    }

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

    /// Records the station statuses the layer holds at start-up.
    pub(crate) fn set_stored_statuses(&self, stations: HashMap<String, Status>) {
        lock(&self.engine).status = stations;
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
        let index = self.stations();
        let stored = StoredStatuses::of(self.live.atlas());
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
            let source = |station: &str| index.source_of(station).map(str::to_string);
            let (kind, ex) = match t {
                Transition::Opened(ex) => {
                    engine.record_episode(&ex, source(&ex.station_id).as_deref());
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
                        source_id: source(&ex.station_id),
                        pollutant: Some(ex.pollutant.clone()),
                        time: rfc3339(c.time),
                        value: Some(c.value),
                        limit: Some(ex.limit),
                    },
                });
            }
            out.exceedances.push(ex);
        }
        let change = Restatus {
            index: &index,
            stored: &stored,
            now,
            emit,
        };
        self.restatus(
            engine,
            &change,
            touched.iter().map(String::as_str),
            HashSet::new(),
            &mut out,
        );
        out
    }

    /// Recomputes the status of every station and source (the offline ticker; also
    /// what writes the status of features created or reloaded meanwhile).
    pub(crate) fn tick(&self, now: OffsetDateTime) -> Outcome {
        let index = self.stations();
        let stored = StoredStatuses::of(self.live.atlas());
        let mut out = Outcome::default();
        let mut e = lock(&self.engine);
        let stations = index.station_ids().map(String::as_str);
        let sources: HashSet<&str> = index.source_ids().map(String::as_str).collect();
        let change = Restatus {
            index: &index,
            stored: &stored,
            now,
            emit: true,
        };
        self.restatus(&mut e, &change, stations, sources, &mut out);
        out
    }

    /// New statuses of `stations` and of their sources (plus `sources`): a status is
    /// written when it differs from the one the layer holds now; offline/online
    /// events follow the statuses last computed.
    /// Ids are borrowed (a tick covers every station and source: at scale 1000,
    /// 730,000 ids not copied).
    fn restatus<'i>(
        &self,
        engine: &mut Engine,
        r: &Restatus<'i>,
        stations: impl IntoIterator<Item = &'i str>,
        mut sources: HashSet<&'i str>,
        out: &mut Outcome,
    ) {
        for s in stations {
            if !r.index.contains(s) {
                continue;
            }
            let exceeding = engine.open_per_station.get(s).copied().unwrap_or(0) > 0;
            let new = Status::of_station(
                engine.last_seen.get(s).copied(),
                exceeding,
                r.now,
                self.offline_after,
            );
            let old = match engine.status.get_mut(s) {
                Some(slot) => std::mem::replace(slot, new),
                None => {
                    engine.status.insert(s.to_string(), new);
                    Status::NoData
                }
            };
            let source = r.index.source_of(s);
            if r.emit && new != old && (new == Status::Offline || old == Status::Offline) {
                let kind = if new == Status::Offline {
                    EventKind::StationOffline
                } else {
                    EventKind::StationOnline
                };
                out.events.push(Event {
                    kind,
                    data: EventData {
                        station_id: s.to_string(),
                        source_id: source.map(str::to_string),
                        pollutant: None,
                        time: rfc3339(r.now),
                        value: None,
                        limit: None,
                    },
                });
            }
            let stored = r.stored.station(s);
            if new != old || stored.is_some_and(|st| st != new) {
                sources.extend(source);
            }
            if stored.is_some_and(|st| st != new) {
                out.stations.push((s.to_string(), new));
            }
        }
        for src in sources {
            let Some(stored) = r.stored.source(src) else {
                continue;
            };
            let new = Status::worst(
                r.index
                    .stations_of(src)
                    .iter()
                    .map(|s| engine.status.get(s).copied().unwrap_or(Status::NoData)),
            );
            if new != stored {
                out.sources.push((src.to_string(), new));
            }
        }
        out.stations.sort();
        out.sources.sort();
    }

    /// Restores open exceedances read from the store.
    pub(crate) fn restore(&self, open: Vec<Exceedance>) {
        let index = self.stations();
        let mut e = lock(&self.engine);
        for ex in open {
            let station = ex.station_id.clone();
            e.record_episode(&ex, index.source_of(&station));
            let before = e.detector.open().count();
            e.detector.restore(ex);
            if e.detector.open().count() > before {
                *e.open_per_station.entry(station).or_default() += 1;
            }
        }
    }

    /// Remembers stored episodes (start-up) for the recent-exceedance counts.
    pub(crate) fn remember(&self, episodes: &[Exceedance]) {
        let index = self.stations();
        let mut e = lock(&self.engine);
        for ex in episodes {
            e.record_episode(ex, index.source_of(&ex.station_id));
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
