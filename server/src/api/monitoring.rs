//! Monitoring routes: `POST /api/monitoring/readings` (ingest), series, latest values,
//! exceedances, limits (GET/PUT) and `GET /api/events` (Server-Sent Events).

use std::collections::HashMap;
use std::convert::Infallible;
use std::time::Duration as StdDuration;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{header, StatusCode};
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value as JsonValue};
use time::format_description::well_known::Rfc3339;
use time::{Duration, OffsetDateTime};
use tokio::sync::broadcast;

use super::auth::WriteAccess;
use super::error::{problem, ApiError, RowProblem};
use super::extract::QueryPairs;
use crate::app::AppState;
use crate::model::reading::READING_KINDS;
use crate::monitoring::aggregate::{aggregate, Agg};
use crate::monitoring::events::rfc3339;
use crate::monitoring::exceedance::Observation;
use crate::monitoring::ingest::parse_rows;
use crate::monitoring::monitor::STATIONS;
use crate::store::monitoring::{Basis, ExceedanceQuery, IngestBatch, Limit, Period, SeriesQuery};

/// Most raw rows one series answer returns.
const MAX_SERIES_ROWS: usize = 200_000;

fn rows_problem(detail: &str, errors: Vec<RowProblem>) -> Response {
    problem(
        StatusCode::BAD_REQUEST,
        "invalid-rows",
        detail,
        json!({ "errors": errors }),
    )
}

fn json_array(body: &Bytes, what: &str) -> Result<Vec<JsonValue>, ApiError> {
    let value: JsonValue = serde_json::from_slice(body)
        .map_err(|e| ApiError::bad_request(format!("the body is not JSON: {e}")))?;
    match value {
        JsonValue::Array(rows) => Ok(rows),
        _ => Err(ApiError::bad_request(format!(
            "the body must be a JSON array of {what}"
        ))),
    }
}

/// `POST /api/monitoring/readings`: all rows valid, or a 400 listing every bad row.
pub async fn post_readings(
    _: WriteAccess,
    State(state): State<AppState>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let rows = json_array(&body, "readings")?;
    let m = &state.monitoring;
    let stations = m.stations();
    let readings = match parse_rows(&rows, |s| stations.contains(s)) {
        Ok(r) => r,
        Err(errors) => {
            return Ok(rows_problem(
                "some readings are invalid; nothing was stored",
                errors,
            ))
        }
    };
    let n = readings.len();
    // Rows carry no period: real-time kinds are instants, the others hourly values.
    let readings: Vec<Observation> = readings.into_iter().map(Observation::implied).collect();
    m.submit(IngestBatch {
        readings,
        ..IngestBatch::default()
    })
    .await
    .map_err(ApiError::Unavailable)?;
    Ok((StatusCode::OK, Json(json!({ "stored": n }))).into_response())
}

fn parse_time(q: &QueryPairs, name: &str) -> Result<Option<OffsetDateTime>, ApiError> {
    q.single(name)?
        .map(|t| {
            OffsetDateTime::parse(t, &Rfc3339).map_err(|_| {
                ApiError::bad_param(
                    name,
                    format!("{name} '{t}' must be RFC 3339 with an offset"),
                )
            })
        })
        .transpose()
}

/// `GET /api/monitoring/stations/{id}/series`.
pub async fn series(
    State(state): State<AppState>,
    Path(id): Path<String>,
    q: QueryPairs,
) -> Result<Response, ApiError> {
    let m = &state.monitoring;
    if m.station(&id).is_none() {
        return Err(ApiError::NotFound(format!("no monitoring station '{id}'")));
    }
    let pollutant = q
        .single("pollutant")?
        .ok_or_else(|| ApiError::bad_param("pollutant", "pollutant is required (e.g. w01018)"))?
        .to_string();
    let kind = q.single("kind")?.unwrap_or("avg").to_string();
    if !READING_KINDS.contains(&kind.as_str()) {
        return Err(ApiError::bad_param(
            "kind",
            format!("kind must be one of {}", READING_KINDS.join(", ")),
        ));
    }
    let period = series_period(&q, &kind)?;
    let to =
        parse_time(&q, "to")?.unwrap_or_else(|| OffsetDateTime::now_utc() + Duration::minutes(1));
    let from = parse_time(&q, "from")?.unwrap_or(to - Duration::hours(72));
    if from > to {
        return Err(ApiError::bad_param("from", "from is after to"));
    }
    let agg_text = q.single("agg")?.unwrap_or("raw");
    let agg = Agg::parse(agg_text)
        .ok_or_else(|| ApiError::bad_param("agg", "agg must be raw, hour or day"))?;
    let csv = match q.single("f")? {
        None | Some("json") => false,
        Some("csv") => true,
        Some(_) => return Err(ApiError::bad_param("f", "f must be json or csv")),
    };
    let rows =
        m.db.series(&SeriesQuery {
            station_id: id.clone(),
            pollutant: pollutant.clone(),
            kind: kind.clone(),
            period,
            from,
            to,
            limit: MAX_SERIES_ROWS + 1,
        })
        .await?;
    if rows.len() > MAX_SERIES_ROWS {
        return Err(ApiError::bad_param(
            "from",
            format!("more than {MAX_SERIES_ROWS} readings in the range; narrow it or aggregate"),
        ));
    }
    let limit = m
        .limits()
        .into_iter()
        .find(|l| l.station_id == id && l.pollutant == pollutant);
    let offset = crate::monitoring::hj212::time::parse_offset(&state.config.hj212.timezone)
        .unwrap_or(crate::monitoring::hj212::BEIJING);
    let mut csv_text = String::new();
    let points: Vec<JsonValue> = if agg == Agg::Raw {
        csv_text.push_str("time,value,flag\n");
        rows.iter()
            .map(|r| {
                csv_text.push_str(&format!("{},{},{}\n", rfc3339(r.time), r.value, r.flag));
                json!({"time": rfc3339(r.time), "value": r.value, "flag": r.flag})
            })
            .collect()
    } else {
        csv_text.push_str("time,mean,min,max,count\n");
        aggregate(&rows, agg, offset)
            .into_iter()
            .map(|b| {
                let t = rfc3339(b.start);
                csv_text.push_str(&format!("{t},{},{},{},{}\n", b.mean, b.min, b.max, b.count));
                json!({"time": t, "mean": b.mean, "min": b.min, "max": b.max, "count": b.count})
            })
            .collect()
    };
    if csv {
        return Ok((
            [(header::CONTENT_TYPE, "text/csv; charset=utf-8")],
            csv_text,
        )
            .into_response());
    }
    Ok(Json(json!({
        "station_id": id,
        "pollutant": pollutant,
        "kind": kind,
        "period": period.map(Period::as_str),
        "agg": agg_text,
        "from": rfc3339(from),
        "to": rfc3339(to),
        "limit": limit.as_ref().map(|l| json!({"value": l.value, "unit": l.unit, "basis": l.basis, "ref_o2": l.ref_o2, "standard": l.standard})),
        "points": points,
    }))
    .into_response())
}

/// Which period of `kind` a series reads (`period=minute|hour|day`; see
/// `Period`): the contracts' kinds do not tell minute, hourly and daily averages
/// apart, so without the parameter an interval kind means hourly values (as in the
/// HTTP ingest and the data directory) and a real-time kind its instants.
fn series_period(q: &QueryPairs, kind: &str) -> Result<Option<Period>, ApiError> {
    let realtime = Period::implied_by(kind) == Period::Instant;
    match q.single("period")? {
        None if realtime => Ok(None),
        None => Ok(Some(Period::Hour)),
        Some(text) => match Period::parse(text) {
            Some(Period::Instant) if realtime => Ok(None),
            Some(p) if !realtime && p != Period::Instant => Ok(Some(p)),
            _ => Err(ApiError::bad_param(
                "period",
                if realtime {
                    format!("period of kind {kind} can only be instant")
                } else {
                    format!("period of kind {kind} must be minute, hour or day")
                },
            )),
        },
    }
}

fn county_filter(q: &QueryPairs) -> Result<Option<String>, ApiError> {
    let c = q.single("county")?;
    if let Some(c) = c {
        if c.len() != 6 || !c.bytes().all(|b| b.is_ascii_digit()) {
            return Err(ApiError::bad_param(
                "county",
                format!("county '{c}' must be a 6-digit adcode"),
            ));
        }
    }
    Ok(c.map(str::to_string))
}

/// `GET /api/monitoring/latest[?county=]`: the newest value of every pollutant and kind
/// of each station (stations without readings are listed with none).
pub async fn latest(State(state): State<AppState>, q: QueryPairs) -> Result<Response, ApiError> {
    let county = county_filter(&q)?;
    let m = &state.monitoring;
    let limits: HashMap<(String, String), Limit> = m
        .limits()
        .into_iter()
        .map(|l| ((l.station_id.clone(), l.pollutant.clone()), l))
        .collect();
    let mut by_station: HashMap<String, Vec<JsonValue>> = HashMap::new();
    for r in m.db.latest().await? {
        let limit = limits
            .get(&(r.station_id.clone(), r.pollutant.clone()))
            .map(|l| l.value);
        by_station
            .entry(r.station_id.clone())
            .or_default()
            .push(json!({
                "pollutant": r.pollutant, "kind": r.kind, "time": rfc3339(r.time),
                "value": r.value, "flag": r.flag, "limit": limit,
            }));
    }
    let Some(layer) = state.atlas.layer(STATIONS) else {
        return Ok(Json(json!({ "stations": [] })).into_response());
    };
    let schema = &layer.schema;
    let stations: Vec<JsonValue> = layer
        .features()
        .iter()
        .filter(|f| {
            county
                .as_deref()
                .is_none_or(|c| f.text(schema, "county") == c)
        })
        .map(|f| {
            let id = f.id.to_string();
            let values = by_station.remove(&id).unwrap_or_default();
            let source = Some(f.text(schema, "source_id")).filter(|s| !s.is_empty());
            json!({
                "station_id": id,
                "name_zh": f.text(schema, "name_zh"),
                "name_en": f.text(schema, "name_en"),
                "kind": f.text(schema, "kind"),
                "source_id": source,
                "county": f.text(schema, "county"),
                "status": m.station_status(&f.id).as_str(),
                "values": values,
            })
        })
        .collect();
    Ok(Json(json!({ "stations": stations })).into_response())
}

/// `GET /api/monitoring/exceedances?from=&to=&county=&status=open`.
pub async fn exceedances(
    State(state): State<AppState>,
    q: QueryPairs,
) -> Result<Response, ApiError> {
    let county = county_filter(&q)?;
    let open_only = match q.single("status")? {
        None | Some("all") => false,
        Some("open") => true,
        Some(_) => return Err(ApiError::bad_param("status", "status must be open or all")),
    };
    let from = parse_time(&q, "from")?;
    let to = parse_time(&q, "to")?;
    let limit =
        super::extract::parse_limit(q.single("limit")?, 1000, state.config.limits.items_max)?;
    let m = &state.monitoring;
    let rows =
        m.db.exceedances(&ExceedanceQuery {
            from,
            to,
            open_only,
            limit: if county.is_some() { usize::MAX } else { limit },
        })
        .await?;
    let now = OffsetDateTime::now_utc();
    let index = m.stations();
    let list: Vec<JsonValue> = rows
        .into_iter()
        .filter_map(|e| {
            let info = index.station(&e.station_id);
            let c = info.map(|i| i.county.clone()).unwrap_or_default();
            if county.as_deref().is_some_and(|want| want != c) {
                return None;
            }
            let end = e.end.unwrap_or(now);
            Some(json!({
                "station_id": e.station_id,
                "source_id": info.and_then(|i| i.source_id.clone()),
                "county": c,
                "pollutant": e.pollutant,
                "status": if e.end.is_some() { "closed" } else { "open" },
                "start": rfc3339(e.start),
                "end": e.end.map(rfc3339),
                "duration_s": (end - e.start).whole_seconds(),
                "peak": e.peak,
                "peak_time": rfc3339(e.peak_time),
                "limit": e.limit,
                "unit": e.unit,
                "basis": e.basis,
            }))
        })
        .take(limit)
        .collect();
    Ok(Json(json!({ "exceedances": list })).into_response())
}

/// `GET /api/monitoring/limits`.
pub async fn get_limits(State(state): State<AppState>) -> Result<Response, ApiError> {
    let limits = state.monitoring.db.limits().await?;
    Ok(Json(json!({ "limits": limits })).into_response())
}

fn parse_limit(row: &JsonValue, known: impl Fn(&str) -> bool) -> Result<Limit, String> {
    let limit: Limit = serde_json::from_value(row.clone()).map_err(|e| e.to_string())?;
    if !known(&limit.station_id) {
        return Err(format!("unknown station '{}'", limit.station_id));
    }
    if !(limit.value.is_finite() && limit.value > 0.0) {
        return Err("value must be a positive number".into());
    }
    if limit.ref_o2.is_some_and(|o| !(0.0..21.0).contains(&o)) {
        return Err("ref_o2 must be between 0 and 21 (%)".into());
    }
    if limit.pollutant.is_empty() || limit.unit.is_empty() {
        return Err("pollutant and unit must not be empty".into());
    }
    let _: Basis = limit.basis;
    Ok(limit)
}

/// `PUT /api/monitoring/limits`: a JSON array of limits, each inserted or replaced
/// (by station and pollutant); all valid or a 400 listing every bad row.
pub async fn put_limits(
    _: WriteAccess,
    State(state): State<AppState>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let rows = json_array(&body, "limits")?;
    let m = &state.monitoring;
    let mut good = Vec::new();
    let mut errors = Vec::new();
    let stations = m.stations();
    for (index, row) in rows.iter().enumerate() {
        match parse_limit(row, |s| stations.contains(s)) {
            Ok(l) => good.push(l),
            Err(reason) => errors.push(RowProblem { index, reason }),
        }
    }
    if !errors.is_empty() {
        return Ok(rows_problem(
            "some limits are invalid; nothing was stored",
            errors,
        ));
    }
    m.db.put_limits(&good).await?;
    m.set_limits(&good);
    Ok(Json(json!({ "stored": good.len() })).into_response())
}

/// `GET /api/events`: Server-Sent Events with keep-alive comments.
pub async fn events(State(state): State<AppState>) -> impl IntoResponse {
    let rx = state.monitoring.events.subscribe();
    let stream = futures_util::stream::unfold(rx, |mut rx| async move {
        loop {
            match rx.recv().await {
                Ok(e) => {
                    let data = serde_json::to_string(&e.data).unwrap_or_default();
                    let event = SseEvent::default().event(e.kind.name()).data(data);
                    return Some((Ok::<_, Infallible>(event), rx));
                }
                // A slow client lost some events; carry on with the next.
                Err(broadcast::error::RecvError::Lagged(_)) => continue,
                Err(broadcast::error::RecvError::Closed) => return None,
            }
        }
    });
    Sse::new(stream).keep_alive(
        KeepAlive::new()
            .interval(StdDuration::from_secs(15))
            .text("keep-alive"),
    )
}
