//! Analysis latency on the committed sample, in process (no HTTP): nearest
//! k=10, and a 5 km buffer around a point and around a 100-vertex polygon
//! (features, summary and buffer polygon, as the endpoint computes them).
//!
//! `cargo bench -p envatlas-server --bench analysis`

use std::path::Path;

use criterion::{criterion_group, criterion_main, Criterion};
use geo::Destination;
use geo_types::{Geometry, LineString, Point, Polygon};

use envatlas_server::analysis::filter::{select, FilterSpec};
use envatlas_server::analysis::{buffer, nearest, BufferQuery, NearestQuery};
use envatlas_server::app::{self, AppState};
use envatlas_server::config::Config;

/// Central Yibin (翠屏区).
const CENTRE: (f64, f64) = (104.62, 28.77);

/// Starts the app over a temporary copy of the sample's layers.
fn start() -> (tempfile::TempDir, AppState) {
    let dir = tempfile::tempdir().expect("temp dir");
    let layers = Path::new(env!("CARGO_MANIFEST_DIR")).join("../data/layers");
    std::fs::create_dir_all(dir.path().join("layers")).expect("layers dir");
    for entry in std::fs::read_dir(&layers).expect("sample layers") {
        let entry = entry.expect("entry");
        std::fs::copy(
            entry.path(),
            dir.path().join("layers").join(entry.file_name()),
        )
        .expect("copy");
    }
    let config = Config {
        data_dir: dir.path().to_path_buf(),
        ..Config::default()
    };
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let state = runtime.block_on(app::start(config)).expect("start");
    (dir, state)
}

/// A 100-vertex polygon: a geodesic circle of 3 km around the centre.
fn polygon_100() -> Geometry<f64> {
    let c = Point::new(CENTRE.0, CENTRE.1);
    let mut ring: Vec<_> = (0..99)
        .map(|i| {
            geo::Geodesic
                .destination(c, f64::from(i) * 360.0 / 99.0, 3_000.0)
                .0
        })
        .collect();
    ring.push(ring[0]);
    Geometry::Polygon(Polygon::new(LineString(ring), vec![]))
}

fn bench(c: &mut Criterion) {
    let (_dir, state) = start();
    let atlas = state.atlas.clone();
    let no_filter = FilterSpec::default();
    let defaults = select(&atlas, None, &no_filter, "layers").expect("layers");
    let sources_only = ["pollution_sources".to_string()];
    let sources = select(&atlas, Some(&sources_only), &no_filter, "layers").expect("layers");
    let origin = Point::new(CENTRE.0, CENTRE.1);
    let near = NearestQuery {
        origin,
        k: 10,
        max_distance_m: 100_000.0,
    };
    c.bench_function("nearest k=10, pollution_sources", |b| {
        b.iter(|| nearest::nearest(&sources, &near))
    });
    c.bench_function("nearest k=10 per layer, 6 default layers", |b| {
        b.iter(|| nearest::nearest(&defaults, &near))
    });

    let point = Geometry::Point(origin);
    let polygon = polygon_100();
    for (name, geometry) in [("point", &point), ("100-vertex polygon", &polygon)] {
        let query = BufferQuery {
            geometry,
            distance_m: 5_000.0,
            exclude: None,
        };
        c.bench_function(
            &format!("buffer 5 km around a {name}, 6 default layers"),
            |b| b.iter(|| buffer::buffer(&atlas, &defaults, &query, 10_000).expect("buffer")),
        );
        c.bench_function(
            &format!("buffer 5 km around a {name}, features only"),
            |b| b.iter(|| buffer::within_distance(&defaults, &query, 10_000).expect("buffer")),
        );
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
