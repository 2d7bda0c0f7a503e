//! Start-up and serving: open the store, seed it when new, load every layer into
//! the in-memory atlas, then serve HTTP until shutdown.

use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use time::OffsetDateTime;
use tokio::net::TcpListener;

use crate::atlas::{Atlas, LayerChange};
use crate::config::Config;
use crate::metrics::Metrics;
use crate::store::postgis::PostgisStore;
use crate::store::seed::seed_if_empty;
use crate::store::sqlite::SqliteStore;
use crate::store::{Store, StoreError};
use crate::tileset::Tileset;

/// What every handler shares. Cheap to clone.
#[derive(Clone, Debug)]
pub struct AppState {
    pub atlas: Arc<Atlas>,
    pub store: Arc<dyn Store>,
    pub config: Arc<Config>,
    pub metrics: Arc<Metrics>,
    pub tiles: Arc<Tileset>,
    /// The river network of the current `rivers` layer version.
    pub rivers: Arc<crate::analysis::river::RiverCache>,
    /// Whole-layer risk assessments per input versions.
    pub risk: Arc<crate::analysis::risk::RiskCache>,
    /// Recent exceedances per source, for risk scores and upstream flags
    /// (`NoExceedances` until monitoring provides counts).
    pub exceedances: Arc<dyn crate::analysis::exceedance::ExceedanceCounts>,
    /// Online monitoring: limits, exceedances, statuses, events, the ingest queue.
    pub monitoring: Arc<crate::monitoring::Monitor>,
}

impl AppState {
    /// Applies a change that the store has committed: the layer's next version
    /// goes live and its cached tiles are dropped. Returns the new version.
    pub fn apply_change(&self, layer_id: &str, change: LayerChange) -> Option<u64> {
        let version = self.atlas.apply(layer_id, change)?;
        self.tiles.invalidate(layer_id);
        Some(version)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("cannot listen for HJ 212 on {addr}: {source}")]
    Hj212Listen {
        addr: String,
        source: std::io::Error,
    },
    #[error("cannot create data directory {path}: {source}")]
    DataDir {
        path: String,
        source: std::io::Error,
    },
}

/// Opens the store named by the configuration: PostGIS when `database_url` is
/// set, else the embedded store in the data directory.
pub async fn open_store(config: &Config) -> Result<Arc<dyn Store>, StartError> {
    if let Some(url) = &config.database_url {
        return Ok(Arc::new(PostgisStore::open(url).await?));
    }
    std::fs::create_dir_all(&config.data_dir).map_err(|source| StartError::DataDir {
        path: config.data_dir.display().to_string(),
        source,
    })?;
    Ok(Arc::new(SqliteStore::open(&config.database_path()).await?))
}

/// Opens the store, seeds it on first start and loads the atlas.
pub async fn start(config: Config) -> Result<AppState, StartError> {
    let started = Instant::now();
    let store = open_store(&config).await?;
    if let Some(report) = seed_if_empty(
        store.as_ref(),
        &config.data_dir,
        !config.no_sample,
        OffsetDateTime::now_utc(),
    )
    .await?
    {
        tracing::info!(
            features = ?report.features,
            readings = report.readings,
            shift_hours = report.shift.whole_hours(),
            elapsed_ms = started.elapsed().as_millis() as u64,
            "seeded the {} store from {}",
            store.kind(),
            config.data_dir.display()
        );
    }
    // Read before loading: changes committed while loading are applied again
    // by the follower, which is harmless (it reloads current state).
    let change_seq = store.last_change().await?;
    // Monitoring's start-up reads do not need the atlas: they run while it loads.
    let monitoring_reads = tokio::spawn(crate::monitoring::runtime::prefetch(store.monitoring()));
    let atlas = Arc::new(load_atlas(store.clone()).await?);
    tracing::info!(
        layers = atlas.layers().len(),
        features = atlas.layers().iter().map(|l| l.len()).sum::<usize>(),
        elapsed_ms = started.elapsed().as_millis() as u64,
        "atlas loaded"
    );
    let tiles = Arc::new(Tileset::new(
        config.tiles.cache_mb.saturating_mul(1024 * 1024),
    ));
    let hj212 = match &config.hj212_listen {
        Some(addr) => {
            Some(
                TcpListener::bind(addr)
                    .await
                    .map_err(|source| StartError::Hj212Listen {
                        addr: addr.clone(),
                        source,
                    })?,
            )
        }
        None => None,
    };
    // The river graph is built (and its unconnected ends logged) at start-up
    // rather than on the first trace, on another core while monitoring starts.
    let rivers = Arc::new(crate::analysis::river::RiverCache::new());
    let building_rivers = {
        let (rivers, atlas, settings) = (rivers.clone(), atlas.clone(), config.rivers.clone());
        tokio::task::spawn_blocking(move || {
            rivers.network(&atlas, &settings);
        })
    };
    let monitoring = Arc::new(crate::monitoring::Monitor::new(
        store.monitoring(),
        atlas.clone(),
        &config,
        hj212,
    ));
    let state = AppState {
        rivers,
        risk: Arc::new(crate::analysis::risk::RiskCache::new()),
        // The monitor counts recent exceedances per source.
        exceedances: monitoring.clone(),
        tiles,
        atlas,
        store,
        config: Arc::new(config),
        metrics: Arc::new(Metrics::new()),
        monitoring,
    };
    let prefetched = monitoring_reads
        .await
        .map_err(|e| StoreError::Corrupt(format!("monitoring start-up reads panicked: {e}")))??;
    crate::monitoring::runtime::spawn(&state, prefetched).await?;
    building_rivers
        .await
        .map_err(|e| StoreError::Corrupt(format!("building the river network panicked: {e}")))?;
    crate::sync::spawn(state.clone(), change_seq);
    Ok(state)
}

/// Loads every layer of the store into memory, one R-tree per layer.
pub async fn load_atlas(store: Arc<dyn Store>) -> Result<Atlas, StoreError> {
    crate::atlas::load::load_all(store).await
}

/// Serves the API on `listener` until `shutdown` resolves, then lets in-flight
/// requests finish (bounded by `http.shutdown_grace_s`).
pub async fn run(
    listener: TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let grace = Duration::from_secs(state.config.http.shutdown_grace_s);
    let app = crate::api::router(state);
    let (stopping_tx, stopping_rx) = tokio::sync::oneshot::channel::<()>();
    let server = axum::serve(listener, app).with_graceful_shutdown(async move {
        shutdown.await;
        let _ = stopping_tx.send(());
    });
    let server = tokio::spawn(async move { server.await });
    tokio::select! {
        result = server => result.map_err(std::io::Error::other)?,
        () = async {
            let _ = stopping_rx.await;
            tokio::time::sleep(grace).await;
        } => {
            tracing::warn!("requests still running {grace:?} after shutdown began; stopping anyway");
            Ok(())
        }
    }
}
