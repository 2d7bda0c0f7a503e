//! Acknowledged = committed, on both stores: the real binary ingests HJ 212 uploads
//! over TCP, is killed with SIGKILL mid-stream, restarts on the same data (directory
//! or PostGIS database), and every acknowledged reading is there.
//!
//! The PostGIS variant never skips: without `ENVATLAS_TEST_DATABASE_URL` it fails
//! (as every PostGIS test does, see `envatlas_tests::postgis`).

use std::io::Write;
use std::net::TcpStream;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use envatlas_server::monitoring::hj212::data_reply;
use envatlas_tests::hj212::{binary, frame, free_port, rtd_upload, spawn_server, SAMPLE_MN};
use envatlas_tests::{copy_sample, get_json, sample_dir, TestDatabase};

/// Sends uploads one after another; records the index of each acknowledged one.
fn ingest(port: u16, acked: Arc<Mutex<Vec<i64>>>, stop: Arc<AtomicBool>, first: i64) {
    let Ok(mut stream) = TcpStream::connect(("127.0.0.1", port)) else {
        return;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
    let base = time::macros::datetime!(2026-11-10 08:00:00);
    let mut i = first;
    while !stop.load(Ordering::Relaxed) {
        let p = rtd_upload(SAMPLE_MN, base + time::Duration::seconds(i), i as f64);
        if stream.write_all(frame(&p).as_bytes()).is_err() {
            return;
        }
        let Ok(expected) = data_reply(&p) else { return };
        let mut got = vec![0u8; expected.len()];
        if std::io::Read::read_exact(&mut stream, &mut got).is_err() || got != expected.as_bytes() {
            return;
        }
        if let Ok(mut a) = acked.lock() {
            a.push(i);
        }
        i += 1;
    }
}

/// Ingests from four devices, SIGKILLs the server mid-stream, restarts it on the
/// same store and checks that every acknowledged reading is stored.
fn every_acknowledged_reading_survives_sigkill_on(data_dir: &Path, database_url: Option<&str>) {
    let bin = binary();
    let (http, hj212) = (free_port(), free_port());
    let mut child = spawn_server(&bin, data_dir, database_url, http, hj212);
    let acked = Arc::new(Mutex::new(Vec::new()));
    let stop = Arc::new(AtomicBool::new(false));
    // Four devices at once (one connection each), so group commits hold several uploads.
    let clients: Vec<_> = (0..4)
        .map(|c| {
            let (acked, stop) = (Arc::clone(&acked), Arc::clone(&stop));
            std::thread::spawn(move || ingest(hj212, acked, stop, c * 1_000_000))
        })
        .collect();
    std::thread::sleep(Duration::from_millis(2500));
    // SIGKILL while the clients are still sending.
    child.kill().expect("kill -9");
    let _ = child.wait();
    stop.store(true, Ordering::Relaxed);
    for c in clients {
        let _ = c.join();
    }
    let acked: Vec<i64> = acked.lock().map(|a| a.clone()).unwrap_or_default();
    assert!(
        acked.len() > 20,
        "only {} uploads acknowledged",
        acked.len()
    );

    let mut child = spawn_server(&bin, data_dir, database_url, http, hj212);
    let answer = get_json(&format!(
        "http://127.0.0.1:{http}/api/monitoring/stations/ms-0001/series?pollutant=w01018&kind=rtd&from=2026-10-01T00:00:00Z&to=2026-12-31T00:00:00Z"
    ));
    let _ = child.kill();
    let _ = child.wait();
    let (status, body) = answer.expect("series");
    assert_eq!(status, 200);
    let stored: std::collections::HashSet<i64> = body["points"]
        .as_array()
        .expect("points")
        .iter()
        .filter_map(|p| p["value"].as_f64())
        .map(|v| v as i64)
        .collect();
    let missing: Vec<i64> = acked
        .iter()
        .copied()
        .filter(|i| !stored.contains(i))
        .collect();
    println!(
        "acknowledged {}, stored {}, missing {}",
        acked.len(),
        stored.len(),
        missing.len()
    );
    assert!(missing.is_empty(), "acknowledged but lost: {missing:?}");
}

#[test]
fn every_acknowledged_reading_survives_sigkill() {
    let dir = tempfile::tempdir().expect("tempdir");
    copy_sample(&sample_dir(), dir.path()).expect("copy sample");
    every_acknowledged_reading_survives_sigkill_on(dir.path(), None);
}

#[test]
fn every_acknowledged_reading_survives_sigkill_on_postgis() {
    // Fails (never skips) without ENVATLAS_TEST_DATABASE_URL.
    let database = TestDatabase::create().expect("test database");
    let dir = tempfile::tempdir().expect("tempdir");
    copy_sample(&sample_dir(), dir.path()).expect("copy sample");
    every_acknowledged_reading_survives_sigkill_on(dir.path(), Some(&database.url));
}
