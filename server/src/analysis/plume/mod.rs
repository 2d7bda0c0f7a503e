//! Air-release threat zones (a screening estimate, as ALOHA-style tools give):
//! a Gaussian plume with Briggs rural coefficients, the polygon where the
//! ground-level concentration exceeds the level of concern, and the features
//! inside it.
//!
//! - [`briggs`]: stability classes and σy, σz.
//! - [`model`]: the concentration and the zone half-width.
//! - [`zone`]: the polygon, in the wind's frame placed on the ellipsoid.

pub mod briggs;
pub mod model;
pub mod zone;

use geo_types::{Geometry, Point};

pub use briggs::Stability;
pub use model::Release;
use zone::{threat_zone, WindFrame};

use super::buffer::{within_distance, BufferQuery};
use super::distance::Shape;
use super::filter::LayerQuery;
use super::hit::{representative_point, Hit};
use super::InputError;
use crate::atlas::Atlas;

/// The layers searched inside a zone: water sources, villages and farms,
/// ecology areas, other pollution sources.
pub const PLUME_LAYERS: [&str; 4] = [
    "drinking_water_sources",
    "rural_sites",
    "ecology_areas",
    "pollution_sources",
];

/// Downwind distances (metres) where the model is roughly valid.
pub const VALID_RANGE_M: [f64; 2] = [100.0, 10_000.0];

/// The label every answer carries (Chinese, English).
pub const NOTE_ZH: &str = "筛查估算：高斯烟羽模型（Briggs 乡村扩散系数），假定风向风速稳定、地形平坦、气体为中性浮力；约 100 米至 10 公里内有效，不能替代现场监测。";
pub const NOTE_EN: &str = "Screening estimate: Gaussian plume (Briggs rural coefficients) assuming a steady wind, flat terrain and a neutrally buoyant gas; roughly valid from 100 m to 10 km; no substitute for field measurements.";

/// A plume request, validated.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PlumeQuery {
    pub origin: Point<f64>,
    pub release: Release,
    pub wind_from_deg: f64,
    pub level_of_concern_mg_m3: f64,
    pub max_distance_m: f64,
}

/// A feature inside the zone: distance from the release point and the
/// estimated concentration at its representative point.
#[derive(Debug, Clone)]
pub struct PlumeHit {
    pub hit: Hit,
    pub concentration_mg_m3: f64,
}

/// The answer: the zone (none when the level is never reached), how far
/// downwind it reaches, and the features inside.
#[derive(Debug, Clone)]
pub struct PlumeOutcome {
    pub zone: Option<Geometry<f64>>,
    pub zone_length_m: f64,
    pub hits: Vec<PlumeHit>,
}

/// Runs the plume analysis on the atlas.
pub fn plume(
    atlas: &Atlas,
    query: &PlumeQuery,
    max_results: usize,
) -> Result<PlumeOutcome, InputError> {
    let wind = WindFrame::new(query.origin, query.wind_from_deg);
    let Some((zone, zone_length_m)) = threat_zone(
        &query.release,
        query.level_of_concern_mg_m3,
        query.max_distance_m,
        &wind,
    ) else {
        return Ok(PlumeOutcome {
            zone: None,
            zone_length_m: 0.0,
            hits: Vec::new(),
        });
    };
    let layers: Vec<LayerQuery> = PLUME_LAYERS
        .iter()
        .filter_map(|id| atlas.layer(id))
        .map(LayerQuery::all)
        .collect();
    let inside = within_distance(
        &layers,
        &BufferQuery {
            geometry: &zone,
            distance_m: 0.0,
            exclude: None,
        },
        max_results,
    )
    .map_err(|e| InputError::new("max_distance_m", e.detail))?;
    let origin = Geometry::Point(query.origin);
    let origin_shape = Shape::new(&origin);
    let mut hits: Vec<PlumeHit> = inside
        .into_iter()
        .filter_map(|mut hit| {
            let feature = hit.feature()?;
            let at = representative_point(&feature.geometry)?;
            hit.distance_m = origin_shape.distance_to(&Shape::new(&feature.geometry));
            let (x, y) = wind.to_wind(at);
            let concentration_mg_m3 = query.release.concentration_mg_m3(x, y);
            Some(PlumeHit {
                hit,
                concentration_mg_m3,
            })
        })
        .collect();
    hits.sort_by(|a, b| a.hit.distance_m.total_cmp(&b.hit.distance_m));
    Ok(PlumeOutcome {
        zone: Some(zone),
        zone_length_m,
        hits,
    })
}
