//! Dense points at low zoom: the z4 tile of the scale-1000 atlas (~600k points).

mod support;

use std::collections::HashSet;

use envatlas_tiles::decode::{DecodedGeometry, DecodedValue};
use envatlas_tiles::{
    LayerTileRules, OwnedFeature, OwnedValue, TileBuilder, TileCoord, TileOptions, TileTransform,
};
use geo_types::point;
use rand::Rng;
use support::{decode_checked, rng};

/// A standard normal sample (Box–Muller), without another dependency.
fn gaussian(r: &mut impl Rng) -> f64 {
    let (u, v): (f64, f64) = (r.gen_range(f64::EPSILON..1.0), r.gen());
    (-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * v).cos()
}

/// 600k points in clusters (towns) plus a diffuse background over the z4 tile that
/// holds Yibin (90°–112.5°E, ~22°–41°N), like the atlas at `--scale 1000`.
fn dense_points(n: usize) -> Vec<OwnedFeature> {
    let mut r = rng(1000);
    let towns: Vec<(f64, f64, f64)> = (0..400)
        .map(|_| {
            (
                r.gen_range(92.0..112.0),
                r.gen_range(22.0..41.0),
                r.gen_range(0.05..0.6),
            )
        })
        .collect();
    let levels = ["national", "provincial", "municipal"];
    (0..n)
        .map(|i| {
            let (lon, lat) = if i % 5 == 0 {
                (r.gen_range(90.0..112.5), r.gen_range(22.0..41.0))
            } else {
                let (x, y, s) = towns[r.gen_range(0..towns.len())];
                (x + gaussian(&mut r) * s, y + gaussian(&mut r) * s)
            };
            OwnedFeature::new(i as u64 + 1, point!(x: lon, y: lat))
                .with("name_zh", OwnedValue::Str(format!("污染源{i}")))
                .with("name_en", OwnedValue::Str(format!("Source {i}")))
                .with("control_level", OwnedValue::Str(levels[i % 3].into()))
                .with("permit_no", OwnedValue::Str(format!("91511500MA{i:08}")))
        })
        .collect()
}

#[test]
fn a_z4_tile_of_600k_points_stays_small_and_shows_where_they_are() {
    let feats = dense_points(600_000);
    let tile = TileCoord::containing(104.6, 28.77, 4).expect("valid");
    let rules = LayerTileRules {
        full_attributes_from_zoom: 10,
        low_zoom_properties: vec!["control_level".into()],
        ..LayerTileRules::points()
    };
    let mut b = TileBuilder::new(tile, TileOptions::default()).expect("options");
    let stats = b
        .add_layer("pollution_sources", &rules, &feats)
        .expect("layer");
    let bytes = b.finish();
    assert!(bytes.len() < 500_000, "{} bytes", bytes.len());
    assert!(stats.dropped > 0 && stats.encoded <= 20_000, "{stats:?}");

    let layer = &decode_checked(&bytes, 64)[0];
    // Every point of the buffered tile is counted by exactly one kept point.
    let total: u64 = layer
        .features
        .iter()
        .map(|f| {
            f.properties
                .iter()
                .find_map(|(k, v)| match (k.as_str(), v) {
                    ("point_count", DecodedValue::UInt(n)) => Some(*n),
                    _ => None,
                })
                .expect("point_count on every thinned point")
        })
        .sum();
    assert_eq!(total as usize, stats.input - stats.empty);

    // Coverage: every 128-px cell that had a point still has one.
    let t = TileTransform::new(tile, 4096);
    let cell = |x: f64, y: f64| ((x / 128.0).floor() as i64, (y / 128.0).floor() as i64);
    let before: HashSet<_> = feats
        .iter()
        .filter_map(|f| {
            let geo_types::Geometry::Point(p) = &f.geometry else {
                return None;
            };
            let (x, y) = t.to_pixel(p.x(), p.y());
            let (x, y) = ((x + 0.5).floor(), (y + 0.5).floor());
            ((-64.0..=4160.0).contains(&x) && (-64.0..=4160.0).contains(&y)).then(|| cell(x, y))
        })
        .collect();
    let after: HashSet<_> = layer
        .features
        .iter()
        .flat_map(|f| match &f.geometry {
            DecodedGeometry::Points(p) => p.clone(),
            _ => vec![],
        })
        .map(|p| cell(p[0] as f64, p[1] as f64))
        .collect();
    let lost = before.difference(&after).count();
    assert!(
        lost as f64 <= before.len() as f64 * 0.02,
        "{lost} of {} cells lost",
        before.len()
    );
    eprintln!(
        "z4, 600k points: {} bytes, {} features, {} cells of 128 px",
        bytes.len(),
        stats.encoded,
        before.len()
    );
}

#[test]
fn neighbouring_tiles_keep_the_same_points_along_their_edge() {
    // Dense points straddling the edge between two z8 tiles.
    let left = TileCoord::containing(104.6, 28.77, 8).expect("valid");
    let right = TileCoord::new(8, left.x() + 1, left.y()).expect("valid");
    let edge_lon = right.bounds_lonlat().min().x;
    let b = left.bounds_lonlat();
    let mut r = rng(77);
    let feats: Vec<OwnedFeature> = (0..20_000u64)
        .map(|fid| {
            let lon = edge_lon + r.gen_range(-0.05..0.05);
            OwnedFeature::new(
                fid + 1,
                point!(x: lon, y: r.gen_range(b.min().y..b.max().y)),
            )
        })
        .collect();
    let rules = LayerTileRules::points();
    // Fids kept in the strip both tiles show (64 px either side of the edge).
    let kept = |tile: TileCoord, strip: std::ops::RangeInclusive<i64>| -> HashSet<u64> {
        let mut b = TileBuilder::new(tile, TileOptions::default()).expect("options");
        b.add_layer("p", &rules, &feats).expect("layer");
        let layers = decode_checked(&b.finish(), 64);
        layers[0]
            .features
            .iter()
            .filter(|f| match &f.geometry {
                DecodedGeometry::Points(p) => {
                    strip.contains(&p[0][0]) && (0..4096).contains(&p[0][1])
                }
                _ => false,
            })
            .filter_map(|f| f.id)
            .collect()
    };
    let from_left = kept(left, 4032..=4159);
    let from_right = kept(right, -64..=63);
    assert!(from_left.len() > 100, "{}", from_left.len());
    assert_eq!(from_left, from_right);
}
