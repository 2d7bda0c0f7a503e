//! HJ 212-2017 over TCP against a real server: every CN, exact replies and CRC, split
//! packets, bad CRC, lenient cases, resynchronisation, unknown MNs, strict mode.

use std::io::Write;
use std::net::TcpStream;
use std::time::Duration;

use envatlas_server::monitoring::hj212::command::DataCommand;
use envatlas_server::monitoring::hj212::{
    crc16, data_reply, frame_segment, parse_packet, split_packet, Cp, Mode, Packet, ReadingKind,
};
use envatlas_tests::hj212::{self, reply, upload, SAMPLE_MN as MN};
use envatlas_tests::TestServer;
use time::macros::datetime;

/// ms-0001 of the sample: a sewage plant's online monitor (COD, NH3-N, flow).
const STATION: &str = "ms-0001";

fn server(mode: &str) -> TestServer {
    let mode = mode.to_string();
    TestServer::start_with(move |c| {
        c.hj212_listen = Some("127.0.0.1:0".into());
        c.hj212.mode = mode;
        c.hj212.idle_timeout_s = 5;
    })
    .expect("server")
}

fn connect(s: &TestServer) -> TcpStream {
    hj212::connect(s, Duration::from_millis(300))
}

fn series(
    s: &TestServer,
    pollutant: &str,
    kind: &str,
    from: &str,
    to: &str,
) -> Vec<serde_json::Value> {
    hj212::series_points(
        &s.url(""),
        STATION,
        &format!("pollutant={pollutant}&kind={kind}&from={from}&to={to}"),
    )
}

#[test]
fn every_data_command_is_stored_and_acknowledged_with_the_exact_reply() {
    let s = server("lenient");
    let mut stream = connect(&s);
    let at = datetime!(2026-11-01 08:00:00);
    // The kind and, for interval kinds, the period its series is read with.
    let cases = [
        (DataCommand::RealTime, ReadingKind::Rtd, "rtd"),
        (DataCommand::Minute, ReadingKind::Avg, "avg&period=minute"),
        (DataCommand::Hourly, ReadingKind::Max, "max&period=hour"),
        (DataCommand::Daily, ReadingKind::Min, "min&period=day"),
    ];
    for (i, (cmd, kind, _)) in cases.iter().enumerate() {
        let p = upload(*cmd, MN, at, &[("w01018", *kind, 10.0 + i as f64)]);
        stream
            .write_all(p.encode().expect("encode").as_bytes())
            .expect("send");
        let got = reply(&mut stream, Duration::from_secs(5)).expect("a reply");
        let expected = data_reply(&p).expect("reply");
        assert_eq!(got, expected);
        // The reply is QN=..;ST=91;CN=9014;PW=..;MN=..;Flag=4;CP=&&&& with the HJ 212 CRC.
        let segment = &got[6..got.len() - 6];
        assert_eq!(
            segment,
            format!(
                "QN={};ST=91;CN=9014;PW=123456;MN={MN};Flag=4;CP=&&&&",
                p.qn.clone().unwrap_or_default()
            )
        );
        assert_eq!(&got[2..6], format!("{:04}", segment.len()));
        assert_eq!(
            &got[got.len() - 6..got.len() - 2],
            format!("{:04X}", crc16(segment.as_bytes()))
        );
    }
    // 08:00 Beijing is 00:00 UTC.
    for (i, (_, _, kind)) in cases.iter().enumerate() {
        let points = series(
            &s,
            "w01018",
            kind,
            "2026-11-01T00:00:00Z",
            "2026-11-01T00:00:01Z",
        );
        assert_eq!(points.len(), 1, "{kind}: {points:?}");
        assert_eq!(points[0]["value"], 10.0 + i as f64);
        assert_eq!(points[0]["time"], "2026-11-01T00:00:00Z");
    }
    // 2021: facility states.
    let mut cp = Cp {
        data_time: Some(at),
        ..Cp::default()
    };
    cp.other.push(("SB1-RS".into(), "1".into()));
    cp.other.push(("SB2-RS".into(), "0".into()));
    let mut p = Packet::upload("32", DataCommand::RealTime, "123456", MN, at, cp);
    p.cn = 2021;
    stream
        .write_all(p.encode().expect("encode").as_bytes())
        .expect("send");
    assert_eq!(
        reply(&mut stream, Duration::from_secs(5)),
        Some(data_reply(&p).expect("reply"))
    );
    let rt = tokio::runtime::Runtime::new().expect("rt");
    let n = rt
        .block_on(s.state.store.monitoring().facility_count())
        .expect("count");
    assert_eq!(n, 2);
}

#[test]
fn the_standards_example_and_unknown_mns_are_quarantined_and_acknowledged() {
    let s = server("lenient");
    let mut stream = connect(&s);
    // The standard's own example (CN 1062 from an MN no station has): kept, acknowledged.
    let example = "##0101QN=20160801085857223;ST=32;CN=1062;PW=100000;MN=010000A8900016F000169DC0;Flag=5;CP=&&RtdInterval=30&&1C80\r\n";
    stream.write_all(example.as_bytes()).expect("send");
    let got = reply(&mut stream, Duration::from_secs(5)).expect("reply");
    assert!(got.contains("QN=20160801085857223;ST=91;CN=9014;PW=100000;MN=010000A8900016F000169DC0;Flag=4;CP=&&&&"), "{got}");
    let rt = tokio::runtime::Runtime::new().expect("rt");
    let db = s.state.store.monitoring();
    assert_eq!(rt.block_on(db.quarantine_count()).expect("count"), 1);
    assert_eq!(
        s.state
            .monitoring
            .counters
            .unknown_mn
            .load(std::sync::atomic::Ordering::Relaxed),
        1
    );
}

#[test]
fn bad_crc_is_refused_and_garbage_is_skipped() {
    let s = server("lenient");
    let mut stream = connect(&s);
    let at = datetime!(2026-11-02 08:00:00);
    let good = upload(
        DataCommand::RealTime,
        MN,
        at,
        &[("w01018", ReadingKind::Rtd, 21.0)],
    );
    let frame = good.encode().expect("encode");
    // Flip the CRC's last digit.
    let mut bad = frame.clone().into_bytes();
    let i = bad.len() - 3;
    bad[i] = if bad[i] == b'0' { b'1' } else { b'0' };
    stream.write_all(&bad).expect("send");
    assert_eq!(
        reply(&mut stream, Duration::from_millis(800)),
        None,
        "no reply to a bad CRC"
    );
    // Garbage, a length over 1024, then a valid frame: only the valid one is answered.
    stream
        .write_all(b"\x00\xffnoise##9999abc\r\n##12")
        .expect("send");
    stream.write_all(frame.as_bytes()).expect("send");
    assert_eq!(
        reply(&mut stream, Duration::from_secs(5)),
        Some(data_reply(&good).expect("reply"))
    );
    let points = series(
        &s,
        "w01018",
        "rtd",
        "2026-11-02T00:00:00Z",
        "2026-11-02T00:00:01Z",
    );
    assert_eq!(points.len(), 1);
    let c = &s.state.monitoring.counters;
    assert_eq!(c.bad_crc.load(std::sync::atomic::Ordering::Relaxed), 1);
    assert!(c.skipped_bytes.load(std::sync::atomic::Ordering::Relaxed) > 0);
}

#[test]
fn partial_frames_and_split_packets_are_put_together() {
    let s = server("lenient");
    let mut stream = connect(&s);
    let at = datetime!(2026-11-03 08:00:00);
    // One frame in three writes, with pauses.
    let p = upload(
        DataCommand::RealTime,
        MN,
        at,
        &[("w21003", ReadingKind::Rtd, 1.5)],
    );
    let frame = p.encode().expect("encode");
    for chunk in frame.as_bytes().chunks(frame.len() / 3 + 1) {
        stream.write_all(chunk).expect("send");
        stream.flush().expect("flush");
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(
        reply(&mut stream, Duration::from_secs(5)),
        Some(data_reply(&p).expect("reply"))
    );
    // A PNUM/PNO split: every part answered, every value stored.
    let values: Vec<(&str, ReadingKind, f64)> = vec![
        ("w01018", ReadingKind::Avg, 31.0),
        ("w21003", ReadingKind::Avg, 2.5),
        ("w00000", ReadingKind::Avg, 40.0),
        ("w21011", ReadingKind::Avg, 0.3),
        ("w21001", ReadingKind::Avg, 9.0),
    ];
    let whole = upload(DataCommand::Hourly, MN, at, &values);
    let parts = split_packet(&whole, 180).expect("split");
    assert!(parts.len() >= 2, "{}", parts.len());
    for part in &parts {
        stream
            .write_all(part.encode().expect("encode").as_bytes())
            .expect("send");
        assert_eq!(
            reply(&mut stream, Duration::from_secs(5)),
            Some(data_reply(part).expect("reply"))
        );
    }
    for (code, _, v) in values {
        let points = series(
            &s,
            code,
            "avg",
            "2026-11-03T00:00:00Z",
            "2026-11-03T00:00:01Z",
        );
        assert_eq!(points.len(), 1, "{code}");
        assert_eq!(points[0]["value"], v);
    }
}

#[test]
fn lenient_mode_accepts_lower_case_crc_wrong_length_and_2005_codes() {
    let s = server("lenient");
    let mut stream = connect(&s);
    let segment = format!("QN=20261104080000000;ST=32;CN=2011;PW=123456;MN={MN};Flag=5;CP=&&DataTime=20261104080000;011-Rtd=44.5,011-Flag=N&&");
    let lower = frame_segment(&segment).expect("frame").to_lowercase();
    // Only the CRC is lower-cased: restore the segment.
    let lower = format!(
        "##{:04}{segment}{}\r\n",
        segment.len(),
        &lower[lower.len() - 6..lower.len() - 2]
    );
    stream.write_all(lower.as_bytes()).expect("send");
    let expected =
        data_reply(&parse_packet(&segment, Mode::Lenient).expect("parse").packet).expect("reply");
    assert_eq!(
        reply(&mut stream, Duration::from_secs(5)),
        Some(expected.clone())
    );
    let points = series(
        &s,
        "w01018",
        "rtd",
        "2026-11-04T00:00:00Z",
        "2026-11-04T00:00:01Z",
    );
    assert_eq!(points.len(), 1, "the 2005 code 011 is COD w01018");
    // A wrong length field.
    let segment2 = segment
        .replace("44.5", "45.5")
        .replace("080000000", "080001000");
    let crc = format!("{:04X}", crc16(segment2.as_bytes()));
    let wrong = format!("##{:04}{segment2}{crc}\r\n", segment2.len() + 3);
    stream.write_all(wrong.as_bytes()).expect("send");
    assert!(
        reply(&mut stream, Duration::from_secs(5)).is_some(),
        "lenient: answered"
    );
    assert!(
        s.state
            .monitoring
            .counters
            .lenient
            .load(std::sync::atomic::Ordering::Relaxed)
            >= 2
    );

    // Strict mode refuses the wrong length.
    let strict = server("strict");
    let mut stream = connect(&strict);
    stream.write_all(wrong.as_bytes()).expect("send");
    assert_eq!(reply(&mut stream, Duration::from_millis(800)), None);
}

#[test]
fn simulator_uploads_are_all_acknowledged() {
    let s = server("lenient");
    let addr = s.state.monitoring.hj212_addr.expect("addr");
    let rt = tokio::runtime::Runtime::new().expect("rt");
    let options = envatlas_server::monitoring::simulate::SimulateOptions {
        target: addr.to_string(),
        stations: 20,
        interval_s: 0.0,
        data_dir: envatlas_tests::sample_dir(),
        duration_s: Some(1.0),
        connections: 4,
        seed: 7,
    };
    let report = rt
        .block_on(envatlas_server::monitoring::simulate::run(&options))
        .expect("simulate");
    assert!(report.packets > 20, "{report}");
    assert_eq!(report.replies, report.packets, "{report}");
}

#[test]
fn minute_hourly_and_daily_averages_at_the_same_time_are_all_kept() {
    let s = server("lenient");
    let mut stream = connect(&s);
    // 00:00 Beijing: the start of a minute interval, of an hour and of a day.
    let at = datetime!(2026-11-05 00:00:00);
    let sent = [
        (DataCommand::Minute, 11.0, "minute"),
        (DataCommand::Hourly, 22.0, "hour"),
        (DataCommand::Daily, 33.0, "day"),
    ];
    for (cmd, value, _) in sent {
        let p = upload(cmd, MN, at, &[("w01018", ReadingKind::Avg, value)]);
        assert!(hj212::acknowledged(&mut stream, &p), "{cmd:?}");
    }
    // 00:00 Beijing is 16:00 UTC the day before.
    let window = "from=2026-11-04T16:00:00Z&to=2026-11-04T16:00:01Z";
    for (cmd, value, period) in sent {
        let points = series(
            &s,
            "w01018",
            &format!("avg&period={period}"),
            "2026-11-04T16:00:00Z",
            "2026-11-04T16:00:01Z",
        );
        assert_eq!(points.len(), 1, "{cmd:?}: {points:?}");
        assert_eq!(points[0]["value"], value, "{cmd:?}");
        assert_eq!(points[0]["time"], "2026-11-04T16:00:00Z");
    }
    // Without `period`, an interval kind reads the hourly values (the contracts'
    // meaning of `avg`).
    let points = hj212::series_points(
        &s.url(""),
        STATION,
        &format!("pollutant=w01018&kind=avg&{window}"),
    );
    assert_eq!(points.len(), 1, "{points:?}");
    assert_eq!(points[0]["value"], 22.0);
    // A real-time kind has no other period.
    let (status, _) = envatlas_tests::get_json(&s.url(&format!(
        "/api/monitoring/stations/{STATION}/series?pollutant=w01018&kind=rtd&period=hour&{window}"
    )))
    .expect("series");
    assert_eq!(status, 400);
    // Stored with their periods, so a restart replays each with the right basis.
    let rt = tokio::runtime::Runtime::new().expect("rt");
    let stored = rt
        .block_on(
            s.state
                .store
                .monitoring()
                .readings_since(datetime!(2026-11-04 16:00 UTC)),
        )
        .expect("readings");
    let mut periods: Vec<&str> = stored
        .iter()
        .filter(|o| {
            let r = &o.reading;
            r.station_id == STATION
                && r.kind == "avg"
                && r.pollutant == "w01018"
                && r.time == datetime!(2026-11-04 16:00 UTC)
        })
        .map(|o| o.period.as_str())
        .collect();
    periods.sort_unstable();
    assert_eq!(periods, vec!["day", "hour", "minute"]);
}
