//! Recent exceedances per pollution source: the monitor answers the analysis
//! module's [`ExceedanceCounts`] (risk score factor, upstream flags). "Recent" is the
//! last [`RECENT`]; an episode counts from its start, open or closed.

use time::{Duration, OffsetDateTime};

use super::monitor::{lock, Monitor};
use crate::analysis::exceedance::ExceedanceCounts;

/// The window of "recent" exceedances.
pub const RECENT: Duration = Duration::days(30);

impl ExceedanceCounts for Monitor {
    fn recent_exceedances(&self, source_id: &str) -> u32 {
        let since = OffsetDateTime::now_utc() - RECENT;
        let e = lock(&self.engine);
        let n = e
            .starts_by_source
            .get(source_id)
            .map_or(0, |v| v.iter().filter(|&&t| t >= since).count());
        u32::try_from(n).unwrap_or(u32::MAX)
    }

    fn generation(&self) -> u64 {
        lock(&self.engine).generation
    }
}
