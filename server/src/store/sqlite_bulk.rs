//! Bulk writes into the embedded store (`Store::bulk_upsert`, used by
//! `envatlas import`): every feature of the stream in one transaction, through
//! one prepared `INSERT … ON CONFLICT DO UPDATE` (SQLite has no `COPY`; a
//! cached statement per row inside one transaction is its fast path).
//!
//! The transaction holds SQLite's write lock for the whole import, which is
//! what makes the import all-or-nothing; the running server keeps reading
//! (WAL), and its own writes wait up to the busy timeout.

use sqlx::SqlitePool;

use super::change::BulkIds;
use super::codec::{geometry_to_wkb, properties_to_json};
use super::sqlite::{now_rfc3339, record_change, register_layer};
use super::{BulkItem, BulkReceiver, StoreError};
use crate::model::LayerSchema;

/// See `Store::bulk_upsert`.
pub(super) async fn bulk_upsert(
    pool: &SqlitePool,
    origin: &str,
    schema: &LayerSchema,
    register: bool,
    mut batches: BulkReceiver,
) -> Result<u64, StoreError> {
    let now = now_rfc3339();
    let mut tx = pool.begin().await?;
    if register {
        register_layer(&mut tx, schema).await?;
    }
    // A write first, so the transaction holds the write lock from here on (a
    // read first could not be upgraded once another process has written).
    let known = sqlx::query("UPDATE layers SET version = version + 1 WHERE id = ?1")
        .bind(&schema.id)
        .execute(&mut *tx)
        .await?
        .rows_affected();
    if known == 0 {
        return Err(StoreError::UnknownLayer(schema.id.clone()));
    }
    let mut ids = BulkIds::default();
    let mut written = 0u64;
    let mut committed = false;
    while let Some(item) = batches.recv().await {
        let batch = match item {
            BulkItem::Features(batch) => batch,
            BulkItem::Commit => {
                committed = true;
                break;
            }
        };
        for f in &batch {
            sqlx::query(
                "INSERT INTO features (layer, id, geom, properties, updated_at)
                 VALUES (?1, ?2, ?3, ?4, ?5)
                 ON CONFLICT (layer, id) DO UPDATE SET geom = excluded.geom,
                    properties = excluded.properties, updated_at = excluded.updated_at",
            )
            .bind(&schema.id)
            .bind(&f.id)
            .bind(geometry_to_wkb(&f.geometry)?)
            .bind(properties_to_json(schema, &f.properties))
            .bind(&now)
            .execute(&mut *tx)
            .await?;
        }
        written += batch.len() as u64;
        ids.extend(batch.into_iter().map(|f| f.id));
    }
    if !committed {
        tx.rollback().await?;
        return Err(StoreError::Aborted);
    }
    if written > 0 || register {
        let (op, changed) = ids.to_record(register);
        record_change(&mut tx, origin, &schema.id, op, &changed).await?;
    }
    tx.commit().await?;
    Ok(written)
}
