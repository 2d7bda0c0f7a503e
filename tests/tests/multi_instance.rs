//! Several processes on one store: an edit made through one server shows up in
//! another's items API and tiles (PostGIS: `LISTEN`/`NOTIFY`; embedded: the
//! change log is polled), and a write by another store handle (as
//! `envatlas import` makes) reaches a running server.
//!
//! The measured delays are printed (`--nocapture`) and recorded in
//! docs/benchmarks.md; the tests only require them under a generous timeout.

use std::time::Duration;

use envatlas_server::model::{catalog::builtin_schema, NewFeature, Value};
use envatlas_server::store::Store;
use envatlas_tests::{get_bytes, get_json, poll_until, send, TestDatabase, TestServer};
use serde_json::{json, Value as Json};

const TOKEN: &str = "multi-instance-token";
const TIMEOUT: Duration = Duration::from_secs(20);

fn write(s: &TestServer, method: &str, path: &str, body: Option<&Json>) -> (u16, Json) {
    let bearer = format!("Bearer {TOKEN}");
    let (status, _, text) =
        send(method, &s.url(path), &[("authorization", &bearer)], body).expect("request");
    (status, serde_json::from_str(&text).unwrap_or(Json::Null))
}

fn item(s: &TestServer, id: &str) -> (u16, Json) {
    get_json(&s.url(&format!("/api/collections/rural_sites/items/{id}"))).expect("get")
}

fn tile_url(s: &TestServer, lon: f64, lat: f64) -> String {
    let z = 13u32;
    let n = f64::from(1u32 << z);
    let x = ((lon + 180.0) / 360.0 * n) as u32;
    let r = lat.to_radians();
    let y = ((1.0 - (r.tan() + 1.0 / r.cos()).ln() / std::f64::consts::PI) / 2.0 * n) as u32;
    s.url(&format!("/tiles/rural_sites/{z}/{x}/{y}"))
}

fn tile_mentions(url: &str, text: &str) -> bool {
    let (status, _, bytes) = get_bytes(url, &[]).expect("tile");
    status == 200 && bytes.windows(text.len()).any(|w| w == text.as_bytes())
}

#[test]
fn edits_through_one_postgis_instance_reach_the_other() {
    let database = TestDatabase::create().expect("database");
    let a = TestServer::start_on_database(&database.url, |c| c.write_token = Some(TOKEN.into()))
        .expect("server a");
    let b = TestServer::start_on_database(&database.url, |_| {}).expect("server b");
    let (lon, lat) = (104.777, 28.555);
    let site = json!({"type": "Feature", "id": "multi-1",
        "geometry": {"type": "Point", "coordinates": [lon, lat]},
        "properties": {"name_zh": "多实例村", "name_en": "Multi village", "category": "village",
            "county": "511502", "sewage_status": "untreated", "population": 321}});
    let tile_b = tile_url(&b, lon, lat);
    // Warm B's tile cache, so a stale tile would be served if B did not invalidate.
    assert!(!tile_mentions(&tile_b, "多实例村"));

    let (status, created) = write(
        &a,
        "POST",
        "/api/collections/rural_sites/items",
        Some(&site),
    );
    assert_eq!(status, 201, "{created}");
    let (_, created_delay) = poll_until(TIMEOUT, || (item(&b, "multi-1").0 == 200).then_some(()))
        .expect("create reaches b");
    let (_, b_item) = item(&b, "multi-1");
    assert_eq!(
        b_item["properties"]["fid"], created["properties"]["fid"],
        "same fid everywhere"
    );
    assert!(
        tile_mentions(&tile_b, "多实例村"),
        "b's tile shows the new feature"
    );

    let patch = json!({"type": "Feature", "properties": {"name_zh": "改名村", "population": 400}});
    let (status, _) = write(
        &a,
        "PATCH",
        "/api/collections/rural_sites/items/multi-1",
        Some(&patch),
    );
    assert_eq!(status, 200);
    let (_, patched_delay) = poll_until(TIMEOUT, || {
        (item(&b, "multi-1").1["properties"]["population"] == 400).then_some(())
    })
    .expect("patch reaches b");
    assert!(
        tile_mentions(&tile_b, "改名村"),
        "b's tile shows the new name"
    );

    let (status, _) = write(
        &a,
        "DELETE",
        "/api/collections/rural_sites/items/multi-1",
        None,
    );
    assert_eq!(status, 204);
    let (_, deleted_delay) = poll_until(TIMEOUT, || (item(&b, "multi-1").0 == 404).then_some(()))
        .expect("delete reaches b");
    assert!(
        !tile_mentions(&tile_b, "改名村"),
        "b's tile no longer shows it"
    );

    eprintln!(
        "propagation delay (PostGIS, LISTEN/NOTIFY): create {} ms, patch {} ms, delete {} ms",
        created_delay.as_millis(),
        patched_delay.as_millis(),
        deleted_delay.as_millis()
    );
    drop(b);
    drop(a);
    drop(database);
}

/// A second store handle on the embedded store's file (what `envatlas import`
/// does) writes; the running server shows the change within 5 s.
#[test]
fn another_process_writing_the_embedded_store_reaches_the_server() {
    let s = TestServer::start().expect("server");
    let path = s.state.config.database_path();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let schema = builtin_schema("rural_sites").expect("schema");
    let other = runtime
        .block_on(envatlas_server::store::sqlite::SqliteStore::open(&path))
        .expect("second handle");
    let mut properties = vec![Value::Null; schema.properties.len()];
    properties[schema.position("name_zh").expect("name_zh")] = Value::Text("导入村".into());
    let feature = NewFeature {
        id: "imported-1".into(),
        geometry: geo_types::Geometry::Point(geo_types::point!(x: 104.5, y: 28.6)),
        properties,
    };
    runtime
        .block_on(other.upsert_features(&schema, std::slice::from_ref(&feature)))
        .expect("upsert");
    let (_, delay) = poll_until(Duration::from_secs(5), || {
        (item(&s, "imported-1").0 == 200).then_some(())
    })
    .expect("the server shows the imported feature within 5 s");
    runtime
        .block_on(other.delete_features(&schema, &["imported-1".to_string()]))
        .expect("delete");
    let (_, gone) = poll_until(Duration::from_secs(5), || {
        (item(&s, "imported-1").0 == 404).then_some(())
    })
    .expect("the server drops the deleted feature within 5 s");
    eprintln!(
        "propagation delay (embedded, polled): upsert {} ms, delete {} ms",
        delay.as_millis(),
        gone.as_millis()
    );
}
