//! One pollution source's part in a risk score: the facts (zone, distance,
//! upstream, hazard class, credit rating, exceedances) and the contribution
//! of each, named as in `risk_factors`.

use serde::Serialize;

use super::settings::AnalysisConfig;

/// Where a source lies relative to the assessed feature.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Placement {
    /// Inside the level-1 protection zone (strongest first).
    Level1,
    Level2,
    Quasi,
    /// Inside an ecology area.
    Inside,
    /// Only within the risk radius.
    Radius,
}

impl Placement {
    /// The `zone_level` of the answer (`null` for the radius only).
    pub fn zone_level(self) -> Option<&'static str> {
        match self {
            Placement::Level1 => Some("level1"),
            Placement::Level2 => Some("level2"),
            Placement::Quasi => Some("quasi"),
            Placement::Inside => Some("inside"),
            Placement::Radius => None,
        }
    }

    pub fn from_zone_level(level: &str) -> Option<Placement> {
        match level {
            "level1" => Some(Placement::Level1),
            "level2" => Some(Placement::Level2),
            "quasi" => Some(Placement::Quasi),
            _ => None,
        }
    }
}

/// Industry hazard class (domain.md §7; an assumption, configurable).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Hazard {
    High,
    Medium,
    Low,
}

impl Hazard {
    /// The class of a GB/T 4754 industry code, by the configured prefixes.
    pub fn of(industry_code: &str, config: &AnalysisConfig) -> Hazard {
        let code = industry_code.trim();
        let matches =
            |list: &[String]| !code.is_empty() && list.iter().any(|p| code.starts_with(p.as_str()));
        if matches(&config.hazard_high) {
            Hazard::High
        } else if matches(&config.hazard_medium) {
            Hazard::Medium
        } else {
            Hazard::Low
        }
    }
}

/// The facts about one source.
#[derive(Debug, Clone, PartialEq)]
pub struct Facts<'a> {
    pub placement: Placement,
    pub distance_m: f64,
    pub upstream: bool,
    pub hazard: Hazard,
    pub credit_rating: &'a str,
    pub recent_exceedances: u32,
}

/// Contributions to a risk score, by factor name.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct Factors {
    pub zone_level: f64,
    pub distance: f64,
    pub upstream: f64,
    pub hazard_class: f64,
    pub credit_rating: f64,
    pub recent_exceedances: f64,
}

impl Factors {
    /// The contributions of one source.
    pub fn of(facts: &Facts<'_>, config: &AnalysisConfig) -> Factors {
        let c = config;
        let zone_level = match facts.placement {
            Placement::Level1 => c.weight_zone_level1,
            Placement::Level2 => c.weight_zone_level2,
            Placement::Quasi => c.weight_zone_quasi,
            Placement::Inside => c.weight_ecology_inside,
            Placement::Radius => c.weight_radius,
        };
        let closeness = (1.0 - facts.distance_m / c.risk_radius_m).clamp(0.0, 1.0);
        let hazard_class = match facts.hazard {
            Hazard::High => c.weight_hazard_high,
            Hazard::Medium => c.weight_hazard_medium,
            Hazard::Low => c.weight_hazard_low,
        };
        let credit_rating = match facts.credit_rating {
            "red" => c.weight_credit_red,
            "yellow" => c.weight_credit_yellow,
            "blue" => c.weight_credit_blue,
            "green" => c.weight_credit_green,
            _ => 0.0,
        };
        let counted = facts.recent_exceedances.min(c.max_exceedances_counted);
        Factors {
            zone_level,
            distance: c.weight_distance * closeness,
            upstream: if facts.upstream {
                c.weight_upstream
            } else {
                0.0
            },
            hazard_class,
            credit_rating,
            recent_exceedances: c.weight_exceedance * f64::from(counted),
        }
    }

    pub fn total(&self) -> f64 {
        self.zone_level
            + self.distance
            + self.upstream
            + self.hazard_class
            + self.credit_rating
            + self.recent_exceedances
    }

    pub fn add(&mut self, o: &Factors) {
        self.zone_level += o.zone_level;
        self.distance += o.distance;
        self.upstream += o.upstream;
        self.hazard_class += o.hazard_class;
        self.credit_rating += o.credit_rating;
        self.recent_exceedances += o.recent_exceedances;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hazard_classes_follow_the_domain_defaults() {
        let c = AnalysisConfig::default();
        assert_eq!(Hazard::of("2612", &c), Hazard::High);
        assert_eq!(Hazard::of("2651", &c), Hazard::High);
        assert_eq!(Hazard::of("2699", &c), Hazard::High);
        assert_eq!(Hazard::of("0610", &c), Hazard::High);
        assert_eq!(Hazard::of("3841", &c), Hazard::High);
        assert_eq!(Hazard::of("4411", &c), Hazard::Medium);
        assert_eq!(Hazard::of("1512", &c), Hazard::Medium);
        assert_eq!(Hazard::of("0313", &c), Hazard::Medium);
        assert_eq!(Hazard::of("3311", &c), Hazard::Low);
        assert_eq!(Hazard::of("", &c), Hazard::Low);
    }

    #[test]
    fn contributions_add_up() {
        let c = AnalysisConfig::default();
        let f = Factors::of(
            &Facts {
                placement: Placement::Level1,
                distance_m: 1000.0,
                upstream: true,
                hazard: Hazard::High,
                credit_rating: "red",
                recent_exceedances: 9,
            },
            &c,
        );
        assert_eq!(f.zone_level, 40.0);
        assert!((f.distance - 8.0).abs() < 1e-9);
        assert_eq!(f.upstream, 20.0);
        assert_eq!(f.hazard_class, 15.0);
        assert_eq!(f.credit_rating, 10.0);
        assert_eq!(f.recent_exceedances, 25.0, "capped at 5 exceedances");
        assert!((f.total() - 118.0).abs() < 1e-9);
        let far = Factors::of(
            &Facts {
                placement: Placement::Radius,
                distance_m: 9000.0,
                upstream: false,
                hazard: Hazard::Low,
                credit_rating: "green",
                recent_exceedances: 0,
            },
            &c,
        );
        assert_eq!(far.total(), 5.0);
        assert!(Placement::Level1 < Placement::Quasi);
    }
}
