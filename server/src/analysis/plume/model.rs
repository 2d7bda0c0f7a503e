//! The Gaussian plume of a continuous release with ground reflection
//! (domain.md §4): ground-level concentration downwind of the source, and the
//! threat-zone half-width where it exceeds a level of concern.

use super::briggs::Stability;

/// A continuous release in a steady wind.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Release {
    /// Emission rate, grams per second.
    pub rate_g_s: f64,
    /// Effective release height, metres.
    pub height_m: f64,
    /// Wind speed, metres per second.
    pub wind_speed_mps: f64,
    pub stability: Stability,
}

impl Release {
    /// Ground-level concentration (mg/m³) at `x` metres downwind and `y`
    /// metres crosswind; 0 upwind of the source.
    pub fn concentration_mg_m3(&self, x: f64, y: f64) -> f64 {
        if x <= 0.0 {
            return 0.0;
        }
        let (sy, sz) = (self.stability.sigma_y(x), self.stability.sigma_z(x));
        let h = self.height_m;
        let grams = self.rate_g_s / (std::f64::consts::PI * self.wind_speed_mps * sy * sz)
            * (-y * y / (2.0 * sy * sy)).exp()
            * (-h * h / (2.0 * sz * sz)).exp();
        grams * 1000.0
    }

    /// Half-width (metres) of the zone above `level_mg_m3` at `x` metres
    /// downwind: σy·√(2 ln(C(x,0)/L)), 0 where the centreline is below L.
    pub fn half_width_m(&self, x: f64, level_mg_m3: f64) -> f64 {
        let c = self.concentration_mg_m3(x, 0.0);
        if c <= level_mg_m3 {
            return 0.0;
        }
        self.stability.sigma_y(x) * (2.0 * (c / level_mg_m3).ln()).sqrt()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn release(stability: Stability, height_m: f64) -> Release {
        Release {
            rate_g_s: 100.0,
            height_m,
            wind_speed_mps: 3.0,
            stability,
        }
    }

    #[test]
    fn centreline_matches_the_formula() {
        let r = release(Stability::D, 0.0);
        // Q/(π u σy σz) at 1000 m with the check values σy 76.28, σz 37.95.
        let want = 100.0 / (std::f64::consts::PI * 3.0 * 76.2770 * 37.9473) * 1000.0;
        let got = r.concentration_mg_m3(1000.0, 0.0);
        assert!((got - want).abs() / want < 1e-4, "{got} vs {want}");
        // One σy off the axis: exp(-1/2) of the centreline.
        let off = r.concentration_mg_m3(1000.0, Stability::D.sigma_y(1000.0));
        assert!((off / got - (-0.5f64).exp()).abs() < 1e-9);
        assert_eq!(r.concentration_mg_m3(-10.0, 0.0), 0.0);
    }

    #[test]
    fn half_width_is_where_the_level_is_reached() {
        let r = release(Stability::D, 10.0);
        let level = 1.0;
        for x in [200.0, 800.0, 2000.0] {
            let w = r.half_width_m(x, level);
            if w > 0.0 {
                let c = r.concentration_mg_m3(x, w);
                assert!((c - level).abs() < 1e-6, "x {x}: {c}");
            }
        }
        // A high release barely touches the ground near the stack.
        assert_eq!(release(Stability::D, 200.0).half_width_m(50.0, level), 0.0);
    }
}
