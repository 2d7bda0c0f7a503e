//! Monitoring over HTTP on both stores: ingest validation and idempotency, series
//! (raw, hourly, daily, CSV), latest, limits, exceedances, status propagation to the
//! OGC API, and the SSE event stream.

use std::io::{BufRead, BufReader};
use std::time::{Duration, Instant};

use envatlas_tests::{get, get_json, TestServer};
use serde_json::{json, Value};
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

const TOKEN: &str = "monitoring-test-token";

fn start(postgis: bool) -> TestServer {
    let adjust = |c: &mut envatlas_server::config::Config| {
        c.write_token = Some(TOKEN.into());
    };
    if postgis {
        TestServer::start_postgis_with(adjust).expect("postgis server")
    } else {
        TestServer::start_with(adjust).expect("server")
    }
}

fn send(
    s: &TestServer,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: &Value,
) -> (u16, Value) {
    let client = reqwest::blocking::Client::new();
    let mut req = match method {
        "PUT" => client.put(s.url(path)),
        _ => client.post(s.url(path)),
    };
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    let r = req.json(body).send().expect("request");
    let status = r.status().as_u16();
    (status, r.json().unwrap_or(Value::Null))
}

fn rfc(t: OffsetDateTime) -> String {
    t.format(&Rfc3339).expect("format")
}

fn reading(
    station: &str,
    pollutant: &str,
    kind: &str,
    t: OffsetDateTime,
    value: f64,
    flag: &str,
) -> Value {
    json!({"station_id": station, "pollutant": pollutant, "kind": kind, "time": rfc(t), "value": value, "flag": flag})
}

fn status_of(s: &TestServer, layer: &str, id: &str) -> String {
    let (_, item) =
        get_json(&s.url(&format!("/api/collections/{layer}/items/{id}"))).expect("item");
    item["properties"]["status"]
        .as_str()
        .unwrap_or("")
        .to_string()
}

/// Polls until the feature has the status; returns how long it took.
fn wait_status(s: &TestServer, layer: &str, id: &str, want: &str) -> Duration {
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(20) {
        if status_of(s, layer, id) == want {
            return started.elapsed();
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    panic!(
        "{layer}/{id} never became {want} (is {})",
        status_of(s, layer, id)
    );
}

fn ingest_validation_and_queries(s: &TestServer) {
    // On the hour, so that t0 + 20 min and t0 + 40 min fall in t0's hour.
    let t0 = (OffsetDateTime::now_utc() - time::Duration::days(3))
        .replace_minute(0)
        .and_then(|t| t.replace_second(0))
        .and_then(|t| t.replace_nanosecond(0))
        .expect("whole hour");
    let good = reading("ms-0113", "w01018", "rtd", t0, 12.0, "N");
    // Write access.
    assert_eq!(
        send(s, "POST", "/api/monitoring/readings", None, &json!([good])).0,
        401
    );
    assert_eq!(
        send(
            s,
            "POST",
            "/api/monitoring/readings",
            Some("wrong"),
            &json!([good])
        )
        .0,
        401
    );
    // Invalid rows: every one listed, nothing stored.
    let bad = json!([
        good,
        reading("ms-9999", "w01018", "rtd", t0, 1.0, "N"),
        {"station_id": "ms-0113", "pollutant": "w01018", "kind": "median", "time": rfc(t0), "value": 1.0},
        {"station_id": "ms-0113", "pollutant": "w01018", "kind": "rtd", "time": "2026-13-01", "value": 1.0},
        {"station_id": "ms-0113", "pollutant": "w01018", "kind": "rtd", "time": rfc(t0), "value": "x"},
    ]);
    let (status, problem) = send(s, "POST", "/api/monitoring/readings", Some(TOKEN), &bad);
    assert_eq!(status, 400, "{problem}");
    let idx: Vec<u64> = problem["errors"]
        .as_array()
        .expect("errors")
        .iter()
        .filter_map(|e| e["index"].as_u64())
        .collect();
    assert_eq!(idx, vec![1, 2, 3, 4], "{problem}");
    let series_url = |extra: &str| {
        s.url(&format!(
            "/api/monitoring/stations/ms-0113/series?pollutant=w01018&kind=rtd&from={}&to={}{extra}",
            rfc(t0 - time::Duration::hours(1)).replace('+', "%2B"),
            rfc(t0 + time::Duration::hours(3)).replace('+', "%2B"),
        ))
    };
    let (_, body) = get_json(&series_url("")).expect("series");
    assert_eq!(
        body["points"].as_array().map(Vec::len),
        Some(0),
        "nothing applied"
    );
    // Valid rows, twice: idempotent.
    let rows = json!([
        good,
        reading(
            "ms-0113",
            "w01018",
            "rtd",
            t0 + time::Duration::minutes(20),
            14.0,
            "N"
        ),
        reading(
            "ms-0113",
            "w01018",
            "rtd",
            t0 + time::Duration::minutes(40),
            16.0,
            "M"
        ),
        reading(
            "ms-0113",
            "w01018",
            "rtd",
            t0 + time::Duration::hours(1),
            20.0,
            "N"
        ),
    ]);
    let version = |id: &str| s.state.atlas.layer(id).map(|l| l.version);
    let before = (version("monitoring_stations"), version("pollution_sources"));
    for _ in 0..2 {
        let (status, body) = send(s, "POST", "/api/monitoring/readings", Some(TOKEN), &rows);
        assert_eq!(status, 200, "{body}");
    }
    // No status changed: the layers (and so their tiles) are untouched.
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(
        (version("monitoring_stations"), version("pollution_sources")),
        before
    );
    let (_, body) = get_json(&series_url("")).expect("series");
    assert_eq!(body["points"].as_array().map(Vec::len), Some(4), "{body}");
    assert_eq!(body["points"][2]["flag"], "M");
    // Hourly aggregates count N values only.
    let (_, body) = get_json(&series_url("&agg=hour")).expect("hourly");
    let points = body["points"].as_array().expect("points");
    let first_hour = &points[0];
    assert_eq!(first_hour["count"], 2, "{body}");
    assert_eq!(first_hour["mean"], 13.0);
    let (_, body) = get_json(&series_url("&agg=day")).expect("daily");
    let total: u64 = body["points"]
        .as_array()
        .expect("points")
        .iter()
        .filter_map(|p| p["count"].as_u64())
        .sum();
    assert_eq!(total, 3);
    let (status, ctype, csv) = get(&series_url("&f=csv")).expect("csv");
    assert_eq!(status, 200);
    assert!(ctype.starts_with("text/csv"));
    assert!(
        csv.starts_with("time,value,flag\n") && csv.lines().count() == 5,
        "{csv}"
    );
    // Parameters are named in 400s; unknown stations are 404s.
    let (status, body) =
        get_json(&s.url("/api/monitoring/stations/ms-0113/series?pollutant=w01018&agg=week"))
            .expect("bad agg");
    assert_eq!((status, body["parameter"].as_str()), (400, Some("agg")));
    assert_eq!(
        get(&s.url("/api/monitoring/stations/nope/series?pollutant=w01018"))
            .expect("404")
            .0,
        404
    );
    // Latest, filtered by county.
    let (status, body) = get_json(&s.url("/api/monitoring/latest?county=511502")).expect("latest");
    assert_eq!(status, 200);
    let stations = body["stations"].as_array().expect("stations");
    assert!(!stations.is_empty());
    assert!(stations.iter().all(|st| st["county"] == "511502"));
    let (status, _) = get_json(&s.url("/api/monitoring/latest?county=51")).expect("bad county");
    assert_eq!(status, 400);
    // Limits: read, edit, validation.
    let (_, limits) = get_json(&s.url("/api/monitoring/limits")).expect("limits");
    let limits = limits["limits"].as_array().expect("limits");
    assert!(limits
        .iter()
        .any(|l| l["station_id"] == "ms-0005" && l["pollutant"] == "a21026" && l["ref_o2"] == 6.0));
    let edit = json!([{"station_id": "ms-0113", "pollutant": "w21011", "value": 0.2, "unit": "mg/L", "standard": "GB 3838-2002 class III", "basis": "hourly", "ref_o2": null}]);
    assert_eq!(
        send(s, "PUT", "/api/monitoring/limits", Some(TOKEN), &edit).0,
        200
    );
    let (_, after) = get_json(&s.url("/api/monitoring/limits")).expect("limits");
    assert!(after["limits"]
        .as_array()
        .expect("limits")
        .iter()
        .any(|l| l["station_id"] == "ms-0113" && l["pollutant"] == "w21011"));
    let wrong = json!([{"station_id": "ms-0113", "pollutant": "w21011", "value": -1, "unit": "mg/L", "standard": "x", "basis": "weekly"}]);
    let (status, problem) = send(s, "PUT", "/api/monitoring/limits", Some(TOKEN), &wrong);
    assert_eq!(status, 400);
    assert_eq!(problem["errors"][0]["index"], 0);
}

/// A flue-gas monitor whose status is `normal` now, with its source.
fn normal_flue_station(s: &TestServer) -> (String, String) {
    let (_, body) = get_json(&s.url("/api/monitoring/latest")).expect("latest");
    body["stations"]
        .as_array()
        .expect("stations")
        .iter()
        .find(|st| {
            st["status"] == "normal"
                && st["values"]
                    .as_array()
                    .is_some_and(|v| v.iter().any(|r| r["pollutant"] == "a19001"))
        })
        .map(|st| {
            (
                st["station_id"].as_str().unwrap_or("").to_string(),
                st["source_id"].as_str().unwrap_or("").to_string(),
            )
        })
        .expect("a normal flue-gas station")
}

fn exceedance_status_and_events(s: &TestServer) -> Duration {
    let (station, source) = normal_flue_station(s);
    wait_status(s, "monitoring_stations", &station, "normal");
    // Subscribe to the events first.
    let (tx, rx) = std::sync::mpsc::channel::<(String, Value)>();
    let events_url = s.url("/api/events");
    std::thread::spawn(move || {
        let client = reqwest::blocking::Client::builder()
            .timeout(None::<Duration>)
            .build()
            .expect("client");
        let Ok(response) = client.get(events_url).send() else {
            return;
        };
        let mut name = String::new();
        for line in BufReader::new(response).lines() {
            let Ok(line) = line else { return };
            if let Some(n) = line.strip_prefix("event: ") {
                name = n.to_string();
            } else if let Some(d) = line.strip_prefix("data: ") {
                let data = serde_json::from_str(d).unwrap_or(Value::Null);
                if tx.send((name.clone(), data)).is_err() {
                    return;
                }
            }
        }
    });
    std::thread::sleep(Duration::from_millis(300));
    let t = OffsetDateTime::now_utc().replace_nanosecond(0).expect("ns");
    // 80 mg/m3 SO2 at 12 % O2 is 133.3 at the reference 6 %: above 100. A maintenance
    // (M) value far above counts for nothing.
    let rows = json!([
        reading(&station, "a21026", "avg", t, 80.0, "N"),
        reading(&station, "a19001", "avg", t, 12.0, "N"),
        reading(&station, "a21002", "avg", t, 900.0, "M"),
    ]);
    let sent = Instant::now();
    assert_eq!(
        send(s, "POST", "/api/monitoring/readings", Some(TOKEN), &rows).0,
        200
    );
    wait_status(s, "monitoring_stations", &station, "exceeding");
    let delay = sent.elapsed();
    wait_status(s, "pollution_sources", &source, "exceeding");
    let (name, data) = rx.recv_timeout(Duration::from_secs(10)).expect("an event");
    assert_eq!(name, "exceedance_opened");
    assert_eq!(data["station_id"], station.as_str());
    assert_eq!(data["source_id"], source.as_str());
    assert_eq!(data["pollutant"], "a21026");
    assert_eq!(data["limit"], 100.0);
    assert!(
        (data["value"].as_f64().unwrap_or(0.0) - 80.0 * 15.0 / 9.0).abs() < 1e-6,
        "{data}"
    );
    let (_, open) = get_json(&s.url("/api/monitoring/exceedances?status=open")).expect("open");
    let mine = open["exceedances"]
        .as_array()
        .expect("list")
        .iter()
        .find(|e| e["station_id"] == station.as_str() && e["pollutant"] == "a21026")
        .cloned()
        .expect("open exceedance");
    assert_eq!(mine["status"], "open");
    assert_eq!(mine["end"], Value::Null);
    // A compliant value an hour later closes it.
    let t2 = t + time::Duration::hours(1);
    let rows = json!([
        reading(&station, "a21026", "avg", t2, 40.0, "N"),
        reading(&station, "a19001", "avg", t2, 9.0, "N"),
    ]);
    assert_eq!(
        send(s, "POST", "/api/monitoring/readings", Some(TOKEN), &rows).0,
        200
    );
    wait_status(s, "monitoring_stations", &station, "normal");
    let (name, _) = rx.recv_timeout(Duration::from_secs(10)).expect("an event");
    assert_eq!(name, "exceedance_closed");
    let (_, all) = get_json(&s.url(&format!(
        "/api/monitoring/exceedances?from={}",
        rfc(t - time::Duration::minutes(1)).replace('+', "%2B")
    )))
    .expect("all");
    let closed = all["exceedances"]
        .as_array()
        .expect("list")
        .iter()
        .find(|e| e["station_id"] == station.as_str() && e["pollutant"] == "a21026")
        .cloned()
        .expect("closed");
    assert_eq!(closed["status"], "closed");
    assert_eq!(closed["duration_s"], 3600);
    delay
}

#[test]
fn embedded_store() {
    let s = start(false);
    ingest_validation_and_queries(&s);
    let delay = exceedance_status_and_events(&s);
    println!(
        "embedded: reading to visible status {} ms",
        delay.as_millis()
    );
    assert!(delay < Duration::from_secs(5), "{delay:?}");
}

#[test]
fn postgis_store() {
    let s = start(true);
    ingest_validation_and_queries(&s);
    let delay = exceedance_status_and_events(&s);
    println!(
        "postgis: reading to visible status {} ms",
        delay.as_millis()
    );
    assert!(delay < Duration::from_secs(5), "{delay:?}");
}

#[test]
fn stations_go_offline_and_back_online() {
    let s = TestServer::start_with(|c| {
        c.write_token = Some(TOKEN.into());
        c.monitoring.offline_after_s = 2;
    })
    .expect("server");
    // The sample's newest readings are as old as the seeding: every reporting station
    // without an open exceedance goes offline after 2 s.
    std::thread::sleep(Duration::from_secs(3));
    let (_, body) = get_json(&s.url("/api/monitoring/latest")).expect("latest");
    let station = body["stations"]
        .as_array()
        .expect("stations")
        .iter()
        .find(|st| st["status"] == "offline")
        .and_then(|st| st["station_id"].as_str())
        .expect("an offline station")
        .to_string();
    wait_status(&s, "monitoring_stations", &station, "offline");
    let t = OffsetDateTime::now_utc().replace_nanosecond(0).expect("ns");
    // pH has no limit: only the report matters.
    let rows = json!([reading(&station, "w01001", "avg", t, 7.2, "N")]);
    assert_eq!(
        send(&s, "POST", "/api/monitoring/readings", Some(TOKEN), &rows).0,
        200
    );
    wait_status(&s, "monitoring_stations", &station, "normal");
    wait_status(&s, "monitoring_stations", &station, "offline");
}
