//! Our tiles read by decoders we did not write, checked against the OGC API
//! items the features come from:
//! - GDAL's MVT driver (`ogr2ogr` on a downloaded tile with `-oo X/Y/Z`, which
//!   also georeferences it: points land within a pixel of their lon/lat);
//! - the Python `mapbox-vector-tile` package, in the venv `scripts/test`
//!   creates (`target/pyvenv`, or `ENVATLAS_TEST_PYVENV`), via `tests/mvt/decode.py`.
//!
//! Each must find the same layers, feature ids (`fid`), property values (Chinese
//! text intact) and geometries (same type and vertices) as our strict decoder,
//! over z3 (thinned points, `point_count`), z10, z12, z14, protection zones
//! with holes, a multipolygon ecology area (added in process: the sample has
//! none, and our clipping keeps a clipped polygon in one ring) and rivers.
//!
//! Missing tools fail the tests (never skip) with a message saying to run `scripts/test`.

#[path = "../mvt/geometry.rs"]
mod geometry;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use envatlas_server::atlas::LayerChange;
use envatlas_server::model::Value;
use envatlas_tests::{get_bytes, get_json, TestServer};
use envatlas_tiles::decode::{decode_tile, DecodedGeometry, DecodedLayer, DecodedValue};
use envatlas_tiles::TileCoord;
use geo_types::{Geometry, LineString, MultiPolygon, Polygon};
use geometry::{lonlat_to_px, px_to_lonlat, Shape};
use serde_json::Value as Json;

const EXTENT: f64 = 4096.0;
const BUFFER: f64 = 64.0;

/// What a client read from a tile: per layer, fid → (properties, geometry).
type Reading = BTreeMap<String, BTreeMap<u64, (serde_json::Map<String, Json>, Shape)>>;

/// A tile fetched from the server, written to disk and decoded by us.
struct Case {
    label: String,
    tile: TileCoord,
    path: PathBuf,
    ours: Vec<DecodedLayer>,
}

fn yibin(z: u8) -> TileCoord {
    TileCoord::containing(104.62, 28.77, z).expect("tile")
}

fn fetch(base: &str, layers: &str, t: TileCoord) -> Option<Vec<u8>> {
    let url = format!("{base}/tiles/{layers}/{}/{}/{}", t.z(), t.x(), t.y());
    let (status, _, body) = get_bytes(&url, &[]).expect("tile request");
    match status {
        200 => Some(body),
        204 => None,
        other => panic!("{url}: status {other}"),
    }
}

fn case(base: &str, dir: &Path, label: &str, layers: &str, tile: TileCoord) -> Case {
    let bytes = fetch(base, layers, tile).unwrap_or_else(|| panic!("{label}: {tile} is empty"));
    let path = dir.join(format!("{label}.mvt"));
    std::fs::write(&path, &bytes).expect("write tile");
    let ours = decode_tile(&bytes).unwrap_or_else(|e| panic!("{label}: {e}"));
    Case {
        label: label.to_string(),
        tile,
        path,
        ours,
    }
}

/// The test server: the sample plus one ecology area that is a multipolygon
/// (two parts, one with a hole; the sample has none), added in process.
fn server() -> &'static TestServer {
    static SERVER: OnceLock<TestServer> = OnceLock::new();
    SERVER.get_or_init(|| {
        let s = TestServer::start().expect("server");
        let layer = s.state.atlas.layer("ecology_areas").expect("ecology areas");
        let next_fid = s
            .state
            .atlas
            .layers()
            .iter()
            .flat_map(|l| l.features().iter().map(|f| f.fid))
            .max()
            .expect("features")
            + 1;
        let mut f = layer.features()[0].clone();
        f.fid = next_fid;
        f.id = "eco-multipart-test".into();
        let (x, y) = MULTI_AT;
        let square = |x0: f64, y0: f64, d: f64| {
            LineString::from(vec![
                (x0, y0),
                (x0 + d, y0),
                (x0 + d, y0 + d),
                (x0, y0 + d),
                (x0, y0),
            ])
        };
        f.geometry = Geometry::MultiPolygon(MultiPolygon(vec![
            Polygon::new(square(x, y, 0.02), vec![square(x + 0.005, y + 0.005, 0.01)]),
            Polygon::new(square(x + 0.03, y, 0.01), vec![]),
        ]));
        if let Some(i) = layer.schema.position("name_zh") {
            f.properties[i] = Value::Text("示例多部分生态区".into());
        }
        s.state
            .apply_change(
                "ecology_areas",
                LayerChange {
                    upserts: vec![f],
                    deletes: vec![],
                },
            )
            .expect("added");
        s
    })
}

/// Where the multipart ecology area lies (lon, lat of its south-west corner).
const MULTI_AT: (f64, f64) = (104.70, 28.70);

/// The first tile (z11–z13) where a protection zone shows with a hole.
fn holed_zone_tile(base: &str) -> TileCoord {
    let zones = server()
        .state
        .atlas
        .layer("protection_zones")
        .expect("zones");
    for z in [11u8, 12, 13] {
        for f in zones.features() {
            let Geometry::Polygon(p) = &f.geometry else {
                continue;
            };
            let Some(c) = p.interiors().first().and_then(|r| r.0.first()) else {
                continue;
            };
            let t = TileCoord::containing(c.x, c.y, z).expect("tile");
            let Some(bytes) = fetch(base, "protection_zones", t) else {
                continue;
            };
            let layers = decode_tile(&bytes).expect("decode");
            let holed = layers.iter().flat_map(|l| &l.features).any(|f| matches!(&f.geometry, DecodedGeometry::Polygons(ps) if ps.iter().any(|p| p.len() > 1)));
            if holed {
                return t;
            }
        }
    }
    panic!("no tile shows a protection zone with a hole")
}

fn cases(dir: &Path) -> Vec<Case> {
    let s = server();
    let base = &s.base_url;
    let river = s.state.atlas.layer("rivers").expect("rivers");
    let line = match &river.features()[0].geometry {
        Geometry::LineString(l) => l.0[l.0.len() / 2],
        other => panic!("a river is a line, got {other:?}"),
    };
    let cases = vec![
        case(
            base,
            dir,
            "z3_thinned",
            "pollution_sources,monitoring_stations,admin_boundaries",
            yibin(3),
        ),
        case(
            base,
            dir,
            "z10",
            "pollution_sources,protection_zones,rivers",
            yibin(10),
        ),
        case(
            base,
            dir,
            "z12",
            "pollution_sources,rural_sites,ecology_areas",
            yibin(12),
        ),
        case(base, dir, "z14", "pollution_sources", yibin(14)),
        case(
            base,
            dir,
            "z14_river",
            "rivers",
            TileCoord::containing(line.x, line.y, 14).expect("tile"),
        ),
        case(
            base,
            dir,
            "zones_with_hole",
            "protection_zones,rivers",
            holed_zone_tile(base),
        ),
        case(
            base,
            dir,
            "multipolygon",
            "ecology_areas",
            TileCoord::containing(MULTI_AT.0 + 0.02, MULTI_AT.1 + 0.01, 12).expect("tile"),
        ),
    ];
    let kinds: BTreeSet<&str> = cases
        .iter()
        .flat_map(|c| &c.ours)
        .flat_map(|l| &l.features)
        .map(|f| kind(&f.geometry))
        .collect();
    assert_eq!(
        kinds.len(),
        3,
        "the cases cover points, lines and polygons: {kinds:?}"
    );
    let polygons = cases
        .iter()
        .flat_map(|c| &c.ours)
        .flat_map(|l| &l.features)
        .filter_map(|f| match &f.geometry {
            DecodedGeometry::Polygons(p) => Some(p),
            _ => None,
        });
    let (holes, multi) = polygons.fold((0, 0), |(h, m), p| {
        (
            h + p.iter().any(|r| r.len() > 1) as usize,
            m + (p.len() > 1) as usize,
        )
    });
    assert!(
        holes >= 2 && multi >= 1,
        "the cases hold polygons with holes ({holes}) and multipolygons ({multi})"
    );
    cases
}

fn kind(g: &DecodedGeometry) -> &'static str {
    match g {
        DecodedGeometry::Points(_) => "points",
        DecodedGeometry::Lines(_) => "lines",
        DecodedGeometry::Polygons(_) => "polygons",
    }
}

/// The OGC API items of a layer around a tile, by `fid`.
fn items_by_fid(layer: &str, t: TileCoord) -> HashMap<u64, Json> {
    let s = server();
    let (w, n) = px_to_lonlat(t, -BUFFER - 2.0, -BUFFER - 2.0);
    let (e, so) = px_to_lonlat(t, EXTENT + BUFFER + 2.0, EXTENT + BUFFER + 2.0);
    let url = s.url(&format!(
        "/api/collections/{layer}/items?bbox={w},{so},{e},{n}&limit=10000"
    ));
    let (status, body) = get_json(&url).expect("items");
    assert_eq!(status, 200, "{url}");
    let features = body["features"].as_array().expect("features");
    features
        .iter()
        .map(|f| (f["properties"]["fid"].as_u64().expect("fid"), f.clone()))
        .collect()
}

fn json_of(v: &DecodedValue) -> Json {
    match v {
        DecodedValue::Str(s) => Json::from(s.as_str()),
        DecodedValue::Float(f) => Json::from(f64::from(*f)),
        DecodedValue::Double(f) => Json::from(*f),
        DecodedValue::Int(i) | DecodedValue::SInt(i) => Json::from(*i),
        DecodedValue::UInt(u) => Json::from(*u),
        DecodedValue::Bool(b) => Json::from(*b),
    }
}

fn same_value(a: &Json, b: &Json) -> bool {
    match (a.as_f64(), b.as_f64()) {
        (Some(x), Some(y)) => (x - y).abs() <= 1e-9 * x.abs().max(1.0),
        _ => a == b,
    }
}

/// Every property a client decoded equals the item's (thinning's
/// `point_count` aside, which no item has); the item's `id` is in the tile
/// wherever it shows full attributes.
fn check_properties(
    label: &str,
    layer: &str,
    fid: u64,
    props: &serde_json::Map<String, Json>,
    items: &HashMap<u64, Json>,
) {
    let item = items
        .get(&fid)
        .unwrap_or_else(|| panic!("{label}/{layer}: fid {fid} is not an item of the layer"));
    let expected = &item["properties"];
    for (k, v) in props {
        if k == "point_count" || v.is_null() {
            continue;
        }
        assert!(
            same_value(v, &expected[k]),
            "{label}/{layer} fid {fid}: {k} = {v}, the item has {}",
            expected[k]
        );
    }
    if props.contains_key("id") {
        assert_eq!(props["id"], item["id"], "{label}/{layer} fid {fid}: id");
    }
}

/// Checks one client's reading of a case: same layers, same ids, properties as
/// the items, geometries equal to ours. `read` gives per layer: fid → (properties, shape).
fn check_client(client: &str, c: &Case, read: &Reading) -> usize {
    let label = format!("{client} {}", c.label);
    let our_layers: BTreeSet<&str> = c.ours.iter().map(|l| l.name.as_str()).collect();
    let their_layers: BTreeSet<&str> = read.keys().map(String::as_str).collect();
    assert_eq!(their_layers, our_layers, "{label}: layers");
    let mut chinese = 0;
    for layer in &c.ours {
        let theirs = &read[&layer.name];
        let items = items_by_fid(&layer.name, c.tile);
        let ours: BTreeMap<u64, Shape> = layer
            .features
            .iter()
            .map(|f| (f.id.expect("fid"), Shape::from_decoded(&f.geometry)))
            .collect();
        assert_eq!(
            theirs.keys().collect::<Vec<_>>(),
            ours.keys().collect::<Vec<_>>(),
            "{label}/{}: feature ids",
            layer.name
        );
        for (fid, (props, shape)) in theirs {
            check_properties(&label, &layer.name, *fid, props, &items);
            assert_eq!(
                shape, &ours[fid],
                "{label}/{} fid {fid}: geometry",
                layer.name
            );
            chinese += props
                .get("name_zh")
                .and_then(Json::as_str)
                .is_some_and(|s| s.chars().any(|ch| ('\u{4e00}'..='\u{9fff}').contains(&ch)))
                as usize;
        }
        println!(
            "{label}/{}: {} features, {} properties",
            layer.name,
            theirs.len(),
            theirs.values().map(|(p, _)| p.len()).sum::<usize>()
        );
        // Our own reading agrees with the items too, key for key.
        for f in &layer.features {
            let props = f
                .properties
                .iter()
                .map(|(k, v)| (k.clone(), json_of(v)))
                .collect();
            check_properties(
                &format!("ours {}", c.label),
                &layer.name,
                f.id.expect("fid"),
                &props,
                &items,
            );
        }
    }
    chinese
}

// --- GDAL -----------------------------------------------------------------------

fn run(program: &str, args: &[&str]) -> String {
    let out = Command::new(program)
        .args(args)
        .output()
        .unwrap_or_else(|e| {
            panic!("cannot run {program} ({e}): install gdal-bin (scripts/test does)")
        });
    let stdout = String::from_utf8(out.stdout).expect("UTF-8 output");
    assert!(
        out.status.success(),
        "{program} {args:?} failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

fn gdal_read(c: &Case) -> Reading {
    let t = c.tile;
    let (x, y, z) = (
        format!("X={}", t.x()),
        format!("Y={}", t.y()),
        format!("Z={}", t.z()),
    );
    let path = c.path.to_str().expect("path");
    let oo = ["-oo", &x, "-oo", &y, "-oo", &z, "-oo", "CLIP=NO"];
    let listing = run("ogrinfo", &[&["-ro", "-q", path][..], &oo].concat());
    // "1: pollution_sources (Point)"
    let names: Vec<String> = listing
        .lines()
        .filter_map(|l| l.split_once(": "))
        .map(|(_, rest)| rest.split(" (").next().unwrap_or(rest).trim().to_string())
        .collect();
    let mut out = BTreeMap::new();
    for name in names {
        let text = run(
            "ogr2ogr",
            &[
                &["-f", "GeoJSON", "/vsistdout/"][..],
                &oo,
                &[path, name.as_str()],
            ]
            .concat(),
        );
        let fc: Json = serde_json::from_str(&text).expect("GeoJSON from ogr2ogr");
        let mut features = BTreeMap::new();
        for f in fc["features"].as_array().expect("features") {
            let mut props = f["properties"].as_object().expect("properties").clone();
            let fid = props
                .remove("mvt_id")
                .and_then(|v| v.as_u64())
                .expect("GDAL shows the MVT id as mvt_id");
            let shape = Shape::from_geojson_mercator(&f["geometry"], t);
            assert!(
                features.insert(fid, (props, shape)).is_none(),
                "{}: duplicate id {fid}",
                c.label
            );
        }
        out.insert(name, features);
    }
    out
}

#[test]
fn gdal_reads_our_tiles() {
    let dir = tempfile::tempdir().expect("tempdir");
    let cases = cases(dir.path());
    let mut chinese = 0;
    for c in &cases {
        let read = gdal_read(c);
        chinese += check_client("GDAL", c, &read);
        // GDAL georeferences the tile: every point is within a pixel of its item.
        for (layer, features) in &read {
            let items = items_by_fid(layer, c.tile);
            for (fid, (_, shape)) in features {
                let Shape::Points(points) = shape else {
                    continue;
                };
                let [lon, lat] = items[fid]["geometry"]["coordinates"]
                    .as_array()
                    .map(|a| [a[0].as_f64().expect("lon"), a[1].as_f64().expect("lat")])
                    .expect("a point item");
                let (px, py) = lonlat_to_px(c.tile, lon, lat);
                let p = points[0];
                assert!(
                    (p[0] as f64 - px).abs() <= 1.0 && (p[1] as f64 - py).abs() <= 1.0,
                    "{} {layer} fid {fid}: at {p:?}, item at ({px:.1}, {py:.1})",
                    c.label
                );
            }
        }
    }
    assert!(chinese > 10, "Chinese names came through GDAL ({chinese})");
}

// --- Python mapbox-vector-tile ----------------------------------------------------

fn python() -> PathBuf {
    let venv = std::env::var_os("ENVATLAS_TEST_PYVENV")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/pyvenv"));
    let python = venv.join("bin/python");
    assert!(
        python.exists(),
        "no Python venv with mapbox-vector-tile at {}: run scripts/test, which creates it \
         (python3 -m venv target/pyvenv && target/pyvenv/bin/pip install -r tests/mvt/requirements.txt)",
        venv.display()
    );
    python
}

#[test]
fn python_mapbox_vector_tile_reads_our_tiles() {
    let dir = tempfile::tempdir().expect("tempdir");
    let cases = cases(dir.path());
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("mvt/decode.py");
    let mut args = vec![script.to_str().expect("path").to_string()];
    args.extend(
        cases
            .iter()
            .map(|c| c.path.to_str().expect("path").to_string()),
    );
    let python = python();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let decoded: Json = serde_json::from_str(&run(python.to_str().expect("path"), &args))
        .expect("JSON from decode.py");
    let mut chinese = 0;
    for c in &cases {
        let tile = decoded[c.path.to_str().expect("path")]
            .as_object()
            .expect("the tile's layers");
        let mut read = BTreeMap::new();
        for (name, layer) in tile {
            assert_eq!(
                (layer["extent"].as_u64(), layer["version"].as_u64()),
                (Some(4096), Some(2)),
                "{}/{name}",
                c.label
            );
            let mut features = BTreeMap::new();
            for f in layer["features"].as_array().expect("features") {
                let fid = f["id"].as_u64().expect("every feature has an id");
                let props = f["properties"].as_object().expect("properties").clone();
                let shape = Shape::from_geojson_pixels(
                    f["type"].as_str().expect("type"),
                    &f["coordinates"],
                );
                assert!(
                    features.insert(fid, (props, shape)).is_none(),
                    "{}: duplicate id {fid}",
                    c.label
                );
            }
            read.insert(name.clone(), features);
        }
        chinese += check_client("mapbox-vector-tile", c, &read);
    }
    assert!(
        chinese > 10,
        "Chinese names came through mapbox-vector-tile ({chinese})"
    );
}
