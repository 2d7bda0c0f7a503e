//! Acknowledged = committed: the real binary ingests HJ 212 uploads over TCP, is killed
//! with SIGKILL mid-stream, restarts, and every acknowledged reading is there.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use envatlas_server::monitoring::hj212::command::DataCommand;
use envatlas_server::monitoring::hj212::{data_reply, Cp, Packet, PollutantValues, ReadingKind};
use envatlas_tests::{copy_sample, get_json, sample_dir};

const MN: &str = "511527320000000000000001";

/// The `envatlas` binary, built (or brought up to date) first.
fn binary() -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let status = Command::new(cargo)
        .args(["build", "-p", "envatlas-server", "--bin", "envatlas"])
        .current_dir(&root)
        .status()
        .expect("cargo build");
    assert!(status.success());
    root.join("target").join("debug").join("envatlas")
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("port")
}

fn serve(bin: &Path, dir: &Path, http: u16, hj212: u16) -> Child {
    let mut child = Command::new(bin)
        .args(["serve", "--listen", &format!("127.0.0.1:{http}")])
        .args(["--hj212-listen", &format!("127.0.0.1:{hj212}")])
        .arg("--data-dir")
        .arg(dir)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn envatlas");
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(120) {
        if TcpStream::connect(("127.0.0.1", hj212)).is_ok()
            && get_json(&format!("http://127.0.0.1:{http}/health")).is_ok_and(|(s, _)| s == 200)
        {
            return child;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let _ = child.kill();
    let _ = child.wait();
    panic!("the server did not start");
}

fn packet(i: i64) -> Packet {
    let base = time::macros::datetime!(2026-11-10 08:00:00);
    let at = base + time::Duration::seconds(i);
    let mut cp = Cp {
        data_time: Some(at),
        ..Cp::default()
    };
    let mut p = PollutantValues::new("w01018");
    p.values = vec![(ReadingKind::Rtd, i as f64)];
    p.flag = Some("N".into());
    cp.pollutants.push(p);
    Packet::upload("32", DataCommand::RealTime, "123456", MN, at, cp)
}

/// Sends uploads one after another; records the index of each acknowledged one.
fn ingest(port: u16, acked: Arc<Mutex<Vec<i64>>>, stop: Arc<AtomicBool>, first: i64) {
    let Ok(mut stream) = TcpStream::connect(("127.0.0.1", port)) else {
        return;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
    let mut i = first;
    while !stop.load(Ordering::Relaxed) {
        let p = packet(i);
        let Ok(frame) = p.encode() else { return };
        if stream.write_all(frame.as_bytes()).is_err() {
            return;
        }
        let Ok(expected) = data_reply(&p) else { return };
        let mut got = vec![0u8; expected.len()];
        if stream.read_exact(&mut got).is_err() || got != expected.as_bytes() {
            return;
        }
        if let Ok(mut a) = acked.lock() {
            a.push(i);
        }
        i += 1;
    }
}

#[test]
fn every_acknowledged_reading_survives_sigkill() {
    let bin = binary();
    let dir = tempfile::tempdir().expect("tempdir");
    copy_sample(&sample_dir(), dir.path()).expect("copy sample");
    let (http, hj212) = (free_port(), free_port());
    let mut child = serve(&bin, dir.path(), http, hj212);
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

    let mut child = serve(&bin, dir.path(), http, hj212);
    let (status, body) = get_json(&format!(
        "http://127.0.0.1:{http}/api/monitoring/stations/ms-0001/series?pollutant=w01018&kind=rtd&from=2026-10-01T00:00:00Z&to=2026-12-31T00:00:00Z"
    ))
    .expect("series");
    let _ = child.kill();
    let _ = child.wait();
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
