//! Vector tiles over HTTP: MVT validity (our strict decoder here; GDAL and an
//! independent decoder in `mvt_clients.rs`), TileJSON, OGC API Tiles, gzip,
//! ETag, empty tiles, errors, cache invalidation and metrics.

use std::io::Read;

use envatlas_server::atlas::LayerChange;
use envatlas_server::model::{Feature, Value};
use envatlas_tests::{get, get_bytes, get_json, shared_server, TestServer};
use envatlas_tiles::decode::{decode_tile, DecodedGeometry, DecodedLayer};
use envatlas_tiles::TileCoord;

/// The z10 tile over central Yibin (翠屏区).
fn yibin(z: u8) -> TileCoord {
    TileCoord::containing(104.62, 28.77, z).expect("tile")
}

fn tile_path(layers: &str, t: TileCoord) -> String {
    format!("/tiles/{layers}/{}/{}/{}", t.z(), t.x(), t.y())
}

fn decode(bytes: &[u8]) -> Vec<DecodedLayer> {
    decode_tile(bytes).expect("a valid MVT tile")
}

fn gunzip(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(bytes)
        .read_to_end(&mut out)
        .expect("gzip");
    out
}

#[test]
fn tiles_decode_with_ids_and_properties() {
    let s = shared_server();
    for z in [3u8, 6, 8, 10, 12, 14] {
        let t = yibin(z);
        let (status, headers, body) = get_bytes(
            &s.url(&tile_path("pollution_sources,admin_boundaries,rivers", t)),
            &[],
        )
        .expect("tile");
        assert_eq!(status, 200, "z{z}");
        assert_eq!(
            headers["content-type"],
            "application/vnd.mapbox-vector-tile"
        );
        let layers = decode(&body);
        let names: Vec<&str> = layers.iter().map(|l| l.name.as_str()).collect();
        assert!(
            names.contains(&"admin_boundaries") && names.contains(&"pollution_sources"),
            "z{z}: {names:?}"
        );
        for layer in &layers {
            assert_eq!(layer.extent, 4096);
            for f in &layer.features {
                assert!(
                    f.id.is_some_and(|id| id > 0),
                    "every feature carries its fid"
                );
            }
        }
        let sources = layers
            .iter()
            .find(|l| l.name == "pollution_sources")
            .expect("sources");
        let keys: Vec<&str> = sources.keys.iter().map(String::as_str).collect();
        if z >= 12 {
            for key in ["id", "name_zh", "permit_no", "credit_rating"] {
                assert!(keys.contains(&key), "z{z} full attributes: {keys:?}");
            }
        } else {
            assert!(
                !keys.contains(&"permit_no"),
                "z{z} keeps only low-zoom attributes: {keys:?}"
            );
            assert!(keys.contains(&"name_zh") && keys.contains(&"control_level"));
        }
    }
}

#[test]
fn composite_and_single_layer_tiles_agree() {
    let s = shared_server();
    let t = yibin(11);
    let (_, _, one) = get_bytes(&s.url(&tile_path("protection_zones", t)), &[]).expect("one");
    let (_, _, both) =
        get_bytes(&s.url(&tile_path("rivers,protection_zones", t)), &[]).expect("both");
    let one = decode(&one);
    let both = decode(&both);
    let zones = both
        .iter()
        .find(|l| l.name == "protection_zones")
        .expect("zones");
    assert_eq!(zones.features, one[0].features);
    for f in &zones.features {
        assert!(matches!(f.geometry, DecodedGeometry::Polygons(_)));
    }
}

#[test]
fn extensions_and_ogc_tiles_serve_the_same_bytes() {
    let s = shared_server();
    let t = yibin(12);
    let plain = get_bytes(&s.url(&tile_path("pollution_sources", t)), &[])
        .expect("plain")
        .2;
    for ext in [".mvt", ".pbf"] {
        let with = get_bytes(
            &s.url(&format!("{}{ext}", tile_path("pollution_sources", t))),
            &[],
        )
        .expect("ext")
        .2;
        assert_eq!(with, plain);
    }
    // OGC API Tiles orders the path z / row (y) / col (x).
    let ogc = format!(
        "/api/collections/pollution_sources/tiles/WebMercatorQuad/{}/{}/{}",
        t.z(),
        t.y(),
        t.x()
    );
    let (status, _, bytes) = get_bytes(&s.url(&ogc), &[]).expect("ogc");
    assert_eq!((status, bytes), (200, plain));

    let (_, sets) = get_json(&s.url("/api/collections/pollution_sources/tiles")).expect("tilesets");
    let links = sets["tilesets"][0]["links"].as_array().expect("links");
    assert!(links.iter().any(|l| l["href"]
        .as_str()
        .is_some_and(|h| h.ends_with("/{tileMatrix}/{tileRow}/{tileCol}"))));
    let (status, tms) = get_json(&s.url("/api/tileMatrixSets/WebMercatorQuad")).expect("tms");
    assert_eq!(status, 200);
    assert_eq!(tms["tileMatrices"].as_array().map(Vec::len), Some(23));
    let (status, _) =
        get_json(&s.url("/api/collections/rivers/tiles/WebMercatorQuad")).expect("tileset");
    assert_eq!(status, 200);
}

#[test]
fn tilejson_describes_the_layers() {
    let s = shared_server();
    let (status, tj) = get_json(&s.url("/tiles/pollution_sources,rivers")).expect("tilejson");
    assert_eq!(status, 200);
    assert_eq!(tj["tilejson"], "3.0.0");
    let template = tj["tiles"][0].as_str().expect("template");
    assert!(
        template.ends_with("/tiles/pollution_sources,rivers/{z}/{x}/{y}.mvt"),
        "{template}"
    );
    assert!(template.starts_with("http://"));
    let layers = tj["vector_layers"].as_array().expect("vector_layers");
    assert_eq!(layers.len(), 2);
    assert_eq!(layers[0]["fields"]["violations"], "Number");
    assert_eq!(layers[0]["fields"]["name_zh"], "String");
    let bounds = tj["bounds"].as_array().expect("bounds");
    let b: Vec<f64> = bounds
        .iter()
        .filter_map(serde_json::Value::as_f64)
        .collect();
    assert!(
        b[0] < 104.62 && b[2] > 104.62 && b[1] < 28.77 && b[3] > 28.77,
        "bounds hold Yibin: {b:?}"
    );
    assert!(tj["center"].as_array().is_some_and(|c| c.len() == 3));
    assert!(tj["attribution"]
        .as_str()
        .is_some_and(|a| a.contains("Natural Earth")));
    assert!(tj["minzoom"].is_number() && tj["maxzoom"].is_number());
}

#[test]
fn gzip_etag_and_empty_tiles() {
    let s = shared_server();
    let url = s.url(&tile_path("pollution_sources", yibin(10)));
    let (_, raw_headers, raw) = get_bytes(&url, &[]).expect("raw");
    assert!(raw_headers.get("content-encoding").is_none());
    let (status, headers, zipped) = get_bytes(&url, &[("accept-encoding", "gzip")]).expect("gzip");
    assert_eq!(status, 200);
    assert_eq!(headers["content-encoding"], "gzip");
    assert_eq!(gunzip(&zipped), raw);
    assert!(zipped.len() < raw.len());
    assert!(headers["cache-control"]
        .to_str()
        .is_ok_and(|c| c.contains("max-age")));

    let etag = raw_headers["etag"].to_str().expect("etag").to_string();
    let (status, _, body) = get_bytes(&url, &[("if-none-match", &etag)]).expect("304");
    assert_eq!((status, body.len()), (304, 0));

    // A tile in the middle of the Atlantic holds nothing: 204, no body.
    let (status, headers, body) =
        get_bytes(&s.url("/tiles/pollution_sources/6/20/25"), &[]).expect("empty");
    assert_eq!((status, body.len()), (204, 0));
    assert!(headers.get("etag").is_some());
}

#[test]
fn bad_tile_requests_are_problems() {
    let s = shared_server();
    for (path, status) in [
        ("/tiles/pollution_sources/23/0/0", 400),
        ("/tiles/pollution_sources/3/8/0", 400),
        ("/tiles/pollution_sources/3/0/8", 400),
        ("/tiles/pollution_sources/a/0/0", 400),
        ("/tiles/pollution_sources/3/-1/0", 400),
        ("/tiles/pollution_sources/3/0/0.png", 400),
        ("/tiles/pollution_sources,,rivers/3/0/0", 400),
        ("/tiles/pollution_sources,pollution_sources/3/0/0", 400),
        ("/tiles/no_such_layer/3/0/0", 404),
        ("/tiles/no_such_layer", 404),
        ("/api/collections/rivers/tiles/WorldCRS84Quad/0/0/0", 404),
        ("/api/collections/rivers/tiles/WebMercatorQuad/2/9/0", 400),
    ] {
        let (got, content_type, body) = get(&s.url(path)).expect("request");
        assert_eq!(got, status, "{path}: {body}");
        assert_eq!(content_type, "application/problem+json", "{path}");
    }
}

#[test]
fn a_layer_change_invalidates_its_tiles() {
    let s = TestServer::start().expect("server");
    let t = yibin(14);
    let url = s.url(&tile_path("pollution_sources", t));
    let (_, h1, before) = get_bytes(&url, &[]).expect("before");
    let _ = get_bytes(&url, &[]).expect("cached");
    let hits_before = s.state.tiles.stats().hits;
    assert!(hits_before >= 1, "the second request is a cache hit");

    // Move one source into the centre of this tile through the in-process API.
    let layer = s.state.atlas.layer("pollution_sources").expect("layer");
    let mut moved: Feature = layer.features()[0].clone();
    let centre = t.bounds_lonlat().center();
    moved.geometry = geo_types::Geometry::Point(geo_types::Point(centre));
    if let Some(p) = layer.schema.position("name_zh") {
        moved.properties[p] = Value::Text("示例移动测试".into());
    }
    let fid = u64::try_from(moved.fid).expect("fid");
    let version = s
        .state
        .apply_change(
            "pollution_sources",
            LayerChange {
                upserts: vec![moved],
                deletes: vec![],
            },
        )
        .expect("applied");
    assert!(version > layer.version);
    assert!(
        s.state.tiles.stats().invalidations >= 1,
        "cached tiles of the layer were dropped"
    );

    let (_, h2, after) = get_bytes(&url, &[]).expect("after");
    assert_ne!(
        h1["etag"], h2["etag"],
        "a new layer version gives a new ETag"
    );
    assert_ne!(before, after);
    let layers = decode(&after);
    assert!(
        layers[0].features.iter().any(|f| f.id == Some(fid)),
        "the moved feature is in the new tile"
    );

    let (_, _, metrics) = get(&s.url("/metrics")).expect("metrics");
    assert!(metrics.contains("envatlas_tile_cache_hits_total"));
    assert!(metrics.contains("envatlas_tile_cache_invalidations_total"));
    assert!(
        metrics.contains("route=\"/tiles/{layers}/{z}/{x}/{y}\""),
        "requests are labelled by route template"
    );
}
