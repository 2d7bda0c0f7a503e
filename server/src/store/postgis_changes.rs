//! The PostGIS side of change propagation: the change log written inside each
//! writing transaction, `pg_notify` to wake other instances, and the
//! reconnecting `LISTEN` they wait on.

use async_trait::async_trait;
use sqlx::postgres::{PgListener, PgRow};
use sqlx::{PgPool, Postgres, Row, Transaction};

use super::change::{self, ChangeOp, ChangeRecord, NOTIFY_CHANNEL};
use super::{ChangeNotifications, StoreError};

/// Key of the transaction-level advisory lock that orders change records.
pub(super) const CHANGE_LOCK: i64 = 0x656e_7661_746c_6173; // "envatlas"

/// Changes older than this are pruned.
pub(super) const CHANGE_RETENTION: &str = "7 days";

/// Records a write in the change log and notifies listeners, inside the
/// writing transaction. The advisory lock, held until commit, makes sequence
/// numbers commit in order, so a reader that has seen `seq` has seen every
/// earlier change; call this last in the transaction to hold it briefly.
pub(super) async fn record_change(
    tx: &mut Transaction<'static, Postgres>,
    origin: &str,
    layer: &str,
    op: ChangeOp,
    ids: &[&str],
) -> Result<(), StoreError> {
    if ids.is_empty() && op != ChangeOp::Layer {
        return Ok(());
    }
    let (op, ids) = change::recorded_ids(op, ids.iter().copied());
    sqlx::query("SELECT pg_advisory_xact_lock($1)")
        .bind(CHANGE_LOCK)
        .execute(&mut **tx)
        .await?;
    let seq: i64 = sqlx::query_scalar(
        "INSERT INTO changes (layer, op, ids, origin) VALUES ($1, $2, $3, $4) RETURNING seq",
    )
    .bind(layer)
    .bind(op.as_str())
    .bind(ids)
    .bind(origin)
    .fetch_one(&mut **tx)
    .await?;
    if seq % 1_000 == 0 {
        sqlx::query(&format!(
            "DELETE FROM changes WHERE at < now() - interval '{CHANGE_RETENTION}'"
        ))
        .execute(&mut **tx)
        .await?;
    }
    sqlx::query("SELECT pg_notify($1, $2)")
        .bind(NOTIFY_CHANNEL)
        .bind(seq.to_string())
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// `LISTEN` on the change channel through a dedicated connection, which sqlx
/// re-establishes (re-issuing the `LISTEN`) after it is lost.
pub(super) struct PgNotifications {
    pub(super) pool: PgPool,
    pub(super) listener: Option<PgListener>,
}

#[async_trait]
impl ChangeNotifications for PgNotifications {
    async fn next(&mut self) -> Result<(), StoreError> {
        let listener = match &mut self.listener {
            Some(l) => l,
            None => {
                let mut l = PgListener::connect_with(&self.pool).await?;
                l.listen(NOTIFY_CHANNEL).await?;
                self.listener.insert(l)
            }
        };
        match listener.try_recv().await {
            // A notification, or `None`: the connection was lost and will be
            // re-established by the next call; either way the caller reads the
            // change log, which also covers notifications missed meanwhile.
            Ok(_) => Ok(()),
            Err(e) => {
                self.listener = None;
                Err(e.into())
            }
        }
    }
}

pub(super) fn change_from_row(row: &PgRow) -> Result<ChangeRecord, StoreError> {
    let seq: i64 = row.try_get("seq")?;
    let op: String = row.try_get("op")?;
    Ok(ChangeRecord {
        seq,
        layer: row.try_get("layer")?,
        op: ChangeOp::parse(&op)
            .ok_or_else(|| StoreError::Corrupt(format!("change {seq} has unknown op '{op}'")))?,
        ids: row.try_get("ids")?,
        origin: row.try_get("origin")?,
    })
}
