//! Per-layer rules for what goes into a tile at a zoom level: whether the layer
//! shows at all, which properties it carries, how dense points are thinned and how
//! many features one tile may hold.

/// How one atlas layer is tiled. The defaults show everything with every property
/// and cap a layer at [`DEFAULT_MAX_FEATURES`] features per tile.
#[derive(Debug, Clone, PartialEq)]
pub struct LayerTileRules {
    /// Below this zoom the layer is left out of tiles.
    pub min_zoom: u8,
    /// From this zoom on, every property the feature writes is kept; below it only
    /// the ones named in `low_zoom_properties`.
    pub full_attributes_from_zoom: u8,
    /// The properties kept below `full_attributes_from_zoom` (e.g. `name_zh`,
    /// `control_level`: what the low-zoom style needs).
    pub low_zoom_properties: Vec<String>,
    /// At most this many features of the layer in one tile (`None`: no cap). Over
    /// the cap, points are thinned on ever coarser grids and other geometries are
    /// kept largest first; see [`crate::thin`].
    pub max_features: Option<usize>,
    /// Grid thinning of dense points at low zoom; `None` for none.
    pub point_thinning: Option<PointThinning>,
}

/// The default per-tile feature cap: about 500 KB of points with a couple of
/// low-zoom properties each.
pub const DEFAULT_MAX_FEATURES: usize = 20_000;

impl Default for LayerTileRules {
    fn default() -> Self {
        Self {
            min_zoom: 0,
            full_attributes_from_zoom: 0,
            low_zoom_properties: Vec::new(),
            max_features: Some(DEFAULT_MAX_FEATURES),
            point_thinning: None,
        }
    }
}

impl LayerTileRules {
    /// Rules for a point layer: thinned below zoom 12 (see [`PointThinning`]).
    pub fn points() -> Self {
        Self {
            point_thinning: Some(PointThinning::default()),
            ..Self::default()
        }
    }

    /// Whether the layer appears in tiles of zoom `z`.
    pub fn visible_at(&self, z: u8) -> bool {
        z >= self.min_zoom
    }

    /// `None` when every property is kept at zoom `z`, else the names kept.
    pub fn property_filter(&self, z: u8) -> Option<&[String]> {
        (z < self.full_attributes_from_zoom).then_some(self.low_zoom_properties.as_slice())
    }

    /// The point thinning in force at zoom `z`.
    pub fn thinning_at(&self, z: u8) -> Option<&PointThinning> {
        self.point_thinning.as_ref().filter(|t| z < t.below_zoom)
    }
}

/// Grid thinning of points (tippecanoe's "drop densest as needed", made
/// deterministic). See [`crate::thin`] for the rule.
#[derive(Debug, Clone, PartialEq)]
pub struct PointThinning {
    /// Thinning applies to tiles of zoom below this one.
    pub below_zoom: u8,
    /// Grid cell size in tile pixels (of the tile's extent); rounded up to a
    /// power of two so that cells nest across zoom levels and line up across tiles.
    pub cell_px: u32,
    /// Points kept per cell.
    pub per_cell: u32,
    /// The property that tells how many input points a kept point stands for
    /// (an unsigned integer; the counts of a tile add up to its input points).
    /// `None`: not written.
    pub count_property: Option<String>,
}

impl Default for PointThinning {
    /// Below z12, one point per 16×16 cell of a 4096 tile (a 1×1 or 2×2 screen
    /// pixel square on a 256/512-pixel tile), with `point_count`. With the
    /// default cap of 20,000 features the grid coarsens to 32 px (or more) where
    /// points are denser than that, e.g. at z4 over China.
    fn default() -> Self {
        Self {
            below_zoom: 12,
            cell_px: 16,
            per_cell: 1,
            count_property: Some("point_count".to_string()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zoom_dependent_rules() {
        let r = LayerTileRules {
            min_zoom: 6,
            full_attributes_from_zoom: 10,
            low_zoom_properties: vec!["name_zh".into()],
            ..LayerTileRules::points()
        };
        assert!(!r.visible_at(5) && r.visible_at(6));
        assert_eq!(r.property_filter(9), Some(&["name_zh".to_string()][..]));
        assert_eq!(r.property_filter(10), None);
        assert!(r.thinning_at(11).is_some() && r.thinning_at(12).is_none());
        assert!(LayerTileRules::default().thinning_at(0).is_none());
    }
}
