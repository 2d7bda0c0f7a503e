//! Analysis latency in process (no HTTP), beside PostGIS on the same data.
//!
//! Cases: nearest k=10 among the pollution sources; the features within 5 km
//! of a point and of a 100-vertex polygon (a 3 km geodesic circle), on the
//! pollution sources alone (what PostGIS is asked too) and as the full buffer
//! answer over the default layers (features, summary, buffer polygon). Every
//! iteration takes the next of 100 query points: the positions of pollution
//! sources picked with a seeded RNG, moved 0–2 km (the same list for PostGIS).
//!
//! Environment:
//! - `BENCH_DATA_DIR`: a data directory whose `layers/*.geojson` are read
//!   straight into an atlas (no store); default: the committed sample.
//! - `BENCH_DATABASE_URL`: a PostGIS database with a table `pollution_sources`
//!   (`id`, `geog geography(Point, 4326)` with a GiST index) holding the same
//!   sources (`scripts/bench analysis` loads it with ogr2ogr). When set, the
//!   same three questions are timed there over one loopback connection
//!   (prepared statements; the round trip included), and the server-side
//!   execution time (`EXPLAIN ANALYZE`) is printed for each.
//! - `BENCH_QUICK=1`: only the per-query medians (ours, and PostGIS's round
//!   trips when `BENCH_DATABASE_URL` is set), with the hit count and distance
//!   sum of each case as a check that two builds give the same answers; no
//!   criterion groups. Fast enough to run under callgrind on a small sample.
//!
//! `cargo bench -p envatlas-server --bench analysis`

use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, Criterion};
use geo::Destination;
use geo_types::{Geometry, LineString, Point, Polygon};
use rand::{Rng, SeedableRng};
use sqlx::{Connection, PgConnection, Row};

use envatlas_server::analysis::filter::{select, FilterSpec, LayerQuery};
use envatlas_server::analysis::{buffer, nearest, BufferQuery, NearestQuery};
use envatlas_server::atlas::{Atlas, Layer};
use envatlas_server::model::catalog::builtin_schemas;
use envatlas_server::model::Feature;
use envatlas_server::store::seed::read_layer_file;

const QUERIES: usize = 100;

/// Reads every layer file of a data directory into an atlas (fids from 1).
fn load_atlas(dir: &Path) -> Atlas {
    let atlas = Atlas::new();
    for schema in builtin_schemas() {
        let path = dir.join("layers").join(format!("{}.geojson", schema.id));
        let features: Vec<Feature> = if path.exists() {
            read_layer_file(&path, &schema)
                .expect("layer file")
                .into_iter()
                .enumerate()
                .map(|(i, f)| Feature {
                    fid: i as i64 + 1,
                    id: f.id.into(),
                    geometry: f.geometry,
                    properties: f.properties,
                })
                .collect()
        } else {
            Vec::new()
        };
        atlas.insert(Layer::new(Arc::new(schema), features, 1));
    }
    atlas
}

/// A 100-vertex polygon: a geodesic circle of 3 km around `c`.
fn polygon_100(c: Point<f64>) -> Polygon<f64> {
    let mut ring: Vec<_> = (0..99)
        .map(|i| {
            geo::Geodesic
                .destination(c, f64::from(i) * 360.0 / 99.0, 3_000.0)
                .0
        })
        .collect();
    ring.push(ring[0]);
    Polygon::new(LineString(ring), vec![])
}

fn wkt(p: &Polygon<f64>) -> String {
    let coords: Vec<String> = p
        .exterior()
        .0
        .iter()
        .map(|c| format!("{} {}", c.x, c.y))
        .collect();
    format!("POLYGON(({}))", coords.join(","))
}

/// Cycles through a list, one item per call.
struct Cycle<'a, T> {
    items: &'a [T],
    next: usize,
}

impl<'a, T> Cycle<'a, T> {
    fn new(items: &'a [T]) -> Self {
        Cycle { items, next: 0 }
    }
    fn next(&mut self) -> &'a T {
        let item = &self.items[self.next % self.items.len()];
        self.next += 1;
        item
    }
}

const PG_NEAREST: &str = "SELECT id, d FROM (
    SELECT id, ST_Distance(geog, ST_SetSRID(ST_MakePoint($1, $2), 4326)::geography) AS d
    FROM pollution_sources
    ORDER BY geog <-> ST_SetSRID(ST_MakePoint($1, $2), 4326)::geography
    LIMIT 20) c ORDER BY d LIMIT 10";
const PG_POINT_5KM: &str =
    "SELECT id, ST_Distance(geog, ST_SetSRID(ST_MakePoint($1, $2), 4326)::geography) AS d
    FROM pollution_sources
    WHERE ST_DWithin(geog, ST_SetSRID(ST_MakePoint($1, $2), 4326)::geography, 5000)
    ORDER BY d";
const PG_POLYGON_5KM: &str = "SELECT id, ST_Distance(geog, ST_GeogFromText($1)) AS d
    FROM pollution_sources
    WHERE ST_DWithin(geog, ST_GeogFromText($1), 5000)
    ORDER BY d";

/// PostGIS side: one connection and the query points.
struct Postgis {
    rt: tokio::runtime::Runtime,
    conn: PgConnection,
}

impl Postgis {
    fn connect(url: &str) -> Postgis {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        let conn = rt
            .block_on(PgConnection::connect(url))
            .expect("connect to BENCH_DATABASE_URL");
        Postgis { rt, conn }
    }

    fn point_query(&mut self, sql: &str, p: Point<f64>) -> usize {
        let rows = self
            .rt
            .block_on(
                sqlx::query(sql)
                    .bind(p.x())
                    .bind(p.y())
                    .fetch_all(&mut self.conn),
            )
            .expect("PostGIS query");
        rows.len()
    }

    fn text_query(&mut self, sql: &str, text: &str) -> usize {
        let rows = self
            .rt
            .block_on(sqlx::query(sql).bind(text).fetch_all(&mut self.conn))
            .expect("PostGIS query");
        rows.len()
    }

    /// Median server-side execution time (ms) of `EXPLAIN ANALYZE` over the points.
    fn execution_ms(&mut self, sql: &str, args: &[Arg]) -> f64 {
        let explain = format!("EXPLAIN (ANALYZE) {sql}");
        let mut times: Vec<f64> = args
            .iter()
            .map(|a| {
                let q = sqlx::query(&explain);
                let q = match a {
                    Arg::Point(p) => q.bind(p.x()).bind(p.y()),
                    Arg::Text(t) => q.bind(t.clone()),
                };
                let rows = self
                    .rt
                    .block_on(q.fetch_all(&mut self.conn))
                    .expect("EXPLAIN");
                rows.iter()
                    .filter_map(|r| {
                        let line: String = r.get(0);
                        let ms = line.trim().strip_prefix("Execution Time:")?;
                        ms.trim().trim_end_matches("ms").trim().parse::<f64>().ok()
                    })
                    .next()
                    .expect("Execution Time in the plan")
            })
            .collect();
        times.sort_by(f64::total_cmp);
        times[times.len() / 2]
    }
}

enum Arg {
    Point(Point<f64>),
    Text(String),
}

/// Prints the median, 90th percentile and maximum over the query points of
/// each point's own median time (31 runs each): the spread a mean hides.
fn spread(name: &str, mut run: impl FnMut(usize)) {
    let mut per_point: Vec<f64> = (0..QUERIES)
        .map(|i| {
            let mut times: Vec<f64> = (0..31)
                .map(|_| {
                    let t = Instant::now();
                    run(i);
                    t.elapsed().as_secs_f64() * 1e6
                })
                .collect();
            times.sort_by(f64::total_cmp);
            times[times.len() / 2]
        })
        .collect();
    per_point.sort_by(f64::total_cmp);
    println!(
        "per query point ({QUERIES}), {name}: median {:.1} µs, p90 {:.1} µs, max {:.1} µs",
        per_point[QUERIES / 2],
        per_point[QUERIES * 9 / 10],
        per_point[QUERIES - 1]
    );
}

/// The per-point spread of our three cases.
fn print_per_query(
    sources: &[LayerQuery],
    origins: &[Point<f64>],
    points: &[Geometry<f64>],
    polygons: &[Geometry<f64>],
) {
    spread("nearest k=10", |i| {
        let q = NearestQuery {
            origin: origins[i],
            k: 10,
            max_distance_m: 100_000.0,
        };
        black_box(nearest::nearest(sources, &q));
    });
    for (name, geometries) in [("point", points), ("100-vertex polygon", polygons)] {
        let (mut count, mut sum) = (0, 0.0);
        for g in geometries {
            let q = BufferQuery {
                geometry: g,
                distance_m: 5_000.0,
                exclude: None,
            };
            let hits = buffer::within_distance(sources, &q, usize::MAX).expect("buffer");
            count += hits.len();
            sum += hits.iter().map(|h| h.distance_m).sum::<f64>();
        }
        println!("buffer 5 km around a {name}: {count} hits, distances sum to {sum:.6} m");
        spread(&format!("buffer 5 km around a {name}"), |i| {
            let q = BufferQuery {
                geometry: &geometries[i],
                distance_m: 5_000.0,
                exclude: None,
            };
            black_box(buffer::within_distance(sources, &q, usize::MAX).expect("buffer"));
        });
    }
}

/// The per-point spread of PostGIS's round trips.
fn postgis_spread(pg: &mut Postgis, origins: &[Point<f64>], wkts: &[String]) {
    spread("PostGIS nearest k=10 (round trip)", |i| {
        black_box(pg.point_query(PG_NEAREST, origins[i]));
    });
    spread("PostGIS buffer 5 km around a point (round trip)", |i| {
        black_box(pg.point_query(PG_POINT_5KM, origins[i]));
    });
    spread(
        "PostGIS buffer 5 km around a 100-vertex polygon (round trip)",
        |i| {
            black_box(pg.text_query(PG_POLYGON_5KM, &wkts[i]));
        },
    );
}

/// `BENCH_QUICK`: PostGIS's per-point spread and server-side time alone.
fn postgis_per_query(url: &str, origins: &[Point<f64>], polygons: &[Geometry<f64>]) {
    let mut pg = Postgis::connect(url);
    let wkts = polygon_wkts(polygons);
    let text_args: Vec<Arg> = wkts.iter().map(|t| Arg::Text(t.clone())).collect();
    println!(
        "PostGIS buffer 5 km around a 100-vertex polygon: median server-side execution {:.3} ms (EXPLAIN ANALYZE)",
        pg.execution_ms(PG_POLYGON_5KM, &text_args)
    );
    postgis_spread(&mut pg, origins, &wkts);
}

fn polygon_wkts(polygons: &[Geometry<f64>]) -> Vec<String> {
    polygons
        .iter()
        .map(|g| match g {
            Geometry::Polygon(p) => wkt(p),
            _ => unreachable!("polygons"),
        })
        .collect()
}

fn bench(c: &mut Criterion) {
    let dir = std::env::var("BENCH_DATA_DIR").map_or_else(
        |_| Path::new(env!("CARGO_MANIFEST_DIR")).join("../data"),
        PathBuf::from,
    );
    let started = std::time::Instant::now();
    let atlas = load_atlas(&dir);
    let sources_layer = atlas.layer("pollution_sources").expect("sources");
    println!(
        "atlas from {}: {} pollution sources, {} layers, loaded in {:.1} s",
        dir.display(),
        sources_layer.len(),
        atlas.layers().len(),
        started.elapsed().as_secs_f64()
    );
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(1000);
    let origins: Vec<Point<f64>> = (0..QUERIES)
        .map(|_| {
            let f = &sources_layer.features()[rng.gen_range(0..sources_layer.len())];
            let Geometry::Point(p) = f.geometry else {
                panic!("a source is a point")
            };
            geo::Geodesic.destination(p, rng.gen_range(0.0..360.0), rng.gen_range(0.0..2_000.0))
        })
        .collect();
    let polygons: Vec<Geometry<f64>> = origins
        .iter()
        .map(|&o| Geometry::Polygon(polygon_100(o)))
        .collect();
    let points: Vec<Geometry<f64>> = origins.iter().map(|&o| Geometry::Point(o)).collect();

    let no_filter = FilterSpec::default();
    let defaults = select(&atlas, None, &no_filter, "layers").expect("layers");
    let sources_only = ["pollution_sources".to_string()];
    let sources = select(&atlas, Some(&sources_only), &no_filter, "layers").expect("layers");

    print_per_query(&sources, &origins, &points, &polygons);
    let quick = std::env::var("BENCH_QUICK").is_ok_and(|v| v == "1");
    if quick {
        if let Ok(url) = std::env::var("BENCH_DATABASE_URL") {
            postgis_per_query(&url, &origins, &polygons);
        }
        return;
    }

    let mut group = c.benchmark_group("ours");
    let pair = (origins[0], origins[1]);
    group.bench_function("one geodesic distance (Karney, geo's Geodesic)", |b| {
        b.iter(|| envatlas_server::analysis::geodesy::geodesic_distance_m(pair.0, pair.1))
    });
    group.measurement_time(Duration::from_secs(5));
    let mut o = Cycle::new(&origins);
    group.bench_function("nearest k=10, pollution_sources", |b| {
        b.iter(|| {
            let q = NearestQuery {
                origin: *o.next(),
                k: 10,
                max_distance_m: 100_000.0,
            };
            nearest::nearest(&sources, &q)
        })
    });
    group.bench_function("nearest k=10 per layer, default layers", |b| {
        b.iter(|| {
            let q = NearestQuery {
                origin: *o.next(),
                k: 10,
                max_distance_m: 100_000.0,
            };
            nearest::nearest(&defaults, &q)
        })
    });
    for (name, geometries) in [("point", &points), ("100-vertex polygon", &polygons)] {
        let mut g = Cycle::new(geometries);
        group.bench_function(
            format!("buffer 5 km around a {name}, pollution_sources"),
            |b| {
                b.iter(|| {
                    let q = BufferQuery {
                        geometry: g.next(),
                        distance_m: 5_000.0,
                        exclude: None,
                    };
                    buffer::within_distance(&sources, &q, usize::MAX).expect("buffer")
                })
            },
        );
        group.bench_function(
            format!("buffer 5 km around a {name}, full answer, default layers"),
            |b| {
                b.iter(|| {
                    let q = BufferQuery {
                        geometry: g.next(),
                        distance_m: 5_000.0,
                        exclude: None,
                    };
                    buffer::buffer(&atlas, &defaults, &q, usize::MAX).expect("buffer")
                })
            },
        );
    }
    group.finish();

    let Ok(url) = std::env::var("BENCH_DATABASE_URL") else {
        println!("BENCH_DATABASE_URL not set: PostGIS not compared");
        return;
    };
    let mut pg = Postgis::connect(&url);
    let wkts = polygon_wkts(&polygons);
    // Same answers on both sides (counts), as a sanity check of the setup.
    let mut found = [0usize; 4];
    for (i, &origin) in origins.iter().enumerate() {
        found[0] += pg.point_query(PG_POINT_5KM, origin);
        let q = BufferQuery {
            geometry: &points[i],
            distance_m: 5_000.0,
            exclude: None,
        };
        found[1] += buffer::within_distance(&sources, &q, usize::MAX)
            .expect("buffer")
            .len();
        found[2] += pg.text_query(PG_POLYGON_5KM, &wkts[i]);
        let q = BufferQuery {
            geometry: &polygons[i],
            ..q
        };
        found[3] += buffer::within_distance(&sources, &q, usize::MAX)
            .expect("buffer")
            .len();
    }
    println!(
        "features within 5 km over the {QUERIES} query points: point PostGIS {} ours {}; polygon PostGIS {} ours {}",
        found[0], found[1], found[2], found[3]
    );
    let point_args: Vec<Arg> = origins.iter().map(|&p| Arg::Point(p)).collect();
    let text_args: Vec<Arg> = wkts.iter().map(|t| Arg::Text(t.clone())).collect();
    for (name, sql, args) in [
        ("nearest k=10", PG_NEAREST, &point_args),
        ("buffer 5 km around a point", PG_POINT_5KM, &point_args),
        (
            "buffer 5 km around a 100-vertex polygon",
            PG_POLYGON_5KM,
            &text_args,
        ),
    ] {
        println!(
            "PostGIS {name}: median server-side execution {:.3} ms (EXPLAIN ANALYZE)",
            pg.execution_ms(sql, args)
        );
    }
    postgis_spread(&mut pg, &origins, &wkts);
    let mut group = c.benchmark_group("postgis");
    group.measurement_time(Duration::from_secs(5));
    let mut o = Cycle::new(&origins);
    group.bench_function("nearest k=10, pollution_sources", |b| {
        b.iter(|| pg.point_query(PG_NEAREST, *o.next()))
    });
    group.bench_function("buffer 5 km around a point, pollution_sources", |b| {
        b.iter(|| pg.point_query(PG_POINT_5KM, *o.next()))
    });
    let mut w = Cycle::new(&wkts);
    group.bench_function(
        "buffer 5 km around a 100-vertex polygon, pollution_sources",
        |b| b.iter(|| pg.text_query(PG_POLYGON_5KM, w.next())),
    );
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
