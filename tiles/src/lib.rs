//! `envatlas-tiles`: Web Mercator tile math, clipping, per-zoom simplification and
//! MVT encoding for envatlas. No HTTP, no database, no I/O.
//!
//! A stub until the vector-tiles issue lands.
#![forbid(unsafe_code)]
