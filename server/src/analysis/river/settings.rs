//! The `[rivers]` section of the configuration: how river lines are joined
//! into a network, how far a spill point may lie from a river, and the flow
//! velocities that turn along-river distances into arrival times
//! (domain.md §5, §7).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// `[rivers]` in `envatlas.toml`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct RiversConfig {
    /// A line's downstream end joins another line within this distance.
    pub snap_tolerance_m: f64,
    /// A spill point, station or intake farther than this from every river
    /// is not on the network (400 naming this key for trace requests).
    pub max_snap_distance_m: f64,
    /// Corridor around a traced path when a request gives none.
    pub default_corridor_m: f64,
    /// Flow velocity of rivers not named in `velocities_mps`.
    pub default_velocity_mps: f64,
    /// Leading edge arrival as a fraction of the expected (peak) arrival time.
    pub earliest_factor: f64,
    /// Flow velocity per river, keyed by `name_en` (or `name_zh`).
    pub velocities_mps: BTreeMap<String, f64>,
}

impl Default for RiversConfig {
    fn default() -> Self {
        let velocities_mps = [("Chang Jiang", 1.5), ("Jinsha", 1.5), ("Min", 1.2)]
            .into_iter()
            .map(|(k, v)| (k.to_string(), v))
            .collect();
        Self {
            snap_tolerance_m: 1000.0,
            max_snap_distance_m: 5000.0,
            default_corridor_m: 500.0,
            default_velocity_mps: 1.0,
            earliest_factor: 0.89,
            velocities_mps,
        }
    }
}

impl RiversConfig {
    /// Checks the values; the message names the key.
    pub fn validate(&self) -> Result<(), String> {
        let positive = [
            ("rivers.snap_tolerance_m", self.snap_tolerance_m),
            ("rivers.max_snap_distance_m", self.max_snap_distance_m),
            ("rivers.default_corridor_m", self.default_corridor_m),
            ("rivers.default_velocity_mps", self.default_velocity_mps),
        ];
        for (key, v) in positive {
            if !(v.is_finite() && v > 0.0) {
                return Err(format!("{key} must be a positive number, got {v}"));
            }
        }
        if !(self.earliest_factor > 0.0 && self.earliest_factor <= 1.0) {
            return Err("rivers.earliest_factor must be within (0, 1]".into());
        }
        if let Some((name, v)) = self
            .velocities_mps
            .iter()
            .find(|(_, v)| !(v.is_finite() && **v > 0.0))
        {
            return Err(format!(
                "rivers.velocities_mps.\"{name}\" must be a positive number, got {v}"
            ));
        }
        Ok(())
    }

    /// The velocity of a river by its English or Chinese name.
    pub fn velocity_for(&self, name_en: &str, name_zh: &str) -> f64 {
        self.velocities_mps
            .get(name_en)
            .or_else(|| self.velocities_mps.get(name_zh))
            .copied()
            .unwrap_or(self.default_velocity_mps)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_follow_the_domain_notes() {
        let c = RiversConfig::default();
        assert!(c.validate().is_ok());
        assert_eq!(c.velocity_for("Chang Jiang", ""), 1.5);
        assert_eq!(c.velocity_for("Min", ""), 1.2);
        assert_eq!(c.velocity_for("Tuo", "沱江"), 1.0);
        let bad = RiversConfig {
            earliest_factor: 1.5,
            ..RiversConfig::default()
        };
        assert!(bad.validate().is_err());
    }
}
