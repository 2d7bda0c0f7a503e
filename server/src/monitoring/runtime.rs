//! The monitoring tasks of a running server: start-up evaluation, the group-commit
//! writer, the offline ticker, retention, and the HJ 212 listener.
//!
//! Group commit: every job (one HJ 212 packet, one HTTP ingest request) goes into one
//! queue; the writer takes whatever has queued up while the previous transaction ran
//! (at most `[monitoring] max_batch` readings), commits it in one transaction, and only
//! then acknowledges each job (the HJ 212 reply is sent on that acknowledgement).
//! Evaluation (exceedances, statuses, events) follows each commit.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration as StdDuration;

use time::{Duration, OffsetDateTime};
use tokio::sync::mpsc;

use super::limits::default_limits;
use super::monitor::{Job, Outcome, SOURCES, STATIONS};
use super::status::Status;
use crate::app::AppState;
use crate::atlas::LayerChange;
use crate::model::Reading;
use crate::model::{NewFeature, Value};
use crate::store::monitoring::{
    Exceedance, ExceedanceQuery, IngestBatch, Limit, MonitoringStore, Observation,
};
use crate::store::StoreError;

/// How far back start-up replays stored readings through the detector.
const REPLAY: Duration = Duration::hours(48);

/// What start-up evaluation reads from the store. None of it depends on the
/// atlas, so `app::start` reads it while the layers load (on PostGIS at scale
/// 1000: ~320k limits and a day of readings, a second or two saved).
pub struct Prefetched {
    now: OffsetDateTime,
    latest_rebuilt: u64,
    limits: LimitMap,
    open: Vec<Exceedance>,
    recent_exceedances: Vec<Exceedance>,
    latest: Vec<Reading>,
    replay: Vec<Observation>,
}

/// Limits by (station, pollutant), as the monitor keeps them.
pub(crate) type LimitMap = HashMap<(String, String), Limit>;

fn key_limits(limits: Vec<Limit>) -> LimitMap {
    limits
        .into_iter()
        .map(|l| ((l.station_id.clone(), l.pollutant.clone()), l))
        .collect()
}

/// Reads what [`spawn`] needs from the monitoring store.
pub async fn prefetch(db: Arc<dyn MonitoringStore>) -> Result<Prefetched, StoreError> {
    let now = OffsetDateTime::now_utc();
    let latest_rebuilt = db.rebuild_latest_if_empty().await?;
    let open_only = ExceedanceQuery {
        open_only: true,
        limit: usize::MAX,
        ..ExceedanceQuery::default()
    };
    let recent = ExceedanceQuery {
        from: Some(now - super::counts::RECENT),
        limit: usize::MAX,
        ..ExceedanceQuery::default()
    };
    // One query at a time: the layers load on several connections meanwhile,
    // and the pool must not run dry.
    let limits = db.limits().await?;
    // Keyed here, beside the atlas load, not on the start-up path (~0.3 s at
    // scale 1000).
    let limits = tokio::task::spawn_blocking(move || key_limits(limits))
        .await
        .map_err(|e| StoreError::Corrupt(format!("keying the limits panicked: {e}")))?;
    let open = db.exceedances(&open_only).await?;
    let recent_exceedances = db.exceedances(&recent).await?;
    let latest = db.latest().await?;
    let replay = db.readings_since(now - REPLAY).await?;
    Ok(Prefetched {
        now,
        latest_rebuilt,
        limits,
        open,
        recent_exceedances,
        latest,
        replay,
    })
}

/// Starts the monitoring tasks. Called once by `app::start`, with what
/// [`prefetch`] read.
pub async fn spawn(state: &AppState, prefetched: Prefetched) -> Result<(), StoreError> {
    init(state, prefetched).await?;
    let rx = state
        .monitoring
        .queue_rx
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .take();
    if let Some(rx) = rx {
        tokio::spawn(writer(state.clone(), rx));
    }
    tokio::spawn(ticker(state.clone()));
    if state.config.monitoring.retention_days > 0 {
        tokio::spawn(retention(state.clone()));
    }
    let listener = state
        .monitoring
        .hj212
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .take();
    if let Some(listener) = listener {
        tokio::spawn(super::tcp::accept_loop(state.clone(), listener));
    }
    Ok(())
}

/// Limits, open exceedances, last-seen times and the statuses the stored readings imply.
async fn init(state: &AppState, prefetched: Prefetched) -> Result<(), StoreError> {
    let m = &state.monitoring;
    let Prefetched {
        now,
        latest_rebuilt,
        mut limits,
        open,
        recent_exceedances,
        latest,
        replay,
    } = prefetched;
    let started = std::time::Instant::now();
    if limits.is_empty() {
        if let Some(stations) = state.atlas.layer(STATIONS) {
            let sources = state.atlas.layer(SOURCES);
            let defaults = default_limits(&stations, sources.as_deref());
            m.db.put_limits(&defaults).await?;
            limits = key_limits(defaults);
        }
    }
    let limit_count = limits.len();
    m.install_limits(limits);
    m.restore(open);
    m.remember(&recent_exceedances);
    let mut seen: HashMap<String, OffsetDateTime> = HashMap::new();
    for r in latest {
        let t = seen.entry(r.station_id).or_insert(r.time);
        *t = (*t).max(r.time);
    }
    m.seed_last_seen(seen);
    m.set_stored_statuses(stored_statuses(state, STATIONS));
    let mut outcome = m.evaluate(&replay, None, now, false);
    let all = m.tick(now);
    outcome.stations.extend(all.stations);
    outcome.sources.extend(all.sources);
    tracing::info!(
        limits = limit_count,
        replayed = replay.len(),
        latest_rebuilt,
        exceedances = outcome.exceedances.len(),
        status_changes = outcome.stations.len() + outcome.sources.len(),
        evaluation_ms = started.elapsed().as_millis() as u64,
        "monitoring ready"
    );
    publish(state, outcome).await
}

fn stored_statuses(state: &AppState, layer: &str) -> HashMap<String, Status> {
    let Some(layer) = state.atlas.layer(layer) else {
        return HashMap::new();
    };
    layer
        .features()
        .iter()
        .map(|f| {
            let s = f.text(&layer.schema, "status");
            (f.id.to_string(), Status::parse(s).unwrap_or(Status::NoData))
        })
        .collect()
}

/// Persists exceedances, writes status changes through the store (then the atlas and
/// tiles follow), and sends events.
pub(crate) async fn publish(state: &AppState, outcome: Outcome) -> Result<(), StoreError> {
    let m = &state.monitoring;
    if !outcome.exceedances.is_empty() {
        m.db.put_exceedances(&outcome.exceedances).await?;
    }
    write_statuses(state, STATIONS, &outcome.stations).await?;
    write_statuses(state, SOURCES, &outcome.sources).await?;
    for e in outcome.events {
        // No subscriber is not an error.
        let _ = m.events.send(e);
    }
    Ok(())
}

async fn write_statuses(
    state: &AppState,
    layer_id: &str,
    changes: &[(String, Status)],
) -> Result<(), StoreError> {
    if changes.is_empty() {
        return Ok(());
    }
    let Some(layer) = state.atlas.layer(layer_id) else {
        return Ok(());
    };
    let before = layer.version;
    let Some(pos) = layer.schema.position("status") else {
        return Ok(());
    };
    // The same id can come twice (a replay's outcome extended by a tick): the
    // last status wins, and the store sees each feature once.
    let mut latest = std::collections::BTreeMap::<&str, Status>::new();
    for (id, status) in changes {
        latest.insert(id.as_str(), *status);
    }
    let new: Vec<NewFeature> = latest
        .into_iter()
        .filter_map(|(id, status)| {
            let f = layer.get(id)?;
            let mut properties = f.properties.clone();
            *properties.get_mut(pos)? = Value::Text(status.as_str().into());
            Some(NewFeature {
                id: f.id.to_string(),
                geometry: f.geometry.clone(),
                properties,
            })
        })
        .collect();
    if new.is_empty() {
        return Ok(());
    }
    // Let go of the layer: when no one else holds it either (start-up), the
    // atlas replaces the statuses in place instead of copying the layer.
    let schema = Arc::clone(&layer.schema);
    drop(layer);
    let stored = state.store.upsert_features(&schema, &new).await?;
    let after = state.apply_change(
        layer_id,
        LayerChange {
            upserts: stored,
            deletes: Vec::new(),
        },
    );
    if let (STATIONS, Some(after)) = (layer_id, after) {
        // Only `status` changed: the station index stays valid.
        state.monitoring.status_written(before, after);
    }
    Ok(())
}

async fn writer(state: AppState, mut rx: mpsc::Receiver<Job>) {
    let m = Arc::clone(&state.monitoring);
    while let Some(first) = rx.recv().await {
        let mut jobs = vec![first];
        let mut rows = jobs[0].batch.readings.len();
        while rows < m.max_batch {
            match rx.try_recv() {
                Ok(job) => {
                    rows += job.batch.readings.len();
                    jobs.push(job);
                }
                Err(_) => break,
            }
        }
        let mut batch = IngestBatch::default();
        let mut acks = Vec::with_capacity(jobs.len());
        for job in jobs {
            batch.append(job.batch);
            acks.push(job.ack);
        }
        let result = m.db.commit(&batch).await;
        if let Err(e) = &result {
            tracing::error!(error = %e, readings = batch.readings.len(), "monitoring commit failed");
            super::monitor::Counters::add(&m.counters.commit_errors, 1);
        } else {
            super::monitor::Counters::add(&m.counters.commits, 1);
            super::monitor::Counters::add(
                &m.counters.readings,
                u64::try_from(batch.readings.len()).unwrap_or(u64::MAX),
            );
        }
        let answer = result.as_ref().map(|_| ()).map_err(|e| e.to_string());
        for ack in acks {
            let _ = ack.send(answer.clone());
        }
        if answer.is_ok() && !batch.readings.is_empty() {
            let now = OffsetDateTime::now_utc();
            let outcome = m.evaluate(&batch.readings, Some(now), now, true);
            if let Err(e) = publish(&state, outcome).await {
                tracing::error!(error = %e, "storing exceedances or statuses failed");
            }
        }
    }
}

/// Turns silent stations `offline` (and sends `station_offline`).
async fn ticker(state: AppState) {
    let period = StdDuration::from_secs(state.config.monitoring.offline_after_s.clamp(1, 60));
    let mut interval = tokio::time::interval(period);
    interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        interval.tick().await;
        let outcome = state.monitoring.tick(OffsetDateTime::now_utc());
        if let Err(e) = publish(&state, outcome).await {
            tracing::error!(error = %e, "storing statuses failed");
        }
    }
}

/// Deletes data older than `[monitoring] retention_days`, hourly.
async fn retention(state: AppState) {
    let days = i64::try_from(state.config.monitoring.retention_days).unwrap_or(i64::MAX);
    let mut interval = tokio::time::interval(StdDuration::from_secs(3600));
    loop {
        interval.tick().await;
        let before = OffsetDateTime::now_utc() - Duration::days(days.min(100_000));
        match state.monitoring.db.delete_before(before).await {
            Ok(n) if n > 0 => tracing::info!(deleted = n, "retention: old readings deleted"),
            Ok(_) => {}
            Err(e) => tracing::error!(error = %e, "retention failed"),
        }
    }
}
