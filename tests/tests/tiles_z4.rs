//! The z4 size rule on a larger sample (the CI-sized version of the
//! scale-1000 figure in docs/benchmarks.md): a scale-20 sample generated into a
//! temporary directory, served, and its z4 tiles over China checked: under
//! 500 KB, `point_count`s adding up to the sources in the buffered tile, and
//! every source within 64 px of a kept point.

#[path = "../mvt/geometry.rs"]
mod geometry;

use std::collections::HashMap;

use envatlas_tests::{get_bytes, TestServer};
use envatlas_tiles::decode::{decode_tile, DecodedGeometry, DecodedValue};
use envatlas_tiles::TileCoord;
use geo_types::Geometry;
use geometry::lonlat_to_px;

const EXTENT: f64 = 4096.0;
const BUFFER: f64 = 64.0;

fn count_of(v: &DecodedValue) -> Option<u64> {
    match v {
        DecodedValue::UInt(n) => Some(*n),
        DecodedValue::Int(n) | DecodedValue::SInt(n) => u64::try_from(*n).ok(),
        _ => None,
    }
}

/// The z4 tiles over 100–120°E, 20–40°N of a scale-20 sample stay under 500 KB,
/// their `point_count`s add up to the sources they stand for, and every source
/// in a tile has a kept point near it (thinning keeps one point per grid cell).
#[test]
fn z4_tiles_of_a_larger_sample_stay_small_and_show_every_cluster() {
    let sample = tempfile::tempdir().expect("tempdir");
    let opts = envatlas_server::sample::SampleOptions {
        seed: 42,
        scale: 20,
        days: 1,
    };
    envatlas_server::sample::generate(&opts, sample.path()).expect("sample");
    let dir = sample.path().to_path_buf();
    let s = TestServer::start_with(move |c| c.data_dir = dir).expect("server");
    let layer = s.state.atlas.layer("pollution_sources").expect("sources");
    let points: Vec<(f64, f64)> = layer
        .features()
        .iter()
        .filter_map(|f| match f.geometry {
            Geometry::Point(p) => Some((p.x(), p.y())),
            _ => None,
        })
        .collect();
    assert!(
        points.len() > 10_000,
        "scale 20 has many sources: {}",
        points.len()
    );
    let mut covered = 0;
    for (x, y) in [(12, 6), (13, 6), (12, 7), (13, 7)] {
        let t = TileCoord::new(4, x, y).expect("tile");
        let inside: Vec<(f64, f64)> = points
            .iter()
            .map(|&(lon, lat)| lonlat_to_px(t, lon, lat))
            .filter(|&(px, py)| {
                (-BUFFER..EXTENT + BUFFER).contains(&px) && (-BUFFER..EXTENT + BUFFER).contains(&py)
            })
            .collect();
        let url = s.url(&format!("/tiles/pollution_sources/4/{x}/{y}"));
        let (status, _, bytes) = get_bytes(&url, &[]).expect("tile");
        assert!(status == 200 || status == 204, "{url}: {status}");
        if status == 204 {
            assert!(
                inside.is_empty(),
                "{t}: empty tile over {} sources",
                inside.len()
            );
            continue;
        }
        assert!(bytes.len() < 500_000, "{t}: {} bytes", bytes.len());
        let layers = decode_tile(&bytes).expect("decode");
        let kept: Vec<([i64; 2], u64)> = layers[0]
            .features
            .iter()
            .map(|f| {
                let DecodedGeometry::Points(p) = &f.geometry else {
                    panic!("points")
                };
                let count = f
                    .properties
                    .iter()
                    .find(|(k, _)| k == "point_count")
                    .map(|(_, v)| count_of(v).expect("count"));
                (p[0], count.expect("point_count below z12"))
            })
            .collect();
        let total: u64 = kept.iter().map(|k| k.1).sum();
        let near_border = inside
            .iter()
            .filter(|(px, py)| {
                [
                    px + BUFFER,
                    EXTENT + BUFFER - px,
                    py + BUFFER,
                    EXTENT + BUFFER - py,
                ]
                .iter()
                .any(|d| *d < 1.0)
            })
            .count() as u64;
        assert!(
            total.abs_diff(inside.len() as u64) <= near_border,
            "{t}: point_count adds up to {total}, {} sources in the buffered tile",
            inside.len()
        );
        // Every source has a kept point within 64 px (two cells of the coarsest grid used).
        let mut grid: HashMap<(i64, i64), Vec<[i64; 2]>> = HashMap::new();
        for (p, _) in &kept {
            grid.entry((p[0].div_euclid(64), p[1].div_euclid(64)))
                .or_default()
                .push(*p);
        }
        for &(px, py) in &inside {
            let (cx, cy) = ((px as i64).div_euclid(64), (py as i64).div_euclid(64));
            let near = (-1..=1)
                .flat_map(|dx| (-1..=1).map(move |dy| (cx + dx, cy + dy)))
                .filter_map(|k| grid.get(&k))
                .flatten()
                .any(|p| (p[0] as f64 - px).hypot(p[1] as f64 - py) <= 64.0);
            assert!(
                near,
                "{t}: the source at ({px:.0}, {py:.0}) has no kept point within 64 px"
            );
        }
        covered += inside.len();
        println!(
            "z4 {t}: {} bytes, {} features for {} sources",
            bytes.len(),
            kept.len(),
            inside.len()
        );
    }
    assert!(
        covered > 1000,
        "the z4 tiles over China hold the sources ({covered})"
    );
}
