//! Risk zones: which pollution sources threaten each drinking-water source or
//! ecology area, and a score explaining why (domain.md §7; weights in the
//! `[analysis]` configuration, documented in `docs/analysis.md`).
//!
//! - [`settings`]: the `[analysis]` configuration (radius, weights, hazard classes).
//! - [`factors`]: one source's facts and contributions.
//! - [`assess`]: the assessment of a layer (zones, radius, upstream on the network).
//! - [`cache`]: whole-layer assessments cached per input versions.
//! - [`report`]: the GeoJSON of an assessed feature.

pub mod assess;
pub mod cache;
pub mod factors;
pub mod report;
pub mod settings;

pub use assess::{assess, RiskInputs, SourceRisk, Target, TargetRisk};
pub use cache::RiskCache;
pub use settings::AnalysisConfig;

#[cfg(test)]
mod tests;
