//! [`MonitoringStore`] for the embedded store. Times are Unix seconds (UTC).

use async_trait::async_trait;
use sqlx::sqlite::SqliteRow;
use sqlx::{QueryBuilder, Row, Sqlite, SqlitePool, Transaction};
use time::OffsetDateTime;

use super::monitoring::rows::{self, MonitoringRow, EXCEEDANCE_COLUMNS, LIMIT_COLUMNS};
use super::monitoring::{
    dedup_last, newest_of_each, unique_readings, Exceedance, ExceedanceQuery, IngestBatch, Limit,
    MonitoringStore, Observation, SeriesQuery,
};
use super::StoreError;
use crate::model::Reading;

/// Rows per multi-row INSERT: ≤ 9 columns × 500 stays far below SQLite's limit of
/// 32,766 bound variables.
const BATCH: usize = 500;

#[derive(Debug, Clone)]
pub struct SqliteMonitoring {
    pool: SqlitePool,
}

impl SqliteMonitoring {
    pub fn new(pool: SqlitePool) -> Self {
        Self { pool }
    }
}

fn from_unix(t: i64) -> Result<OffsetDateTime, StoreError> {
    OffsetDateTime::from_unix_timestamp(t)
        .map_err(|e| StoreError::Corrupt(format!("time {t}: {e}")))
}

impl MonitoringRow for SqliteRow {
    fn text(&self, column: &str) -> Result<String, StoreError> {
        Ok(self.try_get(column)?)
    }

    fn real(&self, column: &str) -> Result<f64, StoreError> {
        Ok(self.try_get(column)?)
    }

    fn opt_real(&self, column: &str) -> Result<Option<f64>, StoreError> {
        Ok(self.try_get(column)?)
    }

    fn opt_time(&self, column: &str) -> Result<Option<OffsetDateTime>, StoreError> {
        self.try_get::<Option<i64>, _>(column)?
            .map(from_unix)
            .transpose()
    }
}

/// Times are plain Unix-second columns here.
fn plain(column: &str) -> String {
    column.to_string()
}

async fn write_readings(
    tx: &mut Transaction<'_, Sqlite>,
    table: &str,
    readings: &[Observation],
    newer_only: bool,
) -> Result<(), StoreError> {
    // `latest_readings` has no period: the newest value of a kind, whatever its period.
    let columns = if newer_only {
        "station_id, pollutant, kind, time, value, flag"
    } else {
        "station_id, pollutant, kind, period, time, value, flag"
    };
    for chunk in readings.chunks(BATCH) {
        let mut q: QueryBuilder<Sqlite> =
            QueryBuilder::new(format!("INSERT INTO {table} ({columns}) "));
        q.push_values(chunk, |mut row, o| {
            let r = &o.reading;
            row.push_bind(&r.station_id)
                .push_bind(&r.pollutant)
                .push_bind(&r.kind);
            if !newer_only {
                row.push_bind(o.period.as_str());
            }
            row.push_bind(r.time.unix_timestamp())
                .push_bind(r.value)
                .push_bind(&r.flag);
        });
        if newer_only {
            // A late reading must not replace a newer one.
            q.push(
                " ON CONFLICT (station_id, pollutant, kind) DO UPDATE SET
                  time = excluded.time, value = excluded.value, flag = excluded.flag
                  WHERE excluded.time >= latest_readings.time",
            );
        } else {
            q.push(
                " ON CONFLICT (station_id, pollutant, kind, period, time)
                  DO UPDATE SET value = excluded.value, flag = excluded.flag",
            );
        }
        q.build().execute(&mut **tx).await?;
    }
    Ok(())
}

#[async_trait]
impl MonitoringStore for SqliteMonitoring {
    async fn commit(&self, batch: &IngestBatch) -> Result<(), StoreError> {
        let readings = unique_readings(&batch.readings, OffsetDateTime::unix_timestamp);
        let newest = newest_of_each(&readings);
        let mut tx = self.pool.begin().await?;
        write_readings(&mut tx, "readings", &readings, false).await?;
        write_readings(&mut tx, "latest_readings", &newest, true).await?;
        for chunk in batch.quarantine.chunks(BATCH) {
            let mut q: QueryBuilder<Sqlite> =
                QueryBuilder::new("INSERT INTO quarantine (received_at, peer, mn, cn, segment) ");
            q.push_values(chunk, |mut row, r| {
                row.push_bind(r.received_at.unix_timestamp())
                    .push_bind(&r.peer)
                    .push_bind(&r.mn)
                    .push_bind(i64::from(r.cn))
                    .push_bind(&r.segment);
            });
            q.build().execute(&mut *tx).await?;
        }
        for chunk in batch.facility.chunks(BATCH) {
            let mut q: QueryBuilder<Sqlite> = QueryBuilder::new(
                "INSERT INTO facility_status (station_id, facility, time, state) ",
            );
            q.push_values(chunk, |mut row, r| {
                row.push_bind(&r.station_id)
                    .push_bind(&r.facility)
                    .push_bind(r.time.unix_timestamp())
                    .push_bind(&r.state);
            });
            q.push(
                " ON CONFLICT (station_id, facility, time) DO UPDATE SET state = excluded.state",
            );
            q.build().execute(&mut *tx).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    async fn rebuild_latest_if_empty(&self) -> Result<u64, StoreError> {
        let mut tx = self.pool.begin().await?;
        let any: Option<i64> = sqlx::query_scalar("SELECT 1 FROM latest_readings LIMIT 1")
            .fetch_optional(&mut *tx)
            .await?;
        if any.is_some() {
            return Ok(0);
        }
        // SQLite takes the bare columns of a MAX() aggregate from the row holding the maximum.
        let n = sqlx::query(
            "INSERT INTO latest_readings (station_id, pollutant, kind, time, value, flag)
             SELECT station_id, pollutant, kind, MAX(time), value, flag
               FROM readings GROUP BY station_id, pollutant, kind",
        )
        .execute(&mut *tx)
        .await?
        .rows_affected();
        tx.commit().await?;
        Ok(n)
    }

    async fn latest(&self) -> Result<Vec<Reading>, StoreError> {
        let rows = sqlx::query(&format!(
            "SELECT {} FROM latest_readings ORDER BY station_id, pollutant, kind",
            rows::reading_list(plain, false)
        ))
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(rows::reading).collect()
    }

    async fn series(&self, q: &SeriesQuery) -> Result<Vec<Reading>, StoreError> {
        let rows = sqlx::query(&format!(
            "SELECT {} FROM readings
             WHERE station_id = ?1 AND pollutant = ?2 AND kind = ?3
               AND (?7 IS NULL OR period = ?7) AND time >= ?4 AND time < ?5
             ORDER BY time LIMIT ?6",
            rows::reading_list(plain, false)
        ))
        .bind(&q.station_id)
        .bind(&q.pollutant)
        .bind(&q.kind)
        .bind(q.from.unix_timestamp())
        .bind(q.to.unix_timestamp())
        .bind(i64::try_from(q.limit).unwrap_or(i64::MAX))
        .bind(q.period.map(|p| p.as_str()))
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(rows::reading).collect()
    }

    async fn readings_since(&self, since: OffsetDateTime) -> Result<Vec<Observation>, StoreError> {
        let rows = sqlx::query(&format!(
            "SELECT {} FROM readings WHERE time >= ?1 ORDER BY time",
            rows::reading_list(plain, true)
        ))
        .bind(since.unix_timestamp())
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(rows::observation).collect()
    }

    async fn limits(&self) -> Result<Vec<Limit>, StoreError> {
        let rows = sqlx::query(&format!(
            "SELECT {LIMIT_COLUMNS} FROM monitoring_limits ORDER BY station_id, pollutant"
        ))
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(rows::limit).collect()
    }

    async fn put_limits(&self, limits: &[Limit]) -> Result<(), StoreError> {
        let limits = dedup_last(limits, |l| (l.station_id.clone(), l.pollutant.clone()));
        let mut tx = self.pool.begin().await?;
        for chunk in limits.chunks(BATCH) {
            let mut q: QueryBuilder<Sqlite> = QueryBuilder::new(
                "INSERT INTO monitoring_limits
                 (station_id, pollutant, value, unit, standard, basis, ref_o2) ",
            );
            q.push_values(chunk, |mut row, l| {
                row.push_bind(&l.station_id)
                    .push_bind(&l.pollutant)
                    .push_bind(l.value)
                    .push_bind(&l.unit)
                    .push_bind(&l.standard)
                    .push_bind(l.basis.as_str())
                    .push_bind(l.ref_o2);
            });
            q.push(
                " ON CONFLICT (station_id, pollutant) DO UPDATE SET value = excluded.value,
                  unit = excluded.unit, standard = excluded.standard, basis = excluded.basis,
                  ref_o2 = excluded.ref_o2",
            );
            q.build().execute(&mut *tx).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    async fn put_exceedances(&self, items: &[Exceedance]) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await?;
        for chunk in items.chunks(BATCH) {
            let mut q: QueryBuilder<Sqlite> = QueryBuilder::new(
                "INSERT INTO exceedances (station_id, pollutant, start_time, end_time, peak,
                 peak_time, limit_value, unit, basis) ",
            );
            q.push_values(chunk, |mut row, e| {
                row.push_bind(&e.station_id)
                    .push_bind(&e.pollutant)
                    .push_bind(e.start.unix_timestamp())
                    .push_bind(e.end.map(OffsetDateTime::unix_timestamp))
                    .push_bind(e.peak)
                    .push_bind(e.peak_time.unix_timestamp())
                    .push_bind(e.limit)
                    .push_bind(&e.unit)
                    .push_bind(e.basis.as_str());
            });
            q.push(
                " ON CONFLICT (station_id, pollutant, start_time) DO UPDATE SET
                  end_time = excluded.end_time, peak = excluded.peak,
                  peak_time = excluded.peak_time, limit_value = excluded.limit_value,
                  unit = excluded.unit, basis = excluded.basis",
            );
            q.build().execute(&mut *tx).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    async fn exceedances(&self, query: &ExceedanceQuery) -> Result<Vec<Exceedance>, StoreError> {
        let rows = sqlx::query(&format!(
            "SELECT {} FROM exceedances
              WHERE (?1 IS NULL OR end_time IS NULL OR end_time >= ?1)
                AND (?2 IS NULL OR start_time < ?2)
                AND (?3 = 0 OR end_time IS NULL)
              ORDER BY start_time DESC, station_id, pollutant
              LIMIT ?4",
            rows::select_list(EXCEEDANCE_COLUMNS, plain)
        ))
        .bind(query.from.map(OffsetDateTime::unix_timestamp))
        .bind(query.to.map(OffsetDateTime::unix_timestamp))
        .bind(i64::from(query.open_only))
        .bind(i64::try_from(query.limit).unwrap_or(i64::MAX))
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(rows::exceedance).collect()
    }

    async fn delete_before(&self, before: OffsetDateTime) -> Result<u64, StoreError> {
        let t = before.unix_timestamp();
        let mut tx = self.pool.begin().await?;
        let n = sqlx::query("DELETE FROM readings WHERE time < ?1")
            .bind(t)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        sqlx::query("DELETE FROM exceedances WHERE end_time IS NOT NULL AND end_time < ?1")
            .bind(t)
            .execute(&mut *tx)
            .await?;
        sqlx::query("DELETE FROM quarantine WHERE received_at < ?1")
            .bind(t)
            .execute(&mut *tx)
            .await?;
        sqlx::query("DELETE FROM facility_status WHERE time < ?1")
            .bind(t)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(n)
    }

    async fn quarantine_count(&self) -> Result<u64, StoreError> {
        let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM quarantine")
            .fetch_one(&self.pool)
            .await?;
        Ok(u64::try_from(n).unwrap_or(0))
    }

    async fn facility_count(&self) -> Result<u64, StoreError> {
        let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM facility_status")
            .fetch_one(&self.pool)
            .await?;
        Ok(u64::try_from(n).unwrap_or(0))
    }
}
