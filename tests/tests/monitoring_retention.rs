//! Retention: with `[monitoring] retention_days` set, readings older than that
//! are deleted (the first pass runs at start-up), newer ones stay.

use std::time::{Duration, Instant};

use envatlas_tests::{get_json, TestServer};
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

fn points(s: &TestServer, from: OffsetDateTime, to: OffsetDateTime) -> usize {
    let url = s.url(&format!(
        "/api/monitoring/stations/ms-0001/series?pollutant=w01018&kind=avg&from={}&to={}",
        from.format(&Rfc3339).expect("time"),
        to.format(&Rfc3339).expect("time"),
    ));
    let (status, body) = get_json(&url).expect("series");
    assert_eq!(status, 200, "{body}");
    body["points"].as_array().map(Vec::len).expect("points")
}

#[test]
fn readings_older_than_the_retention_are_deleted_and_newer_ones_kept() {
    // The sample's 30 days of readings end at the seeding time.
    let s = TestServer::start_with(|c| c.monitoring.retention_days = 10).expect("server");
    let now = OffsetDateTime::now_utc();
    let day = time::Duration::days(1);
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let old = points(&s, now - 30 * day, now - 11 * day);
        if old == 0 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "{old} readings older than 10 days remain"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    let recent = points(&s, now - 9 * day, now);
    assert!(recent > 100, "recent readings kept: {recent}");
}
