//! Validation of HTTP-ingested readings (`POST /api/monitoring/readings`): every row
//! is checked and every problem reported (row index and reason); nothing is applied
//! unless all rows are valid.

use serde_json::Value as Json;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

use super::hj212::DATA_FLAGS;
use crate::api::error::RowProblem;
use crate::model::reading::READING_KINDS;
use crate::model::Reading;

/// Checks one row; `known_station` says whether a station id exists.
pub fn parse_row(row: &Json, known_station: impl Fn(&str) -> bool) -> Result<Reading, String> {
    let obj = row.as_object().ok_or("a row must be an object")?;
    for key in obj.keys() {
        if !["station_id", "pollutant", "kind", "time", "value", "flag"].contains(&key.as_str()) {
            return Err(format!("unknown field '{key}'"));
        }
    }
    let text = |k: &str| -> Result<&str, String> {
        obj.get(k)
            .and_then(Json::as_str)
            .filter(|s| !s.is_empty())
            .ok_or_else(|| format!("'{k}' must be a non-empty string"))
    };
    let station_id = text("station_id")?;
    if !known_station(station_id) {
        return Err(format!("unknown station '{station_id}'"));
    }
    let pollutant = text("pollutant")?;
    if pollutant.len() > 16 || !pollutant.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return Err(format!("'{pollutant}' is not an HJ 212 pollutant code"));
    }
    let kind = text("kind")?;
    if !READING_KINDS.contains(&kind) {
        return Err(format!(
            "kind '{kind}' is not one of {}",
            READING_KINDS.join(", ")
        ));
    }
    let time = OffsetDateTime::parse(text("time")?, &Rfc3339)
        .map_err(|_| "'time' must be RFC 3339 with an offset".to_string())?;
    let value = obj
        .get("value")
        .and_then(Json::as_f64)
        .filter(|v| v.is_finite())
        .ok_or("'value' must be a finite number")?;
    let flag = match obj.get("flag") {
        None | Some(Json::Null) => "N",
        Some(_) => text("flag")?,
    };
    if !DATA_FLAGS.iter().any(|(f, _)| *f == flag) {
        return Err(format!("flag '{flag}' is not an HJ 212 data flag"));
    }
    Ok(Reading {
        station_id: station_id.into(),
        pollutant: pollutant.into(),
        kind: kind.into(),
        time,
        value,
        flag: flag.into(),
    })
}

/// Every row, or every problem.
pub fn parse_rows(
    rows: &[Json],
    known_station: impl Fn(&str) -> bool,
) -> Result<Vec<Reading>, Vec<RowProblem>> {
    let mut good = Vec::with_capacity(rows.len());
    let mut problems = Vec::new();
    for (index, row) in rows.iter().enumerate() {
        match parse_row(row, &known_station) {
            Ok(r) => good.push(r),
            Err(reason) => problems.push(RowProblem { index, reason }),
        }
    }
    if problems.is_empty() {
        Ok(good)
    } else {
        Err(problems)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn every_bad_row_is_named() {
        let rows = vec![
            json!({"station_id": "ms-0001", "pollutant": "w01018", "kind": "avg",
                   "time": "2026-11-01T08:00:00+08:00", "value": 12.5, "flag": "N"}),
            json!({"station_id": "nope", "pollutant": "w01018", "kind": "avg",
                   "time": "2026-11-01T08:00:00+08:00", "value": 1}),
            json!({"station_id": "ms-0001", "pollutant": "w01018", "kind": "mean",
                   "time": "2026-11-01T08:00:00+08:00", "value": 1}),
            json!({"station_id": "ms-0001", "pollutant": "w01018", "kind": "avg",
                   "time": "yesterday", "value": 1}),
            json!({"station_id": "ms-0001", "pollutant": "w01018", "kind": "avg",
                   "time": "2026-11-01T08:00:00Z", "value": "1"}),
            json!({"station_id": "ms-0001", "pollutant": "w01018", "kind": "avg",
                   "time": "2026-11-01T08:00:00Z", "value": 1, "flag": "X"}),
        ];
        let problems = parse_rows(&rows, |s| s == "ms-0001").expect_err("bad rows");
        let idx: Vec<usize> = problems.iter().map(|p| p.index).collect();
        assert_eq!(idx, vec![1, 2, 3, 4, 5]);
        assert!(problems[0].reason.contains("unknown station"));
        assert!(problems[1].reason.contains("kind"));
        let ok = parse_rows(&rows[..1], |s| s == "ms-0001").expect("good row");
        assert_eq!(ok[0].time, time::macros::datetime!(2026-11-01 00:00 UTC));
    }
}
