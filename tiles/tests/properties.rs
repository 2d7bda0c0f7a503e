//! Property tests: random geometries on random tiles always give tiles that decode
//! strictly, stay inside the buffer, orient every ring, and keep feature ids.

mod support;

use std::collections::HashSet;

use envatlas_tiles::decode::{ring_area2, DecodedGeometry};
use envatlas_tiles::{
    LayerTileRules, OwnedFeature, TileBuilder, TileCoord, TileOptions, TileTransform,
};
use geo_types::{Coord, Geometry, LineString, MultiPoint, Point, Polygon};
use proptest::prelude::*;
use support::decode_checked;

fn tile() -> impl Strategy<Value = TileCoord> {
    (0u8..=20, 0.0f64..1.0, 0.0f64..1.0).prop_map(|(z, fx, fy)| {
        let n = f64::from(1u32 << z);
        TileCoord::new(z, (fx * n) as u32, (fy * n) as u32).expect("in range")
    })
}

/// A vertex in tile pixels, mostly around the tile, sometimes far away.
fn pixel() -> impl Strategy<Value = (f64, f64)> {
    prop_oneof![
        4 => (-300.0f64..4400.0, -300.0f64..4400.0),
        1 => (-40_000.0f64..40_000.0, -40_000.0f64..40_000.0),
        1 => (-70.0f64..-60.0, -100.0f64..4200.0),
    ]
}

fn ring() -> impl Strategy<Value = Vec<(f64, f64)>> {
    prop::collection::vec(pixel(), 3..40)
}

/// An exterior ring and its holes, in pixels.
type PixelPolygon = (Vec<(f64, f64)>, Vec<Vec<(f64, f64)>>);

fn polygon() -> impl Strategy<Value = PixelPolygon> {
    (ring(), prop::collection::vec(ring(), 0..3))
}

fn to_lonlat(t: &TileTransform, pts: &[(f64, f64)]) -> Vec<Coord<f64>> {
    pts.iter()
        .map(|&(x, y)| {
            let (lon, lat) = t.to_lonlat(x, y);
            Coord { x: lon, y: lat }
        })
        .collect()
}

fn closed(t: &TileTransform, pts: &[(f64, f64)]) -> LineString<f64> {
    let mut c = to_lonlat(t, pts);
    c.push(c[0]);
    LineString::from(c)
}

fn uncapped() -> LayerTileRules {
    LayerTileRules {
        max_features: None,
        ..LayerTileRules::default()
    }
}

fn build(tile: TileCoord, simplify_px: f64, feats: &[OwnedFeature]) -> Vec<u8> {
    let options = TileOptions {
        simplify_px,
        ..TileOptions::default()
    };
    let mut b = TileBuilder::new(tile, options).expect("options");
    b.add_layer("layer", &uncapped(), feats).expect("layer");
    b.finish()
}

proptest! {
    // 256 cases by default; PROPTEST_CASES=N for a longer run.

    #[test]
    fn polygons_decode_oriented_inside_the_buffer(
        tile in tile(),
        polys in prop::collection::vec(polygon(), 1..6),
        simplify in prop_oneof![Just(0.0), Just(1.0), 0.0f64..8.0],
    ) {
        let t = TileTransform::new(tile, 4096);
        let feats: Vec<OwnedFeature> = polys
            .iter()
            .enumerate()
            .map(|(i, (ext, holes))| {
                let holes = holes.iter().map(|h| closed(&t, h)).collect();
                OwnedFeature::new(i as u64 + 100, Polygon::new(closed(&t, ext), holes))
            })
            .collect();
        let layers = decode_checked(&build(tile, simplify, &feats), 64);
        let mut seen = HashSet::new();
        for l in &layers {
            for f in &l.features {
                let id = f.id.expect("id");
                prop_assert!(id >= 100 && id < 100 + feats.len() as u64);
                prop_assert!(seen.insert(id));
                let DecodedGeometry::Polygons(ps) = &f.geometry else {
                    return Err(TestCaseError::fail("not a polygon"));
                };
                // One input polygon: one exterior, then holes.
                prop_assert_eq!(ps.len(), 1);
                prop_assert!(ring_area2(&ps[0][0]) > 0);
                for hole in &ps[0][1..] {
                    prop_assert!(ring_area2(hole) < 0);
                }
            }
        }
    }

    #[test]
    fn lines_decode_inside_the_buffer(
        tile in tile(),
        lines in prop::collection::vec(prop::collection::vec(pixel(), 2..30), 1..6),
    ) {
        let t = TileTransform::new(tile, 4096);
        let feats: Vec<OwnedFeature> = lines
            .iter()
            .enumerate()
            .map(|(i, l)| OwnedFeature::new(i as u64 + 1, LineString::from(to_lonlat(&t, l))))
            .collect();
        for l in decode_checked(&build(tile, 1.0, &feats), 64) {
            for f in &l.features {
                prop_assert!(matches!(f.geometry, DecodedGeometry::Lines(_)));
            }
        }
    }

    #[test]
    fn points_keep_ids_and_positions(
        tile in tile(),
        pts in prop::collection::vec((-200.0f64..4300.0, -200.0f64..4300.0), 1..200),
        multi in prop::collection::vec(pixel(), 1..5),
    ) {
        let t = TileTransform::new(tile, 4096);
        let mut feats: Vec<OwnedFeature> = to_lonlat(&t, &pts)
            .into_iter()
            .enumerate()
            .map(|(i, c)| OwnedFeature::new(i as u64 + 1, Point(c)))
            .collect();
        let mp = MultiPoint::from(to_lonlat(&t, &multi).into_iter().map(Point).collect::<Vec<_>>());
        feats.push(OwnedFeature::new(1_000_000, Geometry::MultiPoint(mp)));
        // What an independent computation says is in the buffered tile.
        let expected: HashSet<(u64, [i64; 2])> = feats[..pts.len()]
            .iter()
            .filter_map(|f| {
                let Geometry::Point(p) = &f.geometry else { return None };
                let (x, y) = t.to_pixel(p.x(), p.y());
                let (x, y) = ((x + 0.5).floor(), (y + 0.5).floor());
                ((-64.0..=4160.0).contains(&x) && (-64.0..=4160.0).contains(&y))
                    .then_some((f.fid, [x as i64, y as i64]))
            })
            .collect();
        let layers = decode_checked(&build(tile, 1.0, &feats), 64);
        let got: HashSet<(u64, [i64; 2])> = layers
            .iter()
            .flat_map(|l| &l.features)
            .filter(|f| f.id != Some(1_000_000))
            .map(|f| match &f.geometry {
                DecodedGeometry::Points(p) if p.len() == 1 => (f.id.unwrap_or(0), p[0]),
                other => panic!("unexpected {other:?}"),
            })
            .collect();
        prop_assert_eq!(got, expected);
    }
}

/// A star-shaped (simple) ring around a centre, in pixels, either orientation.
fn star() -> impl Strategy<Value = Vec<(f64, f64)>> {
    (
        (600.0f64..3500.0, 600.0f64..3500.0),
        prop::collection::vec(50.0f64..500.0, 3..60),
        any::<bool>(),
    )
        .prop_map(|((cx, cy), radii, reverse)| {
            let n = radii.len() as f64;
            let mut pts: Vec<(f64, f64)> = radii
                .iter()
                .enumerate()
                .map(|(i, r)| {
                    let a = i as f64 / n * std::f64::consts::TAU;
                    (cx + r * a.cos(), cy + r * a.sin())
                })
                .collect();
            if reverse {
                pts.reverse();
            }
            pts
        })
}

proptest! {
    // 256 cases by default; PROPTEST_CASES=N for a longer run.

    #[test]
    fn simple_polygons_inside_keep_their_area(tile in tile(), ring in star()) {
        let t = TileTransform::new(tile, 4096);
        let feats = vec![OwnedFeature::new(42, Polygon::new(closed(&t, &ring), vec![]))];
        let layers = decode_checked(&build(tile, 0.0, &feats), 64);
        prop_assert_eq!(layers.len(), 1);
        let f = &layers[0].features[0];
        prop_assert_eq!(f.id, Some(42));
        let DecodedGeometry::Polygons(ps) = &f.geometry else {
            return Err(TestCaseError::fail("not a polygon"));
        };
        let n = ring.len();
        let exact: f64 = (0..n)
            .map(|i| {
                let (a, b) = (ring[i], ring[(i + 1) % n]);
                a.0 * b.1 - b.0 * a.1
            })
            .sum::<f64>()
            .abs();
        let perimeter: f64 = (0..n)
            .map(|i| {
                let (a, b) = (ring[i], ring[(i + 1) % n]);
                (b.0 - a.0).hypot(b.1 - a.1)
            })
            .sum();
        // Snapping moves each vertex by at most √2/2 px.
        let got = ring_area2(&ps[0][0]) as f64;
        prop_assert!((got - exact).abs() <= 2.0 * perimeter, "{} vs {}", got, exact);
    }
}
