//! `envatlas import` through the bulk write path (`Store::bulk_upsert`) on
//! both stores: a layer created by `--create` while a server runs on the same
//! store shows in that server's collections list, items and tiles within 5 s;
//! all-or-nothing, `--skip-invalid` and `--id-field` upserts hold on PostGIS
//! too (both bulk paths: `COPY` straight into an empty layer, and through a
//! staging table into a layer that has features).

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use envatlas_server::import::{self, ImportOptions, ImportReport, Progress};
use envatlas_server::model::catalog::builtin_schema;
use envatlas_server::model::Value;
use envatlas_server::store::postgis::PostgisStore;
use envatlas_server::store::sqlite::SqliteStore;
use envatlas_server::store::Store;
use envatlas_tests::{get_bytes, get_json, TestDatabase, TestServer};

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).expect("write");
    path
}

async fn run(store: &dyn Store, options: &ImportOptions) -> ImportReport {
    import::run(store, options, &Progress::hidden())
        .await
        .expect("import runs")
}

fn with_id(file: &Path, layer: &str) -> ImportOptions {
    let mut options = ImportOptions::new(file, layer);
    options.id_field = Some("id".into());
    options
}

/// Slippy-map tile at zoom 14 holding a point.
fn tile_path(layer: &str, lon: f64, lat: f64) -> String {
    let z = 14u32;
    let n = f64::from(1u32 << z);
    let x = ((lon + 180.0) / 360.0 * n) as u32;
    let r = lat.to_radians();
    let y = ((1.0 - (r.tan() + 1.0 / r.cos()).ln() / std::f64::consts::PI) / 2.0 * n) as u32;
    format!("/tiles/{layer}/{z}/{x}/{y}")
}

/// Polls `check` every 100 ms for up to 5 s; returns how long it took.
async fn within_5_s(
    what: &str,
    started: Instant,
    check: impl Fn() -> bool + Send + 'static,
) -> Duration {
    let seen = tokio::task::spawn_blocking(move || loop {
        if check() {
            return Some(started.elapsed());
        }
        if started.elapsed() > Duration::from_secs(5) {
            return None;
        }
        std::thread::sleep(Duration::from_millis(100));
    })
    .await
    .expect("poll");
    seen.unwrap_or_else(|| panic!("{what} not visible within 5 s"))
}

/// `--create` a layer from outside the server, then poll the server's
/// collections list, items and tiles until the new layer shows.
async fn running_server_sees_created_layer(server: TestServer, store: Box<dyn Store>) {
    let dir = tempfile::tempdir().expect("tempdir");
    let (lon, lat) = (104.6123, 28.7456);
    let file = write(
        dir.path(),
        "noise.csv",
        &format!(
            "id,名称,等级,lon,lat\nn-1,噪声监测点甲,2,{lon},{lat}\nn-2,噪声监测点乙,3,104.7,28.8\n"
        ),
    );
    let mut options = with_id(&file, "noise_points");
    options.create = true;
    let started = Instant::now();
    let report = run(store.as_ref(), &options).await;
    assert!(report.created && report.problems.is_empty(), "{report}");
    assert_eq!(report.written, 2, "{report}");

    let collections = server.url("/api/collections");
    let listed = within_5_s("the new collection", started, move || {
        get_json(&collections).is_ok_and(|(status, body)| {
            status == 200
                && body["collections"]
                    .as_array()
                    .is_some_and(|c| c.iter().any(|c| c["id"] == "noise_points"))
        })
    })
    .await;
    let item = server.url("/api/collections/noise_points/items/n-1");
    let items = server.url("/api/collections/noise_points/items?limit=10");
    let tile = server.url(&tile_path("noise_points", lon, lat));
    // reqwest's blocking client may not run on the test's async thread.
    tokio::task::spawn_blocking(move || {
        let (status, body) = get_json(&item).expect("item");
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["properties"]["名称"], "噪声监测点甲");
        let (_, body) = get_json(&items).expect("items");
        assert_eq!(body["features"].as_array().map(Vec::len), Some(2), "{body}");
        let (status, _, bytes) = get_bytes(&tile, &[]).expect("tile");
        assert_eq!(status, 200, "tile of the new layer");
        assert!(
            bytes
                .windows("噪声监测点甲".len())
                .any(|w| w == "噪声监测点甲".as_bytes()),
            "the tile holds the imported point"
        );
    })
    .await
    .expect("the new layer's items and tiles");
    eprintln!("created layer listed after {listed:?}");
}

#[tokio::test]
async fn a_running_embedded_server_shows_a_created_layer_within_5_s() {
    let server = TestServer::start().expect("server");
    let store = server.open_store().await.expect("open the server's store");
    running_server_sees_created_layer(server, store).await;
}

#[tokio::test]
async fn a_running_postgis_server_shows_a_created_layer_within_5_s() {
    let server = TestServer::start_postgis().expect("server");
    let store = server.open_store().await.expect("open the server's store");
    running_server_sees_created_layer(server, store).await;
}

async fn ids_and_violations(store: &dyn Store) -> Vec<(String, Value)> {
    let schema = builtin_schema("pollution_sources").expect("layer");
    let v = schema.position("violations").expect("violations");
    let mut got: Vec<(String, Value)> = store
        .load_features(&schema)
        .await
        .expect("load")
        .into_iter()
        .map(|f| (f.id.to_string(), f.properties[v].clone()))
        .collect();
    got.sort_by(|a, b| a.0.cmp(&b.0));
    got
}

/// All-or-nothing, `--skip-invalid` and upserts, on one store.
async fn bulk_semantics(store: &dyn Store) {
    let dir = tempfile::tempdir().expect("tempdir");
    let bad = write(
        dir.path(),
        "bad.csv",
        "id,violations,lon,lat\nok-1,1,104.6,28.7\nbad-1,many,104.6,28.7\nok-2,2,104.7,28.8\n",
    );
    let report = run(store, &with_id(&bad, "pollution_sources")).await;
    assert!(report.aborted() && report.written == 0, "{report}");
    assert_eq!(report.problems.len(), 1, "{report}");
    assert!(
        ids_and_violations(store).await.is_empty(),
        "nothing written"
    );

    let mut skip = with_id(&bad, "pollution_sources");
    skip.skip_invalid = true;
    let report = run(store, &skip).await;
    assert_eq!((report.written, report.problems.len()), (2, 1), "{report}");

    // Into a layer that has features: the staging path, an upsert by id.
    let again = write(
        dir.path(),
        "again.csv",
        "id,violations,lon,lat\nok-2,7,104.7,28.8\nok-3,3,104.8,28.9\n",
    );
    let report = run(store, &with_id(&again, "pollution_sources")).await;
    assert_eq!(report.written, 2, "{report}");
    assert_eq!(
        ids_and_violations(store).await,
        [
            ("ok-1".to_string(), Value::Int(1)),
            ("ok-2".to_string(), Value::Int(7)),
            ("ok-3".to_string(), Value::Int(3)),
        ]
    );
    // A bad file into a layer with features changes nothing either.
    let report = run(store, &with_id(&bad, "pollution_sources")).await;
    assert_eq!(report.written, 0, "{report}");
    assert_eq!(ids_and_violations(store).await.len(), 3);
}

#[tokio::test]
async fn bulk_imports_are_all_or_nothing_and_upsert_on_postgis() {
    let db = TestDatabase::create().expect("test database");
    let store = PostgisStore::open(&db.url).await.expect("open");
    bulk_semantics(&store).await;
}

#[tokio::test]
async fn bulk_imports_are_all_or_nothing_and_upsert_on_the_embedded_store() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = SqliteStore::open(&dir.path().join("envatlas.db"))
        .await
        .expect("open");
    bulk_semantics(&store).await;
}
