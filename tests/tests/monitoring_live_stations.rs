//! Stations and sources edited while the server runs are monitored at once: a
//! station created through the OGC API is found by its MN (its uploads are stored,
//! not quarantined) and its status, and its new source's, follow; a deleted
//! station's uploads are quarantined again.

use std::sync::atomic::Ordering;
use std::time::Duration;

use envatlas_tests::hj212::{self, acknowledged, rtd_upload};
use envatlas_tests::{get_json, poll_until, send, TestServer};
use serde_json::{json, Value};
use time::macros::datetime;

const TOKEN: &str = "test-token-live";
const MN: &str = "511500990000000000000777";

fn call(s: &TestServer, method: &str, path: &str, body: Option<&Value>) -> (u16, Value) {
    let bearer = format!("Bearer {TOKEN}");
    let (status, _, text) = send(
        method,
        &s.url(path),
        &[("authorization", bearer.as_str())],
        body,
    )
    .expect("request");
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

/// The stored `status` of a feature, read through the OGC API.
fn status_of(s: &TestServer, layer: &str, id: &str) -> String {
    let (code, body) =
        get_json(&s.url(&format!("/api/collections/{layer}/items/{id}"))).expect("get feature");
    assert_eq!(code, 200, "{body}");
    body["properties"]["status"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

fn quarantined(s: &TestServer) -> u64 {
    let rt = tokio::runtime::Runtime::new().expect("rt");
    rt.block_on(s.state.store.monitoring().quarantine_count())
        .expect("count")
}

#[test]
fn stations_created_and_deleted_while_running_are_followed() {
    let s = TestServer::start_with(|c| {
        c.hj212_listen = Some("127.0.0.1:0".into());
        c.write_token = Some(TOKEN.to_string());
    })
    .expect("server");
    let mut stream = hj212::connect(&s, Duration::from_millis(100));

    // Before the station exists, its MN is unknown: quarantined, acknowledged.
    let early = rtd_upload(MN, datetime!(2026-11-25 08:00:00), 1.0);
    assert!(acknowledged(&mut stream, &early));
    assert_eq!(quarantined(&s), 1);

    // A new source and its online monitor, created through the OGC API.
    let (code, source) = call(
        &s,
        "POST",
        "/api/collections/pollution_sources/items",
        Some(&json!({"type": "Feature",
            "geometry": {"type": "Point", "coordinates": [104.63, 28.77]},
            "properties": {"name_zh": "新建印染厂", "name_en": "New dyeing works",
                "industry_code": "1713", "control_level": "municipal", "county": "511502",
                "discharge": "water", "online_monitored": true, "violations": 0}})),
    );
    assert_eq!(code, 201, "{source}");
    let source_id = source["id"].as_str().expect("source id").to_string();
    let (code, station) = call(
        &s,
        "POST",
        "/api/collections/monitoring_stations/items",
        Some(&json!({"type": "Feature",
            "geometry": {"type": "Point", "coordinates": [104.631, 28.771]},
            "properties": {"name_zh": "新建印染厂在线监测", "name_en": "New dyeing works online monitor",
                "kind": "source_online", "mn": MN, "source_id": source_id,
                "pollutants": "w01018", "county": "511502"}})),
    );
    assert_eq!(code, 201, "{station}");
    let station_id = station["id"].as_str().expect("station id").to_string();
    assert_eq!(status_of(&s, "monitoring_stations", &station_id), "no_data");

    // Its uploads are now stored, not quarantined.
    let now = time::OffsetDateTime::now_utc().to_offset(time::macros::offset!(+8));
    let at = time::PrimitiveDateTime::new(now.date(), now.time())
        .replace_nanosecond(0)
        .expect("whole seconds");
    assert!(acknowledged(&mut stream, &rtd_upload(MN, at, 42.0)));
    assert_eq!(quarantined(&s), 1, "a known MN is not quarantined");
    let points = hj212::series_points(
        &s.url(""),
        &station_id,
        "pollutant=w01018&kind=rtd&from=2026-01-01T00:00:00Z&to=2027-12-31T00:00:00Z",
    );
    let values: Vec<f64> = points.iter().filter_map(|p| p["value"].as_f64()).collect();
    assert_eq!(values, vec![42.0]);

    // Its status, and its source's, follow (written through the store).
    let followed = poll_until(Duration::from_secs(20), || {
        let station = status_of(&s, "monitoring_stations", &station_id);
        let source = status_of(&s, "pollution_sources", &source_id);
        (station == "normal" && source == "normal").then_some(())
    });
    assert!(
        followed.is_some(),
        "station {}, source {}",
        status_of(&s, "monitoring_stations", &station_id),
        status_of(&s, "pollution_sources", &source_id)
    );

    // Deleted: no longer matched; its uploads are quarantined (and acknowledged).
    let (code, body) = call(
        &s,
        "DELETE",
        &format!("/api/collections/monitoring_stations/items/{station_id}"),
        None,
    );
    assert!(code == 204 || code == 200, "{code} {body}");
    let late = rtd_upload(MN, at + time::Duration::minutes(1), 43.0);
    assert!(acknowledged(&mut stream, &late));
    assert_eq!(
        quarantined(&s),
        2,
        "a deleted station's MN is unknown again"
    );
    assert_eq!(
        s.state
            .monitoring
            .counters
            .unknown_mn
            .load(Ordering::Relaxed),
        2
    );
    assert!(s.state.monitoring.station(&station_id).is_none());
}
