//! `envatlas simulate --hj212 HOST:PORT [--stations N] [--interval S]`: devices for
//! demos and load tests. Each of the first N sample stations (their MNs from
//! `<data-dir>/layers/monitoring_stations.geojson`) sends a 2011 real-time upload every
//! interval, a 2051 minute upload every 10th and a 2061 hourly upload every 60th,
//! each asking for a data reply. Stations share a few connections; a connection keeps
//! up to [`WINDOW`] uploads in flight (pipelining) and counts the 9014 replies.
//!
//! With `--interval 0` the devices send as fast as the replies allow, each upload one
//! simulated second after the previous one (so every reading is a new row): the load
//! generator of `scripts/bench monitoring`.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use time::{OffsetDateTime, PrimitiveDateTime};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::Semaphore;

use super::hj212::command::{DataCommand, CN_DATA_REPLY};
use super::hj212::time::to_local;
use super::hj212::{
    split_packet, Cp, FrameDecoder, FrameEvent, Mode, Packet, PollutantValues, ReadingKind,
    BEIJING, MAX_SEGMENT,
};

/// Uploads in flight per connection.
pub const WINDOW: usize = 64;

#[derive(Debug, Clone)]
pub struct SimulateOptions {
    pub target: String,
    pub stations: usize,
    /// Seconds between real-time uploads of a station; 0 = as fast as possible.
    pub interval_s: f64,
    pub data_dir: PathBuf,
    /// Stop after this long (default: run until interrupted, or 10 s at interval 0).
    pub duration_s: Option<f64>,
    pub connections: usize,
    pub seed: u64,
}

#[derive(Debug, Default, Clone, PartialEq)]
pub struct SimulateReport {
    pub stations: usize,
    pub packets: u64,
    pub replies: u64,
    pub readings: u64,
    pub elapsed_s: f64,
}

impl SimulateReport {
    /// Acknowledged readings per second.
    pub fn readings_per_s(&self) -> f64 {
        if self.elapsed_s > 0.0 && self.packets > 0 {
            self.readings as f64 * (self.replies as f64 / self.packets as f64) / self.elapsed_s
        } else {
            0.0
        }
    }
}

impl std::fmt::Display for SimulateReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "stations {} packets {} replies {} readings {} elapsed {:.2} s acknowledged readings/s {:.0}",
            self.stations,
            self.packets,
            self.replies,
            self.readings,
            self.elapsed_s,
            self.readings_per_s()
        )
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SimulateError {
    #[error("reading stations from {path}: {reason}")]
    Stations { path: String, reason: String },
    #[error("connecting to {target}: {source}")]
    Connect {
        target: String,
        source: std::io::Error,
    },
    #[error("{0}")]
    Encode(String),
}

/// A simulated device.
#[derive(Debug, Clone, PartialEq)]
pub struct Device {
    pub station_id: String,
    pub mn: String,
    pub kind: String,
    pub pollutants: Vec<String>,
}

/// The stations of a data directory that have an MN, in file order.
pub fn devices(data_dir: &Path) -> Result<Vec<Device>, SimulateError> {
    let path = data_dir.join("layers").join("monitoring_stations.geojson");
    let bad = |reason: String| SimulateError::Stations {
        path: path.display().to_string(),
        reason,
    };
    let text = std::fs::read_to_string(&path).map_err(|e| bad(e.to_string()))?;
    let doc: serde_json::Value = serde_json::from_str(&text).map_err(|e| bad(e.to_string()))?;
    let features = doc["features"]
        .as_array()
        .ok_or_else(|| bad("no features".into()))?;
    Ok(features
        .iter()
        .filter_map(|f| {
            let p = &f["properties"];
            let mn = p["mn"].as_str().filter(|s| !s.is_empty())?;
            Some(Device {
                station_id: p["id"]
                    .as_str()
                    .or_else(|| f["id"].as_str())
                    .unwrap_or_default()
                    .to_string(),
                mn: mn.to_string(),
                kind: p["kind"].as_str().unwrap_or_default().to_string(),
                pollutants: p["pollutants"]
                    .as_str()
                    .unwrap_or_default()
                    .split(',')
                    .filter(|s| !s.is_empty())
                    .map(str::to_string)
                    .collect(),
            })
        })
        .collect())
}

/// A plausible value: (mean, spread) by pollutant.
fn typical(pollutant: &str) -> (f64, f64) {
    match pollutant {
        "w01018" => (30.0, 6.0),
        "w21003" => (2.0, 0.6),
        "w21011" => (0.15, 0.05),
        "w21001" => (8.0, 2.0),
        "w01001" => (7.4, 0.3),
        "w00000" => (45.0, 10.0),
        "a21026" => (25.0, 6.0),
        "a21002" => (40.0, 8.0),
        "a34013" => (6.0, 1.5),
        "a19001" => (9.5, 0.8),
        "a34002" => (60.0, 15.0),
        "a34004" => (35.0, 10.0),
        "a21005" => (0.8, 0.2),
        "a05024" => (90.0, 20.0),
        _ => (10.0, 2.0),
    }
}

fn st_of(device: &Device) -> &'static str {
    let air = device.pollutants.iter().any(|p| p.starts_with('a'));
    let water = device.pollutants.iter().any(|p| p.starts_with('w'));
    match device.kind.as_str() {
        "air_quality" => "22",
        "water_section" => "21",
        _ if air && !water => "31",
        _ => "32",
    }
}

/// The upload of a device for a command at a local time, as framed lines.
pub fn upload_frames(
    device: &Device,
    command: DataCommand,
    at: PrimitiveDateTime,
    rng: &mut ChaCha8Rng,
) -> Result<(Vec<String>, u64), SimulateError> {
    let flue = device.pollutants.iter().any(|p| p == "a19001");
    let mut cp = Cp {
        data_time: Some(at),
        ..Cp::default()
    };
    let mut readings = 0;
    for code in &device.pollutants {
        let (mean, spread) = typical(code);
        let v = (mean + spread * (rng.gen::<f64>() * 2.0 - 1.0)).max(0.0);
        let v = (v * 100.0).round() / 100.0;
        let mut p = PollutantValues::new(code.clone());
        let converted = flue && (code.starts_with("a2") || code == "a34013");
        p.values = match command {
            DataCommand::RealTime => {
                let mut vals = vec![(ReadingKind::Rtd, v)];
                if converted {
                    vals.push((ReadingKind::ZsRtd, (v * 1.2 * 100.0).round() / 100.0));
                }
                vals
            }
            _ => {
                let mut vals = vec![
                    (ReadingKind::Min, (v * 0.9 * 100.0).round() / 100.0),
                    (ReadingKind::Avg, v),
                    (ReadingKind::Max, (v * 1.1 * 100.0).round() / 100.0),
                ];
                if converted {
                    vals.push((ReadingKind::ZsAvg, (v * 1.2 * 100.0).round() / 100.0));
                }
                vals
            }
        };
        readings += p.values.len() as u64;
        p.flag = Some("N".into());
        cp.pollutants.push(p);
    }
    let packet = Packet::upload(st_of(device), command, "123456", &device.mn, at, cp);
    let parts =
        split_packet(&packet, MAX_SEGMENT).map_err(|e| SimulateError::Encode(e.to_string()))?;
    let frames = parts
        .iter()
        .map(|p| p.encode().map_err(|e| SimulateError::Encode(e.to_string())))
        .collect::<Result<Vec<_>, _>>()?;
    Ok((frames, readings))
}

#[derive(Default)]
struct Tally {
    packets: AtomicU64,
    replies: AtomicU64,
    readings: AtomicU64,
}

/// Runs the simulation and reports what was sent and acknowledged.
pub async fn run(options: &SimulateOptions) -> Result<SimulateReport, SimulateError> {
    let all = devices(&options.data_dir)?;
    let chosen: Vec<Device> = all.into_iter().take(options.stations.max(1)).collect();
    let connections = options.connections.clamp(1, chosen.len().max(1));
    let duration = options
        .duration_s
        .or((options.interval_s <= 0.0).then_some(10.0))
        .map(Duration::from_secs_f64);
    let tally = Arc::new(Tally::default());
    let started = Instant::now();
    let mut tasks = Vec::new();
    for c in 0..connections {
        let group: Vec<Device> = chosen
            .iter()
            .skip(c)
            .step_by(connections)
            .cloned()
            .collect();
        let stream = TcpStream::connect(&options.target)
            .await
            .map_err(|source| SimulateError::Connect {
                target: options.target.clone(),
                source,
            })?;
        let tally = Arc::clone(&tally);
        let interval = options.interval_s;
        let seed = options.seed.wrapping_add(c as u64);
        tasks.push(tokio::spawn(connection(
            stream, group, interval, duration, seed, tally,
        )));
    }
    for t in tasks {
        let _ = t.await;
    }
    Ok(SimulateReport {
        stations: chosen.len(),
        packets: tally.packets.load(Ordering::Relaxed),
        replies: tally.replies.load(Ordering::Relaxed),
        readings: tally.readings.load(Ordering::Relaxed),
        elapsed_s: started.elapsed().as_secs_f64(),
    })
}

async fn connection(
    stream: TcpStream,
    devices: Vec<Device>,
    interval_s: f64,
    duration: Option<Duration>,
    seed: u64,
    tally: Arc<Tally>,
) {
    let _ = stream.set_nodelay(true);
    let (mut read, mut write) = stream.into_split();
    let window = Arc::new(Semaphore::new(WINDOW));
    let reader_window = Arc::clone(&window);
    let reader_tally = Arc::clone(&tally);
    let reader = tokio::spawn(async move {
        let mut decoder = FrameDecoder::new(Mode::Strict);
        let mut buf = vec![0u8; 16 * 1024];
        loop {
            let n = match read.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => n,
            };
            decoder.push(&buf[..n]);
            while let Some(ev) = decoder.next_event() {
                if let FrameEvent::Frame(f) = ev {
                    if Packet::parse(&f.segment, Mode::Strict)
                        .is_ok_and(|p| p.packet.cn == CN_DATA_REPLY)
                    {
                        reader_tally.replies.fetch_add(1, Ordering::Relaxed);
                        reader_window.add_permits(1);
                    }
                }
            }
        }
    });
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let started = Instant::now();
    let step = if interval_s > 0.0 { interval_s } else { 1.0 };
    let now = OffsetDateTime::now_utc();
    // HJ 212 stamps are whole seconds.
    let now = now.replace_nanosecond(0).unwrap_or(now);
    let base = now - time::Duration::days(if interval_s > 0.0 { 0 } else { 1 });
    let mut tick: u64 = 0;
    'outer: loop {
        if duration.is_some_and(|d| started.elapsed() >= d) {
            break;
        }
        let at = base + time::Duration::seconds((step * tick as f64).round() as i64);
        let local = to_local(at, BEIJING);
        let mut commands = vec![DataCommand::RealTime];
        if tick % 10 == 9 {
            commands.push(DataCommand::Minute);
        }
        if tick % 60 == 59 {
            commands.push(DataCommand::Hourly);
        }
        for d in &devices {
            for &cmd in &commands {
                let (frames, readings) = match upload_frames(d, cmd, local, &mut rng) {
                    Ok(f) => f,
                    Err(e) => {
                        tracing::warn!(station = %d.station_id, error = %e, "upload not encoded");
                        continue;
                    }
                };
                for frame in frames {
                    let Ok(permit) = window.acquire().await else {
                        break 'outer;
                    };
                    permit.forget();
                    if write.write_all(frame.as_bytes()).await.is_err() {
                        break 'outer;
                    }
                    tally.packets.fetch_add(1, Ordering::Relaxed);
                }
                tally.readings.fetch_add(readings, Ordering::Relaxed);
            }
        }
        tick += 1;
        if interval_s > 0.0 {
            let next = Duration::from_secs_f64(interval_s * tick as f64);
            if let Some(wait) = next.checked_sub(started.elapsed()) {
                tokio::time::sleep(wait).await;
            }
        }
    }
    // Wait (bounded) for the replies still in flight.
    let deadline = Instant::now() + Duration::from_secs(10);
    while tally.replies.load(Ordering::Relaxed) < tally.packets.load(Ordering::Relaxed)
        && Instant::now() < deadline
        && window.available_permits() < WINDOW
    {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let _ = write.shutdown().await;
    reader.abort();
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::monitoring::hj212::{data_upload, parse_packet};

    #[test]
    fn simulated_uploads_parse_back_strictly() {
        let device = Device {
            station_id: "ms-1".into(),
            mn: "511527320000000000000001".into(),
            kind: "source_online".into(),
            pollutants: [
                "w01018", "w21003", "w00000", "a21026", "a21002", "a34013", "a19001",
            ]
            .map(String::from)
            .to_vec(),
        };
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        let at = time::macros::datetime!(2026-11-01 08:00:00);
        for cmd in DataCommand::ALL {
            let (frames, readings) = upload_frames(&device, cmd, at, &mut rng).expect("frames");
            let mut decoder = FrameDecoder::new(Mode::Strict);
            let mut got = 0;
            for f in &frames {
                decoder.push(f.as_bytes());
            }
            while let Some(FrameEvent::Frame(f)) = decoder.next_event() {
                let p = parse_packet(&f.segment, Mode::Strict).expect("strict parse");
                assert!(p.warnings.is_empty(), "{:?}", p.warnings);
                got += data_upload(&p.packet, BEIJING).expect("data").records.len() as u64;
            }
            assert_eq!(got, readings, "{cmd:?}");
        }
    }
}
