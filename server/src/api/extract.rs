//! Request extractors that validate input and answer problem+json when it is
//! malformed: query pairs, the base URL for links, and parameter parsers
//! ([`parse_bbox`], [`parse_limit`], [`parse_datetime`]).

use axum::extract::{FromRequestParts, Query};
use axum::http::request::Parts;
use geo_types::{coord, Rect};
use time::format_description::well_known::Rfc3339;
use time::macros::format_description;
use time::{Date, OffsetDateTime};

use super::error::ApiError;

/// The query string as ordered key/value pairs (repeated keys kept).
#[derive(Debug, Clone, Default)]
pub struct QueryPairs(pub Vec<(String, String)>);

impl QueryPairs {
    /// The value of a parameter; a repeated parameter is a 400.
    pub fn single(&self, name: &str) -> Result<Option<&str>, ApiError> {
        let mut values = self
            .0
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.as_str());
        let first = values.next();
        if values.next().is_some() {
            return Err(ApiError::bad_param(
                name,
                format!("parameter '{name}' is given more than once"),
            ));
        }
        Ok(first)
    }
}

impl<S: Send + Sync> FromRequestParts<S> for QueryPairs {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let Query(pairs) = Query::<Vec<(String, String)>>::from_request_parts(parts, state)
            .await
            .map_err(|e| ApiError::bad_request(format!("malformed query string: {e}")))?;
        Ok(QueryPairs(pairs))
    }
}

/// `scheme://host` of this request, for absolute links (honours
/// `X-Forwarded-Proto` and `X-Forwarded-Host` from a reverse proxy).
#[derive(Debug, Clone)]
pub struct BaseUrl(pub String);

impl<S: Send + Sync> FromRequestParts<S> for BaseUrl {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let header = |name: &str| {
            parts
                .headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(|s| s.split(',').next().unwrap_or(s).trim().to_string())
        };
        let scheme = header("x-forwarded-proto")
            .filter(|s| s == "http" || s == "https")
            .unwrap_or_else(|| "http".into());
        let host = header("x-forwarded-host")
            .or_else(|| header("host"))
            .filter(|h| {
                !h.is_empty()
                    && h.chars()
                        .all(|c| c.is_ascii_alphanumeric() || ".-:[]".contains(c))
            })
            .unwrap_or_else(|| "127.0.0.1".into());
        Ok(BaseUrl(format!("{scheme}://{host}")))
    }
}

/// A `bbox` in CRS84: `minLon,minLat,maxLon,maxLat`.
pub fn parse_bbox(text: &str) -> Result<Rect<f64>, ApiError> {
    let bad = |why: &str| ApiError::bad_param("bbox", format!("bbox '{text}': {why}"));
    let numbers: Vec<f64> = text
        .split(',')
        .map(|s| s.trim().parse::<f64>())
        .collect::<Result<_, _>>()
        .map_err(|_| bad("expected 4 comma-separated numbers minLon,minLat,maxLon,maxLat"))?;
    let [x0, y0, x1, y1] = numbers[..] else {
        return Err(bad(
            "expected exactly 4 numbers minLon,minLat,maxLon,maxLat (no 3D bbox)",
        ));
    };
    if !numbers.iter().all(|v| v.is_finite()) {
        return Err(bad("numbers must be finite"));
    }
    if !(-180.0..=180.0).contains(&x0) || !(-180.0..=180.0).contains(&x1) {
        return Err(bad("longitudes must be within -180..180"));
    }
    if !(-90.0..=90.0).contains(&y0) || !(-90.0..=90.0).contains(&y1) {
        return Err(bad("latitudes must be within -90..90"));
    }
    if x0 > x1 {
        return Err(bad(
            "minLon is greater than maxLon (bboxes crossing the antimeridian are not supported)",
        ));
    }
    if y0 > y1 {
        return Err(bad("minLat is greater than maxLat"));
    }
    Ok(Rect::new(coord! {x: x0, y: y0}, coord! {x: x1, y: y1}))
}

/// A non-negative integer parameter (`limit`, `offset`).
pub fn parse_count(name: &str, text: &str) -> Result<usize, ApiError> {
    text.trim().parse::<usize>().map_err(|_| {
        ApiError::bad_param(
            name,
            format!("{name} '{text}' must be a non-negative integer"),
        )
    })
}

/// `limit`: clamped to `max` (OGC practice); zero is allowed (counts only).
pub fn parse_limit(text: Option<&str>, default: usize, max: usize) -> Result<usize, ApiError> {
    Ok(match text {
        None => default,
        Some(t) => parse_count("limit", t)?.min(max),
    })
}

/// One end of a `datetime` interval: `..` or empty (open), a full date, or an
/// RFC 3339 date-time.
fn parse_instant(text: &str) -> Result<Option<OffsetDateTime>, ()> {
    if text.is_empty() || text == ".." {
        return Ok(None);
    }
    if let Ok(t) = OffsetDateTime::parse(text, &Rfc3339) {
        return Ok(Some(t));
    }
    Date::parse(text, format_description!("[year]-[month]-[day]"))
        .map(|d| Some(d.midnight().assume_utc()))
        .map_err(|_| ())
}

/// A validated `datetime`: an instant or an interval `start/end` (either open).
pub fn parse_datetime(
    text: &str,
) -> Result<(Option<OffsetDateTime>, Option<OffsetDateTime>), ApiError> {
    let bad = || {
        ApiError::bad_param(
            "datetime",
            format!("datetime '{text}' must be an RFC 3339 date-time or date, or an interval start/end with '..' for an open end"),
        )
    };
    match text.split_once('/') {
        None => {
            let t = parse_instant(text).map_err(|_| bad())?.ok_or_else(bad)?;
            Ok((Some(t), Some(t)))
        }
        Some((a, b)) => {
            let start = parse_instant(a).map_err(|_| bad())?;
            let end = parse_instant(b).map_err(|_| bad())?;
            if let (Some(s), Some(e)) = (start, end) {
                if s > e {
                    return Err(ApiError::bad_param(
                        "datetime",
                        format!("datetime '{text}': start is after end"),
                    ));
                }
            }
            Ok((start, end))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bboxes_are_validated() {
        let r = parse_bbox("104,28,105,29.5").expect("valid");
        assert_eq!((r.min().x, r.max().y), (104.0, 29.5));
        for bad in [
            "104,28,105",
            "a,b,c,d",
            "104,28,103,29",
            "104,28,105,91",
            "200,0,201,1",
            "1,2,3,4,5,6",
            "NaN,0,1,1",
        ] {
            assert!(parse_bbox(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn limits_clamp_and_reject_nonsense() {
        assert_eq!(parse_limit(None, 100, 10_000).expect("default"), 100);
        assert_eq!(
            parse_limit(Some("50000"), 100, 10_000).expect("clamped"),
            10_000
        );
        assert!(parse_limit(Some("-1"), 100, 10_000).is_err());
        assert!(parse_limit(Some("ten"), 100, 10_000).is_err());
    }

    #[test]
    fn datetimes_follow_ogc_forms() {
        for ok in [
            "2026-11-01T00:00:00Z",
            "2026-11-01",
            "2026-11-01T00:00:00+08:00/..",
            "../2026-11-01",
            "2026-01-01/2026-02-01",
        ] {
            assert!(parse_datetime(ok).is_ok(), "{ok}");
        }
        for bad in [
            "yesterday",
            "2026-13-01",
            "2026-02-01/2026-01-01",
            "",
            "../..",
        ] {
            // "../.." is accepted by OGC as fully open; we treat it as valid too.
            if bad == "../.." {
                assert!(parse_datetime(bad).is_ok());
                continue;
            }
            assert!(parse_datetime(bad).is_err(), "{bad}");
        }
    }
}
