//! Start-up and serving: open the store, seed it when new, load every layer into
//! the in-memory atlas, then serve HTTP until shutdown.

use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use time::OffsetDateTime;
use tokio::net::TcpListener;

use crate::atlas::{Atlas, Layer, LayerChange};
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
    let atlas = Arc::new(load_atlas(store.as_ref()).await?);
    tracing::info!(
        layers = atlas.layers().len(),
        features = atlas.layers().iter().map(|l| l.len()).sum::<usize>(),
        elapsed_ms = started.elapsed().as_millis() as u64,
        "atlas loaded"
    );
    let tiles = Arc::new(Tileset::new(
        config.tiles.cache_mb.saturating_mul(1024 * 1024),
    ));
    Ok(AppState {
        tiles,
        atlas,
        store,
        config: Arc::new(config),
        metrics: Arc::new(Metrics::new()),
    })
}

/// Loads every layer of the store into memory, one R-tree per layer.
pub async fn load_atlas(store: &dyn Store) -> Result<Atlas, StoreError> {
    let atlas = Atlas::new();
    for schema in store.schemas().await? {
        let features = store.load_features(&schema).await?;
        let schema = Arc::new(schema);
        // Building an R-tree is CPU work: keep it off the async worker threads.
        let layer = tokio::task::spawn_blocking(move || Layer::new(schema, features, 1))
            .await
            .map_err(|e| StoreError::Corrupt(format!("layer build panicked: {e}")))?;
        atlas.insert(layer);
    }
    Ok(atlas)
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
