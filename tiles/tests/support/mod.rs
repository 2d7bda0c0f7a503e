//! Helpers shared by the integration tests: decoding with checks, and seeded
//! synthetic data.
#![allow(dead_code)]

use envatlas_tiles::decode::{decode_tile, DecodedGeometry, DecodedLayer};
use envatlas_tiles::{OwnedFeature, OwnedValue, TileCoord, TileTransform};
use geo_types::{point, Coord, LineString, Polygon};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// Decodes a tile (strictly) and checks what the decoder does not: every
/// coordinate within the buffered extent.
pub fn decode_checked(bytes: &[u8], buffer: i64) -> Vec<DecodedLayer> {
    let layers = decode_tile(bytes).expect("tile decodes");
    for l in &layers {
        let (lo, hi) = (-buffer, i64::from(l.extent) + buffer);
        for f in &l.features {
            for c in coords(&f.geometry) {
                assert!(
                    (lo..=hi).contains(&c[0]) && (lo..=hi).contains(&c[1]),
                    "layer {} feature {:?}: {c:?} outside {lo}..={hi}",
                    l.name,
                    f.id
                );
            }
        }
    }
    layers
}

/// Every vertex of a decoded geometry.
pub fn coords(g: &DecodedGeometry) -> Vec<[i64; 2]> {
    match g {
        DecodedGeometry::Points(p) => p.clone(),
        DecodedGeometry::Lines(ls) => ls.concat(),
        DecodedGeometry::Polygons(ps) => ps.iter().flat_map(|p| p.concat()).collect(),
    }
}

/// The Yibin city boundary as published (clockwise in lon/lat).
pub fn yibin_ring() -> LineString<f64> {
    include_str!("../data/yibin_city_ring.txt")
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(|l| {
            let mut it = l
                .split_whitespace()
                .map(|v| v.parse::<f64>().expect("number"));
            Coord {
                x: it.next().expect("lon"),
                y: it.next().expect("lat"),
            }
        })
        .collect()
}

/// A seeded RNG.
pub fn rng(seed: u64) -> ChaCha8Rng {
    ChaCha8Rng::seed_from_u64(seed)
}

/// `n` points spread over a lon/lat box, with properties like a pollution source.
pub fn source_points(
    n: usize,
    seed: u64,
    west: f64,
    south: f64,
    east: f64,
    north: f64,
) -> Vec<OwnedFeature> {
    let mut r = rng(seed);
    let levels = ["national", "provincial", "municipal"];
    let ratings = ["green", "blue", "yellow", "red"];
    (0..n)
        .map(|i| {
            let lon = r.gen_range(west..east);
            let lat = r.gen_range(south..north);
            OwnedFeature::new(i as u64 + 1, point!(x: lon, y: lat))
                .with("id", OwnedValue::Str(format!("ps-{i:06}")))
                .with("name_zh", OwnedValue::Str(format!("宜宾市第{i}污染源")))
                .with("name_en", OwnedValue::Str(format!("Source {i}")))
                .with("control_level", OwnedValue::Str(levels[i % 3].into()))
                .with("county", OwnedValue::Str(format!("5115{:02}", i % 11)))
                .with("credit_rating", OwnedValue::Str(ratings[i % 4].into()))
                .with("violations", OwnedValue::Int((i % 5) as i64))
                .with("online_monitored", OwnedValue::Bool(i % 2 == 0))
                .with("synthetic", OwnedValue::Bool(true))
        })
        .collect()
}

/// An irregular, star-shaped polygon ring around a centre (lon/lat), radius in
/// degrees, `n` vertices, in the given orientation (true: counter-clockwise in
/// lon/lat), closed.
pub fn blob(
    r: &mut ChaCha8Rng,
    centre: (f64, f64),
    radius: f64,
    n: usize,
    ccw: bool,
) -> LineString<f64> {
    let mut pts: Vec<Coord<f64>> = (0..n)
        .map(|i| {
            let a = i as f64 / n as f64 * std::f64::consts::TAU;
            let rr = radius * r.gen_range(0.6..1.0);
            Coord {
                x: centre.0 + rr * a.cos(),
                y: centre.1 + rr * a.sin(),
            }
        })
        .collect();
    if !ccw {
        pts.reverse();
    }
    pts.push(pts[0]);
    LineString::from(pts)
}

/// A polygon with an irregular exterior and one hole, in lon/lat.
pub fn blob_with_hole(
    r: &mut ChaCha8Rng,
    centre: (f64, f64),
    radius: f64,
    ccw: bool,
) -> Polygon<f64> {
    let ext = blob(r, centre, radius, 200, ccw);
    let hole = blob(r, centre, radius * 0.3, 40, ccw);
    Polygon::new(ext, vec![hole])
}

/// The lon/lat of a pixel of a tile.
pub fn lonlat(tile: TileCoord, px: f64, py: f64) -> (f64, f64) {
    TileTransform::new(tile, 4096).to_lonlat(px, py)
}
