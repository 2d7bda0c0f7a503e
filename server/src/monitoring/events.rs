//! Live events for `GET /api/events` (Server-Sent Events): exceedance opened/closed,
//! station offline/online. Fanned out with a tokio broadcast channel; a slow
//! subscriber that falls behind loses the oldest events, never blocks ingest.

use serde::Serialize;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventKind {
    ExceedanceOpened,
    ExceedanceClosed,
    StationOffline,
    StationOnline,
}

impl EventKind {
    /// The SSE event name (contracts).
    pub fn name(self) -> &'static str {
        match self {
            EventKind::ExceedanceOpened => "exceedance_opened",
            EventKind::ExceedanceClosed => "exceedance_closed",
            EventKind::StationOffline => "station_offline",
            EventKind::StationOnline => "station_online",
        }
    }
}

/// The event's JSON data (contracts): fields that do not apply are null.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EventData {
    pub station_id: String,
    pub source_id: Option<String>,
    pub pollutant: Option<String>,
    /// RFC 3339.
    pub time: String,
    pub value: Option<f64>,
    pub limit: Option<f64>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    pub kind: EventKind,
    pub data: EventData,
}

/// RFC 3339 in UTC.
pub fn rfc3339(t: OffsetDateTime) -> String {
    t.format(&Rfc3339).unwrap_or_default()
}
