//! Buffer queries: the features within a geodesic distance (WGS84, metres) of
//! a point, line or polygon, sorted by distance.
//!
//! Per layer: R-tree candidates from the conservative envelope of the input's
//! bounding box grown by the distance, then the exact minimum geodesic distance
//! ([`Shape::distance_to`]) of each candidate. The buffer polygon returned to
//! clients is drawn separately ([`super::aeqd::geodesic_buffer`]); membership
//! never depends on it.

use geo::BoundingRect;
use geo_types::Geometry;

use serde_json::Value as Json;

use super::aeqd::geodesic_buffer;
use super::bound::{max_hav_within, BoxBound};
use super::distance::Shape;
use super::filter::LayerQuery;
use super::geodesy::{geodesic_distance_m, search_envelope};
use super::hit::Hit;
use super::summary::summarize;
use super::InputError;
use crate::atlas::Atlas;

/// A buffer query.
#[derive(Debug, Clone, Copy)]
pub struct BufferQuery<'a> {
    pub geometry: &'a Geometry<f64>,
    /// Geodesic distance, metres.
    pub distance_m: f64,
    /// The buffered feature itself (layer id, feature id), left out of results.
    pub exclude: Option<(&'a str, &'a str)>,
}

/// A whole buffer analysis: the features, the buffer polygon, the summary.
#[derive(Debug, Clone)]
pub struct BufferOutcome {
    pub hits: Vec<Hit>,
    /// The geodesic buffer polygon (the input itself at distance 0).
    pub buffer: Geometry<f64>,
    pub summary: Json,
}

/// Runs a buffer analysis over the selected layers.
pub fn buffer(
    atlas: &Atlas,
    layers: &[LayerQuery],
    query: &BufferQuery<'_>,
    max_results: usize,
) -> Result<BufferOutcome, InputError> {
    let hits = within_distance(layers, query, max_results)?;
    let summary = summarize(atlas, layers, &hits, query);
    Ok(BufferOutcome {
        buffer: geodesic_buffer(query.geometry, query.distance_m),
        hits,
        summary,
    })
}

/// The matching features of every layer within the distance, nearest first.
/// A layer with more than `max_results` such features is an error naming
/// `limits.max_results` (the caller should narrow the query).
pub fn within_distance(
    layers: &[LayerQuery],
    query: &BufferQuery<'_>,
    max_results: usize,
) -> Result<Vec<Hit>, InputError> {
    let shape = Shape::indexed(query.geometry);
    let mut hits = Vec::new();
    for lq in layers {
        let found = within_distance_in_layer(lq, &shape, query);
        if found.len() > max_results {
            return Err(InputError::new(
                "distance_m",
                format!(
                    "{} features of layer '{}' lie within {} m, more than limits.max_results ({max_results}); use a smaller distance_m or a filter",
                    found.len(),
                    lq.layer.id(),
                    query.distance_m
                ),
            ));
        }
        hits.extend(found);
    }
    Hit::sort(&mut hits);
    Ok(hits)
}

/// The matching features of one layer within the distance of `shape`.
pub fn within_distance_in_layer(
    lq: &LayerQuery,
    shape: &Shape<'_>,
    query: &BufferQuery<'_>,
) -> Vec<Hit> {
    let Some(bbox) = shape.geometry().bounding_rect() else {
        return Vec::new();
    };
    let layer = &lq.layer;
    let features = layer.features();
    let excluded = query
        .exclude
        .filter(|(layer_id, _)| *layer_id == layer.id())
        .map(|(_, id)| id);
    let envelope = search_envelope(bbox, query.distance_m);
    let d = query.distance_m;
    // Points beyond the distance on the sphere are ruled out without the
    // ellipsoid: around a point by their own bound, around other shapes by the
    // bound to the shape's box (widened for its great-circle edges) first.
    let reach = max_hav_within(d);
    let centre = match shape.geometry() {
        Geometry::Point(p) => Some((*p, BoxBound::new(*p, false))),
        _ => None,
    };
    let shape_box = ([bbox.min().x, bbox.min().y], [bbox.max().x, bbox.max().y]);
    layer
        .rtree()
        .locate_in_envelope_intersecting(&envelope)
        .filter_map(|entry| {
            let feature = features.get(entry.data as usize)?;
            if Some(feature.id.as_ref()) == excluded || !lq.matches(feature) {
                return None;
            }
            let distance_m = match (centre, &feature.geometry) {
                (Some((c, bounds)), Geometry::Point(p)) => {
                    if bounds.to_point(*p) > reach {
                        return None;
                    }
                    geodesic_distance_m(c, *p)
                }
                (Some((c, _)), g) => Shape::new(g).closest_within(c, d)?.distance_m,
                (None, Geometry::Point(p)) => {
                    let to_shape = BoxBound::new(*p, true).to_box(shape_box.0, shape_box.1);
                    if to_shape > reach {
                        return None;
                    }
                    shape.closest_within(*p, d)?.distance_m
                }
                (None, g) => shape.distance_to(&Shape::new(g)),
            };
            (distance_m <= d).then(|| Hit {
                layer: layer.clone(),
                position: entry.data,
                distance_m,
                ranking: None,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use geo_types::{line_string, point};
    use rand::{Rng, SeedableRng};

    fn points_layer(points: &[(f64, f64)]) -> LayerQuery {
        crate::analysis::test_support::points_layer("pollution_sources", points)
    }

    #[test]
    fn point_buffers_match_brute_force_and_sort_by_distance() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(3);
        for lat in [0.0, 28.8, 60.0, 80.0] {
            let points: Vec<(f64, f64)> = (0..500)
                .map(|_| {
                    (
                        104.0 + rng.gen_range(-0.5..0.5),
                        lat + rng.gen_range(-0.2..0.2),
                    )
                })
                .collect();
            let lq = points_layer(&points);
            let centre = Geometry::Point(point!(x: 104.0, y: lat));
            let q = BufferQuery {
                geometry: &centre,
                distance_m: 8_000.0,
                exclude: None,
            };
            let hits = within_distance(std::slice::from_ref(&lq), &q, 10_000).expect("hits");
            let want = points
                .iter()
                .filter(|&&(x, y)| {
                    geodesic_distance_m(point!(x: 104.0, y: lat), point!(x: x, y: y)) <= 8_000.0
                })
                .count();
            assert_eq!(hits.len(), want, "lat {lat}");
            assert!(hits.windows(2).all(|w| w[0].distance_m <= w[1].distance_m));
            // The result limit is an error naming it.
            let e = within_distance(std::slice::from_ref(&lq), &q, want.saturating_sub(1)).err();
            if want > 0 {
                assert!(e.is_some_and(|e| e.detail.contains("max_results")));
            }
        }
    }

    #[test]
    fn line_buffers_and_exclusion() {
        let lq = points_layer(&[
            (104.6, 28.8),
            (104.7, 28.8),
            (104.65, 28.85),
            (104.65, 28.801),
        ]);
        let line = Geometry::LineString(line_string![(x: 104.6, y: 28.8), (x: 104.7, y: 28.8)]);
        let q = BufferQuery {
            geometry: &line,
            distance_m: 500.0,
            exclude: None,
        };
        let ids: Vec<String> = within_distance(std::slice::from_ref(&lq), &q, 100)
            .expect("hits")
            .iter()
            .filter_map(|h| h.feature().map(|f| f.id.to_string()))
            .collect();
        assert_eq!(ids.len(), 3, "{ids:?}");
        assert!(!ids.contains(&"p2".to_string()), "5.5 km north is outside");
        let p0 = Geometry::Point(point!(x: 104.6, y: 28.8));
        let q = BufferQuery {
            geometry: &p0,
            distance_m: 100.0,
            exclude: Some(("pollution_sources", "p0")),
        };
        assert!(within_distance(std::slice::from_ref(&lq), &q, 100)
            .expect("hits")
            .is_empty());
    }
}
