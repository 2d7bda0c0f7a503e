//! Online monitoring: what stations report and what the atlas makes of it.
//!
//! Table of contents (data flows top to bottom):
//! - [`hj212`]: the HJ 212-2017 protocol codec (frames, CRC, packets, codes, replies,
//!   split-packet reassembly, the simulator's encoder). Pure: no I/O, no tokio.
//! - [`tcp`]: the HJ 212 TCP listener (per-connection read loop, ordered replies).
//! - [`ingest`]: validation of HTTP-ingested reading rows.
//! - [`stations`]: the station index (MN → station, station → source), following the
//!   live atlas.
//! - [`monitor`]: the shared runtime state (station index, limits, detector, statuses,
//!   event channel, writer queue).
//! - [`runtime`]: the tasks: start-up evaluation, group-commit writer, offline ticker,
//!   retention; status changes written through the store.
//! - [`exceedance`]: which values count, O2 correction, episodes (pure).
//! - [`limits`]: default limits from domain.md §3.
//! - [`status`]: station/source status and its order.
//! - [`counters`]: the listener's and writer's counters on `/metrics`.
//! - [`counts`]: recent exceedances per source, for the risk score and upstream flags.
//! - [`aggregate`]: hourly/daily aggregates of a series, computed on query.
//! - [`events`]: the SSE event types.
//! - [`simulate`]: `envatlas simulate`, a device simulator and load generator.

pub mod aggregate;
pub mod counters;
pub mod counts;
pub mod events;
pub mod exceedance;
pub mod hj212;
pub mod ingest;
pub mod limits;
pub mod monitor;
pub mod runtime;
pub mod simulate;
pub mod stations;
pub mod status;
pub mod tcp;

pub use monitor::Monitor;
