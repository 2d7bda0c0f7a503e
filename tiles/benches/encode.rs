//! Tile encoding benchmarks (run in release: `cargo bench -p envatlas-tiles`).
//!
//! - z10, 5k points with a pollution source's properties (all kept, no thinning),
//!   with a fresh builder and with a reused one;
//! - the same with the point-layer rules (thinning below z12);
//! - z8, ~40 irregular polygons with holes (like `ecology_areas`);
//! - z14, the real Yibin city boundary covering the tile;
//! - z4, 600k points thinned to fit (the `--scale 1000` case).

#[path = "../tests/support/mod.rs"]
mod support;

use criterion::{black_box, criterion_group, criterion_main, Criterion};
use envatlas_tiles::{
    gzip, LayerTileRules, OwnedFeature, OwnedValue, TileBuilder, TileCoord, TileOptions,
};
use geo_types::Polygon;
use rand::Rng;
use std::sync::OnceLock;

fn encode(tile: TileCoord, name: &str, rules: &LayerTileRules, feats: &[OwnedFeature]) -> Vec<u8> {
    let mut b = TileBuilder::new(tile, TileOptions::default()).expect("options");
    b.add_layer(name, rules, feats).expect("layer");
    b.finish()
}

fn all_attributes() -> LayerTileRules {
    LayerTileRules {
        max_features: None,
        ..LayerTileRules::default()
    }
}

fn bench(c: &mut Criterion) {
    // z10 tile around Yibin: 5k points inside it.
    let z10 = TileCoord::containing(104.6, 28.77, 10).expect("valid");
    let b = z10.bounds_lonlat();
    let points = support::source_points(5000, 42, b.min().x, b.min().y, b.max().x, b.max().y);
    let bytes = encode(z10, "pollution_sources", &all_attributes(), &points);
    eprintln!("z10 5k points: {} bytes", bytes.len());
    c.bench_function("z10_5k_points_all_attributes", |bench| {
        bench.iter(|| {
            encode(
                z10,
                "pollution_sources",
                &all_attributes(),
                black_box(&points),
            )
        })
    });
    // As a server keeps it: one builder per worker thread, reset per tile.
    let mut builder = TileBuilder::new(z10, TileOptions::default()).expect("options");
    c.bench_function("z10_5k_points_all_attributes_reused_builder", |bench| {
        bench.iter(|| {
            builder.reset(z10);
            builder
                .add_layer("pollution_sources", &all_attributes(), black_box(&points))
                .expect("layer");
            builder.take()
        })
    });
    let thinned = LayerTileRules::points();
    c.bench_function("z10_5k_points_thinned", |bench| {
        bench.iter(|| encode(z10, "pollution_sources", &thinned, black_box(&points)))
    });
    c.bench_function("z10_5k_points_gzip_level1", |bench| {
        bench.iter(|| gzip(black_box(&bytes)).expect("gzip"))
    });

    // z8 tile: 40 irregular polygons of 200 vertices with a 40-vertex hole, 2–15 km.
    let z8 = TileCoord::containing(104.6, 28.77, 8).expect("valid");
    let b8 = z8.bounds_lonlat();
    let mut r = support::rng(8);
    let polygons: Vec<OwnedFeature> = (0..40)
        .map(|i| {
            let centre = (
                r.gen_range(b8.min().x..b8.max().x),
                r.gen_range(b8.min().y..b8.max().y),
            );
            let radius = r.gen_range(0.02..0.15);
            let poly: Polygon<f64> = support::blob_with_hole(&mut r, centre, radius, i % 2 == 0);
            OwnedFeature::new(i as u64 + 1, poly)
                .with("name_zh", OwnedValue::Str(format!("生态区{i}")))
                .with("category", OwnedValue::Str("nature_reserve".into()))
                .with("area_m2", OwnedValue::Int(1_000_000 + i as i64))
        })
        .collect();
    eprintln!(
        "z8 40 polygons: {} bytes",
        encode(z8, "ecology_areas", &all_attributes(), &polygons).len()
    );
    c.bench_function("z8_40_polygons", |bench| {
        bench.iter(|| encode(z8, "ecology_areas", &all_attributes(), black_box(&polygons)))
    });

    // z14 tile inside Yibin: the whole city boundary passed in, mostly far away.
    let z14 = TileCoord::containing(104.63, 28.77, 14).expect("valid");
    let city = vec![OwnedFeature::new(
        1,
        Polygon::new(support::yibin_ring(), vec![]),
    )];
    c.bench_function("z14_city_boundary", |bench| {
        bench.iter(|| encode(z14, "admin_boundaries", &all_attributes(), black_box(&city)))
    });
}

/// Built on first use only, so that filtering to other benchmarks skips it.
fn dense_points() -> &'static [OwnedFeature] {
    static DENSE: OnceLock<Vec<OwnedFeature>> = OnceLock::new();
    DENSE.get_or_init(|| {
        let z4 = TileCoord::containing(104.6, 28.77, 4).expect("valid");
        let b4 = z4.bounds_lonlat();
        support::source_points(600_000, 4, b4.min().x, b4.min().y, b4.max().x, b4.max().y)
    })
}

fn dense(c: &mut Criterion) {
    // z4: 600k points over the tile, thinned.
    let z4 = TileCoord::containing(104.6, 28.77, 4).expect("valid");
    let low_zoom = LayerTileRules {
        full_attributes_from_zoom: 10,
        low_zoom_properties: vec!["control_level".into()],
        ..LayerTileRules::points()
    };
    let mut group = c.benchmark_group("dense");
    group.sample_size(10);
    group.bench_function("z4_600k_points_thinned", |bench| {
        let dense = dense_points();
        static SIZE: std::sync::Once = std::sync::Once::new();
        SIZE.call_once(|| {
            let bytes = encode(z4, "pollution_sources", &low_zoom, dense);
            eprintln!("z4 600k points: {} bytes", bytes.len());
        });
        bench.iter(|| encode(z4, "pollution_sources", &low_zoom, black_box(dense)))
    });
    group.finish();
}

criterion_group!(benches, bench, dense);
criterion_main!(benches);
