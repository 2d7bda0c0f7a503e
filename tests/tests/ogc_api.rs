//! OGC API Features over HTTP against a real server seeded from the sample,
//! on both stores: every check runs once on the embedded store and once on
//! PostGIS (a shared server per store and test binary).

use envatlas_tests::{get, get_json, sample_dir, StoreKind, TestServer};
use serde_json::Value;

fn sample_layer(id: &str) -> Vec<Value> {
    let text = std::fs::read_to_string(sample_dir().join("layers").join(format!("{id}.geojson")))
        .expect("sample layer");
    let json: Value = serde_json::from_str(&text).expect("geojson");
    json["features"].as_array().expect("features").clone()
}

fn assert_problem(url: &str, status: u16, mention: &str) {
    let (got, content_type, body) = get(url).expect("request");
    assert_eq!(got, status, "{url}: {body}");
    assert_eq!(content_type, "application/problem+json", "{url}");
    let json: Value = serde_json::from_str(&body).expect("problem json");
    assert_eq!(json["status"], status);
    for key in ["type", "title", "detail"] {
        assert!(json[key].is_string(), "{url}: problem lacks {key}: {body}");
    }
    assert!(
        json["detail"].as_str().unwrap_or("").contains(mention),
        "{url}: '{mention}' not in {body}"
    );
}

fn landing_page_links_the_api(s: &TestServer) {
    let (status, json) = get_json(&s.url("/api")).expect("landing");
    assert_eq!(status, 200);
    let rels: Vec<&str> = json["links"]
        .as_array()
        .expect("links")
        .iter()
        .filter_map(|l| l["rel"].as_str())
        .collect();
    for rel in ["self", "service-desc", "conformance", "data"] {
        assert!(rels.contains(&rel), "missing {rel}");
    }
    let (_, conf) = get_json(&s.url("/api/conformance")).expect("conformance");
    let classes = conf["conformsTo"].as_array().expect("conformsTo");
    assert!(classes.iter().any(|c| c
        .as_str()
        .is_some_and(|c| c.ends_with("ogcapi-features-1/1.0/conf/geojson"))));
}

fn collections_describe_every_layer(s: &TestServer) {
    let (status, json) = get_json(&s.url("/api/collections")).expect("collections");
    assert_eq!(status, 200);
    let collections = json["collections"].as_array().expect("collections");
    let ids: Vec<&str> = collections
        .iter()
        .filter_map(|c| c["id"].as_str())
        .collect();
    for id in envatlas_server::model::catalog::LAYER_IDS {
        assert!(ids.contains(&id), "missing collection {id}");
    }
    for c in collections {
        let bbox = &c["extent"]["spatial"]["bbox"][0];
        assert_eq!(bbox.as_array().map(Vec::len), Some(4), "{}", c["id"]);
        assert!(c["style"]["color"]
            .as_str()
            .is_some_and(|s| s.starts_with('#')));
        assert!(c["title_zh"].is_string() && c["title_en"].is_string());
        assert!(c["properties"].as_array().is_some_and(|p| !p.is_empty()));
        assert!(
            c["featureCount"].as_u64().is_some_and(|n| n > 0),
            "{} is empty",
            c["id"]
        );
    }
    let (_, one) = get_json(&s.url("/api/collections/pollution_sources")).expect("collection");
    assert_eq!(one["geometryType"], "Point");
    let (_, q) =
        get_json(&s.url("/api/collections/pollution_sources/queryables")).expect("queryables");
    assert_eq!(q["properties"]["violations"]["type"], "integer");
}

fn items_page_through_a_layer(s: &TestServer) {
    let expected = sample_layer("pollution_sources").len();
    let (status, content_type, body) =
        get(&s.url("/api/collections/pollution_sources/items?limit=250")).expect("items");
    assert_eq!(status, 200);
    assert_eq!(content_type, "application/geo+json");
    let page: Value = serde_json::from_str(&body).expect("json");
    assert_eq!(page["type"], "FeatureCollection");
    assert_eq!(page["numberMatched"].as_u64(), Some(expected as u64));
    assert_eq!(page["numberReturned"], 250);
    assert!(page["timeStamp"].is_string());

    // Follow `next` links to the end: every feature exactly once, fids unique.
    let mut seen = std::collections::BTreeSet::new();
    let mut url = Some(s.url("/api/collections/pollution_sources/items?limit=250"));
    while let Some(u) = url {
        let (_, page) = get_json(&u).expect("page");
        for f in page["features"].as_array().expect("features") {
            let fid = f["properties"]["fid"].as_u64().expect("fid");
            assert!((1..(1u64 << 53)).contains(&fid));
            assert_eq!(f["id"], f["properties"]["id"]);
            assert!(seen.insert(fid), "fid {fid} twice");
        }
        url = page["links"]
            .as_array()
            .expect("links")
            .iter()
            .find(|l| l["rel"] == "next")
            .and_then(|l| l["href"].as_str())
            .map(str::to_string);
    }
    assert_eq!(seen.len(), expected);

    let (_, last) = get_json(&s.url(&format!(
        "/api/collections/pollution_sources/items?offset={}",
        expected - 5
    )))
    .expect("last");
    assert_eq!(last["numberReturned"], 5);
    let links = last["links"].as_array().expect("links");
    assert!(links.iter().any(|l| l["rel"] == "prev") && !links.iter().any(|l| l["rel"] == "next"));

    let (_, clamped) =
        get_json(&s.url("/api/collections/rural_sites/items?limit=50000")).expect("clamped");
    assert_eq!(clamped["numberReturned"], clamped["numberMatched"]);
}

fn bbox_and_property_filters_select_the_right_features(s: &TestServer) {
    let sources = sample_layer("pollution_sources");
    let (x0, y0, x1, y1) = (104.5, 28.6, 104.8, 28.9);
    let inside = sources
        .iter()
        .filter(|f| {
            let c = &f["geometry"]["coordinates"];
            let (x, y) = (
                c[0].as_f64().unwrap_or(f64::NAN),
                c[1].as_f64().unwrap_or(f64::NAN),
            );
            (x0..=x1).contains(&x) && (y0..=y1).contains(&y)
        })
        .count();
    assert!(inside > 0, "the test bbox should hold sources");
    let (_, page) = get_json(&s.url(&format!(
        "/api/collections/pollution_sources/items?bbox={x0},{y0},{x1},{y1}&limit=10000"
    )))
    .expect("bbox");
    assert_eq!(page["numberMatched"].as_u64(), Some(inside as u64));

    let national = sources
        .iter()
        .filter(|f| f["properties"]["control_level"] == "national")
        .count();
    assert_eq!(national, 47);
    let (_, page) =
        get_json(&s.url("/api/collections/pollution_sources/items?control_level=national&limit=0"))
            .expect("filter");
    assert_eq!(page["numberMatched"], 47);
    assert_eq!(page["numberReturned"], 0);

    let cuiping_national = sources
        .iter()
        .filter(|f| {
            f["properties"]["control_level"] == "national" && f["properties"]["county"] == "511502"
        })
        .count();
    let (_, page) = get_json(
        &s.url("/api/collections/pollution_sources/items?control_level=national&county=511502"),
    )
    .expect("and");
    assert_eq!(
        page["numberMatched"].as_u64(),
        Some(cuiping_national as u64)
    );

    let (_, page) =
        get_json(&s.url("/api/collections/pollution_sources/items?online_monitored=true&limit=0"))
            .expect("bool");
    assert!(page["numberMatched"].as_u64().is_some_and(|n| n >= 47));
    let (_, page) = get_json(
        &s.url("/api/collections/drinking_water_sources/items?datetime=2026-11-01T00:00:00Z/.."),
    )
    .expect("datetime");
    assert!(
        page["numberMatched"].as_u64().is_some_and(|n| n > 0),
        "datetime is accepted and ignored"
    );
}

fn single_features_by_id(s: &TestServer) {
    let first = &sample_layer("drinking_water_sources")[0];
    let id = first["id"].as_str().expect("id");
    let (status, content_type, body) = get(&s.url(&format!(
        "/api/collections/drinking_water_sources/items/{id}"
    )))
    .expect("item");
    assert_eq!(
        (status, content_type.as_str()),
        (200, "application/geo+json")
    );
    let f: Value = serde_json::from_str(&body).expect("json");
    assert_eq!(f["id"], id);
    assert_eq!(f["properties"]["name_zh"], first["properties"]["name_zh"]);
    assert_eq!(f["geometry"], first["geometry"]);
    let (_, county) =
        get_json(&s.url("/api/collections/admin_boundaries/items/511502")).expect("county");
    assert_eq!(county["properties"]["name_zh"], "翠屏区");
    assert_eq!(county["properties"]["synthetic"], false);
}

fn bad_input_gets_a_clear_problem(s: &TestServer) {
    let items = "/api/collections/pollution_sources/items";
    assert_problem(&s.url(&format!("{items}?bbox=104,28,105")), 400, "bbox");
    assert_problem(
        &s.url(&format!("{items}?bbox=105,28,104,29")),
        400,
        "minLon",
    );
    assert_problem(
        &s.url(&format!("{items}?bbox=104,28,105,95")),
        400,
        "latitudes",
    );
    assert_problem(&s.url(&format!("{items}?limit=-1")), 400, "limit");
    assert_problem(&s.url(&format!("{items}?limit=lots")), 400, "limit");
    assert_problem(&s.url(&format!("{items}?offset=-5")), 400, "offset");
    assert_problem(&s.url(&format!("{items}?colour=red")), 400, "colour");
    assert_problem(
        &s.url(&format!("{items}?violations=many")),
        400,
        "violations",
    );
    assert_problem(
        &s.url(&format!("{items}?datetime=yesterday")),
        400,
        "datetime",
    );
    assert_problem(&s.url(&format!("{items}?f=xml")), 400, "xml");
    assert_problem(
        &s.url("/api/collections/no_such_layer"),
        404,
        "no_such_layer",
    );
    assert_problem(
        &s.url("/api/collections/no_such_layer/items"),
        404,
        "no_such_layer",
    );
    assert_problem(
        &s.url(&format!("{items}/no-such-feature")),
        404,
        "no-such-feature",
    );
    assert_problem(&s.url("/nowhere"), 404, "/nowhere");
}

fn operations_endpoints_answer(s: &TestServer) {
    let (status, health) = get_json(&s.url("/health")).expect("health");
    assert_eq!((status, health["status"].as_str()), (200, Some("ok")));
    let (status, ready) = get_json(&s.url("/ready")).expect("ready");
    let expected = if s.state.store.kind() == "postgis" {
        "postgis"
    } else {
        "embedded"
    };
    assert_eq!((status, ready["store"].as_str()), (200, Some(expected)));
    let (status, _, html) = get(&s.url("/")).expect("index");
    assert_eq!(status, 200);
    assert!(html.contains("envatlas"));
    let (status, _, _) = get(&s.url("/favicon.ico")).expect("favicon");
    assert!(status < 300);
}

fn openapi_describes_every_route(s: &TestServer) {
    let (status, doc) = get_json(&s.url("/api/openapi.json")).expect("openapi");
    assert_eq!(status, 200);
    assert!(doc["openapi"].as_str().is_some_and(|v| v.starts_with("3.")));
    for path in envatlas_server::api::openapi::paths() {
        assert!(doc["paths"][path].is_object(), "{path} not described");
    }
    let ids = &doc["paths"]["/api/collections/{collectionId}/items"]["get"]["parameters"][0]
        ["schema"]["enum"];
    assert_eq!(ids.as_array().map(Vec::len), Some(8));
    let items = &doc["paths"]["/api/collections/{collectionId}/items"];
    assert!(
        items["post"]["requestBody"].is_object(),
        "POST items described"
    );
    let item = &doc["paths"]["/api/collections/{collectionId}/items/{featureId}"];
    for method in ["get", "put", "patch", "delete"] {
        assert!(
            item[method].is_object(),
            "{method} on an item not described"
        );
    }
}

/// Writes through the read-only shared servers are refused: no token configured.
fn writes_without_a_token_are_forbidden(s: &TestServer) {
    let (status, _, body) = envatlas_tests::send(
        "POST",
        &s.url("/api/collections/rivers/items"),
        &[],
        Some(&serde_json::json!({"type": "Feature"})),
    )
    .expect("post");
    assert_eq!(status, 403, "{body}");
}

macro_rules! on_both_stores {
    ($($name:ident),* $(,)?) => {
        mod embedded {
            $( #[test] fn $name() { super::$name(envatlas_tests::shared_server_on(super::StoreKind::Embedded)) } )*
        }
        mod postgis {
            $( #[test] fn $name() { super::$name(envatlas_tests::shared_server_on(super::StoreKind::Postgis)) } )*
        }
    };
}

on_both_stores!(
    landing_page_links_the_api,
    collections_describe_every_layer,
    items_page_through_a_layer,
    bbox_and_property_filters_select_the_right_features,
    single_features_by_id,
    bad_input_gets_a_clear_problem,
    operations_endpoints_answer,
    openapi_describes_every_route,
    writes_without_a_token_are_forbidden,
);
