//! Uncached tile generation, ours against PostGIS `ST_AsMVT`, in one run.
//!
//! Run by `scripts/bench tiles` (release build; see docs/benchmarks.md), which
//! generates the scale-1000 sample, seeds the embedded store and loads the same
//! GeoJSON into a GiST-indexed PostGIS database. Environment:
//! - `BENCH_DATA_DIR`: the data directory (its `envatlas.db` already seeded);
//! - `BENCH_DATABASE_URL`: the PostGIS database holding the same layers
//!   (`fid` serial key, `geom` in EPSG:4326, GiST index);
//! - `BENCH_REPS` (default 5): timed renders per tile and encoder;
//! - `BENCH_TILES_CSV` (optional): a file for the per-tile times.
//!
//! For every tile of a fixed list (z3–z14: a 3×3 block around Yibin and the
//! densest tiles of each zoom), each layer is rendered by
//! `Tileset::render` (in process, no cache) and by the PostGIS query below over
//! one loopback connection, alternately; each tile's time is the median of its
//! reps. PostGIS selects the same properties as our tile at that zoom (the
//! low-zoom ones below z12 for points, z10 for polygons) but does no point thinning, so at z < 12 it encodes
//! every point while we encode one per grid cell: the z12–14 rows compare equal work.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::time::{Duration, Instant};

use envatlas_server::app;
use envatlas_server::config::Config;
use envatlas_server::tileset::{rules_for, Tileset};
use envatlas_tiles::decode::{decode_tile, DecodedValue};
use envatlas_tiles::LayerTileRules;
use envatlas_tiles::{TileCoord, TileEncoding, TileRange};
use geo_types::{Geometry, Rect};
use sqlx::{Connection, PgConnection};

const LAYERS: [&str; 2] = ["pollution_sources", "protection_zones"];
const YIBIN: (f64, f64) = (104.62, 28.77);

fn env(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| panic!("{name} is not set: run scripts/bench tiles"))
}

/// A representative point of a geometry (its first vertex).
fn anchor(g: &Geometry<f64>) -> Option<(f64, f64)> {
    match g {
        Geometry::Point(p) => Some((p.x(), p.y())),
        Geometry::Polygon(p) => p.exterior().0.first().map(|c| (c.x, c.y)),
        Geometry::MultiPolygon(mp) => {
            mp.0.first()
                .and_then(|p| p.exterior().0.first())
                .map(|c| (c.x, c.y))
        }
        Geometry::LineString(l) => l.0.first().map(|c| (c.x, c.y)),
        _ => None,
    }
}

/// The fixed tile list: per zoom 3..=14, the 3×3 block around Yibin's centre,
/// then the densest tiles of the source layer until the zoom has 20 (z3 has fewer).
fn tile_list(sources: &[(f64, f64)]) -> Vec<TileCoord> {
    let mut out = Vec::new();
    for z in 3u8..=14 {
        let mut tiles = BTreeSet::new();
        let centre = TileCoord::containing(YIBIN.0, YIBIN.1, z).expect("tile");
        for dy in -1i64..=1 {
            for dx in -1i64..=1 {
                let (x, y) = (i64::from(centre.x()) + dx, i64::from(centre.y()) + dy);
                if let (Ok(x), Ok(y)) = (u32::try_from(x), u32::try_from(y)) {
                    if let Ok(t) = TileCoord::new(z, x, y) {
                        tiles.insert(t);
                    }
                }
            }
        }
        let mut counts: HashMap<TileCoord, usize> = HashMap::new();
        for &(lon, lat) in sources {
            *counts
                .entry(TileCoord::containing(lon, lat, z).expect("tile"))
                .or_default() += 1;
        }
        let mut dense: Vec<(usize, TileCoord)> = counts.into_iter().map(|(t, n)| (n, t)).collect();
        dense.sort_by(|a, b| b.cmp(a));
        for (_, t) in dense {
            if tiles.len() >= 20 {
                break;
            }
            tiles.insert(t);
        }
        out.extend(tiles);
    }
    out
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn percentile(v: &[f64], p: f64) -> f64 {
    let mut v = v.to_vec();
    v.sort_by(f64::total_cmp);
    v[((v.len() as f64 - 1.0) * p).round() as usize]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// One tile of one layer: per-tile median times, sizes and feature counts.
#[derive(Debug, Clone, Copy)]
struct Row {
    tile: TileCoord,
    z: u8,
    ours_ms: f64,
    pg_ms: f64,
    ours_bytes: usize,
    pg_bytes: usize,
    ours_features: usize,
    pg_features: usize,
}

fn features(bytes: &[u8]) -> usize {
    decode_tile(bytes)
        .expect("valid MVT")
        .iter()
        .map(|l| l.features.len())
        .sum()
}

async fn columns(conn: &mut PgConnection, layer: &str) -> Vec<String> {
    sqlx::query_scalar(
        "SELECT column_name::text FROM information_schema.columns
         WHERE table_name = $1 AND column_name NOT IN ('fid', 'geom') ORDER BY ordinal_position",
    )
    .bind(layer)
    .fetch_all(conn)
    .await
    .expect("columns")
}

/// The PostGIS query for one layer's tile, selecting the properties our tile
/// carries at that zoom (all, or the layer's low-zoom ones).
fn postgis_sql(layer: &str, rules: &LayerTileRules, all: &[String], t: TileCoord) -> String {
    let cols: Vec<&str> = match rules.property_filter(t.z()) {
        None => all.iter().map(String::as_str).collect(),
        Some(kept) => all
            .iter()
            .filter(|a| kept.contains(a))
            .map(String::as_str)
            .collect(),
    };
    let (z, x, y) = (t.z(), t.x(), t.y());
    format!(
        "SELECT ST_AsMVT(q, '{layer}', 4096, 'geom', 'fid') FROM (
           SELECT fid, {cols}ST_AsMVTGeom(ST_Transform(geom, 3857), ST_TileEnvelope({z}, {x}, {y}), 4096, 64, true) AS geom
           FROM {layer} WHERE geom && ST_Transform(ST_TileEnvelope({z}, {x}, {y}, margin => 64.0 / 4096), 4326)) q",
        cols = cols.iter().map(|c| format!("{c}, ")).collect::<String>()
    )
}

fn summary(label: &str, rows: &[Row]) {
    if rows.is_empty() {
        return;
    }
    let ours: Vec<f64> = rows.iter().map(|r| r.ours_ms).collect();
    let pg: Vec<f64> = rows.iter().map(|r| r.pg_ms).collect();
    let (om, pm) = (percentile(&ours, 0.5), percentile(&pg, 0.5));
    let (ot, pt): (f64, f64) = (ours.iter().sum(), pg.iter().sum());
    println!(
        "| {label} | {} | {om:.3} | {:.3} | {pm:.3} | {:.3} | {:.1}× | {:.1}× | {} / {} | {} / {} |",
        rows.len(),
        percentile(&ours, 0.99),
        percentile(&pg, 0.99),
        pm / om,
        pt / ot,
        rows.iter().map(|r| r.ours_features).sum::<usize>(),
        rows.iter().map(|r| r.pg_features).sum::<usize>(),
        rows.iter().map(|r| r.ours_bytes).sum::<usize>() / 1024,
        rows.iter().map(|r| r.pg_bytes).sum::<usize>() / 1024,
    );
}

/// The z4 tiles over 100–120°E, 20–40°N: sizes, features and the sources they stand for.
fn z4_report(state: &app::AppState, tileset: &Tileset) {
    println!("\n### z4 tiles over 100–120°E, 20–40°N\n");
    println!("| tile | layers | bytes | gzip bytes | features | sources in tile (buffered) | point_count sum | bytes per layer |");
    println!("|---|---|---|---|---|---|---|---|");
    let range = TileRange::covering(Rect::new((100.0, 20.0), (120.0, 40.0)), 4).expect("range");
    let sources = state.atlas.layer("pollution_sources").expect("sources");
    let all: Vec<_> = state.atlas.layers();
    for t in range.iter() {
        let q = t.query_bounds(64, 4096);
        let inside = sources
            .features()
            .iter()
            .filter_map(|f| anchor(&f.geometry))
            .filter(|&(x, y)| q.min().x <= x && x <= q.max().x && q.min().y <= y && y <= q.max().y)
            .count();
        for (label, layers) in [
            ("pollution_sources", vec![sources.clone()]),
            ("all layers", all.clone()),
        ] {
            let bytes = tileset.render(&layers, t).expect("render");
            let decoded = decode_tile(&bytes).expect("valid MVT");
            let count: u64 = decoded
                .iter()
                .filter(|l| l.name == "pollution_sources")
                .flat_map(|l| &l.features)
                .flat_map(|f| &f.properties)
                .filter(|(k, _)| k == "point_count")
                .map(|(_, v)| match v {
                    DecodedValue::UInt(n) => *n,
                    DecodedValue::Int(n) | DecodedValue::SInt(n) => u64::try_from(*n).unwrap_or(0),
                    _ => 0,
                })
                .sum();
            let gz = envatlas_tiles::gzip(&bytes).expect("gzip").len();
            let n: usize = decoded.iter().map(|l| l.features.len()).sum();
            let per_layer: Vec<String> = if layers.len() > 1 {
                layers
                    .iter()
                    .map(|l| {
                        (
                            l.id(),
                            tileset
                                .render(std::slice::from_ref(l), t)
                                .expect("render")
                                .len(),
                        )
                    })
                    .filter(|(_, n)| *n > 0)
                    .map(|(id, n)| format!("{id} {n}"))
                    .collect()
            } else {
                Vec::new()
            };
            println!(
                "| {t} | {label} | {} | {gz} | {n} | {inside} | {count} | {} |",
                bytes.len(),
                per_layer.join(", ")
            );
        }
    }
}

fn main() {
    let data_dir = std::path::PathBuf::from(env("BENCH_DATA_DIR"));
    let database_url = env("BENCH_DATABASE_URL");
    let reps: usize = std::env::var("BENCH_REPS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(5)
        .max(1);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");

    let started = Instant::now();
    let state = rt
        .block_on(app::start(Config {
            data_dir,
            ..Config::default()
        }))
        .expect("start the atlas");
    let total: usize = state.atlas.layers().iter().map(|l| l.len()).sum();
    println!(
        "atlas loaded from the embedded store in {:.1} s: {total} features",
        started.elapsed().as_secs_f64()
    );
    let sources: Vec<(f64, f64)> = state
        .atlas
        .layer("pollution_sources")
        .expect("sources")
        .features()
        .iter()
        .filter_map(|f| anchor(&f.geometry))
        .collect();
    let tiles = tile_list(&sources);
    println!(
        "{} tiles from z3 to z14, {reps} timed renders each per encoder and layer",
        tiles.len()
    );
    let tileset = Tileset::new(0);
    prepared_report(&state, &tileset, &tiles);

    let mut conn = rt
        .block_on(PgConnection::connect(&database_url))
        .expect("connect to PostGIS");
    let workers: String = rt
        .block_on(sqlx::query_scalar("SHOW max_parallel_workers_per_gather").fetch_one(&mut conn))
        .expect("setting");
    let version: String = rt
        .block_on(sqlx::query_scalar("SELECT postgis_lib_version()").fetch_one(&mut conn))
        .expect("version");
    println!("PostGIS {version}, max_parallel_workers_per_gather = {workers}");

    let mut results: BTreeMap<&str, Vec<Row>> = BTreeMap::new();
    for layer in LAYERS {
        let target = state.atlas.layer(layer).expect("layer");
        let all = rt.block_on(columns(&mut conn, layer));
        let rules = rules_for(&target.schema);
        let mut rows = Vec::new();
        // Only where the layer shows: below its minimum zoom we query nothing.
        for &t in tiles.iter().filter(|t| rules.visible_at(t.z())) {
            let sql = postgis_sql(layer, &rules, &all, t);
            let layers = [target.clone()];
            let ours_bytes = tileset.render(&layers, t).expect("render");
            let pg_bytes: Vec<u8> = rt
                .block_on(sqlx::query_scalar::<_, Option<Vec<u8>>>(&sql).fetch_one(&mut conn))
                .expect("ST_AsMVT")
                .unwrap_or_default();
            let (mut ours, mut pg) = (Vec::new(), Vec::new());
            for _ in 0..reps {
                let t0 = Instant::now();
                let bytes = tileset.render(&layers, t).expect("render");
                ours.push(ms(t0.elapsed()));
                std::hint::black_box(bytes);
                let t0 = Instant::now();
                let bytes: Option<Vec<u8>> = rt
                    .block_on(sqlx::query_scalar(&sql).fetch_one(&mut conn))
                    .expect("ST_AsMVT");
                pg.push(ms(t0.elapsed()));
                std::hint::black_box(bytes);
            }
            rows.push(Row {
                tile: t,
                z: t.z(),
                ours_ms: median(&mut ours),
                pg_ms: median(&mut pg),
                ours_features: features(&ours_bytes),
                pg_features: features(&pg_bytes),
                ours_bytes: ours_bytes.len(),
                pg_bytes: pg_bytes.len(),
            });
        }
        results.insert(layer, rows);
    }

    if let Ok(path) = std::env::var("BENCH_TILES_CSV") {
        let mut csv =
            String::from("layer,tile,ours_ms,postgis_ms,ours_features,postgis_features\n");
        for (layer, rows) in &results {
            for r in rows {
                csv.push_str(&format!(
                    "{layer},{},{:.4},{:.4},{},{}\n",
                    r.tile, r.ours_ms, r.pg_ms, r.ours_features, r.pg_features
                ));
            }
        }
        std::fs::write(&path, csv).expect("write BENCH_TILES_CSV");
    }
    println!("\n### Uncached tile generation (per-tile medians of {reps} renders; ms)\n");
    println!("| layer, zooms | tiles | ours median | ours p99 | PostGIS median | PostGIS p99 | ratio of medians | ratio of totals | features ours / PostGIS | KiB ours / PostGIS |");
    println!("|---|---|---|---|---|---|---|---|---|---|");
    for (layer, rows) in &results {
        let (lo, hi) = (
            rows.iter().map(|r| r.z).min().unwrap_or(3),
            rows.iter().map(|r| r.z).max().unwrap_or(14),
        );
        summary(&format!("{layer}, z{lo}–{hi}"), rows);
        let nonempty: Vec<Row> = rows
            .iter()
            .filter(|r| r.ours_features + r.pg_features > 0)
            .copied()
            .collect();
        summary(&format!("{layer}, z{lo}–{hi}, non-empty tiles"), &nonempty);
        for (lo, hi) in [(3u8, 5u8), (6, 9), (10, 11), (12, 14)] {
            let band: Vec<Row> = rows
                .iter()
                .filter(|r| (lo..=hi).contains(&r.z))
                .copied()
                .collect();
            let lo = band.iter().map(|r| r.z).min().unwrap_or(lo);
            let hi = band.iter().map(|r| r.z).max().unwrap_or(hi);
            summary(&format!("{layer}, z{lo}–{hi}"), &band);
        }
    }
    z4_report(&state, &tileset);
    render_breakdown(&state, &tileset, &sources);
    cached_path_report(&state);
}

/// Where uncached time goes on dense point tiles: the R-tree query alone
/// against the whole render (query, projection, thinning, encoding).
fn render_breakdown(state: &app::AppState, tileset: &Tileset, sources: &[(f64, f64)]) {
    println!("\n### Uncached pollution_sources: R-tree query against the whole render (densest tile per zoom; medians of 5, ms)\n");
    println!("| tile | R-tree hits | R-tree query | render | features out |");
    println!("|---|---|---|---|---|");
    let layer = state.atlas.layer("pollution_sources").expect("sources");
    for z in [4u8, 6, 8, 10, 12] {
        let mut counts: HashMap<TileCoord, usize> = HashMap::new();
        for &(lon, lat) in sources {
            *counts
                .entry(TileCoord::containing(lon, lat, z).expect("tile"))
                .or_default() += 1;
        }
        let Some((t, _)) = counts.into_iter().max_by_key(|(t, n)| (*n, *t)) else {
            continue;
        };
        let q = t.query_bounds(64, 4096);
        let envelope = rstar::AABB::from_corners([q.min().x, q.min().y], [q.max().x, q.max().y]);
        let (mut query, mut render, mut hits) = (Vec::new(), Vec::new(), 0);
        for _ in 0..5 {
            let t0 = Instant::now();
            hits = layer
                .rtree()
                .locate_in_envelope_intersecting(&envelope)
                .count();
            query.push(ms(t0.elapsed()));
            let t0 = Instant::now();
            std::hint::black_box(
                tileset
                    .render(std::slice::from_ref(&layer), t)
                    .expect("render"),
            );
            render.push(ms(t0.elapsed()));
        }
        let out = features(
            &tileset
                .render(std::slice::from_ref(&layer), t)
                .expect("render"),
        );
        println!(
            "| {t} | {hits} | {:.2} | {:.2} | {out} |",
            median(&mut query),
            median(&mut render)
        );
    }
}

/// The tile handler's own work on a cache hit, in process: resolving the
/// request (layers, versions, cache key), the ETag, and the cache lookup.
fn cached_path_report(state: &app::AppState) {
    let tileset = Tileset::new(64 << 20);
    let t = TileCoord::containing(YIBIN.0, YIBIN.1, 10).expect("tile");
    let ids = ["pollution_sources"];
    let request = tileset
        .request(&state.atlas, &ids, t, TileEncoding::Raw)
        .expect("request");
    tileset.tile(&request).expect("tile");
    const N: u32 = 200_000;
    let time = |f: &dyn Fn()| {
        let t0 = Instant::now();
        for _ in 0..N {
            f();
        }
        t0.elapsed().as_secs_f64() * 1e6 / f64::from(N)
    };
    let resolve = time(&|| {
        std::hint::black_box(
            tileset
                .request(&state.atlas, &ids, t, TileEncoding::Raw)
                .expect("request"),
        );
    });
    let etag = time(&|| {
        std::hint::black_box(request.etag());
    });
    let lookup = time(&|| {
        std::hint::black_box(tileset.cached(&request));
    });
    println!("\n### Cache-hit path in process (µs per call, one thread)\n");
    println!("resolve the request {resolve:.2} µs, ETag {etag:.2} µs, cache lookup {lookup:.2} µs");
}

/// The one-time work behind the pre-thinned point grids: the first render at
/// each zoom builds that zoom's grid (timed here), and what they hold in memory;
/// then every tile of the list rendered both ways (grid and R-tree path) must
/// be byte-identical.
fn prepared_report(state: &app::AppState, tileset: &Tileset, tiles: &[TileCoord]) {
    println!("\n### Pre-thinned point grids (built on first use per layer version and zoom)\n");
    println!("| zoom | first render, incl. grid build (ms) | next render (ms) | prepared heap (MB, cumulative) |");
    println!("|---|---|---|---|");
    let layer = state.atlas.layer("pollution_sources").expect("sources");
    let layers = [layer];
    for z in 0u8..12 {
        let t = TileCoord::containing(YIBIN.0, YIBIN.1, z).expect("tile");
        let t0 = Instant::now();
        tileset.render(&layers, t).expect("render");
        let first = ms(t0.elapsed());
        let t0 = Instant::now();
        tileset.render(&layers, t).expect("render");
        let next = ms(t0.elapsed());
        println!(
            "| {z} | {first:.1} | {next:.2} | {:.1} |",
            tileset.prepared_bytes() as f64 / 1_048_576.0
        );
    }
    let all: Vec<_> = LAYERS
        .iter()
        .map(|id| state.atlas.layer(id).expect("layer"))
        .collect();
    let mut same = 0;
    for &t in tiles {
        for l in &all {
            let one = std::slice::from_ref(l);
            let a = tileset.render(one, t).expect("render");
            let b = tileset.render_from_rtree(one, t).expect("render");
            assert!(a == b, "{} {t}: grid and R-tree tiles differ", l.id());
            same += 1;
        }
    }
    println!("\n{same} tiles (both layers, the whole list) byte-identical from the grid and from the R-tree path.");
}
