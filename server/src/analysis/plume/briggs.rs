//! Pasquill–Gifford stability classes and the Briggs rural dispersion
//! coefficients σy, σz (metres) as functions of the downwind distance x
//! (metres), domain.md §4.

use std::str::FromStr;

/// Atmospheric stability, A (very unstable) to F (moderately stable).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stability {
    A,
    B,
    C,
    D,
    E,
    F,
}

impl FromStr for Stability {
    type Err = ();

    fn from_str(s: &str) -> Result<Self, ()> {
        Ok(match s.trim() {
            "A" | "a" => Stability::A,
            "B" | "b" => Stability::B,
            "C" | "c" => Stability::C,
            "D" | "d" => Stability::D,
            "E" | "e" => Stability::E,
            "F" | "f" => Stability::F,
            _ => return Err(()),
        })
    }
}

impl Stability {
    /// Horizontal (crosswind) dispersion σy at `x` metres downwind.
    pub fn sigma_y(self, x: f64) -> f64 {
        let k = match self {
            Stability::A => 0.22,
            Stability::B => 0.16,
            Stability::C => 0.11,
            Stability::D => 0.08,
            Stability::E => 0.06,
            Stability::F => 0.04,
        };
        k * x / (1.0 + 0.0001 * x).sqrt()
    }

    /// Vertical dispersion σz at `x` metres downwind.
    pub fn sigma_z(self, x: f64) -> f64 {
        match self {
            Stability::A => 0.20 * x,
            Stability::B => 0.12 * x,
            Stability::C => 0.08 * x / (1.0 + 0.0002 * x).sqrt(),
            Stability::D => 0.06 * x / (1.0 + 0.0015 * x).sqrt(),
            Stability::E => 0.03 * x / (1.0 + 0.0003 * x),
            Stability::F => 0.016 * x / (1.0 + 0.0003 * x),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 0.005
    }

    #[test]
    fn reproduces_the_reference_check_values() {
        // domain.md §4: class A at 100 m: σy 21.89, σz 20.00;
        // class D at 1000 m: σy 76.28, σz 37.95.
        assert!(
            close(Stability::A.sigma_y(100.0), 21.89),
            "{}",
            Stability::A.sigma_y(100.0)
        );
        assert!(close(Stability::A.sigma_z(100.0), 20.00));
        assert!(
            close(Stability::D.sigma_y(1000.0), 76.28),
            "{}",
            Stability::D.sigma_y(1000.0)
        );
        assert!(
            close(Stability::D.sigma_z(1000.0), 37.95),
            "{}",
            Stability::D.sigma_z(1000.0)
        );
    }

    #[test]
    fn stable_air_spreads_less() {
        let classes = [
            Stability::A,
            Stability::B,
            Stability::C,
            Stability::D,
            Stability::E,
            Stability::F,
        ];
        for w in classes.windows(2) {
            assert!(w[0].sigma_y(2000.0) > w[1].sigma_y(2000.0));
            assert!(w[0].sigma_z(2000.0) > w[1].sigma_z(2000.0));
        }
        assert_eq!("d".parse::<Stability>(), Ok(Stability::D));
        assert!("G".parse::<Stability>().is_err());
    }
}
