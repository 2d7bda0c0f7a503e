//! The system of record behind the atlas.
//!
//! - [`Store`]: the one trait every backend implements.
//! - [`sqlite`]: the embedded store, a SQLite file in the data directory (default).
//! - [`postgis`]: PostgreSQL with PostGIS, used when `database_url` is set.
//! - [`seed`]: fills an empty store from a sample data directory.
//! - [`codec`]: geometry (WKB) and property (JSON) encoding shared by the backends.
//!
//! Writes go to the store first; only after they are committed does the caller
//! apply them to the in-memory atlas.

pub mod codec;
pub mod postgis;
pub mod seed;
pub mod sqlite;

use async_trait::async_trait;

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

    /// Inserts or replaces features (matched by `id`) in one transaction and
    /// returns them as stored, with their `fid`s. A replaced feature keeps its fid.
    async fn upsert_features(
        &self,
        schema: &LayerSchema,
        features: &[NewFeature],
    ) -> Result<Vec<Feature>, StoreError>;

    /// Inserts readings in one transaction; a reading with the same station,
    /// pollutant, kind and time replaces the old one. Returns how many were written.
    async fn upsert_readings(&self, readings: &[Reading]) -> Result<u64, StoreError>;

    /// Number of stored readings.
    async fn count_readings(&self) -> Result<u64, StoreError>;

    /// A value from the store's key/value metadata.
    async fn meta(&self, key: &str) -> Result<Option<String>, StoreError>;

    async fn set_meta(&self, key: &str, value: &str) -> Result<(), StoreError>;
}
