//! `envatlas import`: files bureaus receive into a layer of the store.
//!
//! - [`pipeline`]: the import itself: open, check every record, then write.
//! - Readers, each yielding [`record::Record`]s: [`csv_table`] (CSV with
//!   lon/lat columns), [`geojson_file`], [`shp`] (Shapefile), [`gpkg`] (GeoPackage).
//! - [`encoding`]: UTF-8/GBK text; [`crs`]: accepted coordinate systems;
//!   [`gcj02`]: GCJ-02 → WGS84.
//! - [`coerce`]: file columns to typed layer properties; [`infer`]: a new
//!   layer's schema (`--create`); [`validate`]: geometry checks.
//! - [`report`]: what happened, per row; [`progress`]: the terminal bar.
//!
//! Writes go only through [`crate::store::Store`], so a running server on the
//! same store learns about them as about any other write. docs/import.md is
//! the user's guide.

pub mod coerce;
pub mod crs;
pub mod csv_table;
pub mod encoding;
pub mod gcj02;
pub mod geojson_file;
pub mod gpkg;
pub mod infer;
pub mod pipeline;
pub mod progress;
pub mod record;
pub mod report;
pub mod shp;
pub mod validate;

use std::path::PathBuf;

pub use crs::Crs;
pub use encoding::TextEncoding;
pub use pipeline::run;
pub use progress::Progress;
pub use report::{ImportReport, Problem};

use crate::store::StoreError;

/// Features per batch sent to `Store::bulk_upsert` (all in one transaction).
pub const DEFAULT_BATCH: usize = 10_000;

/// What to import, and how (the command line's flags).
#[derive(Debug, Clone)]
pub struct ImportOptions {
    pub file: PathBuf,
    pub layer: String,
    pub create: bool,
    pub id_field: Option<String>,
    /// Overrides what the file declares (GCJ-02 files usually claim EPSG:4326).
    pub crs: Option<Crs>,
    pub lon_field: Option<String>,
    pub lat_field: Option<String>,
    pub encoding: Option<TextEncoding>,
    pub skip_invalid: bool,
    pub dry_run: bool,
    pub batch_size: usize,
}

impl ImportOptions {
    pub fn new(file: impl Into<PathBuf>, layer: &str) -> ImportOptions {
        ImportOptions {
            file: file.into(),
            layer: layer.to_string(),
            create: false,
            id_field: None,
            crs: None,
            lon_field: None,
            lat_field: None,
            encoding: None,
            skip_invalid: false,
            dry_run: false,
            batch_size: DEFAULT_BATCH,
        }
    }
}

/// Why an import could not run at all (row problems are in the report instead).
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("cannot read {path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    #[error("{0}")]
    Input(String),
    #[error("coordinate system: {0}")]
    Crs(String),
    #[error("layer: {0}")]
    Layer(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}
