//! `envatlas import` against files written by an independent tool: GDAL's
//! `ogr2ogr` turns the sample layers into a GBK Shapefile, a GeoPackage and a
//! GBK CSV at test time; each is imported into a fresh store (embedded and
//! PostGIS) and compared with the source feature by feature. Also: GCJ-02,
//! row problems with their lines, all-or-nothing, `--skip-invalid`, upserts,
//! `--create`, foreign CRSs, and a running server seeing an import.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use envatlas_server::import::{self, gcj02, Crs, ImportOptions, ImportReport, Progress};
use envatlas_server::model::catalog::builtin_schema;
use envatlas_server::model::geojson::feature_from_json;
use envatlas_server::model::{LayerSchema, NewFeature, Value};
use envatlas_server::store::postgis::PostgisStore;
use envatlas_server::store::sqlite::SqliteStore;
use envatlas_server::store::Store;
use envatlas_tests::{get_json, sample_dir, TestDatabase, TestServer};
use geo::CoordsIter;

/// A fresh store, and what keeps it alive.
struct Fresh {
    store: Box<dyn Store>,
    _dir: tempfile::TempDir,
    _db: Option<TestDatabase>,
}

async fn embedded() -> Fresh {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = SqliteStore::open(&dir.path().join("envatlas.db"))
        .await
        .expect("open embedded store");
    Fresh {
        store: Box::new(store),
        _dir: dir,
        _db: None,
    }
}

async fn postgis() -> Fresh {
    let db = TestDatabase::create().expect("test database");
    let store = PostgisStore::open(&db.url)
        .await
        .expect("open PostGIS store");
    Fresh {
        store: Box::new(store),
        _dir: tempfile::tempdir().expect("tempdir"),
        _db: Some(db),
    }
}

fn ogr2ogr(args: &[&str]) {
    let output = Command::new("ogr2ogr")
        .args(args)
        .output()
        .expect("ogr2ogr (GDAL, package gdal-bin) must be installed");
    assert!(
        output.status.success(),
        "ogr2ogr {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
}

fn layer_file(layer: &str) -> PathBuf {
    sample_dir().join("layers").join(format!("{layer}.geojson"))
}

/// The sample layer's features, by id.
fn source(layer: &str) -> BTreeMap<String, NewFeature> {
    let schema = builtin_schema(layer).expect("built-in layer");
    let text = std::fs::read_to_string(layer_file(layer)).expect("sample layer");
    let doc: serde_json::Value = serde_json::from_str(&text).expect("json");
    doc["features"]
        .as_array()
        .expect("features")
        .iter()
        .map(|f| {
            let f = feature_from_json(f, &schema).expect("sample feature");
            (f.id.clone(), f)
        })
        .collect()
}

async fn stored(
    store: &dyn Store,
    layer: &str,
) -> BTreeMap<String, (Vec<Value>, geo_types::Geometry<f64>)> {
    let schema = store
        .schemas()
        .await
        .expect("schemas")
        .into_iter()
        .find(|s| s.id == layer)
        .expect("layer registered");
    store
        .load_features(&schema)
        .await
        .expect("load")
        .into_iter()
        .map(|f| (f.id.to_string(), (f.properties, f.geometry)))
        .collect()
}

/// Coordinates as a sorted multiset: ring orientation, start vertex and
/// single/multi wrapping differ between formats, the positions must not.
fn positions(g: &geo_types::Geometry<f64>) -> Vec<(i64, i64)> {
    let mut v: Vec<(i64, i64)> = g
        .coords_iter()
        .map(|c| ((c.x * 1e7).round() as i64, (c.y * 1e7).round() as i64))
        .collect();
    v.sort_unstable();
    v
}

fn same_value(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Float(x), Value::Float(y)) => (x - y).abs() <= 1e-6 * x.abs().max(1.0),
        (Value::Text(t), Value::Null) | (Value::Null, Value::Text(t)) => t.is_empty(),
        _ => a == b,
    }
}

/// Every source feature is stored once with equal properties and positions.
async fn assert_matches_source(store: &dyn Store, layer: &str) {
    let schema: LayerSchema = builtin_schema(layer).expect("layer");
    let expected = source(layer);
    let actual = stored(store, layer).await;
    assert_eq!(actual.len(), expected.len(), "{layer}: feature count");
    for (id, want) in &expected {
        let (props, geometry) = actual
            .get(id)
            .unwrap_or_else(|| panic!("{layer}: {id} missing"));
        for (i, def) in schema.properties.iter().enumerate() {
            assert!(
                same_value(&props[i], &want.properties[i]),
                "{layer} {id} {}: {:?} != {:?}",
                def.name,
                props[i],
                want.properties[i]
            );
        }
        assert_eq!(
            positions(geometry),
            positions(&want.geometry),
            "{layer} {id} geometry"
        );
    }
}

async fn run(store: &dyn Store, options: &ImportOptions) -> ImportReport {
    import::run(store, options, &Progress::hidden())
        .await
        .unwrap_or_else(|e| panic!("import {}: {e}", options.file.display()))
}

fn with_id(file: &Path, layer: &str) -> ImportOptions {
    let mut o = ImportOptions::new(file, layer);
    o.id_field = Some("id".into());
    o
}

/// The GDAL-written files of one test.
fn gdal_files(dir: &Path) -> (PathBuf, PathBuf, PathBuf, PathBuf) {
    let shp = dir.join("pollution_sources.shp");
    ogr2ogr(&[
        "-f",
        "ESRI Shapefile",
        "-lco",
        "ENCODING=GBK",
        shp.to_str().expect("utf8"),
        layer_file("pollution_sources").to_str().expect("utf8"),
    ]);
    let zones_shp = dir.join("zones.shp");
    ogr2ogr(&[
        "-f",
        "ESRI Shapefile",
        "-lco",
        "ENCODING=GBK",
        zones_shp.to_str().expect("utf8"),
        layer_file("protection_zones").to_str().expect("utf8"),
    ]);
    let gpkg = dir.join("zones.gpkg");
    ogr2ogr(&[
        "-f",
        "GPKG",
        gpkg.to_str().expect("utf8"),
        layer_file("protection_zones").to_str().expect("utf8"),
    ]);
    // GDAL's CSV driver writes UTF-8; the GBK copy is what Excel on Chinese Windows saves.
    let utf8 = dir.join("sources_utf8.csv");
    ogr2ogr(&[
        "-f",
        "CSV",
        "-lco",
        "GEOMETRY=AS_XY",
        utf8.to_str().expect("utf8"),
        layer_file("pollution_sources").to_str().expect("utf8"),
    ]);
    let text = std::fs::read_to_string(&utf8).expect("csv");
    let (gbk, _, lossy) = encoding_rs::GBK.encode(&text);
    assert!(!lossy);
    let csv = dir.join("sources_gbk.csv");
    std::fs::write(&csv, &gbk).expect("write gbk");
    assert!(
        std::str::from_utf8(&gbk).is_err(),
        "the GBK file must not be UTF-8"
    );
    (shp, zones_shp, gpkg, csv)
}

async fn formats_round_trip(fresh: Fresh) {
    let dir = tempfile::tempdir().expect("tempdir");
    let (shp, zones_shp, gpkg, csv) = gdal_files(dir.path());
    let store = fresh.store.as_ref();

    let report = run(store, &with_id(&shp, "pollution_sources")).await;
    assert!(report.problems.is_empty(), "{report}");
    assert!(report.notes.iter().any(|n| n.contains("GBK")), "{report}");
    assert_matches_source(store, "pollution_sources").await;

    // The CSV replaces the same features (same ids): still no duplicates.
    let report = run(store, &with_id(&csv, "pollution_sources")).await;
    assert!(report.problems.is_empty(), "{report}");
    assert!(
        report.notes.iter().any(|n| n.contains("detected: GBK")),
        "{report}"
    );
    assert_matches_source(store, "pollution_sources").await;

    let report = run(store, &with_id(&zones_shp, "protection_zones")).await;
    assert!(report.problems.is_empty(), "{report}");
    assert_matches_source(store, "protection_zones").await;
    let report = run(store, &with_id(&gpkg, "protection_zones")).await;
    assert!(report.problems.is_empty(), "{report}");
    assert_eq!(report.format, "GeoPackage");
    assert_matches_source(store, "protection_zones").await;

    // GeoJSON as is: the features' own ids.
    let report = run(store, &ImportOptions::new(layer_file("rivers"), "rivers")).await;
    assert!(report.problems.is_empty(), "{report}");
    assert_matches_source(store, "rivers").await;
}

#[tokio::test]
async fn gdal_files_import_into_the_embedded_store() {
    formats_round_trip(embedded().await).await;
}

#[tokio::test]
async fn gdal_files_import_into_postgis() {
    formats_round_trip(postgis().await).await;
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).expect("write");
    path
}

#[tokio::test]
async fn gcj02_coordinates_are_converted_to_wgs84() {
    let fresh = embedded().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let wgs = [(104.6417, 28.7513), (104.2371, 29.004054), (105.05, 28.2)];
    let mut text = String::from("编号,名称,经度,纬度\n");
    for (i, (lon, lat)) in wgs.iter().enumerate() {
        let (glon, glat) = gcj02::from_wgs84(*lon, *lat);
        text.push_str(&format!("g{i},站点{i},{glon:.8},{glat:.8}\n"));
    }
    let file = write(dir.path(), "gcj.csv", &text);
    let mut options = ImportOptions::new(&file, "gcj_points");
    options.create = true;
    options.crs = Some(Crs::Gcj02);
    options.id_field = Some("编号".into());
    let report = run(fresh.store.as_ref(), &options).await;
    assert!(report.problems.is_empty(), "{report}");
    let got = stored(fresh.store.as_ref(), "gcj_points").await;
    for (i, (lon, lat)) in wgs.iter().enumerate() {
        let (_, g) = &got[&format!("g{i}")];
        let geo_types::Geometry::Point(p) = g else {
            panic!("point")
        };
        let error_m = geo::Distance::distance(&geo::Geodesic, *p, geo::Point::new(*lon, *lat));
        assert!(error_m < 1.0, "point {i}: {error_m} m off");
    }
}

const BAD_CSV: &str = "id,name_zh,violations,lon,lat\n\
ok-1,甲厂,1,104.6,28.7\n\
bad-lon,乙厂,2,abc,28.7\n\
ok-2,丙厂,,104.7,28.8\n\
bad-int,丁厂,many,104.6,28.7\n\
no-lat,戊厂,3,104.6,\n\
far,己厂,0,504600,3187000\n";

#[tokio::test]
async fn invalid_rows_are_reported_by_line_and_nothing_is_written() {
    let fresh = embedded().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let file = write(dir.path(), "bad.csv", BAD_CSV);
    let report = run(fresh.store.as_ref(), &with_id(&file, "pollution_sources")).await;
    let lines: Vec<String> = report
        .problems
        .iter()
        .map(|p| p.location.to_string())
        .collect();
    assert_eq!(lines, ["line 3", "line 5", "line 6", "line 7"], "{report}");
    assert!(report.problems[0].reason.contains("longitude"), "{report}");
    assert!(report.problems[1].reason.contains("violations"), "{report}");
    assert!(report.problems[2].reason.contains("latitude"), "{report}");
    assert!(report.problems[3].reason.contains("--crs"), "{report}");
    assert!(report.aborted());
    assert_eq!(report.written, 0);
    assert!(stored(fresh.store.as_ref(), "pollution_sources")
        .await
        .is_empty());
    assert!(report.to_string().contains("line 5"));

    // --dry-run reports the same and writes nothing either.
    let mut dry = with_id(&file, "pollution_sources");
    dry.dry_run = true;
    let report = run(fresh.store.as_ref(), &dry).await;
    assert_eq!(report.problems.len(), 4);
    assert!(stored(fresh.store.as_ref(), "pollution_sources")
        .await
        .is_empty());

    // --skip-invalid writes the two good rows and still reports the four bad ones.
    let mut skip = with_id(&file, "pollution_sources");
    skip.skip_invalid = true;
    let report = run(fresh.store.as_ref(), &skip).await;
    assert_eq!(report.problems.len(), 4, "{report}");
    assert_eq!(report.written, 2);
    let got = stored(fresh.store.as_ref(), "pollution_sources").await;
    assert_eq!(got.keys().collect::<Vec<_>>(), ["ok-1", "ok-2"]);
}

#[tokio::test]
async fn reimport_with_an_id_field_updates_instead_of_duplicating() {
    let fresh = embedded().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let schema = builtin_schema("pollution_sources").expect("layer");
    let v = schema.position("violations").expect("violations");
    let first = write(
        dir.path(),
        "a.csv",
        "id,violations,lon,lat\ns1,1,104.6,28.7\ns2,2,104.7,28.8\n",
    );
    run(fresh.store.as_ref(), &with_id(&first, "pollution_sources")).await;
    let second = write(
        dir.path(),
        "a.csv",
        "id,violations,lon,lat\ns2,5,104.7,28.8\ns3,3,104.8,28.9\n",
    );
    run(fresh.store.as_ref(), &with_id(&second, "pollution_sources")).await;
    let got = stored(fresh.store.as_ref(), "pollution_sources").await;
    assert_eq!(got.len(), 3);
    assert_eq!(got["s2"].0[v], Value::Int(5));

    // Without an id field, ids come from the file name and row number, so
    // importing the same file again replaces rather than duplicates.
    let plain = write(
        dir.path(),
        "plain.csv",
        "violations,lon,lat\n1,104.6,28.7\n2,104.7,28.8\n",
    );
    run(
        fresh.store.as_ref(),
        &ImportOptions::new(&plain, "pollution_sources"),
    )
    .await;
    run(
        fresh.store.as_ref(),
        &ImportOptions::new(&plain, "pollution_sources"),
    )
    .await;
    let got = stored(fresh.store.as_ref(), "pollution_sources").await;
    assert_eq!(got.len(), 5);
    assert!(got.contains_key("plain-1") && got.contains_key("plain-2"));

    // Duplicate ids inside one file are row problems, not silent overwrites.
    let dup = write(
        dir.path(),
        "dup.csv",
        "id,lon,lat\nd1,104.6,28.7\nd1,104.7,28.8\n",
    );
    let report = run(fresh.store.as_ref(), &with_id(&dup, "pollution_sources")).await;
    assert_eq!(report.problems.len(), 1);
    assert!(
        report.problems[0]
            .reason
            .contains("duplicate id 'd1' (first at line 2)"),
        "{report}"
    );
}

#[tokio::test]
async fn create_infers_a_layer_from_a_chinese_csv() {
    let fresh = embedded().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let text = "名称,类型,人数,面积,区号,经度,纬度,达标\n\
                噪声点甲,工业,12,1.5,0831,104.6,28.7,是\n\
                噪声点乙,交通,7,,0832,104.7,28.8,否\n";
    let (gbk, _, _) = encoding_rs::GBK.encode(text);
    let file = dir.path().join("noise.csv");
    std::fs::write(&file, &gbk).expect("write");
    let mut options = ImportOptions::new(&file, "noise_sites");
    options.create = true;
    let report = run(fresh.store.as_ref(), &options).await;
    assert!(report.created && report.problems.is_empty(), "{report}");
    let schema = fresh
        .store
        .schemas()
        .await
        .expect("schemas")
        .into_iter()
        .find(|s| s.id == "noise_sites")
        .expect("created");
    let types: Vec<(String, &str)> = schema
        .properties
        .iter()
        .map(|p| (p.name.clone(), p.kind.json_schema_type()))
        .collect();
    assert_eq!(
        types,
        [
            ("名称".to_string(), "string"),
            ("类型".to_string(), "string"),
            ("人数".to_string(), "integer"),
            ("面积".to_string(), "number"),
            ("区号".to_string(), "string"),
            ("达标".to_string(), "string"),
        ]
    );
    let got = stored(fresh.store.as_ref(), "noise_sites").await;
    assert_eq!(got["noise-1"].0[0], Value::Text("噪声点甲".into()));
    assert_eq!(got["noise-1"].0[4], Value::Text("0831".into()));

    // Creating it again is refused: the layer exists.
    let again = import::run(fresh.store.as_ref(), &options, &Progress::hidden()).await;
    assert!(again.is_err());
}

#[tokio::test]
async fn foreign_coordinate_systems_are_reported_not_guessed() {
    let fresh = embedded().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let mercator = dir.path().join("mercator.geojson");
    ogr2ogr(&[
        "-f",
        "GeoJSON",
        "-t_srs",
        "EPSG:3857",
        "-lco",
        "RFC7946=NO",
        mercator.to_str().expect("utf8"),
        layer_file("drinking_water_sources").to_str().expect("utf8"),
    ]);
    let err = import::run(
        fresh.store.as_ref(),
        &ImportOptions::new(&mercator, "drinking_water_sources"),
        &Progress::hidden(),
    )
    .await
    .expect_err("EPSG:3857 must be refused");
    assert!(err.to_string().contains("3857"), "{err}");
    let utm = dir.path().join("utm.shp");
    ogr2ogr(&[
        "-f",
        "ESRI Shapefile",
        "-t_srs",
        "EPSG:32648",
        utm.to_str().expect("utf8"),
        layer_file("drinking_water_sources").to_str().expect("utf8"),
    ]);
    let err = import::run(
        fresh.store.as_ref(),
        &ImportOptions::new(&utm, "drinking_water_sources"),
        &Progress::hidden(),
    )
    .await
    .expect_err("UTM must be refused");
    assert!(err.to_string().contains("UTM"), "{err}");
    // An explicit CGCS2000 GeoJSON (the older `crs` member) is accepted.
    let cgcs = dir.path().join("cgcs.geojson");
    ogr2ogr(&[
        "-f",
        "GeoJSON",
        "-a_srs",
        "EPSG:4490",
        "-lco",
        "RFC7946=NO",
        cgcs.to_str().expect("utf8"),
        layer_file("drinking_water_sources").to_str().expect("utf8"),
    ]);
    let report = run(
        fresh.store.as_ref(),
        &ImportOptions::new(&cgcs, "drinking_water_sources"),
    )
    .await;
    assert_eq!(report.crs, Crs::Cgcs2000, "{report}");
    assert!(report.problems.is_empty(), "{report}");
}

/// Imports a one-row CSV into the server's store from outside the server, then
/// polls the server's API until the feature shows (the contract: within 5 s).
async fn running_server_sees_import(server: TestServer, store: Box<dyn Store>) {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = write(
        dir.path(),
        "live.csv",
        "id,name_zh,lon,lat\nlive-1,新导入企业,104.61,28.76\n",
    );
    let started = Instant::now();
    let report = run(store.as_ref(), &with_id(&file, "pollution_sources")).await;
    assert_eq!(report.written, 1, "{report}");
    let url = server.url("/api/collections/pollution_sources/items/live-1");
    let seen = tokio::task::spawn_blocking(move || loop {
        if let Ok((200, body)) = get_json(&url) {
            return Some((started.elapsed(), body));
        }
        if started.elapsed() > Duration::from_secs(5) {
            return None;
        }
        std::thread::sleep(Duration::from_millis(100));
    })
    .await
    .expect("poll");
    let (delay, body) = seen.expect("the server did not show the imported feature within 5 s");
    assert_eq!(body["properties"]["name_zh"], "新导入企业");
    eprintln!("imported feature visible after {delay:?}");
}

#[tokio::test]
async fn a_running_embedded_server_shows_imported_data_within_5_s() {
    let server = TestServer::start().expect("server");
    let store = server.open_store().await.expect("open the server's store");
    running_server_sees_import(server, store).await;
}

#[tokio::test]
async fn a_running_postgis_server_shows_imported_data_within_5_s() {
    let server = TestServer::start_postgis().expect("server");
    let store = server.open_store().await.expect("open the server's store");
    running_server_sees_import(server, store).await;
}
