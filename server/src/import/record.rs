//! What every reader yields: one [`Record`] per row or feature, with where it
//! came from, so that a problem can be reported by line or index.

use std::fmt;

use geo_types::Geometry;
use serde_json::Value as Json;

use super::crs::Declared;
use super::ImportError;

/// Where a record sits in its file, as a user would look for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Location {
    /// A CSV line (1-based; the header is line 1).
    Line(u64),
    /// A GeoJSON feature's index in `features` (0-based).
    Index(u64),
    /// A Shapefile record number (1-based, as in the `.shp`/`.dbf`).
    Record(u64),
    /// A GeoPackage feature's primary key.
    Fid(i64),
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Location::Line(n) => write!(f, "line {n}"),
            Location::Index(n) => write!(f, "feature index {n}"),
            Location::Record(n) => write!(f, "record {n}"),
            Location::Fid(n) => write!(f, "fid {n}"),
        }
    }
}

/// One row or feature as read, before it is checked against the layer.
#[derive(Debug, Clone)]
pub struct Record {
    pub location: Location,
    /// 1-based position in the file: the basis of generated ids.
    pub ordinal: u64,
    /// The file's own feature id, when the format has one (GeoJSON `id`, GeoPackage fid).
    pub native_id: Option<String>,
    /// The geometry in the file's coordinates, or why there is none.
    pub geometry: Result<Geometry<f64>, String>,
    /// Attribute name and value, in file order.
    pub properties: Vec<(String, Json)>,
}

/// An open file: what it declares, and its records in order.
pub struct Opened {
    pub format: &'static str,
    pub declared: Declared,
    /// Attribute names, for schema inference and the column report.
    pub fields: Vec<String>,
    /// Messages about how the file was read (encoding chosen etc.).
    pub notes: Vec<String>,
    pub records: Box<dyn Iterator<Item = Result<Record, ImportError>> + Send>,
}

impl fmt::Debug for Opened {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Opened")
            .field("format", &self.format)
            .field("declared", &self.declared)
            .field("fields", &self.fields)
            .finish_non_exhaustive()
    }
}
