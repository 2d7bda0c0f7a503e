//! envatlas server: a spatial decision-support server for environmental
//! protection bureaus.
//!
//! Module map (data flows top to bottom):
//! - [`config`]: one validated [`config::Config`] from command line, environment and file.
//! - [`cli`]: the command line of the `envatlas` binary.
//! - [`model`]: features, typed properties, layer schemas, the built-in catalog, GeoJSON.
//! - [`store`]: the [`store::Store`] trait (system of record) and its embedded SQLite backend; seeding.
//! - [`atlas`]: every layer in memory with an rstar R-tree; changes build new versions.
//! - [`sample`]: the deterministic generator of the Yibin sample data directory.
//! - [`analysis`]: buffer, nearest and county statistics on the R-trees, geodesic (WGS84) distances.
//! - [`monitoring`]: online monitoring; so far the HJ 212-2017 protocol codec ([`monitoring::hj212`]).
//! - [`tileset`]: vector tiles of the atlas (per-layer tile rules, rendering, the tile cache).
//! - [`api`]: axum routes: OGC API Features and Tiles, TileJSON, OpenAPI, metrics, health.
//! - [`metrics`]: Prometheus request metrics (route templates, latency histograms).
//! - [`import`]: `envatlas import`: GeoJSON, CSV, Shapefile and GeoPackage files into a layer, through the store.
//! - [`sync`]: follows the store's change log so several instances (and imports) stay in step.
//! - [`app`]: [`app::AppState`], start-up (`start`) and serving (`run(listener, state, shutdown)`).
#![forbid(unsafe_code)]

pub mod analysis;
pub mod api;
pub mod app;
pub mod atlas;
pub mod cli;
pub mod config;
pub mod import;
pub mod metrics;
pub mod model;
pub mod monitoring;
pub mod sample;
pub mod store;
pub mod sync;
pub mod tileset;
