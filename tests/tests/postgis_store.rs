//! The PostGIS store against the embedded one: the same atlas over HTTP (items,
//! filters, tiles), the same store semantics, fids stable across restarts, and
//! the start-up cases (`--no-sample`, a database without PostGIS).
//!
//! Needs `ENVATLAS_TEST_DATABASE_URL` (a server with the `envatlas_template`
//! database); without it these tests fail rather than skip.

use std::time::Instant;

use envatlas_server::app;
use envatlas_server::config::Config;
use envatlas_server::model::catalog::builtin_schema;
use envatlas_server::model::geojson::feature_from_json;
use envatlas_server::model::{Feature, NewFeature, Reading};
use envatlas_server::store::postgis::PostgisStore;
use envatlas_server::store::seed::SEEDED_AT;
use envatlas_server::store::sqlite::SqliteStore;
use envatlas_server::store::Store;
use envatlas_tests::postgis::{admin_sql, test_server_url, unique_name};
use envatlas_tests::{
    all_fids, copy_sample, get_bytes, get_json, sample_dir, TestDatabase, TestServer,
};
use envatlas_tiles::decode::decode_tile;
use envatlas_tiles::TileCoord;
use serde_json::{json, Value};

use envatlas_server::model::catalog::LAYER_IDS as LAYERS;

/// A JSON document with the members that name the moment or the server left out.
fn without_volatile(mut doc: Value) -> Value {
    if let Some(obj) = doc.as_object_mut() {
        obj.remove("timeStamp");
        obj.remove("links");
    }
    doc
}

fn fetch(server: &TestServer, path: &str) -> Value {
    let (status, json) = get_json(&server.url(path)).expect(path);
    assert_eq!(status, 200, "{path}: {json}");
    without_volatile(json)
}

#[test]
fn postgis_serves_the_same_atlas_as_the_embedded_store() {
    let started = Instant::now();
    let embedded = TestServer::start().expect("embedded server");
    let embedded_s = started.elapsed().as_secs_f64();
    let started = Instant::now();
    let postgis = TestServer::start_postgis().expect("PostGIS server");
    eprintln!(
        "seed + load of the sample: embedded {embedded_s:.2} s, PostGIS {:.2} s (debug build)",
        started.elapsed().as_secs_f64()
    );

    let (_, ready) = get_json(&postgis.url("/ready")).expect("ready");
    assert_eq!(ready["store"], "postgis");

    // Collections: same ids in the same order, same counts and extents.
    let summary = |s: &TestServer| -> Vec<Value> {
        fetch(s, "/api/collections")["collections"]
            .as_array()
            .expect("collections")
            .iter()
            .map(|c| json!([c["id"], c["featureCount"], c["extent"]]))
            .collect()
    };
    let collections = summary(&embedded);
    assert_eq!(collections.len(), 8);
    assert_eq!(summary(&postgis), collections);

    // Every feature of every layer: ids, fids, properties and geometry.
    for layer in LAYERS {
        let path = format!("/api/collections/{layer}/items?limit=10000");
        let expected = fetch(&embedded, &path);
        assert!(
            expected["numberReturned"].as_u64().is_some_and(|n| n > 0),
            "{layer} is empty"
        );
        assert_eq!(fetch(&postgis, &path), expected, "{layer}");
    }

    // A bbox, a property filter and both together select the same items.
    for query in [
        "bbox=104.5,28.6,104.8,28.9&limit=10000",
        "control_level=national&limit=10000",
        "bbox=104.5,28.6,104.8,28.9&online_monitored=true&limit=10000",
    ] {
        let path = format!("/api/collections/pollution_sources/items?{query}");
        let expected = fetch(&embedded, &path);
        assert!(
            expected["numberMatched"].as_u64().is_some_and(|n| n > 0),
            "{query} selects something"
        );
        assert_eq!(fetch(&postgis, &path), expected, "{query}");
    }
    let one = "/api/collections/admin_boundaries/items/511502";
    assert_eq!(fetch(&postgis, one), fetch(&embedded, one));

    // The same tile has the same features (MVT ids are fids) on both.
    let all = LAYERS.join(",");
    for z in [6u8, 9, 11, 13] {
        let t = TileCoord::containing(104.62, 28.77, z).expect("tile");
        let path = format!("/tiles/{all}/{}/{}/{}", t.z(), t.x(), t.y());
        let tile = |s: &TestServer| {
            let (status, _, bytes) = get_bytes(&s.url(&path), &[]).expect("tile");
            assert_eq!(status, 200, "{path}");
            decode_tile(&bytes).expect("valid MVT")
        };
        let expected = tile(&embedded);
        assert!(expected.iter().any(|l| !l.features.is_empty()), "{path}");
        assert_eq!(tile(&postgis), expected, "{path}");
    }

    // The readings were seeded too.
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let (a, b) = runtime.block_on(async {
        (
            embedded.state.store.count_readings().await.expect("count"),
            postgis.state.store.count_readings().await.expect("count"),
        )
    });
    assert!(b > 100_000, "the sample's readings are in PostGIS: {b}");
    assert_eq!(a, b);
}

fn config_on(database: &TestDatabase, data_dir: &std::path::Path) -> Config {
    Config {
        data_dir: data_dir.to_path_buf(),
        database_url: Some(database.url.clone()),
        ..Config::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgis_restart_keeps_fids_and_does_not_reseed() {
    let database = TestDatabase::create().expect("test database");
    let dir = tempfile::tempdir().expect("tempdir");
    copy_sample(&sample_dir(), dir.path()).expect("copy");
    let config = config_on(&database, dir.path());

    let first = app::start(config.clone()).await.expect("first start");
    assert_eq!(first.store.kind(), "postgis");
    let before = all_fids(&first);
    assert!(
        before.len() > 1_000,
        "the sample was seeded: {}",
        before.len()
    );
    let readings = first.store.count_readings().await.expect("count");
    let seeded_at = first.store.meta(SEEDED_AT).await.expect("meta");
    assert!(seeded_at.is_some());
    drop(first);

    let second = app::start(config).await.expect("second start");
    assert_eq!(all_fids(&second), before);
    assert_eq!(
        second.store.count_readings().await.expect("count"),
        readings
    );
    assert_eq!(
        second.store.meta(SEEDED_AT).await.expect("meta"),
        seeded_at,
        "not seeded again"
    );
    let unique: std::collections::HashSet<i64> = before.iter().map(|(_, f)| *f).collect();
    assert_eq!(unique.len(), before.len(), "fids are unique across layers");
    assert!(unique.iter().all(|f| (1..(1i64 << 53)).contains(f)));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgis_no_sample_starts_with_empty_layers() {
    let database = TestDatabase::create().expect("test database");
    let dir = tempfile::tempdir().expect("tempdir");
    copy_sample(&sample_dir(), dir.path()).expect("copy");
    let config = Config {
        no_sample: true,
        ..config_on(&database, dir.path())
    };
    let state = app::start(config).await.expect("start");
    assert_eq!(state.atlas.layers().len(), 8);
    assert!(state.atlas.layers().iter().all(|l| l.is_empty()));
    assert_eq!(state.store.count_readings().await.expect("count"), 0);
}

fn source(id: &str, lon: f64, lat: f64, name: &str, violations: i64) -> NewFeature {
    let schema = builtin_schema("pollution_sources").expect("schema");
    let json = json!({
        "type": "Feature",
        "id": id,
        "geometry": {"type": "Point", "coordinates": [lon, lat]},
        "properties": {"name_zh": name, "violations": violations, "online_monitored": true,
                       "industry_code": "0610", "synthetic": true}
    });
    feature_from_json(&json, &schema).expect("feature")
}

/// What a store answers to one fixed sequence of writes, for comparing stores.
#[derive(Debug, PartialEq)]
struct Transcript {
    first: Vec<Feature>,
    second: Vec<Feature>,
    loaded: Vec<Feature>,
    unknown_layer_fails: bool,
    readings: Vec<u64>,
    meta: Vec<Option<String>>,
    layers: Vec<String>,
    /// create_features: a conflicting batch (ids that exist) writes nothing.
    conflict: Vec<String>,
    created: Vec<Feature>,
    count_after_create: usize,
    deleted: Vec<String>,
    by_id: Vec<String>,
    /// The change log: (layer, op, ids), every record with this store's origin.
    changes: Vec<(String, String, Option<Vec<String>>)>,
}

async fn exercise(store: &dyn Store) -> Transcript {
    let sources = builtin_schema("pollution_sources").expect("schema");
    let rivers = builtin_schema("rivers").expect("schema");
    store.put_schema(&sources).await.expect("schema");
    store.put_schema(&rivers).await.expect("schema");
    store
        .put_schema(&sources)
        .await
        .expect("schema again keeps its place");

    let first = store
        .upsert_features(
            &sources,
            &[
                source("a", 104.6, 28.7, "甲", 0),
                source("b", 104.7, 28.8, "乙", 1),
                source("c", 104.8, 28.9, "丙", 2),
            ],
        )
        .await
        .expect("insert");
    // "b" is replaced (keeps its fid); "d" is new and given twice: the later wins.
    let second = store
        .upsert_features(
            &sources,
            &[
                source("d", 105.0, 29.0, "丁", 3),
                source("b", 104.71, 28.81, "乙二", 5),
                source("d", 105.1, 29.1, "丁二", 4),
            ],
        )
        .await
        .expect("upsert");
    let loaded = store.load_features(&sources).await.expect("load");
    let mut unknown = sources.clone();
    unknown.id = "no_such_layer".into();
    let unknown_layer_fails = store
        .upsert_features(&unknown, &[source("x", 1.0, 2.0, "x", 0)])
        .await
        .is_err();

    let base = envatlas_server::store::seed::read_readings(&sample_dir().join("readings.csv.gz"))
        .expect("sample readings");
    let mut batch: Vec<Reading> = base.iter().take(3).cloned().collect();
    let mut again = batch[0].clone();
    again.value = -1.0;
    batch.push(again.clone());
    let mut readings = vec![];
    store.upsert_readings(&batch).await.expect("readings");
    readings.push(store.count_readings().await.expect("count"));
    again.time += std::time::Duration::from_micros(1_500_000);
    store
        .upsert_readings(&[again.clone(), again])
        .await
        .expect("readings");
    readings.push(store.count_readings().await.expect("count"));

    let mut meta = vec![store.meta("k").await.expect("meta")];
    store.set_meta("k", "one").await.expect("set");
    meta.push(store.meta("k").await.expect("meta"));
    store.set_meta("k", "二").await.expect("set");
    meta.push(store.meta("k").await.expect("meta"));

    let conflict = match store
        .create_features(
            &sources,
            &[
                source("e", 105.2, 29.2, "戊", 0),
                source("a", 1.0, 1.0, "甲二", 0),
            ],
        )
        .await
    {
        Err(envatlas_server::store::StoreError::Conflict(ids)) => ids,
        other => panic!("expected a conflict, got {other:?}"),
    };
    let created = store
        .create_features(&sources, &[source("e", 105.2, 29.2, "戊", 0)])
        .await
        .expect("create");
    let count_after_create = store.load_features(&sources).await.expect("load").len();
    // Failed transactions may consume fids (PostgreSQL sequences are not
    // transactional), so only "new and larger than every earlier fid" is common.
    let max_before = second
        .iter()
        .chain(&first)
        .map(|f| f.fid)
        .max()
        .unwrap_or(0);
    assert!(created.iter().all(|f| f.fid > max_before));
    let created: Vec<Feature> = created
        .into_iter()
        .map(|f| Feature { fid: 0, ..f })
        .collect();
    let deleted = store
        .delete_features(&sources, &["c".to_string(), "nope".to_string()])
        .await
        .expect("delete");
    assert!(store
        .delete_features(&sources, &["nope".to_string()])
        .await
        .expect("delete nothing")
        .is_empty());
    let mut by_id: Vec<String> = store
        .features_by_id(&sources, &["a".into(), "c".into(), "e".into()])
        .await
        .expect("by id")
        .into_iter()
        .map(|f| f.id.to_string())
        .collect();
    by_id.sort();
    let log = store.changes_since(0, 1_000).await.expect("changes");
    assert!(log.windows(2).all(|w| w[0].seq < w[1].seq), "seq ascends");
    assert_eq!(
        store.last_change().await.expect("last"),
        log.last().map_or(0, |c| c.seq)
    );
    assert!(
        log.iter().all(|c| c.origin == store.origin()),
        "own origin recorded"
    );
    let changes = log
        .into_iter()
        .map(|c| (c.layer, c.op.as_str().to_string(), c.ids))
        .collect();

    let layers = store
        .schemas()
        .await
        .expect("schemas")
        .into_iter()
        .map(|s| s.id)
        .collect();
    Transcript {
        first,
        second,
        loaded,
        unknown_layer_fails,
        readings,
        meta,
        layers,
        conflict,
        created,
        count_after_create,
        deleted,
        by_id,
        changes,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgis_store_has_the_embedded_store_semantics() {
    let dir = tempfile::tempdir().expect("tempdir");
    let sqlite = SqliteStore::open(&dir.path().join("envatlas.db"))
        .await
        .expect("sqlite");
    let expected = exercise(&sqlite).await;
    let b_fid = expected.first[1].fid;
    assert_eq!(
        expected.second[1].fid, b_fid,
        "a replaced feature keeps its fid"
    );
    assert_eq!(expected.second[0].fid, expected.second[2].fid);
    assert!(expected.second[0].fid > expected.first[2].fid);
    assert_eq!(expected.loaded.len(), 4);
    assert_eq!(expected.readings, vec![3, 4]);
    assert_eq!(expected.conflict, vec!["a".to_string()]);
    assert_eq!(
        expected.count_after_create, 5,
        "the conflicting batch wrote nothing"
    );
    assert_eq!(expected.deleted, vec!["c".to_string()]);
    assert_eq!(expected.by_id, vec!["a".to_string(), "e".to_string()]);
    let ops: Vec<&str> = expected.changes.iter().map(|c| c.1.as_str()).collect();
    assert_eq!(
        ops,
        ["layer", "layer", "layer", "upsert", "upsert", "upsert", "delete"],
        "{:?}",
        expected.changes
    );
    assert_eq!(expected.changes[6].2, Some(vec!["c".to_string()]));

    let database = TestDatabase::create().expect("test database");
    let postgis = PostgisStore::open(&database.url)
        .await
        .expect("PostGIS store");
    assert_eq!(postgis.kind(), "postgis");
    postgis.ping().await.expect("ping");
    assert_eq!(exercise(&postgis).await, expected);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgis_is_created_in_a_database_that_lacks_it() {
    // template0 has no PostGIS; the test role is a superuser, so it may add it.
    let database = TestDatabase::create_from("template0").expect("test database");
    let store = PostgisStore::open(&database.url)
        .await
        .expect("open creates postgis");
    assert!(store.schemas().await.expect("schemas").is_empty());
}

/// A login role without superuser rights, dropped with the guard.
struct TestRole {
    name: String,
    server_url: String,
}

impl Drop for TestRole {
    fn drop(&mut self) {
        let _ = admin_sql(
            &self.server_url,
            &[format!("DROP ROLE IF EXISTS {}", self.name)],
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_database_without_postgis_is_a_clear_start_up_error() {
    // Declared before the database, so dropped after it.
    let role = TestRole {
        name: unique_name("envatlas_plain"),
        server_url: test_server_url(),
    };
    admin_sql(
        &role.server_url,
        &[format!(
            "CREATE ROLE {} LOGIN NOSUPERUSER PASSWORD 's3cret-pw'",
            role.name
        )],
    )
    .expect("create role");
    let database = TestDatabase::create_from("template0").expect("test database");
    let dir = tempfile::tempdir().expect("tempdir");
    let config = Config {
        data_dir: dir.path().to_path_buf(),
        database_url: Some(database.url_as(&role.name, "s3cret-pw").expect("url")),
        ..Config::default()
    };
    let error = app::start(config)
        .await
        .expect_err("start must fail")
        .to_string();
    assert!(error.contains("CREATE EXTENSION postgis"), "{error}");
    assert!(error.contains("superuser"), "{error}");
    assert!(
        error.contains(&database.name),
        "names the database: {error}"
    );
    assert!(!error.contains("s3cret"), "no credentials leak: {error}");
}
