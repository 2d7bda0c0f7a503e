//! Online monitoring: what stations report and what the atlas makes of it.
//!
//! Table of contents (data flows top to bottom):
//! - [`hj212`]: the HJ 212-2017 protocol codec (frames, CRC, packets, codes, replies,
//!   split-packet reassembly, the simulator's encoder). Pure: no I/O, no tokio.
//!
//! Later parts of the monitoring issue add the TCP listener, readings ingest, limits,
//! exceedance detection and the event fan-out here.

pub mod hj212;
