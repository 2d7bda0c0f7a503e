//! What a layer is: its id, titles, geometry kind, typed properties and style hints.

use serde::{Deserialize, Serialize};

use super::value::PropType;

/// The geometry kind a layer holds. Multi-geometries of the same kind are allowed
/// (a county may be a MultiPolygon).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum GeometryKind {
    Point,
    Line,
    Polygon,
}

impl GeometryKind {
    /// The OGC / GeoJSON name of the geometry type a collection advertises.
    pub fn ogc_name(self) -> &'static str {
        match self {
            GeometryKind::Point => "Point",
            GeometryKind::Line => "LineString",
            GeometryKind::Polygon => "Polygon",
        }
    }

    /// Whether a geometry belongs in a layer of this kind.
    pub fn accepts(self, geometry: &geo_types::Geometry<f64>) -> bool {
        use geo_types::Geometry as G;
        matches!(
            (self, geometry),
            (GeometryKind::Point, G::Point(_) | G::MultiPoint(_))
                | (GeometryKind::Line, G::LineString(_) | G::MultiLineString(_))
                | (GeometryKind::Polygon, G::Polygon(_) | G::MultiPolygon(_))
        )
    }
}

/// One declared property of a layer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PropertyDef {
    pub name: String,
    #[serde(rename = "type")]
    pub kind: PropType,
    pub title_zh: String,
    pub title_en: String,
}

/// Rendering hints the web map reads from the collection metadata.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Style {
    pub color: String,
    pub icon: Option<String>,
    pub min_zoom: u8,
}

/// A layer's description: everything but its features.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LayerSchema {
    pub id: String,
    pub title_zh: String,
    pub title_en: String,
    pub description_zh: String,
    pub description_en: String,
    pub geometry: GeometryKind,
    /// Declared properties, in storage order. `id` and `fid` are not listed:
    /// every feature has them.
    pub properties: Vec<PropertyDef>,
    pub style: Style,
}

impl LayerSchema {
    /// The position of a property in [`crate::model::Feature::properties`].
    pub fn position(&self, name: &str) -> Option<usize> {
        self.properties.iter().position(|p| p.name == name)
    }

    pub fn property(&self, name: &str) -> Option<&PropertyDef> {
        self.properties.iter().find(|p| p.name == name)
    }
}
