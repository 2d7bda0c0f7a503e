//! River tracing and risk scoring in process (no HTTP), beside PostGIS on the
//! same data where a comparison means something.
//!
//! Cases: a 200,000 m downstream trace on the real rivers (the path alone,
//! and with the features in a 500 m corridor); snapping a point to the
//! network; the risk assessment of every water source (and ecology area) of
//! the data directory.
//!
//! Environment:
//! - `BENCH_DATA_DIR`: a data directory whose `layers/*.geojson` are read
//!   straight into an atlas; default: the committed sample. `scripts/bench
//!   rivers` points it at the scale-1000 sample (~30k water sources).
//! - `BENCH_DATABASE_URL`: a PostGIS database with `drinking_water_sources`
//!   and `pollution_sources` (`geog geography(Point)`, GiST indexes) holding
//!   the same features. When set, the radius part of the risk assessment
//!   (every source within `risk_radius_m` of every water source, with its
//!   distance: `ST_DWithin` + `ST_Distance` on geography) is timed there.
//!
//! `cargo bench -p envatlas-server --bench rivers`

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, Criterion};
use sqlx::{Connection, PgConnection, Row};

use envatlas_server::analysis::exceedance::NoExceedances;
use envatlas_server::analysis::filter::LayerQuery;
use envatlas_server::analysis::risk::{assess, AnalysisConfig, RiskInputs, Target};
use envatlas_server::analysis::river::corridor::features_along;
use envatlas_server::analysis::river::{RiverGraph, RiversConfig};
use envatlas_server::atlas::{Atlas, Layer};
use envatlas_server::model::catalog::builtin_schemas;
use envatlas_server::model::Feature;
use envatlas_server::store::seed::read_layer_file;

fn load_atlas(dir: &Path) -> Atlas {
    let atlas = Atlas::new();
    for schema in builtin_schemas() {
        let path = dir.join("layers").join(format!("{}.geojson", schema.id));
        let features: Vec<Feature> = read_layer_file(&path, &schema)
            .expect("layer file")
            .into_iter()
            .enumerate()
            .map(|(i, f)| Feature {
                fid: i as i64 + 1,
                id: f.id.into(),
                geometry: f.geometry,
                properties: f.properties,
            })
            .collect();
        atlas.insert(Layer::new(Arc::new(schema), features, 1));
    }
    atlas
}

fn data_dir() -> PathBuf {
    std::env::var_os("BENCH_DATA_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../data"))
}

const PG_RADIUS: &str = "SELECT count(*), sum(ST_Distance(w.geog, s.geog))
    FROM drinking_water_sources w JOIN pollution_sources s ON ST_DWithin(w.geog, s.geog, $1)";

fn benches(c: &mut Criterion) {
    let dir = data_dir();
    let t0 = Instant::now();
    let atlas = load_atlas(&dir);
    println!(
        "data: {} ({} water sources, {} pollution sources) loaded in {:.1} s",
        dir.display(),
        atlas.layer("drinking_water_sources").map_or(0, |l| l.len()),
        atlas.layer("pollution_sources").map_or(0, |l| l.len()),
        t0.elapsed().as_secs_f64()
    );
    let rivers = atlas.layer("rivers").expect("rivers layer");
    let graph = Arc::new(RiverGraph::build(Some(&rivers), &RiversConfig::default()));

    // A spill 100 vertices down the Jinsha's second reach: 200 km of river below it.
    let jinsha = graph
        .reaches
        .iter()
        .find(|r| r.id == "river-jinsha-2")
        .expect("Jinsha reach");
    let spill = jinsha.vertices[100];
    let start = graph.snap(spill, 5000.0).expect("snap");
    let trace = graph.downstream(&start, 200_000.0, None);
    assert!(
        (trace.length_m - 200_000.0).abs() < 1.0,
        "{}",
        trace.length_m
    );
    let corridor_layers: Vec<LayerQuery> = [
        "drinking_water_sources",
        "protection_zones",
        "monitoring_stations",
    ]
    .iter()
    .filter_map(|id| atlas.layer(id))
    .map(LayerQuery::all)
    .collect();
    let mut g = c.benchmark_group("rivers");
    g.bench_function("snap a point to the network", |b| {
        b.iter(|| graph.snap(spill, 5000.0))
    });
    g.bench_function("downstream 200 km: trace + path line", |b| {
        b.iter(|| {
            let t = graph.downstream(&start, 200_000.0, None);
            graph.downstream_line(&t)
        })
    });
    g.bench_function(
        "downstream 200 km: trace + path + 500 m corridor features",
        |b| {
            b.iter(|| {
                let t = graph.downstream(&start, 200_000.0, None);
                let hits = features_along(&graph, &t.pieces, &corridor_layers, 500.0);
                (graph.downstream_line(&t), hits)
            })
        },
    );
    g.finish();

    let config = AnalysisConfig::default();
    let mut g = c.benchmark_group("risk");
    g.sample_size(10).measurement_time(Duration::from_secs(20));
    for target in [Target::WaterSources, Target::EcologyAreas] {
        let inputs = RiskInputs::from_atlas(&atlas, target, &graph, &config, &NoExceedances)
            .expect("inputs");
        let n = inputs.targets.len();
        let results = assess(&inputs, None);
        let pairs: usize = results.iter().map(|r| r.sources.len()).sum();
        let upstream: usize = results
            .iter()
            .map(|r| r.sources.iter().filter(|s| s.upstream).count())
            .sum();
        println!(
            "risk {}: {n} assessed, {pairs} source pairs, {upstream} upstream",
            target.layer_id()
        );
        g.bench_function(format!("all {} ({n})", target.layer_id()), |b| {
            b.iter(|| assess(&inputs, None))
        });
    }
    g.finish();

    if let Some(url) = std::env::var_os("BENCH_DATABASE_URL") {
        let url = url.to_string_lossy().to_string();
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        let mut conn = rt
            .block_on(PgConnection::connect(&url))
            .expect("connect to BENCH_DATABASE_URL");
        let mut times = Vec::new();
        let mut pairs = 0i64;
        for _ in 0..3 {
            let t = Instant::now();
            let row = rt
                .block_on(
                    sqlx::query(PG_RADIUS)
                        .bind(config.risk_radius_m)
                        .fetch_one(&mut conn),
                )
                .expect("PostGIS radius join");
            times.push(t.elapsed().as_secs_f64());
            pairs = row.get::<i64, _>(0);
        }
        times.sort_by(f64::total_cmp);
        let inputs = RiskInputs::from_atlas(
            &atlas,
            Target::WaterSources,
            &graph,
            &config,
            &NoExceedances,
        )
        .expect("inputs");
        let mut ours = Vec::new();
        for _ in 0..3 {
            let t = Instant::now();
            std::hint::black_box(assess(&inputs, None));
            ours.push(t.elapsed().as_secs_f64());
        }
        ours.sort_by(f64::total_cmp);
        println!(
            "PostGIS radius join alone (ST_DWithin + ST_Distance, geography, {} m): median {:.3} s over 3 runs, {pairs} pairs",
            config.risk_radius_m, times[1]
        );
        println!(
            "envatlas whole risk assessment (radius + zones + upstream + scores): median {:.3} s; PostGIS radius part / ours whole = {:.1}x",
            ours[1],
            times[1] / ours[1]
        );
    }
}

criterion_group!(rivers, benches);
criterion_main!(rivers);
