//! [`MonitoringStore`] for the PostGIS store. Times are bound as Unix microseconds
//! and converted by SQL (no sqlx date feature); bulk writes `UNNEST` column arrays.

use async_trait::async_trait;
use sqlx::postgres::PgRow;
use sqlx::{PgPool, Postgres, Row, Transaction};
use time::OffsetDateTime;

use super::monitoring::rows::{self, MonitoringRow, EXCEEDANCE_COLUMNS, LIMIT_COLUMNS};
use super::monitoring::{
    dedup_last, newest_of_each, unique_readings, Exceedance, ExceedanceQuery, IngestBatch, Limit,
    MonitoringStore, Observation, SeriesQuery,
};
use super::StoreError;
use crate::model::Reading;

/// Rows per statement (column arrays of this length).
const BATCH: usize = 10_000;

/// `timestamptz` from bound Unix microseconds.
const TS: &str = "timestamptz 'epoch' + interval '1 microsecond' *";

/// Unix microseconds of a `timestamptz` column, exact.
fn us(column: &str) -> String {
    format!("(extract(epoch from {column}) * 1000000)::int8 AS {column}")
}

#[derive(Debug, Clone)]
pub struct PostgisMonitoring {
    pool: PgPool,
}

impl PostgisMonitoring {
    pub fn new(pool: PgPool) -> Self {
        Self { pool }
    }
}

fn micros(t: OffsetDateTime) -> i64 {
    t.unix_timestamp()
        .saturating_mul(1_000_000)
        .saturating_add(i64::from(t.microsecond()))
}

fn from_micros(us: i64) -> Result<OffsetDateTime, StoreError> {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(us) * 1000)
        .map_err(|e| StoreError::Corrupt(format!("time {us} µs: {e}")))
}

impl MonitoringRow for PgRow {
    fn text(&self, column: &str) -> Result<String, StoreError> {
        Ok(self.try_get(column)?)
    }

    fn real(&self, column: &str) -> Result<f64, StoreError> {
        Ok(self.try_get(column)?)
    }

    fn opt_real(&self, column: &str) -> Result<Option<f64>, StoreError> {
        Ok(self.try_get(column)?)
    }

    /// Time columns are selected through [`us`] as Unix microseconds.
    fn opt_time(&self, column: &str) -> Result<Option<OffsetDateTime>, StoreError> {
        self.try_get::<Option<i64>, _>(column)?
            .map(from_micros)
            .transpose()
    }
}

async fn write_readings(
    tx: &mut Transaction<'_, Postgres>,
    table: &str,
    readings: &[Observation],
    newer_only: bool,
) -> Result<(), StoreError> {
    // `latest_readings` has no period: the newest value of a kind, whatever its period.
    let (period, conflict) = if newer_only {
        (
            "",
            "ON CONFLICT (station_id, pollutant, kind) DO UPDATE SET time = excluded.time,
             value = excluded.value, flag = excluded.flag
             WHERE excluded.time >= latest_readings.time",
        )
    } else {
        (
            "period, ",
            "ON CONFLICT (station_id, pollutant, kind, period, time)
             DO UPDATE SET value = excluded.value, flag = excluded.flag",
        )
    };
    let period_value = if newer_only { "" } else { "u.d, " };
    let sql = format!(
        "INSERT INTO {table} (station_id, pollutant, kind, {period}time, value, flag)
         SELECT u.s, u.p, u.k, {period_value}{TS} u.t, u.v, u.f
           FROM UNNEST($1::text[], $2::text[], $3::text[], $4::int8[], $5::float8[], $6::text[],
                       $7::text[])
                AS u(s, p, k, t, v, f, d)
         {conflict}"
    );
    for chunk in readings.chunks(BATCH) {
        let text =
            |f: fn(&Reading) -> &str| chunk.iter().map(|o| f(&o.reading)).collect::<Vec<_>>();
        sqlx::query(&sql)
            .bind(text(|r| &r.station_id))
            .bind(text(|r| &r.pollutant))
            .bind(text(|r| &r.kind))
            .bind(
                chunk
                    .iter()
                    .map(|o| micros(o.reading.time))
                    .collect::<Vec<i64>>(),
            )
            .bind(chunk.iter().map(|o| o.reading.value).collect::<Vec<f64>>())
            .bind(text(|r| &r.flag))
            .bind(chunk.iter().map(|o| o.period.as_str()).collect::<Vec<_>>())
            .execute(&mut **tx)
            .await?;
    }
    Ok(())
}

#[async_trait]
impl MonitoringStore for PostgisMonitoring {
    async fn commit(&self, batch: &IngestBatch) -> Result<(), StoreError> {
        let readings = unique_readings(&batch.readings, micros);
        let newest = newest_of_each(&readings);
        let mut tx = self.pool.begin().await?;
        write_readings(&mut tx, "readings", &readings, false).await?;
        write_readings(&mut tx, "latest_readings", &newest, true).await?;
        for chunk in batch.quarantine.chunks(BATCH) {
            sqlx::query(&format!(
                "INSERT INTO quarantine (received_at, peer, mn, cn, segment)
                 SELECT {TS} u.t, u.p, u.m, u.c, u.s
                   FROM UNNEST($1::int8[], $2::text[], $3::text[], $4::int4[], $5::text[])
                        AS u(t, p, m, c, s)"
            ))
            .bind(
                chunk
                    .iter()
                    .map(|q| micros(q.received_at))
                    .collect::<Vec<_>>(),
            )
            .bind(chunk.iter().map(|q| q.peer.as_str()).collect::<Vec<_>>())
            .bind(chunk.iter().map(|q| q.mn.as_str()).collect::<Vec<_>>())
            .bind(chunk.iter().map(|q| i32::from(q.cn)).collect::<Vec<_>>())
            .bind(chunk.iter().map(|q| q.segment.as_str()).collect::<Vec<_>>())
            .execute(&mut *tx)
            .await?;
        }
        let facility = dedup_last(&batch.facility, |f| {
            (f.station_id.clone(), f.facility.clone(), micros(f.time))
        });
        for chunk in facility.chunks(BATCH) {
            sqlx::query(&format!(
                "INSERT INTO facility_status (station_id, facility, time, state)
                 SELECT u.s, u.f, {TS} u.t, u.v
                   FROM UNNEST($1::text[], $2::text[], $3::int8[], $4::text[]) AS u(s, f, t, v)
                 ON CONFLICT (station_id, facility, time) DO UPDATE SET state = excluded.state"
            ))
            .bind(
                chunk
                    .iter()
                    .map(|f| f.station_id.as_str())
                    .collect::<Vec<_>>(),
            )
            .bind(
                chunk
                    .iter()
                    .map(|f| f.facility.as_str())
                    .collect::<Vec<_>>(),
            )
            .bind(chunk.iter().map(|f| micros(f.time)).collect::<Vec<_>>())
            .bind(chunk.iter().map(|f| f.state.as_str()).collect::<Vec<_>>())
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    async fn rebuild_latest_if_empty(&self) -> Result<u64, StoreError> {
        let mut tx = self.pool.begin().await?;
        let any: Option<i32> = sqlx::query_scalar("SELECT 1 FROM latest_readings LIMIT 1")
            .fetch_optional(&mut *tx)
            .await?;
        if any.is_some() {
            return Ok(0);
        }
        let n = sqlx::query(
            "INSERT INTO latest_readings (station_id, pollutant, kind, time, value, flag)
             SELECT DISTINCT ON (station_id, pollutant, kind)
                    station_id, pollutant, kind, time, value, flag
               FROM readings ORDER BY station_id, pollutant, kind, time DESC",
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
            rows::reading_list(us, false)
        ))
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(rows::reading).collect()
    }

    async fn series(&self, q: &SeriesQuery) -> Result<Vec<Reading>, StoreError> {
        let rows = sqlx::query(&format!(
            "SELECT {} FROM readings
             WHERE station_id = $1 AND pollutant = $2 AND kind = $3
               AND ($7::text IS NULL OR period = $7::text)
               AND time >= {TS} $4 AND time < {TS} $5
             ORDER BY time LIMIT $6",
            rows::reading_list(us, false)
        ))
        .bind(&q.station_id)
        .bind(&q.pollutant)
        .bind(&q.kind)
        .bind(micros(q.from))
        .bind(micros(q.to))
        .bind(i64::try_from(q.limit).unwrap_or(i64::MAX))
        .bind(q.period.map(|p| p.as_str()))
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(rows::reading).collect()
    }

    async fn readings_since(&self, since: OffsetDateTime) -> Result<Vec<Observation>, StoreError> {
        let rows = sqlx::query(&format!(
            "SELECT {} FROM readings WHERE time >= {TS} $1 ORDER BY time",
            rows::reading_list(us, true)
        ))
        .bind(micros(since))
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
            sqlx::query(
                "INSERT INTO monitoring_limits
                   (station_id, pollutant, value, unit, standard, basis, ref_o2)
                 SELECT * FROM UNNEST($1::text[], $2::text[], $3::float8[], $4::text[],
                                      $5::text[], $6::text[], $7::float8[])
                 ON CONFLICT (station_id, pollutant) DO UPDATE SET value = excluded.value,
                   unit = excluded.unit, standard = excluded.standard, basis = excluded.basis,
                   ref_o2 = excluded.ref_o2",
            )
            .bind(
                chunk
                    .iter()
                    .map(|l| l.station_id.as_str())
                    .collect::<Vec<_>>(),
            )
            .bind(
                chunk
                    .iter()
                    .map(|l| l.pollutant.as_str())
                    .collect::<Vec<_>>(),
            )
            .bind(chunk.iter().map(|l| l.value).collect::<Vec<_>>())
            .bind(chunk.iter().map(|l| l.unit.as_str()).collect::<Vec<_>>())
            .bind(
                chunk
                    .iter()
                    .map(|l| l.standard.as_str())
                    .collect::<Vec<_>>(),
            )
            .bind(chunk.iter().map(|l| l.basis.as_str()).collect::<Vec<_>>())
            .bind(chunk.iter().map(|l| l.ref_o2).collect::<Vec<_>>())
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    async fn put_exceedances(&self, items: &[Exceedance]) -> Result<(), StoreError> {
        let items = dedup_last(items, |e| {
            (e.station_id.clone(), e.pollutant.clone(), micros(e.start))
        });
        let mut tx = self.pool.begin().await?;
        for chunk in items.chunks(BATCH) {
            sqlx::query(&format!(
                "INSERT INTO exceedances (station_id, pollutant, start_time, end_time, peak,
                   peak_time, limit_value, unit, basis)
                 SELECT u.s, u.p, {TS} u.st, {TS} u.et, u.pk, {TS} u.pt, u.l, u.un, u.b
                   FROM UNNEST($1::text[], $2::text[], $3::int8[], $4::int8[], $5::float8[],
                               $6::int8[], $7::float8[], $8::text[], $9::text[])
                        AS u(s, p, st, et, pk, pt, l, un, b)
                 ON CONFLICT (station_id, pollutant, start_time) DO UPDATE SET
                   end_time = excluded.end_time, peak = excluded.peak,
                   peak_time = excluded.peak_time, limit_value = excluded.limit_value,
                   unit = excluded.unit, basis = excluded.basis"
            ))
            .bind(
                chunk
                    .iter()
                    .map(|e| e.station_id.as_str())
                    .collect::<Vec<_>>(),
            )
            .bind(
                chunk
                    .iter()
                    .map(|e| e.pollutant.as_str())
                    .collect::<Vec<_>>(),
            )
            .bind(chunk.iter().map(|e| micros(e.start)).collect::<Vec<_>>())
            .bind(chunk.iter().map(|e| e.end.map(micros)).collect::<Vec<_>>())
            .bind(chunk.iter().map(|e| e.peak).collect::<Vec<_>>())
            .bind(
                chunk
                    .iter()
                    .map(|e| micros(e.peak_time))
                    .collect::<Vec<_>>(),
            )
            .bind(chunk.iter().map(|e| e.limit).collect::<Vec<_>>())
            .bind(chunk.iter().map(|e| e.unit.as_str()).collect::<Vec<_>>())
            .bind(chunk.iter().map(|e| e.basis.as_str()).collect::<Vec<_>>())
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    async fn exceedances(&self, query: &ExceedanceQuery) -> Result<Vec<Exceedance>, StoreError> {
        let rows = sqlx::query(&format!(
            "SELECT {} FROM exceedances
              WHERE ($1::int8 IS NULL OR end_time IS NULL OR end_time >= {TS} $1::int8)
                AND ($2::int8 IS NULL OR start_time < {TS} $2::int8)
                AND (NOT $3 OR end_time IS NULL)
              ORDER BY start_time DESC, station_id, pollutant
              LIMIT $4",
            rows::select_list(EXCEEDANCE_COLUMNS, us)
        ))
        .bind(query.from.map(micros))
        .bind(query.to.map(micros))
        .bind(query.open_only)
        .bind(i64::try_from(query.limit).unwrap_or(i64::MAX))
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(rows::exceedance).collect()
    }

    async fn delete_before(&self, before: OffsetDateTime) -> Result<u64, StoreError> {
        let t = micros(before);
        let mut tx = self.pool.begin().await?;
        let n = sqlx::query(&format!("DELETE FROM readings WHERE time < {TS} $1"))
            .bind(t)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        for sql in [
            "DELETE FROM exceedances WHERE end_time IS NOT NULL AND end_time < {TS} $1",
            "DELETE FROM quarantine WHERE received_at < {TS} $1",
            "DELETE FROM facility_status WHERE time < {TS} $1",
        ] {
            sqlx::query(&sql.replace("{TS}", TS))
                .bind(t)
                .execute(&mut *tx)
                .await?;
        }
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
