//! Our tiles against PostGIS's `ST_AsMVT`, the reference encoder.
//!
//! The sample is loaded into a fresh PostGIS database by GDAL's `ogr2ogr`
//! reading **our own OGC API** (`OAPIF:`), so `fid` and `id` come through as
//! columns. Then, for tiles over Yibin where neither thinning nor attribute
//! selection applies (points z12–14; polygons and lines z10–14), both tiles are
//! decoded (with our decoder: the PostGIS side is the reference) and compared:
//! - the same feature ids (`fid`) and the same property values;
//! - points: every coordinate within 1 px;
//! - lines: symmetric Hausdorff distance ≤ 2 px (1 px simplification + rounding),
//!   leaving out the last pixel before the buffered border: where a line leaves
//!   the tile at a shallow angle, half a pixel of rounding across the border
//!   moves the cut point along it by 0.5 px / sin(angle);
//! - polygons: the area covered by exactly one of the two ≤ 1.5 px × the mean
//!   perimeter + 4 px² (a boundary band: each encoder may move the boundary by up
//!   to 1 px of simplification plus half a pixel of snapping), and total areas
//!   within 2 % (or, for small polygons, within 1.5 px × the perimeter: a 10 px
//!   circle simplified with a 1 px tolerance loses some 10 % of its area).
//!
//! Edge ties: a feature that only one encoder keeps must lie within 2 px of
//! the buffered tile border (all its vertices), or be collapsed to at most 2 px
//! across; such features are counted, printed and limited to 2 % of the compared ones.
//!
//! `ENVATLAS_TEST_DATABASE_URL` (exported by `scripts/test`) names the PostGIS
//! server; the test clones `envatlas_template` and drops its database after.

#[path = "../mvt/geometry.rs"]
mod geometry;

use std::collections::{BTreeMap, BTreeSet};
use std::process::Command;

use envatlas_tests::postgis::TestDatabase;
use envatlas_tests::{get_bytes, get_json, shared_server};
use envatlas_tiles::decode::{decode_tile, DecodedGeometry, DecodedValue};
use envatlas_tiles::TileCoord;
use geo_types::Geometry;
use geometry::{area, hausdorff_off_border, perimeter, rings, symmetric_difference_area, Pt};
use sqlx::postgres::PgPoolOptions;
use sqlx::PgPool;

const LO: i64 = -64;
const HI: i64 = 4096 + 64;

/// A database of the shared helper ([`TestDatabase`]: cloned from the PostGIS
/// template, dropped with its guard) and a pool to query it.
struct TestDb {
    rt: tokio::runtime::Runtime,
    url: String,
    pool: PgPool,
    /// Dropped last: drops the database (`WITH (FORCE)`).
    _db: TestDatabase,
}

impl TestDb {
    fn create() -> TestDb {
        let db = TestDatabase::create()
            .unwrap_or_else(|e| panic!("no PostGIS test database ({e:#}): run scripts/test"));
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        let pool = rt
            .block_on(PgPoolOptions::new().max_connections(2).connect(&db.url))
            .expect("connect to the test database");
        TestDb {
            rt,
            url: db.url.clone(),
            pool,
            _db: db,
        }
    }
}

const POINT_LAYERS: &[&str] = &["pollution_sources"];
const AREA_LAYERS: &[&str] = &[
    "protection_zones",
    "ecology_areas",
    "admin_boundaries",
    "rivers",
];

/// Tiles to compare: for points, z12–14 tiles holding every 30th source; for
/// polygons and lines, z10–14 tiles on a boundary vertex and on the middle
/// vertex of every few features.
fn tiles_for(layer: &str) -> BTreeSet<TileCoord> {
    let s = shared_server();
    let features = s
        .state
        .atlas
        .layer(layer)
        .expect("layer")
        .features()
        .to_vec();
    let mut out = BTreeSet::new();
    let step = (features.len() / 15).max(1);
    for (i, f) in features
        .iter()
        .enumerate()
        .step_by(if POINT_LAYERS.contains(&layer) {
            30
        } else {
            step
        })
    {
        let vertices: Vec<geo_types::Coord<f64>> = match &f.geometry {
            Geometry::Point(p) => vec![p.0],
            Geometry::LineString(l) => l.0.clone(),
            Geometry::Polygon(p) => p.exterior().0.clone(),
            Geometry::MultiPolygon(mp) => {
                mp.0.iter().flat_map(|p| p.exterior().0.clone()).collect()
            }
            other => panic!("{layer}: unexpected {other:?}"),
        };
        let zooms: Vec<u8> = if POINT_LAYERS.contains(&layer) {
            vec![12, 13, 14]
        } else {
            vec![10 + (i % 5) as u8, 14 - (i % 5) as u8]
        };
        for (k, z) in zooms.into_iter().enumerate() {
            let c = vertices[(k * 7 + vertices.len() / 2) % vertices.len()];
            out.insert(TileCoord::containing(c.x, c.y, z).expect("tile"));
        }
    }
    out
}

/// libpq key/value parameters for a `postgres://` URL (GDAL's `PG:` form).
fn conninfo(url: &str) -> String {
    let url = reqwest::Url::parse(url).expect("database URL");
    let mut out = format!(
        "dbname={} host={} port={} user={}",
        url.path().trim_start_matches('/'),
        url.host_str().unwrap_or("127.0.0.1"),
        url.port().unwrap_or(5432),
        url.username()
    );
    if let Some(password) = url.password() {
        out.push_str(&format!(" password={password}"));
    }
    out
}

fn load_with_ogr2ogr(db: &TestDb) {
    let s = shared_server();
    let layers: Vec<&str> = POINT_LAYERS.iter().chain(AREA_LAYERS).copied().collect();
    let mut args = vec![
        "-f".to_string(),
        "PostgreSQL".into(),
        format!("PG:{}", conninfo(&db.url)),
        format!("OAPIF:{}/api", s.base_url),
    ];
    args.extend(layers.iter().map(|l| l.to_string()));
    args.extend(["-lco", "GEOMETRY_NAME=geom", "-oo", "PAGE_SIZE=1000"].map(String::from));
    let out = Command::new("ogr2ogr")
        .args(&args)
        .env("GDAL_HTTP_TIMEOUT", "60")
        .output()
        .unwrap_or_else(|e| {
            panic!("cannot run ogr2ogr ({e}): install gdal-bin (scripts/test does)")
        });
    assert!(
        out.status.success(),
        "ogr2ogr {args:?} failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for layer in layers {
        let columns: Vec<String> = db.rt.block_on(sqlx::query_scalar("SELECT column_name::text FROM information_schema.columns WHERE table_name = $1").bind(layer).fetch_all(&db.pool)).expect("columns");
        assert!(
            columns.iter().any(|c| c == "fid") && columns.iter().any(|c| c == "id"),
            "{layer}: fid and id came through GDAL: {columns:?}"
        );
        let rows: i64 = db
            .rt
            .block_on(
                sqlx::query_scalar(&format!("SELECT count(*) FROM {layer}")).fetch_one(&db.pool),
            )
            .expect("count");
        let (_, items) =
            get_json(&s.url(&format!("/api/collections/{layer}/items?limit=0"))).expect("count");
        assert_eq!(
            Some(rows as u64),
            items["numberMatched"].as_u64(),
            "{layer}: every feature reached PostGIS"
        );
    }
}

/// PostGIS's tile of one layer, with every column but GDAL's key as properties.
fn postgis_tile(db: &TestDb, layer: &str, t: TileCoord) -> Vec<u8> {
    let columns: Vec<String> = db.rt.block_on(sqlx::query_scalar("SELECT column_name::text FROM information_schema.columns WHERE table_name = $1 AND column_name NOT IN ('ogc_fid', 'geom') ORDER BY ordinal_position").bind(layer).fetch_all(&db.pool)).expect("columns");
    let (z, x, y) = (t.z(), t.x(), t.y());
    let sql = format!(
        "SELECT ST_AsMVT(q, '{layer}', 4096, 'geom', 'fid') FROM (
           SELECT {cols}, ST_AsMVTGeom(ST_Transform(geom, 3857), ST_TileEnvelope({z}, {x}, {y}), 4096, 64, true) AS geom
           FROM {layer} WHERE geom && ST_Transform(ST_TileEnvelope({z}, {x}, {y}, margin => 64.0 / 4096), 4326)) q",
        cols = columns.join(", ")
    );
    let tile: Option<Vec<u8>> = db
        .rt
        .block_on(sqlx::query_scalar(&sql).fetch_one(&db.pool))
        .expect("ST_AsMVT");
    tile.unwrap_or_default()
}

fn value_text(v: &DecodedValue) -> String {
    match v {
        DecodedValue::Str(s) => s.clone(),
        DecodedValue::Float(f) => format!("{:.6}", f64::from(*f)),
        DecodedValue::Double(f) => format!("{f:.6}"),
        DecodedValue::Int(i) | DecodedValue::SInt(i) => i.to_string(),
        DecodedValue::UInt(u) => u.to_string(),
        DecodedValue::Bool(b) => b.to_string(),
    }
}

fn vertices(g: &DecodedGeometry) -> Vec<Pt> {
    match g {
        DecodedGeometry::Points(p) => p.clone(),
        DecodedGeometry::Lines(l) => l.concat(),
        DecodedGeometry::Polygons(p) => rings(p).concat(),
    }
}

/// The edge-tie rule: every vertex within 2 px of the buffered border, or the
/// whole geometry at most 2 px across.
fn is_edge_tie(g: &DecodedGeometry) -> bool {
    let v = vertices(g);
    let near = |c: i64| c <= LO + 2 || c >= HI - 2;
    let span = |i: usize| {
        v.iter().map(|p| p[i]).max().unwrap_or(0) - v.iter().map(|p| p[i]).min().unwrap_or(0)
    };
    v.iter().all(|p| near(p[0]) || near(p[1])) || span(0) <= 2 || span(1) <= 2
}

#[derive(Default)]
struct Tally {
    tiles: usize,
    features: usize,
    ties: usize,
    worst_point_px: i64,
    worst_line_px: f64,
    worst_band_px: f64,
    worst_area_ratio: f64,
}

/// Compares one layer's tile, ours against PostGIS's.
fn compare(layer: &str, t: TileCoord, ours: &[u8], reference: &[u8], tally: &mut Tally) {
    let label = format!("{layer} {t}");
    let by_id = |bytes: &[u8]| -> BTreeMap<u64, (BTreeMap<String, String>, DecodedGeometry)> {
        let layers = decode_tile(bytes).unwrap_or_else(|e| panic!("{label}: {e}"));
        layers
            .into_iter()
            .flat_map(|l| l.features)
            .map(|f| {
                (
                    f.id.expect("fid"),
                    (
                        f.properties
                            .iter()
                            .map(|(k, v)| (k.clone(), value_text(v)))
                            .collect(),
                        f.geometry,
                    ),
                )
            })
            .collect()
    };
    let (ours, theirs) = (by_id(ours), by_id(reference));
    tally.tiles += 1;
    for (fid, (_, g)) in ours
        .iter()
        .filter(|(k, _)| !theirs.contains_key(k))
        .chain(theirs.iter().filter(|(k, _)| !ours.contains_key(k)))
    {
        assert!(
            is_edge_tie(g),
            "{label}: fid {fid} is in one tile only, and not at the border: {g:?}"
        );
        tally.ties += 1;
    }
    for (fid, (props, g)) in &ours {
        let Some((ref_props, r)) = theirs.get(fid) else {
            continue;
        };
        tally.features += 1;
        assert_eq!(props, ref_props, "{label} fid {fid}: properties");
        match (g, r) {
            (DecodedGeometry::Points(a), DecodedGeometry::Points(b)) => {
                let (mut a, mut b) = (a.clone(), b.clone());
                a.sort();
                b.sort();
                assert_eq!(a.len(), b.len(), "{label} fid {fid}: points");
                for (p, q) in a.iter().zip(&b) {
                    let d = (p[0] - q[0]).abs().max((p[1] - q[1]).abs());
                    assert!(d <= 1, "{label} fid {fid}: {p:?} vs {q:?}");
                    tally.worst_point_px = tally.worst_point_px.max(d);
                }
            }
            (DecodedGeometry::Lines(a), DecodedGeometry::Lines(b)) => {
                let d = hausdorff_off_border(a, b, LO as f64, HI as f64, 1.0);
                assert!(d <= 2.0, "{label} fid {fid}: Hausdorff distance {d:.2} px");
                tally.worst_line_px = tally.worst_line_px.max(d);
            }
            (DecodedGeometry::Polygons(a), DecodedGeometry::Polygons(b)) => {
                let (a, b) = (rings(a), rings(b));
                let band =
                    symmetric_difference_area(&a, &b) / ((perimeter(&a) + perimeter(&b)) / 2.0);
                let (area_a, area_b) = (area(&a), area(&b));
                let ratio = (area_a - area_b).abs() / area_b.max(1.0);
                assert!(
                    band <= 1.5 + 4.0 / perimeter(&b).max(1.0),
                    "{label} fid {fid}: boundaries differ by {band:.2} px on average"
                );
                assert!(
                    ratio <= 0.02 || (area_a - area_b).abs() <= 1.5 * perimeter(&b),
                    "{label} fid {fid}: areas {area_a} vs {area_b}"
                );
                tally.worst_band_px = tally.worst_band_px.max(band);
                tally.worst_area_ratio = tally.worst_area_ratio.max(ratio);
            }
            _ => panic!("{label} fid {fid}: geometry types differ: {g:?} vs {r:?}"),
        }
    }
}

#[test]
fn tiles_match_postgis_st_asmvt() {
    let s = shared_server();
    let db = TestDb::create();
    load_with_ogr2ogr(&db);
    for layer in POINT_LAYERS.iter().chain(AREA_LAYERS) {
        let tiles = tiles_for(layer);
        let min_zoom = if POINT_LAYERS.contains(layer) { 12 } else { 10 };
        assert!(
            tiles.len() >= 20 && tiles.iter().all(|t| (min_zoom..=14).contains(&t.z())),
            "{layer}: {} tiles",
            tiles.len()
        );
        let mut tally = Tally::default();
        for t in tiles {
            let url = s.url(&format!("/tiles/{layer}/{}/{}/{}", t.z(), t.x(), t.y()));
            let (status, _, ours) = get_bytes(&url, &[]).expect("tile");
            assert!(status == 200 || status == 204, "{url}: {status}");
            compare(layer, t, &ours, &postgis_tile(&db, layer, t), &mut tally);
        }
        println!(
            "{layer}: {} tiles, {} features compared, {} edge ties; worst: point {} px, line {:.2} px, boundary band {:.2} px, area {:.2} %",
            tally.tiles,
            tally.features,
            tally.ties,
            tally.worst_point_px,
            tally.worst_line_px,
            tally.worst_band_px,
            tally.worst_area_ratio * 100.0
        );
        assert!(
            tally.features >= 20,
            "{layer}: too few features compared ({})",
            tally.features
        );
        assert!(
            tally.ties * 50 <= tally.features,
            "{layer}: {} edge ties for {} features",
            tally.ties,
            tally.features
        );
    }
}
