//! The risk assessment of water sources or ecology areas: for each, the
//! pollution sources inside its protection zones or within the risk radius,
//! whether each lies upstream on the river network (and how far along it),
//! and the score with its contributions.
//!
//! Per target: R-tree candidates within the radius (exact geodesic distance),
//! plus the sources inside the target's own zones (`water_source_id`), which
//! may reach beyond the radius. A source is upstream when both it and the
//! water source lie within `analysis.river_snap_m` of a river and the water
//! source is downstream of the source along the network. Sources are snapped
//! to the network once per assessment, however many targets they are near.

use std::collections::HashMap;
use std::sync::Arc;

use geo::{BoundingRect, Intersects};
use geo_types::{Geometry, Point};

use super::factors::{Factors, Facts, Hazard, Placement};
use super::settings::AnalysisConfig;
use crate::analysis::bound::{max_hav_within, BoxBound};
use crate::analysis::distance::Shape;
use crate::analysis::exceedance::ExceedanceCounts;
use crate::analysis::geodesy::{geodesic_distance_m, search_envelope};
use crate::analysis::river::{RiverGraph, Snap};
use crate::atlas::{Atlas, Layer};

pub const WATER_SOURCES: &str = "drinking_water_sources";
pub const ECOLOGY_AREAS: &str = "ecology_areas";
pub const SOURCES: &str = "pollution_sources";
pub const ZONES: &str = "protection_zones";

/// Which features are assessed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Target {
    WaterSources,
    EcologyAreas,
}

impl Target {
    pub fn layer_id(self) -> &'static str {
        match self {
            Target::WaterSources => WATER_SOURCES,
            Target::EcologyAreas => ECOLOGY_AREAS,
        }
    }

    pub fn from_layer_id(id: &str) -> Option<Target> {
        match id {
            WATER_SOURCES => Some(Target::WaterSources),
            ECOLOGY_AREAS => Some(Target::EcologyAreas),
            _ => None,
        }
    }
}

/// One pollution source's part in a target's risk.
#[derive(Debug, Clone, PartialEq)]
pub struct SourceRisk {
    /// Position in the `pollution_sources` layer.
    pub position: u32,
    pub distance_m: f64,
    pub placement: Placement,
    pub upstream: bool,
    pub along_river_m: Option<f64>,
    pub hazard: Hazard,
    pub recent_exceedances: u32,
    pub factors: Factors,
}

/// One assessed feature.
#[derive(Debug, Clone, PartialEq)]
pub struct TargetRisk {
    /// Position in the target layer.
    pub position: u32,
    pub score: f64,
    pub factors: Factors,
    /// Highest contribution first.
    pub sources: Vec<SourceRisk>,
}

/// Everything an assessment reads: snapshots, so a change meanwhile does not
/// mix versions.
#[derive(Debug, Clone)]
pub struct RiskInputs<'a> {
    pub targets: Arc<Layer>,
    pub sources: Arc<Layer>,
    pub zones: Option<Arc<Layer>>,
    pub graph: &'a RiverGraph,
    pub config: &'a AnalysisConfig,
    pub exceedances: &'a dyn ExceedanceCounts,
}

impl<'a> RiskInputs<'a> {
    /// The inputs from the atlas; `None` when the target or source layer is missing.
    pub fn from_atlas(
        atlas: &Atlas,
        target: Target,
        graph: &'a RiverGraph,
        config: &'a AnalysisConfig,
        exceedances: &'a dyn ExceedanceCounts,
    ) -> Option<Self> {
        Some(RiskInputs {
            targets: atlas.layer(target.layer_id())?,
            sources: atlas.layer(SOURCES)?,
            zones: atlas.layer(ZONES),
            graph,
            config,
            exceedances,
        })
    }
}

/// Assesses every feature of the target layer (or only the one at
/// `only`, a position), highest score first.
pub fn assess(inputs: &RiskInputs<'_>, only: Option<u32>) -> Vec<TargetRisk> {
    let zones = zones_by_water_source(inputs);
    let mut snaps: HashMap<u32, Option<Snap>> = HashMap::new();
    let positions: Vec<u32> = match only {
        Some(p) => vec![p],
        None => (0..inputs.targets.len() as u32).collect(),
    };
    let mut out: Vec<TargetRisk> = positions
        .into_iter()
        .filter_map(|p| assess_one(inputs, p, &zones, &mut snaps))
        .collect();
    out.sort_by(|a, b| {
        b.score
            .total_cmp(&a.score)
            .then(a.position.cmp(&b.position))
    });
    out
}

/// Zone positions (with their level) per water source id.
fn zones_by_water_source<'l>(
    inputs: &'l RiskInputs<'_>,
) -> HashMap<&'l str, Vec<(u32, Placement)>> {
    let mut map: HashMap<&str, Vec<(u32, Placement)>> = HashMap::new();
    let Some(zones) = &inputs.zones else {
        return map;
    };
    for (i, z) in zones.features().iter().enumerate() {
        let ws = z.text(&zones.schema, "water_source_id");
        let level = Placement::from_zone_level(z.text(&zones.schema, "zone_level"));
        if let (false, Some(level)) = (ws.is_empty(), level) {
            map.entry(ws).or_default().push((i as u32, level));
        }
    }
    map
}

fn assess_one(
    inputs: &RiskInputs<'_>,
    position: u32,
    zones: &HashMap<&str, Vec<(u32, Placement)>>,
    snaps: &mut HashMap<u32, Option<Snap>>,
) -> Option<TargetRisk> {
    let target = inputs.targets.features().get(position as usize)?;
    let config = inputs.config;
    let sources = &inputs.sources;
    let features = sources.features();
    let shape = Shape::new(&target.geometry);
    let point_target = match &target.geometry {
        Geometry::Point(p) => Some(*p),
        _ => None,
    };
    // Source position → (distance, placement).
    let mut found: HashMap<u32, (f64, Placement)> = HashMap::new();
    let bbox = target.geometry.bounding_rect()?;
    let envelope = search_envelope(bbox, config.risk_radius_m);
    let near = Near::new(point_target, &shape, bbox, config.risk_radius_m);
    for entry in sources.rtree().locate_in_envelope_intersecting(&envelope) {
        let Some(f) = features.get(entry.data as usize) else {
            continue;
        };
        let Some(d) = near.distance(&f.geometry) else {
            continue;
        };
        if d <= config.risk_radius_m {
            let placement = if point_target.is_none() && d == 0.0 {
                Placement::Inside
            } else {
                Placement::Radius
            };
            found.insert(entry.data, (d, placement));
        }
    }
    if let (Some(zone_layer), Some(list)) = (&inputs.zones, zones.get(target.id.as_ref())) {
        for &(z, level) in list {
            let Some(zone) = zone_layer.features().get(z as usize) else {
                continue;
            };
            let Some(zb) = zone.geometry.bounding_rect() else {
                continue;
            };
            let env = rstar::AABB::from_corners([zb.min().x, zb.min().y], [zb.max().x, zb.max().y]);
            for entry in sources.rtree().locate_in_envelope_intersecting(&env) {
                let Some(f) = features.get(entry.data as usize) else {
                    continue;
                };
                if !zone.geometry.intersects(&f.geometry) {
                    continue;
                }
                let d = distance(point_target, &shape, &f.geometry);
                let e = found.entry(entry.data).or_insert((d, level));
                e.1 = e.1.min(level);
            }
        }
    }
    let target_snap = point_target.and_then(|p| inputs.graph.snap(p, config.river_snap_m));
    let mut total = Factors::default();
    let mut list: Vec<SourceRisk> = found
        .into_iter()
        .filter_map(|(pos, (distance_m, placement))| {
            let f = features.get(pos as usize)?;
            let along_river_m = target_snap.and_then(|ts| {
                let snap = *snaps.entry(pos).or_insert_with(|| {
                    representative(&f.geometry)
                        .and_then(|p| inputs.graph.snap(p, config.river_snap_m))
                });
                inputs
                    .graph
                    .downstream_distance(&snap?, &ts, config.max_upstream_m)
            });
            let hazard = Hazard::of(f.text(&sources.schema, "industry_code"), config);
            let recent_exceedances = inputs.exceedances.recent_exceedances(&f.id);
            let facts = Facts {
                placement,
                distance_m,
                upstream: along_river_m.is_some(),
                hazard,
                credit_rating: f.text(&sources.schema, "credit_rating"),
                recent_exceedances,
            };
            let factors = Factors::of(&facts, config);
            Some(SourceRisk {
                position: pos,
                distance_m,
                placement,
                upstream: facts.upstream,
                along_river_m,
                hazard,
                recent_exceedances,
                factors,
            })
        })
        .collect();
    for s in &list {
        total.add(&s.factors);
    }
    list.sort_by(|a, b| {
        b.factors
            .total()
            .total_cmp(&a.factors.total())
            .then(a.distance_m.total_cmp(&b.distance_m))
            .then(a.position.cmp(&b.position))
    });
    Some(TargetRisk {
        position,
        score: total.total(),
        factors: total,
        sources: list,
    })
}

fn representative(g: &Geometry<f64>) -> Option<Point<f64>> {
    crate::analysis::hit::representative_point(g)
}

/// Distances from one target to sources within a limit, ruling sources out on
/// the sphere first (no ellipsoid, no polygon edges for most candidates of a
/// large envelope).
struct Near<'s, 'g> {
    point_target: Option<(Point<f64>, BoxBound)>,
    shape: &'s Shape<'g>,
    /// The target's box (its edges' bulge is allowed for by [`BoxBound`]).
    target_box: ([f64; 2], [f64; 2]),
    limit_m: f64,
    reach: f64,
}

impl<'s, 'g> Near<'s, 'g> {
    fn new(
        point_target: Option<Point<f64>>,
        shape: &'s Shape<'g>,
        bbox: geo_types::Rect<f64>,
        limit_m: f64,
    ) -> Self {
        Near {
            point_target: point_target.map(|p| (p, BoxBound::new(p, false))),
            shape,
            target_box: ([bbox.min().x, bbox.min().y], [bbox.max().x, bbox.max().y]),
            limit_m,
            reach: max_hav_within(limit_m),
        }
    }

    /// The geodesic distance to a source, `None` when it is beyond the limit
    /// (exact within it, as [`distance`] measures).
    fn distance(&self, source: &Geometry<f64>) -> Option<f64> {
        match (self.point_target, source) {
            (Some((t, bound)), Geometry::Point(s)) => {
                (bound.to_point(*s) <= self.reach).then(|| geodesic_distance_m(t, *s))
            }
            (None, Geometry::Point(s)) => {
                let (lo, hi) = self.target_box;
                if BoxBound::new(*s, true).to_box(lo, hi) > self.reach {
                    return None;
                }
                Some(self.shape.closest_within(*s, self.limit_m)?.distance_m)
            }
            _ => Some(distance(
                self.point_target.map(|(p, _)| p),
                self.shape,
                source,
            )),
        }
    }
}

/// Geodesic distance from the target to a source (0 inside a polygon target).
fn distance(point_target: Option<Point<f64>>, shape: &Shape<'_>, source: &Geometry<f64>) -> f64 {
    match (point_target, source) {
        (Some(t), Geometry::Point(s)) => geodesic_distance_m(t, *s),
        (_, Geometry::Point(s)) => shape.closest_to(*s).distance_m,
        _ => shape.distance_to(&Shape::new(source)),
    }
}
