//! The `[analysis]` section of the configuration: the risk radius and the
//! weights of the risk score (documented in `docs/analysis.md`). The weights
//! and the industry hazard classes are assumptions (domain.md §7), not a
//! standard: bureaus tune them.

use serde::{Deserialize, Serialize};

/// `[analysis]` in `envatlas.toml`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct AnalysisConfig {
    /// Pollution sources within this distance of a water source or ecology
    /// area count toward its risk (besides those inside its protection zones).
    pub risk_radius_m: f64,
    /// A source or intake within this distance of a river is on it, for the
    /// upstream test.
    pub river_snap_m: f64,
    /// A source farther up the river than this is not flagged upstream.
    pub max_upstream_m: f64,
    pub weight_zone_level1: f64,
    pub weight_zone_level2: f64,
    pub weight_zone_quasi: f64,
    /// A source inside an ecology area.
    pub weight_ecology_inside: f64,
    /// A source only within the risk radius.
    pub weight_radius: f64,
    /// Scaled by closeness: weight × (1 − distance / risk_radius_m).
    pub weight_distance: f64,
    pub weight_upstream: f64,
    pub weight_hazard_high: f64,
    pub weight_hazard_medium: f64,
    pub weight_hazard_low: f64,
    pub weight_credit_red: f64,
    pub weight_credit_yellow: f64,
    pub weight_credit_blue: f64,
    pub weight_credit_green: f64,
    /// Per recent exceedance, up to `max_exceedances_counted`.
    pub weight_exceedance: f64,
    pub max_exceedances_counted: u32,
    /// Industry codes (GB/T 4754, prefixes) of the high hazard class.
    pub hazard_high: Vec<String>,
    /// Industry codes (prefixes) of the medium hazard class; others are low.
    pub hazard_medium: Vec<String>,
}

impl Default for AnalysisConfig {
    fn default() -> Self {
        let codes = |c: &[&str]| c.iter().map(|s| s.to_string()).collect();
        Self {
            risk_radius_m: 5000.0,
            river_snap_m: 1000.0,
            max_upstream_m: 50_000.0,
            weight_zone_level1: 40.0,
            weight_zone_level2: 25.0,
            weight_zone_quasi: 15.0,
            weight_ecology_inside: 30.0,
            weight_radius: 5.0,
            weight_distance: 10.0,
            weight_upstream: 20.0,
            weight_hazard_high: 15.0,
            weight_hazard_medium: 8.0,
            weight_hazard_low: 0.0,
            weight_credit_red: 10.0,
            weight_credit_yellow: 5.0,
            weight_credit_blue: 2.0,
            weight_credit_green: 0.0,
            weight_exceedance: 5.0,
            max_exceedances_counted: 5,
            // 26xx: chemical raw materials (2612 chlor-alkali, 2651 resins/PVC, …).
            hazard_high: codes(&["26", "0610", "3841"]),
            hazard_medium: codes(&["4411", "2221", "1512", "3011", "4620", "0313"]),
        }
    }
}

impl AnalysisConfig {
    /// Checks the values; the message names the key.
    pub fn validate(&self) -> Result<(), String> {
        for (key, v) in [
            ("analysis.risk_radius_m", self.risk_radius_m),
            ("analysis.river_snap_m", self.river_snap_m),
            ("analysis.max_upstream_m", self.max_upstream_m),
        ] {
            if !(v.is_finite() && v > 0.0) {
                return Err(format!("{key} must be a positive number, got {v}"));
            }
        }
        let weights = [
            self.weight_zone_level1,
            self.weight_zone_level2,
            self.weight_zone_quasi,
            self.weight_ecology_inside,
            self.weight_radius,
            self.weight_distance,
            self.weight_upstream,
            self.weight_hazard_high,
            self.weight_hazard_medium,
            self.weight_hazard_low,
            self.weight_credit_red,
            self.weight_credit_yellow,
            self.weight_credit_blue,
            self.weight_credit_green,
            self.weight_exceedance,
        ];
        if weights.iter().any(|w| !w.is_finite()) {
            return Err("analysis.weight_* must be finite numbers".into());
        }
        Ok(())
    }
}
