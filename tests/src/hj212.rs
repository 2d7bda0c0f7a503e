//! HJ 212-2017 over TCP for tests: connecting to a server's listener, building
//! uploads, reading the server's replies, and the real `envatlas` binary run as a
//! separate process (for the SIGKILL durability tests).

use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use envatlas_server::monitoring::hj212::command::DataCommand;
use envatlas_server::monitoring::hj212::{data_reply, Cp, Packet, PollutantValues, ReadingKind};
use time::PrimitiveDateTime;

use crate::{get_json, TestServer};

/// The MN of ms-0001 in the sample: a sewage plant's online monitor (COD, NH3-N, flow).
pub const SAMPLE_MN: &str = "511527320000000000000001";

/// The HJ 212 address of a test server (started with `hj212_listen = 127.0.0.1:0`).
pub fn hj212_addr(s: &TestServer) -> SocketAddr {
    s.state.monitoring.hj212_addr.expect("hj212 listening")
}

/// A connection whose reads time out after `read_timeout` (so [`reply`] can poll).
pub fn connect_to(addr: SocketAddr, read_timeout: Duration) -> TcpStream {
    let stream = TcpStream::connect(addr).expect("connect");
    stream
        .set_read_timeout(Some(read_timeout))
        .expect("timeout");
    stream
}

/// A connection to a test server's HJ 212 listener.
pub fn connect(s: &TestServer, read_timeout: Duration) -> TcpStream {
    connect_to(hj212_addr(s), read_timeout)
}

/// An upload of `command` from `mn` at `at` (local time of the device, Beijing by
/// default), one value per pollutant, each flagged `N`, asking for a reply.
pub fn upload(
    command: DataCommand,
    mn: &str,
    at: PrimitiveDateTime,
    values: &[(&str, ReadingKind, f64)],
) -> Packet {
    let mut cp = Cp {
        data_time: Some(at),
        ..Cp::default()
    };
    for &(code, kind, v) in values {
        let mut p = PollutantValues::new(code);
        p.values = vec![(kind, v)];
        p.flag = Some("N".into());
        cp.pollutants.push(p);
    }
    Packet::upload("32", command, "123456", mn, at, cp)
}

/// A real-time COD (`w01018-Rtd`) upload.
pub fn rtd_upload(mn: &str, at: PrimitiveDateTime, value: f64) -> Packet {
    upload(
        DataCommand::RealTime,
        mn,
        at,
        &[("w01018", ReadingKind::Rtd, value)],
    )
}

/// The frame of a packet.
pub fn frame(p: &Packet) -> String {
    p.encode().expect("encode")
}

/// The next line the server sends, or `None` if the connection closes or `wait` passes.
pub fn reply(stream: &mut TcpStream, wait: Duration) -> Option<String> {
    let deadline = Instant::now() + wait;
    let mut got = Vec::new();
    let mut byte = [0u8; 1];
    while Instant::now() < deadline {
        match stream.read(&mut byte) {
            Ok(0) => return None,
            Ok(_) => {
                got.push(byte[0]);
                if got.ends_with(b"\r\n") {
                    return String::from_utf8(got).ok();
                }
            }
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
            Err(_) => return None,
        }
    }
    None
}

/// Sends `p` and checks that its exact 9014 reply comes back within `wait`.
pub fn acknowledged_within(stream: &mut TcpStream, p: &Packet, wait: Duration) -> bool {
    if stream.write_all(frame(p).as_bytes()).is_err() {
        return false;
    }
    reply(stream, wait) == data_reply(p).ok()
}

/// Sends `p` and checks that its exact 9014 reply comes back (5 s).
pub fn acknowledged(stream: &mut TcpStream, p: &Packet) -> bool {
    acknowledged_within(stream, p, Duration::from_secs(5))
}

/// The points of a station's series (`query`: `pollutant=…&kind=…&from=…&to=…`).
pub fn series_points(base_url: &str, station: &str, query: &str) -> Vec<serde_json::Value> {
    let (status, body) = get_json(&format!(
        "{base_url}/api/monitoring/stations/{station}/series?{query}"
    ))
    .expect("series");
    assert_eq!(status, 200, "{body}");
    body["points"].as_array().cloned().unwrap_or_default()
}

/// The `envatlas` binary, built (or brought up to date) first.
pub fn binary() -> PathBuf {
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

/// A TCP port free right now.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("port")
}

/// `envatlas serve` as a child process over `data_dir` (and, when given, a PostGIS
/// database), listening for HTTP on `http` and HJ 212 on `hj212`; returns once both
/// answer (at most 120 s).
pub fn spawn_server(
    bin: &Path,
    data_dir: &Path,
    database_url: Option<&str>,
    http: u16,
    hj212: u16,
) -> Child {
    let mut command = Command::new(bin);
    command
        .args(["serve", "--listen", &format!("127.0.0.1:{http}")])
        .args(["--hj212-listen", &format!("127.0.0.1:{hj212}")])
        .arg("--data-dir")
        .arg(data_dir)
        .env("RUST_LOG", "warn")
        .env_remove("ENVATLAS_DATABASE_URL")
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    if let Some(url) = database_url {
        command.args(["--database-url", url]);
    }
    let mut child = command.spawn().expect("spawn envatlas");
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(120) {
        if TcpStream::connect(("127.0.0.1", hj212)).is_ok()
            && get_json(&format!("http://127.0.0.1:{http}/health")).is_ok_and(|(s, _)| s == 200)
        {
            return child;
        }
        if let Ok(Some(status)) = child.try_wait() {
            panic!("the server exited while starting: {status}");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let _ = child.kill();
    let _ = child.wait();
    panic!("the server did not start");
}
