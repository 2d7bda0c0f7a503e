//! River network analysis: the directed graph of the `rivers` layer, placing
//! points on it, tracing downstream (spills: what is reached and when) and
//! upstream (origins of a bad reading), and what the builder found.
//!
//! - [`settings`]: the `[rivers]` configuration (snapping, velocities).
//! - [`graph`]: reaches, outlet links, snapping a point to the network.
//! - [`trace`]: downstream paths with travel times, upstream trees.
//! - [`corridor`]: the features within a corridor of a traced path.
//! - [`diagnostics`]: links, unconnected ends, heads, cycles.
//! - [`cache`]: the graph of the current `rivers` layer version.

pub mod cache;
pub mod corridor;
pub mod diagnostics;
pub mod graph;
pub mod settings;
pub mod trace;

pub use cache::{Network, RiverCache, RIVERS_LAYER};
pub use graph::{RiverGraph, Snap};
pub use settings::RiversConfig;
pub use trace::{Downstream, Piece, Upstream};

#[cfg(test)]
mod tests;
