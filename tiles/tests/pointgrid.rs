//! Pre-thinned point grids give byte-identical tiles to thinning every point in
//! the builder: random clustered points, points exactly on the buffered tile's
//! edges, every zoom where thinning applies, and tiles over the feature cap.

mod support;

use envatlas_tiles::mercator::lonlat_to_world;
use envatlas_tiles::{
    spatial_order, EncodedProperties, EncodedPropertiesBuilder, LayerTileRules, OwnedFeature,
    OwnedValue, PointGrid, TileBuilder, TileCoord, TileOptions, TileTransform, WorldPoint,
};
use geo_types::{point, Geometry};
use rand::Rng;
use support::rng;

fn points(n: usize, centre: (f64, f64), spread: f64, seed: u64) -> Vec<OwnedFeature> {
    let mut r = rng(seed);
    let levels = ["national", "provincial", "municipal"];
    (0..n)
        .map(|i| {
            // Half the points in a few tight clusters, so cells hold many.
            let s = if i % 2 == 0 { spread } else { spread / 50.0 };
            let c = if i % 2 == 0 {
                centre
            } else {
                (
                    centre.0 + (i % 7) as f64 * 0.01,
                    centre.1 - (i % 5) as f64 * 0.01,
                )
            };
            let (lon, lat) = (
                c.0 + r.gen_range(-s..s),
                (c.1 + r.gen_range(-s..s)).clamp(-89.0, 89.0),
            );
            // Ids out of order, so sorting by fid matters.
            OwnedFeature::new((i as u64 * 7919) % 1_000_003 + 1, point!(x: lon, y: lat))
                .with("name_zh", OwnedValue::Str(format!("点{i}")))
                .with("control_level", OwnedValue::Str(levels[i % 3].into()))
                .with("value", OwnedValue::Int(i as i64 % 11))
        })
        .collect()
}

/// Points exactly on (and half a pixel around) the buffered edges of `tile`.
fn edge_points(tile: TileCoord, first_fid: u64) -> Vec<OwnedFeature> {
    let t = TileTransform::new(tile, 4096);
    let mut out = Vec::new();
    let mut fid = first_fid;
    for &(px, py) in &[
        (4160.0, 100.0),
        (4160.4, 2000.0),
        (4160.6, 2000.0),
        (4159.5, 300.0),
        (100.0, 4160.0),
        (2000.0, 4160.49),
        (4160.0, 4160.0),
        (4160.2, 4159.7),
        (-64.0, -64.0),
        (-64.5, 10.0),
        (-64.6, 10.0),
        (10.0, -64.4),
        (4175.0, 4175.0),
        (4176.0, 100.0),
    ] {
        for k in 0..3 {
            let (lon, lat) = t.to_lonlat(px, py + f64::from(k) * 16.0);
            out.push(
                OwnedFeature::new(fid, point!(x: lon, y: lat))
                    .with("control_level", OwnedValue::Str("edge".into())),
            );
            fid += 1;
        }
    }
    out
}

fn world(features: &[OwnedFeature]) -> Vec<WorldPoint> {
    features
        .iter()
        .map(|f| {
            let Geometry::Point(p) = f.geometry else {
                panic!("points only")
            };
            let (x, y) = lonlat_to_world(p.x(), p.y());
            WorldPoint { fid: f.fid, x, y }
        })
        .collect()
}

fn via_builder(features: &[OwnedFeature], tile: TileCoord, rules: &LayerTileRules) -> Vec<u8> {
    let mut b = TileBuilder::new(tile, TileOptions::default()).expect("options");
    b.add_layer("points", rules, features).expect("layer");
    b.finish()
}

fn via_grid(
    features: &[OwnedFeature],
    grid: &PointGrid,
    pts: &[WorldPoint],
    tile: TileCoord,
    rules: &LayerTileRules,
) -> Vec<u8> {
    let mut placed = Vec::new();
    assert!(
        grid.select(pts, tile, rules.max_features, &mut placed),
        "{tile}"
    );
    let mut items: Vec<_> = placed
        .iter()
        .map(|p| (&features[p.index as usize], p.at, p.count))
        .collect();
    let mut b = TileBuilder::new(tile, TileOptions::default()).expect("options");
    b.add_placed_points("points", rules, &mut items)
        .expect("layer");
    b.finish()
}

/// The grid path with properties encoded once (as the server does): rows in
/// `pts` order, for the keys the rules keep at the tile's zoom.
fn via_encoded(
    grid: &PointGrid,
    pts: &[WorldPoint],
    table: &EncodedProperties,
    tile: TileCoord,
    rules: &LayerTileRules,
) -> Vec<u8> {
    let mut placed = Vec::new();
    assert!(grid.select(pts, tile, rules.max_features, &mut placed));
    let mut b = TileBuilder::new(tile, TileOptions::default()).expect("options");
    b.add_encoded_points("points", rules, &mut placed, table)
        .expect("layer");
    b.finish()
}

fn encode(features: &[OwnedFeature], keys: &[&str]) -> EncodedProperties {
    let mut t = EncodedPropertiesBuilder::new(keys.iter().map(|k| k.to_string()).collect());
    for f in features {
        t.push_row(keys.iter().map(|k| {
            f.properties
                .iter()
                .find(|(n, _)| n == k)
                .map(|(_, v)| v.as_tile_value())
        }));
    }
    t.finish().expect("table")
}

fn rules(max: Option<usize>) -> LayerTileRules {
    LayerTileRules {
        full_attributes_from_zoom: 9,
        low_zoom_properties: vec!["control_level".into()],
        max_features: max,
        ..LayerTileRules::points()
    }
}

#[test]
fn grid_tiles_equal_builder_tiles_at_every_thinned_zoom() {
    let centre = (104.62, 28.77);
    let mut features = points(20_000, centre, 3.0, 7);
    for z in [3u8, 6, 9, 11] {
        let t = TileCoord::containing(centre.0, centre.1, z).expect("tile");
        features.extend(edge_points(t, 2_000_000 + u64::from(z) * 1000));
    }
    let pts = world(&features);
    // The server's arrangement: points in Z-order, properties encoded once.
    let order = spatial_order(&pts);
    let sorted: Vec<OwnedFeature> = order
        .iter()
        .map(|&i| features[i as usize].clone())
        .collect();
    let sorted_pts = world(&sorted);
    let low = encode(&sorted, &["control_level"]);
    let full = encode(&sorted, &["name_zh", "control_level", "value"]);
    for z in 0u8..12 {
        let grid = PointGrid::build(&pts, z, 4096, 64, 16).expect("grid");
        let sorted_grid = PointGrid::build(&sorted_pts, z, 4096, 64, 16).expect("grid");
        let c = TileCoord::containing(centre.0, centre.1, z).expect("tile");
        let mut tiles = vec![c];
        for (dx, dy) in [(-1i64, 0i64), (1, 0), (0, 1), (1, 1), (-1, -1), (2, 2)] {
            let (x, y) = (i64::from(c.x()) + dx, i64::from(c.y()) + dy);
            if let (Ok(x), Ok(y)) = (u32::try_from(x), u32::try_from(y)) {
                if let Ok(t) = TileCoord::new(z, x, y) {
                    tiles.push(t);
                }
            }
        }
        for t in tiles {
            for max in [None, Some(20_000), Some(300), Some(40)] {
                let r = rules(max);
                let expected = via_builder(&features, t, &r);
                let got = via_grid(&features, &grid, &pts, t, &r);
                assert!(
                    got == expected,
                    "tile {t}, cap {max:?}: {} bytes from the grid, {} from the builder",
                    got.len(),
                    expected.len()
                );
                let table = if r.property_filter(z).is_some() {
                    &low
                } else {
                    &full
                };
                let got = via_encoded(&sorted_grid, &sorted_pts, table, t, &r);
                assert!(
                    got == expected,
                    "tile {t}, cap {max:?}: {} bytes encoded once, {} from the builder",
                    got.len(),
                    expected.len()
                );
            }
        }
    }
}

#[test]
fn edge_points_count_once_across_neighbours() {
    let c = TileCoord::new(9, 404, 213).expect("tile");
    let features = edge_points(c, 1);
    let pts = world(&features);
    let grid = PointGrid::build(&pts, 9, 4096, 64, 16).expect("grid");
    let mut placed = Vec::new();
    assert!(grid.select(&pts, c, None, &mut placed));
    // Every point within [-64, 4160] after snapping is in the tile.
    let t = TileTransform::new(c, 4096);
    let expected = pts
        .iter()
        .filter(|p| {
            let f = &features.iter().find(|f| f.fid == p.fid).expect("feature");
            let Geometry::Point(q) = f.geometry else {
                return false;
            };
            let (x, y) = t.to_pixel(q.x(), q.y());
            let (x, y) = ((x + 0.5).floor(), (y + 0.5).floor());
            (-64.0..=4160.0).contains(&x) && (-64.0..=4160.0).contains(&y)
        })
        .count() as u64;
    assert_eq!(placed.iter().map(|p| p.count).sum::<u64>(), expected);
    // At most 3×3 cells at the coarsest level (the tile, its two edges).
    assert!(grid.select(&pts, c, Some(9), &mut placed));
    assert!(placed.len() <= 9);
    assert_eq!(placed.iter().map(|p| p.count).sum::<u64>(), expected);
    assert!(!grid.select(
        &pts,
        TileCoord::new(8, 202, 106).expect("tile"),
        None,
        &mut placed
    ));
}
