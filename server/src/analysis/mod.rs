//! Spatial analysis on the in-memory atlas: buffers, nearest features and
//! per-county statistics. Everything runs on the layers' rstar R-trees (bounding
//! boxes in lon/lat) for candidates, then exact geometry tests; every distance
//! is geodesic on the WGS84 ellipsoid, in metres, with great-circle edges as in
//! PostGIS `geography`. Nothing here knows about HTTP (see `api::analysis`).
//!
//! Table of contents:
//! - [`geodesy`]: point distances and bearings (WGS84), great-circle arcs,
//!   conservative metre → degree search envelopes.
//! - [`bound`]: cheap lower bounds of the distance to R-tree boxes (no trigonometry).
//! - [`distance`]: minimum distance between whole geometries ([`distance::Shape`]).
//! - [`rings`]: point-in-polygon by latitude bands, for a polygon tested against many points.
//! - [`aeqd`]: the geodesic buffer polygon, drawn in a local azimuthal-equidistant frame.
//! - [`filter`]: which layers are searched and the property filter of each.
//! - [`nearest`]: exact k-nearest features per layer.
//! - [`buffer`]: features within a distance of a point, line or polygon.
//! - [`summary`]: a buffer's counts per layer and county, protection-zone levels touched.
//! - [`counties`]: county membership and the `/api/stats/counties` indicators.
//! - [`hit`]: one result and its GeoJSON form.
//! - [`csv`]: results as CSV for spreadsheets.
//! - [`river`]: the river network: snapping, downstream/upstream tracing, diagnostics.
//! - [`risk`]: risk scores of water sources and ecology areas.
//! - [`plume`]: air-release threat zones (Gaussian plume, screening estimate).
//! - [`exceedance`]: recent exceedance counts per source (a trait monitoring implements).

pub mod aeqd;
pub mod bound;
pub mod buffer;
pub mod counties;
pub mod csv;
pub mod distance;
pub mod exceedance;
pub mod filter;
pub mod geodesy;
pub mod hit;
pub mod nearest;
pub mod plume;
pub mod rings;
pub mod risk;
pub mod river;
pub mod summary;
#[cfg(test)]
mod test_support;

pub use buffer::{BufferOutcome, BufferQuery};
pub use counties::Indicator;
pub use filter::{FilterSpec, LayerQuery};
pub use hit::Hit;
pub use nearest::NearestQuery;

/// Invalid analysis input: which request parameter, and what is wrong with it.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{detail}")]
pub struct InputError {
    pub parameter: String,
    pub detail: String,
}

impl InputError {
    pub fn new(parameter: &str, detail: impl Into<String>) -> Self {
        InputError {
            parameter: parameter.to_string(),
            detail: detail.into(),
        }
    }
}
