//! End-to-end: features in, tile bytes out, decoded strictly and checked.

mod support;

use envatlas_tiles::decode::{ring_area2, DecodedGeometry, DecodedValue};
use envatlas_tiles::{
    LayerTileRules, OwnedFeature, OwnedValue, TileBuilder, TileCoord, TileError, TileOptions,
    TileRange, TileTransform,
};
use geo_types::{coord, line_string, point, Geometry, LineString, MultiPolygon, Polygon, Rect};
use rand::seq::SliceRandom;
use support::{blob, blob_with_hole, decode_checked, lonlat, rng, source_points, yibin_ring};

fn build(tile: TileCoord, layers: &[(&str, &LayerTileRules, &[OwnedFeature])]) -> Vec<u8> {
    let mut b = TileBuilder::new(tile, TileOptions::default()).expect("options");
    for (name, rules, feats) in layers {
        b.add_layer(name, rules, feats.iter()).expect("layer");
    }
    b.finish()
}

fn uncapped() -> LayerTileRules {
    LayerTileRules {
        max_features: None,
        ..LayerTileRules::default()
    }
}

fn yibin_z10() -> TileCoord {
    TileCoord::containing(104.6, 28.77, 10).expect("valid")
}

#[test]
fn typed_values_ids_and_dictionaries() {
    let t = yibin_z10();
    let (lon, lat) = lonlat(t, 1000.0, 2000.0);
    let f = |fid: u64, name: &str| {
        OwnedFeature::new(fid, point!(x: lon, y: lat))
            .with("name_zh", OwnedValue::Str(name.into()))
            .with("violations", OwnedValue::Int(3))
            .with("delta", OwnedValue::Int(-7))
            .with("ratio", OwnedValue::Double(0.25))
            .with("big", OwnedValue::UInt(1 << 60))
            .with("online_monitored", OwnedValue::Bool(true))
    };
    let feats = vec![f(9_007_199_254_740_991, "宜宾"), f(2, "宜宾"), f(3, "翠屏")];
    let bytes = build(t, &[("pollution_sources", &uncapped(), &feats)]);
    let layers = decode_checked(&bytes, 64);
    assert_eq!(layers.len(), 1);
    let l = &layers[0];
    assert_eq!(
        (l.name.as_str(), l.version, l.extent),
        ("pollution_sources", 2, 4096)
    );
    assert_eq!(l.keys.len(), 6, "keys once per layer: {:?}", l.keys);
    // 宜宾, 翠屏, 3, -7, 0.25, 2^60, true: each value once.
    assert_eq!(l.values.len(), 7, "{:?}", l.values);
    let ids: Vec<_> = l.features.iter().map(|f| f.id).collect();
    assert_eq!(
        ids,
        vec![Some(2), Some(3), Some(9_007_199_254_740_991)],
        "sorted by fid"
    );
    let props = &l.features[0].properties;
    assert!(props.contains(&("name_zh".into(), DecodedValue::Str("宜宾".into()))));
    assert!(props.contains(&("violations".into(), DecodedValue::UInt(3))));
    assert!(props.contains(&("delta".into(), DecodedValue::SInt(-7))));
    assert!(props.contains(&("ratio".into(), DecodedValue::Double(0.25))));
    assert!(props.contains(&("big".into(), DecodedValue::UInt(1 << 60))));
    assert!(props.contains(&("online_monitored".into(), DecodedValue::Bool(true))));
    assert_eq!(
        l.features[0].geometry,
        DecodedGeometry::Points(vec![[1000, 2000]])
    );
}

fn polygon_areas(g: &DecodedGeometry) -> Vec<Vec<i64>> {
    match g {
        DecodedGeometry::Polygons(ps) => ps
            .iter()
            .map(|p| p.iter().map(|r| ring_area2(r)).collect())
            .collect(),
        other => panic!("not a polygon: {other:?}"),
    }
}

#[test]
fn the_real_clockwise_yibin_boundary_is_oriented_in_every_tile() {
    let ring = yibin_ring();
    let cw = Polygon::new(ring.clone(), vec![]);
    let mut rev = ring.clone();
    rev.0.reverse();
    let ccw = Polygon::new(rev, vec![]);
    let rules = uncapped();
    for z in [6u8, 8, 10] {
        let bbox = Rect::new(coord! { x: 103.6, y: 27.8 }, coord! { x: 105.4, y: 29.3 });
        for tile in TileRange::covering(bbox, z).expect("range").iter() {
            for poly in [&cw, &ccw] {
                let feats = vec![OwnedFeature::new(1, poly.clone())];
                let bytes = build(tile, &[("admin_boundaries", &rules, &feats)]);
                for l in decode_checked(&bytes, 64) {
                    for f in &l.features {
                        for p in polygon_areas(&f.geometry) {
                            assert!(p[0] > 0, "{tile}: exterior positive");
                            assert!(p[1..].iter().all(|&a| a < 0), "{tile}: holes negative");
                        }
                    }
                }
            }
        }
    }
    // At z6 all of Yibin is in one tile: the area survives projection, snapping
    // and simplification within 1%, whatever the input orientation.
    let tile = TileCoord::containing(104.6, 28.77, 6).expect("valid");
    let t = TileTransform::new(tile, 4096);
    let px: Vec<(f64, f64)> = ring.0.iter().map(|c| t.to_pixel(c.x, c.y)).collect();
    let exact: f64 = (0..px.len() - 1)
        .map(|i| px[i].0 * px[i + 1].1 - px[i + 1].0 * px[i].1)
        .sum::<f64>()
        .abs();
    for poly in [&cw, &ccw] {
        let bytes = build(
            tile,
            &[("a", &rules, &[OwnedFeature::new(1, poly.clone())])],
        );
        let l = &decode_checked(&bytes, 64)[0];
        let a = polygon_areas(&l.features[0].geometry);
        assert_eq!(a.len(), 1);
        assert!(
            (a[0][0] as f64 - exact).abs() / exact < 0.01,
            "{} vs {exact}",
            a[0][0]
        );
    }
}

#[test]
fn a_huge_polygon_at_z14_is_the_buffer_square() {
    // A z14 tile well inside Yibin: the city polygon covers it all.
    let tile = TileCoord::containing(104.63, 28.77, 14).expect("valid");
    let feats = vec![OwnedFeature::new(1, Polygon::new(yibin_ring(), vec![]))];
    let bytes = build(tile, &[("admin_boundaries", &uncapped(), &feats)]);
    let l = &decode_checked(&bytes, 64)[0];
    assert_eq!(
        polygon_areas(&l.features[0].geometry),
        vec![vec![2 * 4224 * 4224]]
    );
    assert!(
        bytes.len() < 64,
        "four corners, not 381 vertices: {}",
        bytes.len()
    );
}

#[test]
fn holes_and_multipolygons_in_both_orientations() {
    let t = yibin_z10();
    let centre = lonlat(t, 2048.0, 2048.0);
    let side = lonlat(t, 3500.0, 3000.0);
    let mut r = rng(3);
    for ccw in [false, true] {
        let a = blob_with_hole(&mut r, centre, 0.05, ccw);
        let b = Polygon::new(blob(&mut r, side, 0.005, 30, !ccw), vec![]);
        let feats = vec![
            OwnedFeature::new(1, a.clone()),
            OwnedFeature::new(2, MultiPolygon::new(vec![a, b])),
        ];
        let bytes = build(t, &[("ecology_areas", &uncapped(), &feats)]);
        let l = &decode_checked(&bytes, 64)[0];
        let one = polygon_areas(&l.features[0].geometry);
        assert_eq!(one.len(), 1);
        assert!(
            one[0].len() == 2 && one[0][0] > 0 && one[0][1] < 0,
            "{one:?}"
        );
        let two = polygon_areas(&l.features[1].geometry);
        assert_eq!(two.len(), 2, "two polygons");
        assert!(two
            .iter()
            .all(|p| p[0] > 0 && p[1..].iter().all(|&h| h < 0)));
    }
}

#[test]
fn lines_are_clipped_and_split() {
    let t = yibin_z10();
    // In and out of the tile three times.
    let pts: Vec<(f64, f64)> = [
        (-500.0, 100.0),
        (1000.0, 1000.0),
        (1000.0, 6000.0),
        (3000.0, 6000.0),
        (3000.0, 10.0),
        (9000.0, 10.0),
    ]
    .iter()
    .map(|&(x, y)| lonlat(t, x, y))
    .collect();
    let feats = vec![OwnedFeature::new(5, LineString::from(pts))];
    let bytes = build(t, &[("rivers", &uncapped(), &feats)]);
    let l = &decode_checked(&bytes, 64)[0];
    let DecodedGeometry::Lines(parts) = &l.features[0].geometry else {
        panic!("lines expected");
    };
    assert_eq!(parts.len(), 2);
    assert_eq!(parts[0].last(), Some(&[1000, 4160]));
    assert_eq!(parts[1].first(), Some(&[3000, 4160]));
    assert_eq!(parts[1].last(), Some(&[4160, 10]));
}

#[test]
fn attributes_and_visibility_follow_the_zoom() {
    let rules = LayerTileRules {
        min_zoom: 6,
        full_attributes_from_zoom: 10,
        low_zoom_properties: vec!["name_zh".into(), "control_level".into()],
        max_features: None,
        point_thinning: None,
    };
    let feats = source_points(50, 1, 104.5, 28.7, 104.7, 28.85);
    for (z, keys) in [(9u8, 2usize), (10, 9)] {
        let tile = TileCoord::containing(104.6, 28.77, z).expect("valid");
        let l = &decode_checked(&build(tile, &[("s", &rules, &feats)]), 64)[0];
        assert_eq!(l.keys.len(), keys, "z{z}: {:?}", l.keys);
    }
    let tile = TileCoord::containing(104.6, 28.77, 5).expect("valid");
    let mut b = TileBuilder::new(tile, TileOptions::default()).expect("options");
    let stats = b.add_layer("s", &rules, &feats).expect("layer");
    assert_eq!((stats.encoded, stats.bytes), (0, 0));
    assert!(b.finish().is_empty(), "below min_zoom nothing is written");
}

#[test]
fn errors_and_empty_tiles() {
    let mut b = TileBuilder::new(yibin_z10(), TileOptions::default()).expect("options");
    let none: Vec<OwnedFeature> = Vec::new();
    b.add_layer("a", &uncapped(), &none).expect("empty layer");
    assert!(matches!(
        b.add_layer("a", &uncapped(), &none),
        Err(TileError::DuplicateLayer(_))
    ));
    assert!(b.finish().is_empty());
    let bad = TileOptions {
        extent: 0,
        ..TileOptions::default()
    };
    assert!(matches!(
        TileBuilder::new(yibin_z10(), bad),
        Err(TileError::BadExtent { .. })
    ));
    let bad = TileOptions {
        simplify_px: f64::NAN,
        ..TileOptions::default()
    };
    assert!(TileBuilder::new(yibin_z10(), bad).is_err());
}

#[test]
fn the_same_bytes_for_any_input_order() {
    let t = yibin_z10();
    let mut feats = source_points(2000, 5, 104.3, 28.5, 104.9, 29.0);
    let mut r = rng(9);
    let c = lonlat(t, 2000.0, 2000.0);
    feats.push(OwnedFeature::new(
        90_001,
        blob_with_hole(&mut r, c, 0.03, false),
    ));
    let rules = LayerTileRules::points();
    let a = build(t, &[("x", &rules, &feats)]);
    feats.shuffle(&mut r);
    let b = build(t, &[("x", &rules, &feats)]);
    assert_eq!(a, b);
}

#[test]
fn several_layers_in_one_tile() {
    let t = yibin_z10();
    let pts = source_points(100, 2, 104.5, 28.7, 104.7, 28.85);
    let river = vec![OwnedFeature::new(
        1,
        Geometry::LineString(line_string![(x: 104.0, y: 28.6), (x: 105.0, y: 28.9)]),
    )
    .with("name_en", OwnedValue::Str("Min".into()))];
    let county = vec![OwnedFeature::new(1, Polygon::new(yibin_ring(), vec![]))];
    let rules = uncapped();
    let bytes = build(
        t,
        &[
            ("pollution_sources", &rules, &pts),
            ("rivers", &rules, &river),
            ("admin_boundaries", &rules, &county),
        ],
    );
    let layers = decode_checked(&bytes, 64);
    let names: Vec<_> = layers.iter().map(|l| l.name.as_str()).collect();
    assert_eq!(names, ["pollution_sources", "rivers", "admin_boundaries"]);
    assert_eq!(layers[1].features[0].id, Some(1));
}

#[test]
fn pooled_and_reused_buffers_leak_nothing_between_tiles() {
    let t = yibin_z10();
    let a = source_points(3000, 11, 104.3, 28.5, 104.9, 29.0);
    let mut r = rng(12);
    let c = lonlat(t, 2000.0, 2000.0);
    let b = vec![OwnedFeature::new(1, blob_with_hole(&mut r, c, 0.03, true))
        .with("name_zh", OwnedValue::Str("自然保护区".into()))
        .with("area_m2", OwnedValue::Int(12))];
    let rules = LayerTileRules::points();
    let first_a = build(t, &[("x", &rules, &a)]);
    let first_b = build(t, &[("x", &uncapped(), &b)]);
    // Through the pool, in the other order.
    assert_eq!(build(t, &[("x", &uncapped(), &b)]), first_b);
    assert_eq!(build(t, &[("x", &rules, &a)]), first_a);
    // Through one reused builder, across tiles.
    let mut builder = TileBuilder::new(t, TileOptions::default()).expect("options");
    for (feats, rules, expected) in [(&a, &rules, &first_a), (&b, &uncapped(), &first_b)] {
        builder.reset(TileCoord::new(10, 0, 0).expect("valid"));
        builder.add_layer("x", rules, feats.iter()).expect("layer");
        builder.reset(t);
        builder.add_layer("x", rules, feats.iter()).expect("layer");
        assert_eq!(&builder.take(), expected);
    }
}
