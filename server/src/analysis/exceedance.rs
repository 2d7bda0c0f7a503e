//! How many exceedances a pollution source had recently: a factor of the risk
//! score and a flag of upstream candidates.
//!
//! Analysis asks through the [`ExceedanceCounts`] trait, held in `AppState`
//! (`AppState::exceedances`). Until online monitoring computes exceedances the
//! state holds [`NoExceedances`], which answers 0 for every source; the
//! monitoring module plugs in its own implementation (counts over its recent
//! window, per `pollution_sources` id, bumping `generation` when counts change)
//! by setting that field at start-up.

/// Recent exceedance counts per pollution source.
pub trait ExceedanceCounts: Send + Sync + std::fmt::Debug {
    /// Exceedances of the source's stations in the recent window.
    fn recent_exceedances(&self, source_id: &str) -> u32;

    /// Changes whenever any count may have changed: cached risk scores are
    /// recomputed when it differs from the one they were computed with.
    fn generation(&self) -> u64 {
        0
    }
}

/// No monitoring yet: every source has 0 recent exceedances.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoExceedances;

impl ExceedanceCounts for NoExceedances {
    fn recent_exceedances(&self, _source_id: &str) -> u32 {
        0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_counts_nothing() {
        let counts: &dyn ExceedanceCounts = &NoExceedances;
        assert_eq!(counts.recent_exceedances("ps-0001"), 0);
    }
}
