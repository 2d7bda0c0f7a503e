//! The PostGIS store: a PostgreSQL database with the postgis extension, via a
//! sqlx pool (`--database-url postgres://…`).
//!
//! Same semantics as the embedded store (see [`super::Store`]), with PostGIS
//! types: geometry is `geometry(Geometry, 4326)` (bound as WKB, read back with
//! `ST_AsBinary`), properties and schemas are `jsonb`, reading times
//! `timestamptz`. Batch writes bind whole columns as arrays and `UNNEST` them,
//! in batches, inside one transaction (`postgis_batch`); imports stream through `COPY`
//! (`postgis_bulk`); start-up reads the features table in parallel page
//! ranges (`postgis_bulk_load`). Migrations live in `server/migrations/postgres`.

use std::collections::HashMap;
use std::time::Duration;

use async_trait::async_trait;
use sqlx::postgres::PgPoolOptions;
use sqlx::{PgPool, Row};

use super::change::{self, ChangeOp, ChangeRecord};
use super::codec::{feature_from_columns, schema_from_json};
use super::postgis_batch::{last_of_each, micros, upsert_feature_batch, FeatureColumns};
use super::postgis_changes::{change_from_row, record_change, PgNotifications};
use super::postgis_setup::ensure_postgis;
pub use super::postgis_setup::postgis_missing;
use super::{BulkReceiver, ChangeNotifications, Store, StoreError};
use crate::model::{Feature, LayerSchema, NewFeature, Reading};

/// Features per statement: big polygons make rows large, so keep messages modest.
const FEATURE_BATCH: usize = 1_000;

/// Readings per statement (six arrays of this length).
const READING_BATCH: usize = 10_000;

#[derive(Debug, Clone)]
pub struct PostgisStore {
    pool: PgPool,
    origin: String,
}

impl PostgisStore {
    /// Connects, makes sure the postgis extension exists (creating it when the
    /// role may), then runs the migrations.
    pub async fn open(url: &str) -> Result<Self, StoreError> {
        // A short acquire timeout: while the database is unreachable, a write
        // should fail fast with 503 rather than hold the client for long.
        let pool = PgPoolOptions::new()
            .max_connections(8)
            .acquire_timeout(Duration::from_secs(5))
            .connect(url)
            .await?;
        ensure_postgis(&pool).await?;
        sqlx::migrate!("./migrations/postgres").run(&pool).await?;
        Ok(Self {
            pool,
            origin: change::new_origin(),
        })
    }
}

fn feature_from_row(
    schema: &LayerSchema,
    row: &sqlx::postgres::PgRow,
) -> Result<Feature, StoreError> {
    feature_from_columns(
        schema,
        row.try_get("fid")?,
        row.try_get("id")?,
        row.try_get("geom")?,
        row.try_get("properties")?,
    )
}

#[async_trait]
impl Store for PostgisStore {
    fn kind(&self) -> &'static str {
        "postgis"
    }

    async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    async fn schemas(&self) -> Result<Vec<LayerSchema>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, schema_json::text AS schema_json FROM layers ORDER BY position, id",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                let id: &str = row.try_get("id")?;
                let text: &str = row.try_get("schema_json")?;
                schema_from_json(id, text)
            })
            .collect()
    }

    async fn put_schema(&self, schema: &LayerSchema) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await?;
        super::postgis_bulk::register_layer(&mut tx, schema).await?;
        record_change(&mut tx, &self.origin, &schema.id, ChangeOp::Layer, &[]).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn load_features(&self, schema: &LayerSchema) -> Result<Vec<Feature>, StoreError> {
        let rows = sqlx::query(
            "SELECT fid, id, ST_AsBinary(geom) AS geom, properties::text AS properties
               FROM features WHERE layer = $1 ORDER BY fid",
        )
        .bind(&schema.id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                feature_from_columns(
                    schema,
                    row.try_get("fid")?,
                    row.try_get("id")?,
                    row.try_get("geom")?,
                    row.try_get("properties")?,
                )
            })
            .collect()
    }

    async fn upsert_features(
        &self,
        schema: &LayerSchema,
        features: &[NewFeature],
    ) -> Result<Vec<Feature>, StoreError> {
        let unique = last_of_each(features, |f| f.id.as_str());
        let mut tx = self.pool.begin().await?;
        let mut fids: HashMap<String, i64> = HashMap::with_capacity(unique.len());
        for batch in unique.chunks(FEATURE_BATCH) {
            fids.extend(upsert_feature_batch(&mut tx, schema, batch).await?);
        }
        sqlx::query("UPDATE layers SET version = version + 1 WHERE id = $1")
            .bind(&schema.id)
            .execute(&mut *tx)
            .await?;
        let ids: Vec<&str> = unique.iter().map(|f| f.id.as_str()).collect();
        record_change(&mut tx, &self.origin, &schema.id, ChangeOp::Upsert, &ids).await?;
        tx.commit().await?;
        features
            .iter()
            .map(|f| {
                let fid = *fids.get(&f.id).ok_or_else(|| {
                    StoreError::Corrupt(format!("no fid came back for feature '{}'", f.id))
                })?;
                Ok(Feature {
                    fid,
                    id: f.id.as_str().into(),
                    geometry: f.geometry.clone(),
                    properties: f.properties.clone(),
                })
            })
            .collect()
    }

    async fn load_layers(&self, schemas: &[LayerSchema]) -> Result<Vec<Vec<Feature>>, StoreError> {
        super::postgis_bulk_load::load_layers(&self.pool, schemas).await
    }

    async fn bulk_upsert(
        &self,
        schema: &LayerSchema,
        register: bool,
        batches: BulkReceiver,
    ) -> Result<u64, StoreError> {
        super::postgis_bulk::bulk_upsert(&self.pool, &self.origin, schema, register, batches).await
    }

    async fn create_features(
        &self,
        schema: &LayerSchema,
        features: &[NewFeature],
    ) -> Result<Vec<Feature>, StoreError> {
        let ids: Vec<&str> = features.iter().map(|f| f.id.as_str()).collect();
        let mut tx = self.pool.begin().await?;
        let mut taken: Vec<String> =
            sqlx::query_scalar("SELECT id FROM features WHERE layer = $1 AND id = ANY($2)")
                .bind(&schema.id)
                .bind(&ids)
                .fetch_all(&mut *tx)
                .await?;
        let mut seen = std::collections::HashSet::with_capacity(ids.len());
        taken.extend(
            ids.iter()
                .filter(|id| !seen.insert(**id))
                .map(|id| id.to_string()),
        );
        if !taken.is_empty() {
            tx.rollback().await?;
            return Err(StoreError::Conflict(taken));
        }
        let refs: Vec<&NewFeature> = features.iter().collect();
        let mut fids: HashMap<String, i64> = HashMap::with_capacity(refs.len());
        for batch in refs.chunks(FEATURE_BATCH) {
            let cols = FeatureColumns::of(schema, batch)?;
            // No ON CONFLICT: a concurrent create of the same id fails the
            // unique constraint and the whole transaction rolls back.
            let rows: Vec<(String, i64)> = sqlx::query_as(
                "INSERT INTO features (layer, id, geom, properties)
                 SELECT $1, u.id, ST_SetSRID(ST_GeomFromWKB(u.wkb), 4326), u.props::jsonb
                   FROM UNNEST($2::text[], $3::bytea[], $4::text[]) WITH ORDINALITY AS u(id, wkb, props, ord)
                  ORDER BY u.ord
                 RETURNING id, fid",
            )
            .bind(&schema.id)
            .bind(&cols.ids)
            .bind(&cols.wkb)
            .bind(&cols.properties)
            .fetch_all(&mut *tx)
            .await
            .map_err(|e| match &e {
                sqlx::Error::Database(db) if db.code().as_deref() == Some("23505") => {
                    StoreError::Conflict(cols.ids.iter().map(|s| s.to_string()).collect())
                }
                _ => StoreError::from(e),
            })?;
            fids.extend(rows);
        }
        sqlx::query("UPDATE layers SET version = version + 1 WHERE id = $1")
            .bind(&schema.id)
            .execute(&mut *tx)
            .await?;
        record_change(&mut tx, &self.origin, &schema.id, ChangeOp::Upsert, &ids).await?;
        tx.commit().await?;
        features
            .iter()
            .map(|f| {
                let fid = *fids.get(&f.id).ok_or_else(|| {
                    StoreError::Corrupt(format!("no fid came back for feature '{}'", f.id))
                })?;
                Ok(Feature {
                    fid,
                    id: f.id.as_str().into(),
                    geometry: f.geometry.clone(),
                    properties: f.properties.clone(),
                })
            })
            .collect()
    }

    async fn delete_features(
        &self,
        schema: &LayerSchema,
        ids: &[String],
    ) -> Result<Vec<String>, StoreError> {
        let mut tx = self.pool.begin().await?;
        let deleted: Vec<String> = sqlx::query_scalar(
            "DELETE FROM features WHERE layer = $1 AND id = ANY($2) RETURNING id",
        )
        .bind(&schema.id)
        .bind(ids)
        .fetch_all(&mut *tx)
        .await?;
        if deleted.is_empty() {
            tx.rollback().await?;
            return Ok(deleted);
        }
        sqlx::query("UPDATE layers SET version = version + 1 WHERE id = $1")
            .bind(&schema.id)
            .execute(&mut *tx)
            .await?;
        let refs: Vec<&str> = deleted.iter().map(String::as_str).collect();
        record_change(&mut tx, &self.origin, &schema.id, ChangeOp::Delete, &refs).await?;
        tx.commit().await?;
        Ok(deleted)
    }

    async fn features_by_id(
        &self,
        schema: &LayerSchema,
        ids: &[String],
    ) -> Result<Vec<Feature>, StoreError> {
        let rows = sqlx::query(
            "SELECT fid, id, ST_AsBinary(geom) AS geom, properties::text AS properties
               FROM features WHERE layer = $1 AND id = ANY($2)",
        )
        .bind(&schema.id)
        .bind(ids)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| feature_from_row(schema, row))
            .collect()
    }

    fn origin(&self) -> &str {
        &self.origin
    }

    async fn last_change(&self) -> Result<i64, StoreError> {
        let seq: Option<i64> = sqlx::query_scalar("SELECT MAX(seq) FROM changes")
            .fetch_one(&self.pool)
            .await?;
        Ok(seq.unwrap_or(0))
    }

    async fn changes_since(&self, seq: i64, limit: i64) -> Result<Vec<ChangeRecord>, StoreError> {
        let rows = sqlx::query(
            "SELECT seq, layer, op, ids, origin FROM changes WHERE seq > $1 ORDER BY seq LIMIT $2",
        )
        .bind(seq)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(change_from_row).collect()
    }

    async fn change_notifications(
        &self,
    ) -> Result<Option<Box<dyn ChangeNotifications>>, StoreError> {
        Ok(Some(Box::new(PgNotifications {
            pool: self.pool.clone(),
            listener: None,
        })))
    }

    async fn upsert_readings(&self, readings: &[Reading]) -> Result<u64, StoreError> {
        let unique = last_of_each(readings, |r| {
            (
                r.station_id.as_str(),
                r.pollutant.as_str(),
                r.kind.as_str(),
                micros(r),
            )
        });
        let mut tx = self.pool.begin().await?;
        let mut written = 0;
        for batch in unique.chunks(READING_BATCH) {
            let text = |f: fn(&Reading) -> &str| batch.iter().map(|r| f(r)).collect::<Vec<_>>();
            written += sqlx::query(
                "INSERT INTO readings (station_id, pollutant, kind, time, value, flag)
                 SELECT u.s, u.p, u.k, timestamptz 'epoch' + u.t * interval '1 microsecond', u.v, u.f
                   FROM UNNEST($1::text[], $2::text[], $3::text[], $4::int8[], $5::float8[], $6::text[])
                        AS u(s, p, k, t, v, f)
                 ON CONFLICT (station_id, pollutant, kind, period, time)
                 DO UPDATE SET value = excluded.value, flag = excluded.flag",
            )
            .bind(text(|r| &r.station_id))
            .bind(text(|r| &r.pollutant))
            .bind(text(|r| &r.kind))
            .bind(batch.iter().map(|r| micros(r)).collect::<Vec<i64>>())
            .bind(batch.iter().map(|r| r.value).collect::<Vec<f64>>())
            .bind(text(|r| &r.flag))
            .execute(&mut *tx)
            .await?
            .rows_affected();
        }
        tx.commit().await?;
        Ok(written)
    }

    async fn count_readings(&self) -> Result<u64, StoreError> {
        let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM readings")
            .fetch_one(&self.pool)
            .await?;
        Ok(u64::try_from(n).unwrap_or(0))
    }

    async fn meta(&self, key: &str) -> Result<Option<String>, StoreError> {
        Ok(sqlx::query_scalar("SELECT value FROM meta WHERE key = $1")
            .bind(key)
            .fetch_optional(&self.pool)
            .await?)
    }

    fn monitoring(&self) -> std::sync::Arc<dyn super::monitoring::MonitoringStore> {
        std::sync::Arc::new(super::postgis_monitoring::PostgisMonitoring::new(
            self.pool.clone(),
        ))
    }

    async fn set_meta(&self, key: &str, value: &str) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO meta (key, value) VALUES ($1, $2)
             ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        )
        .bind(key)
        .bind(value)
        .execute(&self.pool)
        .await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_postgis_errors_name_the_fix() {
        let installed = postgis_missing("atlas", 15, true, "permission denied to create extension");
        assert!(
            installed.contains("CREATE EXTENSION postgis"),
            "{installed}"
        );
        assert!(installed.contains("superuser") && installed.contains("'atlas'"));
        assert!(
            installed.contains("permission denied"),
            "the cause is kept: {installed}"
        );
        let absent = postgis_missing("atlas", 15, false, "extension \"postgis\" is not available");
        assert!(
            absent.contains("install postgresql-15-postgis-3"),
            "{absent}"
        );
        assert!(absent.contains("CREATE EXTENSION postgis") && absent.contains("superuser"));
    }
}
