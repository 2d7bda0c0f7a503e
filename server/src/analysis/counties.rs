//! Counties: which county a feature belongs to, and per-county indicators for
//! the choropleth (`/api/stats/counties`).
//!
//! A feature's county is its `county` property (an adcode) when its layer has
//! one and it is set; otherwise the county polygon of `admin_boundaries`
//! (level `county`) that contains its representative point.

use std::str::FromStr;
use std::sync::Arc;

use geo::Intersects;
use geo_types::Point;
use rstar::AABB;
use serde_json::{json, Value as Json};

use super::hit::{representative_point, round_to};
use crate::atlas::{Atlas, Layer};
use crate::model::Feature;

pub const ADMIN_LAYER: &str = "admin_boundaries";
pub const SOURCES_LAYER: &str = "pollution_sources";
pub const ZONES_LAYER: &str = "protection_zones";

/// One county of `admin_boundaries`.
#[derive(Debug, Clone, PartialEq)]
pub struct County {
    pub adcode: String,
    pub name_zh: String,
    pub name_en: String,
    /// Position of its polygon in the admin layer.
    position: u32,
}

/// The counties of the atlas, sorted by adcode, with their polygons.
#[derive(Debug, Clone)]
pub struct Counties {
    layer: Option<Arc<Layer>>,
    pub list: Vec<County>,
}

impl Counties {
    pub fn from_atlas(atlas: &Atlas) -> Self {
        let layer = atlas.layer(ADMIN_LAYER);
        let mut list: Vec<County> = layer
            .iter()
            .flat_map(|l| {
                let schema = &l.schema;
                l.features()
                    .iter()
                    .enumerate()
                    .filter(move |(_, f)| f.text(schema, "level") == "county")
                    .map(move |(i, f)| County {
                        adcode: f.text(schema, "adcode").to_string(),
                        name_zh: f.text(schema, "name_zh").to_string(),
                        name_en: f.text(schema, "name_en").to_string(),
                        position: u32::try_from(i).unwrap_or(u32::MAX),
                    })
            })
            .collect();
        list.sort_by(|a, b| a.adcode.cmp(&b.adcode));
        Counties { layer, list }
    }

    /// The index (in [`Counties::list`]) of the county with this adcode.
    pub fn by_adcode(&self, adcode: &str) -> Option<usize> {
        self.list
            .binary_search_by(|c| c.adcode.as_str().cmp(adcode))
            .ok()
    }

    /// The county whose polygon contains `p` (boundary included).
    pub fn locate(&self, p: Point<f64>) -> Option<usize> {
        let layer = self.layer.as_ref()?;
        let hits: Vec<u32> = layer
            .rtree()
            .locate_in_envelope_intersecting(&AABB::from_point([p.x(), p.y()]))
            .map(|e| e.data)
            .collect();
        self.list.iter().position(|c| {
            hits.contains(&c.position)
                && layer
                    .features()
                    .get(c.position as usize)
                    .is_some_and(|f| f.geometry.intersects(&p))
        })
    }

    /// The county of a feature of `layer`: its `county` property, else where
    /// its representative point lies.
    pub fn county_of(&self, layer: &Layer, feature: &Feature) -> Option<usize> {
        let by_property = feature
            .get(&layer.schema, "county")
            .and_then(|v| v.as_str())
            .filter(|s| !s.is_empty())
            .and_then(|adcode| self.by_adcode(adcode));
        by_property.or_else(|| representative_point(&feature.geometry).and_then(|p| self.locate(p)))
    }
}

/// The indicators of `/api/stats/counties`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Indicator {
    /// Pollution sources in the county.
    Sources,
    /// Sources under national control.
    NationalSources,
    /// Open exceedances of the county's sources (0 until monitoring ingests).
    OpenExceedances,
    /// Sources inside any drinking-water protection zone polygon.
    SourcesInProtectionZones,
    /// Mean credit rating: green 4, blue 3, yellow 2, red 1 (null without ratings).
    CreditAvg,
}

impl Indicator {
    pub const NAMES: [&'static str; 5] = [
        "sources",
        "national_sources",
        "open_exceedances",
        "sources_in_protection_zones",
        "credit_avg",
    ];
}

impl FromStr for Indicator {
    type Err = ();
    fn from_str(s: &str) -> Result<Self, ()> {
        Ok(match s {
            "sources" => Indicator::Sources,
            "national_sources" => Indicator::NationalSources,
            "open_exceedances" => Indicator::OpenExceedances,
            "sources_in_protection_zones" => Indicator::SourcesInProtectionZones,
            "credit_avg" => Indicator::CreditAvg,
            _ => return Err(()),
        })
    }
}

/// Credit rating as a number (domain.md §7).
fn credit_score(rating: &str) -> Option<f64> {
    Some(match rating {
        "green" => 4.0,
        "blue" => 3.0,
        "yellow" => 2.0,
        "red" => 1.0,
        _ => return None,
    })
}

/// Whether a point lies inside (or on) any polygon of `zones`.
fn in_any_zone(zones: &Layer, p: Point<f64>) -> bool {
    zones
        .rtree()
        .locate_in_envelope_intersecting(&AABB::from_point([p.x(), p.y()]))
        .any(|e| {
            zones
                .features()
                .get(e.data as usize)
                .is_some_and(|z| z.geometry.intersects(&p))
        })
}

/// The indicator for every county, sorted by adcode: objects with `adcode`,
/// `name_zh`, `name_en` and `value`.
pub fn county_stats(atlas: &Atlas, indicator: Indicator) -> Vec<Json> {
    let counties = Counties::from_atlas(atlas);
    let mut sums = vec![0.0_f64; counties.list.len()];
    let mut counts = vec![0_u64; counties.list.len()];
    let zones = atlas.layer(ZONES_LAYER);
    if let Some(sources) = atlas.layer(SOURCES_LAYER) {
        let schema = &sources.schema;
        for f in sources.features() {
            let Some(i) = counties.county_of(&sources, f) else {
                continue;
            };
            let (add, count) = match indicator {
                Indicator::Sources => (1.0, true),
                Indicator::NationalSources => (1.0, f.text(schema, "control_level") == "national"),
                // Monitoring stores a source's status; `exceeding` = an open exceedance.
                Indicator::OpenExceedances => (1.0, f.text(schema, "status") == "exceeding"),
                Indicator::SourcesInProtectionZones => {
                    let inside = zones.as_ref().is_some_and(|z| {
                        representative_point(&f.geometry).is_some_and(|p| in_any_zone(z, p))
                    });
                    (1.0, inside)
                }
                Indicator::CreditAvg => match credit_score(f.text(schema, "credit_rating")) {
                    Some(score) => (score, true),
                    None => (0.0, false),
                },
            };
            if count {
                sums[i] += add;
                counts[i] += 1;
            }
        }
    }
    counties
        .list
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let value = match indicator {
                Indicator::CreditAvg if counts[i] == 0 => Json::Null,
                Indicator::CreditAvg => json!(round_to(sums[i] / counts[i] as f64, 3)),
                _ => json!(counts[i]),
            };
            json!({"adcode": c.adcode, "name_zh": c.name_zh, "name_en": c.name_en, "value": value})
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::catalog::builtin_schema;
    use crate::model::Value;
    use geo_types::{point, polygon, Geometry};

    fn feature(layer: &str, id: &str, geometry: Geometry<f64>, props: &[(&str, Value)]) -> Feature {
        let schema = builtin_schema(layer).expect("schema");
        let mut properties = vec![Value::Null; schema.properties.len()];
        for (name, v) in props {
            properties[schema.position(name).expect("property")] = v.clone();
        }
        Feature {
            fid: 1,
            id: id.into(),
            geometry,
            properties,
        }
    }

    fn text(s: &str) -> Value {
        Value::Text(s.into())
    }

    fn square(x: f64, y: f64, half: f64) -> Geometry<f64> {
        Geometry::Polygon(
            polygon![(x: x - half, y: y - half), (x: x + half, y: y - half), (x: x + half, y: y + half), (x: x - half, y: y + half), (x: x - half, y: y - half)],
        )
    }

    fn atlas() -> Atlas {
        let atlas = Atlas::new();
        let layer = |id: &str, features: Vec<Feature>| {
            let mut features = features;
            for (i, f) in features.iter_mut().enumerate() {
                f.fid = i as i64 + 1;
            }
            Layer::new(Arc::new(builtin_schema(id).expect("schema")), features, 1)
        };
        atlas.insert(layer(
            ADMIN_LAYER,
            vec![
                feature(
                    ADMIN_LAYER,
                    "b",
                    square(1.0, 0.0, 0.5),
                    &[
                        ("adcode", text("2")),
                        ("level", text("county")),
                        ("name_zh", text("乙")),
                    ],
                ),
                feature(
                    ADMIN_LAYER,
                    "a",
                    square(0.0, 0.0, 0.5),
                    &[
                        ("adcode", text("1")),
                        ("level", text("county")),
                        ("name_zh", text("甲")),
                    ],
                ),
                feature(
                    ADMIN_LAYER,
                    "c",
                    square(0.5, 0.0, 2.0),
                    &[("adcode", text("0")), ("level", text("city"))],
                ),
            ],
        ));
        atlas.insert(layer(
            ZONES_LAYER,
            vec![feature(ZONES_LAYER, "z", square(1.0, 0.0, 0.1), &[])],
        ));
        atlas.insert(layer(
            SOURCES_LAYER,
            vec![
                feature(
                    SOURCES_LAYER,
                    "s1",
                    Geometry::Point(point!(x: 0.1, y: 0.0)),
                    &[
                        ("county", text("1")),
                        ("credit_rating", text("green")),
                        ("control_level", text("national")),
                    ],
                ),
                feature(
                    SOURCES_LAYER,
                    "s2",
                    Geometry::Point(point!(x: 1.0, y: 0.0)),
                    &[("credit_rating", text("red"))],
                ),
                feature(
                    SOURCES_LAYER,
                    "s3",
                    Geometry::Point(point!(x: 1.3, y: 0.0)),
                    &[("county", text("2")), ("credit_rating", text("blue"))],
                ),
            ],
        ));
        atlas
    }

    fn values(atlas: &Atlas, indicator: Indicator) -> Vec<Json> {
        county_stats(atlas, indicator)
            .iter()
            .map(|c| c["value"].clone())
            .collect()
    }

    #[test]
    fn indicators_per_county() {
        let atlas = atlas();
        let stats = county_stats(&atlas, Indicator::Sources);
        assert_eq!(stats.len(), 2, "cities are not counties");
        assert_eq!(stats[0]["adcode"], "1");
        assert_eq!(stats[0]["name_zh"], "甲");
        // s2 has no county property: placed by point in polygon.
        assert_eq!(values(&atlas, Indicator::Sources), [json!(1), json!(2)]);
        assert_eq!(
            values(&atlas, Indicator::NationalSources),
            [json!(1), json!(0)]
        );
        assert_eq!(
            values(&atlas, Indicator::OpenExceedances),
            [json!(0), json!(0)]
        );
        assert_eq!(
            values(&atlas, Indicator::SourcesInProtectionZones),
            [json!(0), json!(1)]
        );
        assert_eq!(
            values(&atlas, Indicator::CreditAvg),
            [json!(4.0), json!(2.0)]
        );
        assert!("nope".parse::<Indicator>().is_err());
        for name in Indicator::NAMES {
            assert!(name.parse::<Indicator>().is_ok());
        }
    }
}
