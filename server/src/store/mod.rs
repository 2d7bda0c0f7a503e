//! The system of record behind the atlas.
//!
//! - [`Store`]: the one trait every backend implements.
//! - [`sqlite`]: the embedded store, a SQLite file in the data directory (default).
//! - [`postgis`]: PostgreSQL with PostGIS, used when `database_url` is set
//!   (`postgis_batch`: array-bound batch writes; `postgis_bulk`: imports
//!   through `COPY`; `postgis_bulk_load`: the parallel start-up load;
//!   `sqlite_bulk`: the embedded store's import path).
//! - [`seed`]: fills an empty store from a sample data directory.
//! - [`change`]: the change log every feature write records, read by other instances.
//! - [`codec`]: geometry (WKB) and property (JSON) encoding shared by the backends.
//!
//! Writes go to the store first; only after they are committed does the caller
//! apply them to the in-memory atlas.

pub mod change;
pub mod codec;
pub mod monitoring;
pub mod postgis;
mod postgis_batch;
mod postgis_bulk;
mod postgis_bulk_load;
mod postgis_changes;
pub mod postgis_monitoring;
mod postgis_setup;
pub mod seed;
pub mod sqlite;
mod sqlite_bulk;
pub mod sqlite_monitoring;

use async_trait::async_trait;

pub use change::{ChangeOp, ChangeRecord};

use crate::model::{Feature, LayerSchema, NewFeature, Reading};

/// Why a store operation failed. Messages name the cause for the log; the HTTP
/// layer never shows them to clients.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    #[error("migration failed: {0}")]
    Migration(#[from] sqlx::migrate::MigrateError),
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
    #[error("unknown layer '{0}'")]
    UnknownLayer(String),
    #[error("{0}")]
    Unsupported(String),
    #[error("I/O error on {path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    #[error("sample data {path}: {reason}")]
    Sample { path: String, reason: String },
    /// A create found features with these ids already stored.
    #[error("features already exist: {0:?}")]
    Conflict(Vec<String>),
    /// A bulk write ended without [`BulkItem::Commit`]: nothing was written.
    #[error("bulk write aborted; nothing was written")]
    Aborted,
}

/// One message of a [`Store::bulk_upsert`] stream.
#[derive(Debug)]
pub enum BulkItem {
    /// Features to write; ids are unique across the whole stream.
    Features(Vec<NewFeature>),
    /// Everything was sent: commit. A stream that ends without it is rolled back.
    Commit,
}

/// The receiving end of a bulk write (bounded, so a fast reader waits for the database).
pub type BulkReceiver = tokio::sync::mpsc::Receiver<BulkItem>;

impl StoreError {
    /// Whether the database could not be reached (as opposed to refusing the
    /// statement): the HTTP layer answers 503 and the client may retry.
    pub fn is_unavailable(&self) -> bool {
        match self {
            StoreError::Database(e) => match e {
                sqlx::Error::Io(_)
                | sqlx::Error::Tls(_)
                | sqlx::Error::Protocol(_)
                | sqlx::Error::PoolTimedOut
                | sqlx::Error::PoolClosed
                | sqlx::Error::WorkerCrashed => true,
                // Class 08: connection exception; 57P01..03: server shutting down.
                sqlx::Error::Database(db) => db.code().is_some_and(|c| {
                    c.starts_with("08") || matches!(c.as_ref(), "57P01" | "57P02" | "57P03")
                }),
                _ => false,
            },
            _ => false,
        }
    }
}

/// A durable store of layers, features and readings.
#[async_trait]
pub trait Store: Send + Sync + std::fmt::Debug {
    /// `"embedded"` or `"postgis"`, for logs and `/ready`.
    fn kind(&self) -> &'static str;

    /// Checks that the database answers.
    async fn ping(&self) -> Result<(), StoreError>;

    /// Every registered layer schema, in catalog order.
    async fn schemas(&self) -> Result<Vec<LayerSchema>, StoreError>;

    /// Registers a layer (or updates its schema).
    async fn put_schema(&self, schema: &LayerSchema) -> Result<(), StoreError>;

    /// Every feature of a layer.
    async fn load_features(&self, schema: &LayerSchema) -> Result<Vec<Feature>, StoreError>;

    /// Every feature of these layers (one vector per schema, same order), for
    /// start-up. The default loads the layers concurrently with
    /// [`Store::load_features`]; the PostGIS store reads its one table in
    /// parallel ranges instead.
    async fn load_layers(&self, schemas: &[LayerSchema]) -> Result<Vec<Vec<Feature>>, StoreError> {
        futures_util::future::try_join_all(schemas.iter().map(|s| self.load_features(s))).await
    }

    /// Inserts or replaces features (matched by `id`) in one transaction and
    /// returns them as stored, with their `fid`s. A replaced feature keeps its fid.
    async fn upsert_features(
        &self,
        schema: &LayerSchema,
        features: &[NewFeature],
    ) -> Result<Vec<Feature>, StoreError>;

    /// Writes a stream of features (inserted, or replaced by id keeping their
    /// fid) in one transaction, for imports: nothing is written unless the
    /// stream ends with [`BulkItem::Commit`] (otherwise [`StoreError::Aborted`]).
    /// With `register`, the schema is registered in the same transaction, so a
    /// new layer appears only together with its features. One change record
    /// (a whole-layer one above [`change::MAX_CHANGE_IDS`] ids) lets running
    /// servers see the write. Returns how many features were written.
    ///
    /// The default collects the stream and makes one `upsert_features` call.
    async fn bulk_upsert(
        &self,
        schema: &LayerSchema,
        register: bool,
        mut batches: BulkReceiver,
    ) -> Result<u64, StoreError> {
        let mut all = Vec::new();
        let mut committed = false;
        while let Some(item) = batches.recv().await {
            match item {
                BulkItem::Features(batch) => all.extend(batch),
                BulkItem::Commit => {
                    committed = true;
                    break;
                }
            }
        }
        if !committed {
            return Err(StoreError::Aborted);
        }
        if register {
            self.put_schema(schema).await?;
        }
        if all.is_empty() {
            return Ok(0);
        }
        Ok(self.upsert_features(schema, &all).await?.len() as u64)
    }

    /// Inserts new features in one transaction; fails with
    /// [`StoreError::Conflict`] (writing nothing) when any id is already stored.
    async fn create_features(
        &self,
        schema: &LayerSchema,
        features: &[NewFeature],
    ) -> Result<Vec<Feature>, StoreError>;

    /// Deletes features by id in one transaction; returns the ids that existed.
    async fn delete_features(
        &self,
        schema: &LayerSchema,
        ids: &[String],
    ) -> Result<Vec<String>, StoreError>;

    /// The stored features with these ids (missing ids are left out).
    async fn features_by_id(
        &self,
        schema: &LayerSchema,
        ids: &[String],
    ) -> Result<Vec<Feature>, StoreError>;

    /// This store handle's origin id, recorded with every change it writes.
    fn origin(&self) -> &str;

    /// The sequence number of the newest recorded change (0 when none).
    async fn last_change(&self) -> Result<i64, StoreError>;

    /// Up to `limit` recorded changes after `seq`, oldest first.
    async fn changes_since(&self, seq: i64, limit: i64) -> Result<Vec<ChangeRecord>, StoreError>;

    /// Wakes a waiting server when another process commits a change (PostGIS:
    /// `LISTEN`); `None` when the store has no notifications (the embedded
    /// store is polled).
    async fn change_notifications(
        &self,
    ) -> Result<Option<Box<dyn ChangeNotifications>>, StoreError> {
        Ok(None)
    }

    /// Inserts readings in one transaction; a reading with the same station,
    /// pollutant, kind and time replaces the old one. Returns how many were written.
    async fn upsert_readings(&self, readings: &[Reading]) -> Result<u64, StoreError>;

    /// Number of stored readings.
    async fn count_readings(&self) -> Result<u64, StoreError>;

    /// A value from the store's key/value metadata.
    async fn meta(&self, key: &str) -> Result<Option<String>, StoreError>;

    async fn set_meta(&self, key: &str, value: &str) -> Result<(), StoreError>;

    /// The monitoring tables (readings ingest and queries, limits, exceedances,
    /// quarantine); see [`monitoring`].
    fn monitoring(&self) -> std::sync::Arc<dyn monitoring::MonitoringStore>;
}

/// A subscription to change notifications.
#[async_trait]
pub trait ChangeNotifications: Send {
    /// Returns when a change may have been committed: a notification arrived,
    /// or the connection was lost and re-established (notifications may have
    /// been missed, so the caller reads the change log either way). An error
    /// means the subscription could not be re-established yet.
    async fn next(&mut self) -> Result<(), StoreError>;
}
