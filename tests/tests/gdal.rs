//! GDAL, a client we did not write, reads our OGC API Features.
//!
//! `scripts/test` installs `gdal-bin`; without `ogrinfo` these tests fail (they
//! never skip), with a message saying how to get it.

use std::process::Command;

use envatlas_tests::{get_json, shared_server};

fn ogrinfo(args: &[&str]) -> String {
    let output = Command::new("ogrinfo")
        .args(args)
        .env("GDAL_HTTP_TIMEOUT", "60")
        .output()
        .unwrap_or_else(|e| {
            panic!("cannot run ogrinfo ({e}); install gdal-bin (scripts/test does)")
        });
    let stdout = String::from_utf8_lossy(&output.stdout).to_string();
    assert!(
        output.status.success(),
        "ogrinfo {args:?} failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    stdout
}

#[test]
fn ogrinfo_lists_every_collection() {
    let s = shared_server();
    let out = ogrinfo(&["-ro", "-so", &format!("OAPIF:{}/api", s.base_url)]);
    for id in envatlas_server::model::catalog::LAYER_IDS {
        assert!(out.contains(id), "ogrinfo did not list {id}:\n{out}");
    }
}

#[test]
fn ogrinfo_reads_features_in_a_bbox() {
    let s = shared_server();
    let (x0, y0, x1, y1) = ("104.4", "28.6", "104.9", "28.9");
    let (_, expected) = get_json(&s.url(&format!(
        "/api/collections/pollution_sources/items?bbox={x0},{y0},{x1},{y1}&limit=0"
    )))
    .expect("count");
    let expected = expected["numberMatched"].as_u64().expect("numberMatched");
    assert!(expected > 10, "the bbox should hold sources");
    let out = ogrinfo(&[
        "-ro",
        "-al",
        "-geom=NO",
        &format!("OAPIF:{}/api", s.base_url),
        "pollution_sources",
        "-spat",
        x0,
        y0,
        x1,
        y1,
    ]);
    let features = out
        .lines()
        .filter(|l| l.starts_with("OGRFeature(pollution_sources)"))
        .count() as u64;
    assert_eq!(
        features,
        expected,
        "ogrinfo read a different number of features:\n{}",
        &out[..out.len().min(2000)]
    );
    assert!(
        out.contains("name_zh (String)") || out.contains("name_zh"),
        "properties are visible to GDAL"
    );
    assert!(out.contains("示例"), "Chinese names survive the round trip");
}
