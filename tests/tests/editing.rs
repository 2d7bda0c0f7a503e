//! Feature editing over HTTP (OGC API Features Part 4 style) on both stores:
//! write access, create/replace/update/delete, validation, tiles following edits.

use std::sync::OnceLock;

use envatlas_tests::{get_bytes, get_json, send, StoreKind, TestServer};
use serde_json::{json, Value};

const TOKEN: &str = "test-token-ok";

/// One writable server per store for this binary (seeding once is faster).
fn server(kind: StoreKind) -> &'static TestServer {
    static EMBEDDED: OnceLock<TestServer> = OnceLock::new();
    static POSTGIS: OnceLock<TestServer> = OnceLock::new();
    let cell = match kind {
        StoreKind::Embedded => &EMBEDDED,
        StoreKind::Postgis => &POSTGIS,
    };
    cell.get_or_init(|| {
        TestServer::start_for_static(kind, |c| c.write_token = Some(TOKEN.to_string()))
            .unwrap_or_else(|e| panic!("cannot start the {kind:?} server: {e:#}"))
    })
}

fn token() -> String {
    TOKEN.to_string()
}

fn call(
    s: &TestServer,
    method: &str,
    path: &str,
    body: Option<&Value>,
) -> (u16, reqwest::header::HeaderMap, Value) {
    let bearer = format!("Bearer {}", token());
    let (status, headers, text) = send(
        method,
        &s.url(path),
        &[("authorization", bearer.as_str())],
        body,
    )
    .expect("request");
    let json = if text.is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&text).unwrap_or(Value::String(text))
    };
    (status, headers, json)
}

fn source(name: &str, lon: f64, lat: f64) -> Value {
    json!({"type": "Feature", "geometry": {"type": "Point", "coordinates": [lon, lat]},
        "properties": {"name_zh": name, "name_en": "Test works", "industry_code": "2614",
            "control_level": "municipal", "county": "511502", "violations": 0}})
}

fn check_write_access(kind: StoreKind) {
    let s = server(kind);
    let url = s.url("/api/collections/pollution_sources/items");
    let body = source("无令牌", 104.6, 28.8);
    let (status, headers, text) = send("POST", &url, &[], Some(&body)).expect("post");
    assert_eq!(status, 401, "{text}");
    assert!(headers
        .get("www-authenticate")
        .is_some_and(|v| v.to_str().unwrap_or("").starts_with("Bearer")));
    assert_eq!(
        headers
            .get("content-type")
            .map(|v| v.to_str().unwrap_or("")),
        Some("application/problem+json")
    );
    let (status, _, _) = send(
        "POST",
        &url,
        &[("authorization", "Bearer wrong")],
        Some(&body),
    )
    .expect("post");
    assert_eq!(status, 401);
    // A server without a token refuses writes with 403 and says how to enable them.
    let readonly = envatlas_tests::shared_server_on(kind);
    let (status, _, text) = send(
        "DELETE",
        &readonly.url("/api/collections/pollution_sources/items/x"),
        &[("authorization", "Bearer anything")],
        None,
    )
    .expect("delete");
    assert_eq!(status, 403, "{text}");
    assert!(text.contains("ENVATLAS_WRITE_TOKEN"), "{text}");
}

fn check_create_read_update_delete(kind: StoreKind) {
    let s = server(kind);
    let (status, headers, created) = call(
        s,
        "POST",
        "/api/collections/pollution_sources/items",
        Some(&source("测试化工厂", 104.62, 28.79)),
    );
    assert_eq!(status, 201, "{created}");
    let id = created["id"].as_str().expect("id").to_string();
    let location = headers
        .get("location")
        .and_then(|v| v.to_str().ok())
        .expect("location")
        .to_string();
    assert!(
        location.ends_with(&format!("/api/collections/pollution_sources/items/{id}")),
        "{location}"
    );
    assert!(created["properties"]["fid"].as_i64().is_some_and(|f| f > 0));
    assert_eq!(created["properties"]["status"], "no_data");
    assert_eq!(created["properties"]["synthetic"], false);
    let (status, got) = get_json(&location).expect("get");
    assert_eq!(status, 200);
    assert_eq!(got["properties"]["name_zh"], "测试化工厂");

    // PATCH merges: other properties and the geometry stay.
    let patch = json!({"type": "Feature", "properties": {"violations": 3, "permit_no": null}});
    let path = format!("/api/collections/pollution_sources/items/{id}");
    let (status, _, patched) = call(s, "PATCH", &path, Some(&patch));
    assert_eq!(status, 200, "{patched}");
    assert_eq!(patched["properties"]["violations"], 3);
    assert_eq!(patched["properties"]["name_zh"], "测试化工厂");
    assert_eq!(patched["geometry"], created["geometry"]);
    assert_eq!(
        patched["properties"]["fid"], created["properties"]["fid"],
        "an edit keeps the fid"
    );

    // PUT replaces: absent properties are cleared; a GET body round-trips.
    let mut replaced = source("改名工厂", 104.63, 28.80);
    replaced["properties"]["fid"] = created["properties"]["fid"].clone();
    replaced["properties"]["status"] = json!("no_data");
    replaced["properties"]
        .as_object_mut()
        .expect("props")
        .remove("violations");
    let (status, _, put) = call(s, "PUT", &path, Some(&replaced));
    assert_eq!(status, 200, "{put}");
    assert_eq!(put["properties"]["violations"], Value::Null);
    assert_eq!(put["geometry"]["coordinates"], json!([104.63, 28.80]));
    let (_, got) = get_json(&location).expect("get");
    assert_eq!(got["properties"]["name_zh"], "改名工厂");

    // The items list and bbox see it.
    let (_, items) = get_json(
        &s.url("/api/collections/pollution_sources/items?bbox=104.625,28.795,104.635,28.805"),
    )
    .expect("items");
    assert!(items["features"]
        .as_array()
        .expect("features")
        .iter()
        .any(|f| f["id"] == id.as_str()));

    let (status, _, body) = call(s, "DELETE", &path, None);
    assert_eq!(status, 204, "{body}");
    let (status, _) = get_json(&location).expect("get");
    assert_eq!(status, 404);
    let (status, _, _) = call(s, "DELETE", &path, None);
    assert_eq!(status, 404);
    let (status, _, _) = call(s, "PATCH", &path, Some(&patch));
    assert_eq!(status, 404);
}

fn check_validation(kind: StoreKind) {
    let s = server(kind);
    let items = "/api/collections/protection_zones/items";
    let expect_400 = |body: Value, parameter: &str, mention: &str| {
        let (status, headers, problem) = call(s, "POST", items, Some(&body));
        assert_eq!(status, 400, "{problem}");
        assert_eq!(
            headers
                .get("content-type")
                .map(|v| v.to_str().unwrap_or("")),
            Some("application/problem+json")
        );
        assert_eq!(problem["parameter"], parameter, "{problem}");
        let detail = problem["detail"].as_str().unwrap_or("").to_lowercase();
        assert!(
            detail.contains(&mention.to_lowercase()),
            "'{mention}' not in {problem}"
        );
    };
    let bowtie = json!({"type": "Polygon", "coordinates": [[[104.0, 28.0], [104.1, 28.1], [104.1, 28.0], [104.0, 28.1], [104.0, 28.0]]]});
    expect_400(
        json!({"type": "Feature", "geometry": bowtie, "properties": {}}),
        "geometry",
        "intersect",
    );
    expect_400(
        json!({"type": "Feature", "geometry": {"type": "Point", "coordinates": [104.0, 28.0]}}),
        "geometry",
        "Polygon",
    );
    let square = json!({"type": "Polygon", "coordinates": [[[104.0, 28.0], [104.01, 28.0], [104.01, 28.01], [104.0, 28.01], [104.0, 28.0]]]});
    expect_400(
        json!({"type": "Feature", "geometry": square, "properties": {"colour": "red", "depth": 3}}),
        "properties",
        "colour, depth",
    );
    expect_400(
        json!({"type": "Feature", "geometry": square, "properties": {"area_m2": "big"}}),
        "properties",
        "area_m2",
    );
    expect_400(
        json!({"type": "Feature", "geometry": square, "properties": {"synthetic": true}}),
        "properties",
        "read-only",
    );
    expect_400(
        json!({"type": "FeatureCollection", "features": []}),
        "body",
        "Feature",
    );
    let (status, _, text) = send(
        "POST",
        &s.url(items),
        &[("authorization", &format!("Bearer {}", token()))],
        None,
    )
    .expect("post");
    assert_eq!(status, 400, "{text}");
    // Too many vertices.
    let ring: Vec<Value> = (0..=10_001)
        .map(|i| {
            let a = i as f64 / 10_001.0 * std::f64::consts::TAU;
            json!([104.0 + 0.01 * a.cos(), 28.0 + 0.01 * a.sin()])
        })
        .collect();
    let mut ring = ring;
    ring.push(ring[0].clone());
    expect_400(
        json!({"type": "Feature", "geometry": {"type": "Polygon", "coordinates": [ring]}}),
        "geometry",
        "max_vertices",
    );
    // A duplicate id is a conflict; nothing is written.
    let body = json!({"type": "Feature", "id": "dup-zone", "geometry": square, "properties": {"zone_level": "level1"}});
    let (status, _, _) = call(s, "POST", items, Some(&body));
    assert_eq!(status, 201);
    let (status, _, problem) = call(s, "POST", items, Some(&body));
    assert_eq!(status, 409, "{problem}");
    let (status, _, _) = call(s, "POST", "/api/collections/nope/items", Some(&body));
    assert_eq!(status, 404);
}

fn check_tiles_follow_edits(kind: StoreKind) {
    let s = server(kind);
    // z=12 tile around a point far from the sample's sources.
    let (lon, lat): (f64, f64) = (104.9, 29.15);
    let z = 12u32;
    let n = f64::from(1u32 << z);
    let x = ((lon + 180.0) / 360.0 * n) as u32;
    let lat_r = lat.to_radians();
    let y =
        ((1.0 - (lat_r.tan() + 1.0 / lat_r.cos()).ln() / std::f64::consts::PI) / 2.0 * n) as u32;
    let tile_url = s.url(&format!("/tiles/pollution_sources/{z}/{x}/{y}"));
    let fetch = || get_bytes(&tile_url, &[]).expect("tile");
    let (_, _, before) = fetch();
    let (status, _, created) = call(
        s,
        "POST",
        "/api/collections/pollution_sources/items",
        Some(&source("瓦片测试", lon, lat)),
    );
    assert_eq!(status, 201, "{created}");
    let (status, _, after) = fetch();
    assert_eq!(status, 200);
    assert!(
        after.len() > before.len(),
        "the tile shows the new feature at once"
    );
    let name = "瓦片测试".as_bytes();
    assert!(after.windows(name.len()).any(|w| w == name));
}

macro_rules! on_both_stores {
    ($($name:ident => $check:ident),* $(,)?) => {
        mod embedded {
            $( #[test] fn $name() { super::$check(envatlas_tests::StoreKind::Embedded) } )*
        }
        mod postgis {
            $( #[test] fn $name() { super::$check(envatlas_tests::StoreKind::Postgis) } )*
        }
    };
}

on_both_stores! {
    write_access_follows_the_contract => check_write_access,
    features_are_created_read_updated_and_deleted => check_create_read_update_delete,
    bad_edits_are_rejected_with_the_reason => check_validation,
    tiles_follow_edits => check_tiles_follow_edits,
}
