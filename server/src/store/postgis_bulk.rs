//! Bulk writes into the PostGIS store (`Store::bulk_upsert`, used by
//! `envatlas import`): features stream through one `COPY … FROM STDIN (FORMAT
//! binary)` inside one transaction.
//!
//! - Into an empty layer, rows are copied straight into `features` (the
//!   fastest path PostgreSQL has: no per-row statement, no second copy).
//! - Into a layer that has features, rows are copied into a temporary staging
//!   table, then one `INSERT … SELECT … ON CONFLICT (layer, id) DO UPDATE`
//!   upserts them (a replaced feature keeps its fid).
//!
//! The layer's row is locked (`FOR UPDATE`) first, so edits of the same layer
//! wait for the import and the "empty" decision cannot go stale. Geometry goes
//! as EWKB with SRID 4326 (what `geometry_recv` takes and the column's typmod
//! demands), properties as binary `jsonb` (version byte 1, then the JSON text).

use std::io::Write;

use bytes::{BufMut, BytesMut};
use geozero::{CoordDimensions, ToWkb};
use sqlx::{PgPool, Postgres, Transaction};

use super::change::BulkIds;
use super::codec::schema_to_json;
use super::postgis_changes::record_change;
use super::{BulkItem, BulkReceiver, StoreError};
use crate::model::{LayerSchema, NewFeature, Value};

/// `COPY` binary signature, flags and header-extension length.
const COPY_HEADER: &[u8] = b"PGCOPY\n\xff\r\n\0\0\0\0\0\0\0\0\0";

/// Bytes buffered before a `CopyData` message is sent.
const SEND_AT: usize = 1 << 20;

/// Inserts or updates a layer's schema row, inside a writing transaction.
pub(super) async fn register_layer(
    tx: &mut Transaction<'static, Postgres>,
    schema: &LayerSchema,
) -> Result<(), StoreError> {
    let text = schema_to_json(schema)?;
    sqlx::query(
        "INSERT INTO layers (id, schema_json, position)
         VALUES ($1, $2::jsonb, (SELECT COALESCE(MAX(position), -1) + 1 FROM layers))
         ON CONFLICT (id) DO UPDATE SET schema_json = excluded.schema_json",
    )
    .bind(&schema.id)
    .bind(text)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// See `Store::bulk_upsert`.
pub(super) async fn bulk_upsert(
    pool: &PgPool,
    origin: &str,
    schema: &LayerSchema,
    register: bool,
    mut batches: BulkReceiver,
) -> Result<u64, StoreError> {
    let mut tx = pool.begin().await?;
    if register {
        register_layer(&mut tx, schema).await?;
    }
    let known: Option<String> =
        sqlx::query_scalar("SELECT id FROM layers WHERE id = $1 FOR UPDATE")
            .bind(&schema.id)
            .fetch_optional(&mut *tx)
            .await?;
    if known.is_none() {
        return Err(StoreError::UnknownLayer(schema.id.clone()));
    }
    let empty: bool =
        sqlx::query_scalar("SELECT NOT EXISTS (SELECT 1 FROM features WHERE layer = $1)")
            .bind(&schema.id)
            .fetch_one(&mut *tx)
            .await?;
    let target = if empty {
        "features"
    } else {
        // No indexes: the one INSERT below reads it sequentially.
        sqlx::query(
            "CREATE TEMPORARY TABLE bulk_staging
               (layer text, id text, geom geometry, properties jsonb) ON COMMIT DROP",
        )
        .execute(&mut *tx)
        .await?;
        "bulk_staging"
    };

    let mut ids = BulkIds::default();
    let mut copy = tx
        .copy_in_raw(&format!(
            "COPY {target} (layer, id, geom, properties) FROM STDIN (FORMAT binary)"
        ))
        .await?;
    let mut buf = BytesMut::with_capacity(SEND_AT + (SEND_AT >> 2));
    buf.put_slice(COPY_HEADER);
    let mut committed = false;
    let mut failure = None;
    while let Some(item) = batches.recv().await {
        let batch = match item {
            BulkItem::Features(batch) => batch,
            BulkItem::Commit => {
                committed = true;
                break;
            }
        };
        for feature in &batch {
            if let Err(e) = encode_row(&mut buf, schema, feature) {
                failure = Some(e);
                break;
            }
            if buf.len() >= SEND_AT {
                copy.send(buf.split()).await?;
            }
        }
        if failure.is_some() {
            break;
        }
        ids.extend(batch.into_iter().map(|f| f.id));
    }
    if !committed || failure.is_some() {
        // The transaction is rolled back when `tx` is dropped.
        copy.abort("envatlas: bulk write aborted").await?;
        return Err(failure.unwrap_or(StoreError::Aborted));
    }
    buf.put_i16(-1);
    copy.send(buf.split()).await?;
    let copied = copy.finish().await.map_err(duplicate_as_conflict)?;

    if !empty {
        sqlx::query(
            "INSERT INTO features (layer, id, geom, properties)
             SELECT layer, id, geom, properties FROM bulk_staging
             ON CONFLICT (layer, id) DO UPDATE SET geom = excluded.geom,
                properties = excluded.properties, updated_at = now()",
        )
        .execute(&mut *tx)
        .await
        .map_err(duplicate_as_conflict)?;
    }
    if copied > 0 || register {
        sqlx::query("UPDATE layers SET version = version + 1 WHERE id = $1")
            .bind(&schema.id)
            .execute(&mut *tx)
            .await?;
        let (op, changed) = ids.to_record(register);
        record_change(&mut tx, origin, &schema.id, op, &changed).await?;
    }
    tx.commit().await?;
    Ok(copied)
}

/// A unique violation (23505) or "ON CONFLICT … cannot affect row a second
/// time" (21000) means the stream named an id twice or raced another writer.
fn duplicate_as_conflict(e: sqlx::Error) -> StoreError {
    match &e {
        sqlx::Error::Database(db) if matches!(db.code().as_deref(), Some("23505" | "21000")) => {
            StoreError::Conflict(vec![db.message().to_string()])
        }
        _ => StoreError::from(e),
    }
}

/// Appends one binary `COPY` tuple: layer, id, geometry (EWKB), properties (jsonb).
fn encode_row(
    buf: &mut BytesMut,
    schema: &LayerSchema,
    feature: &NewFeature,
) -> Result<(), StoreError> {
    buf.put_i16(4);
    put_field(buf, schema.id.as_bytes());
    put_field(buf, feature.id.as_bytes());
    let ewkb = feature
        .geometry
        .to_ewkb(CoordDimensions::xy(), Some(4326))
        .map_err(|e| StoreError::Corrupt(format!("cannot encode geometry as EWKB: {e}")))?;
    put_field(buf, &ewkb);
    // Length first, filled in once the JSON is written.
    let at = buf.len();
    buf.put_i32(0);
    buf.put_u8(1);
    write_properties(buf, schema, &feature.properties)?;
    let len = i32::try_from(buf.len() - at - 4)
        .map_err(|_| StoreError::Corrupt(format!("feature '{}' is too large", feature.id)))?;
    buf[at..at + 4].copy_from_slice(&len.to_be_bytes());
    Ok(())
}

fn put_field(buf: &mut BytesMut, bytes: &[u8]) {
    // Fields far below 2 GiB: a geometry or an id.
    buf.put_i32(i32::try_from(bytes.len()).unwrap_or(i32::MAX));
    buf.put_slice(bytes);
}

/// The properties as a JSON object keyed by name, nulls left out: the same
/// object as `codec::properties_to_json` (keys in schema order), written
/// without building a map.
fn write_properties(
    buf: &mut BytesMut,
    schema: &LayerSchema,
    values: &[Value],
) -> Result<(), StoreError> {
    let corrupt = |e: std::io::Error| StoreError::Corrupt(format!("cannot encode properties: {e}"));
    let mut w = buf.writer();
    w.write_all(b"{").map_err(corrupt)?;
    let mut first = true;
    for (def, value) in schema.properties.iter().zip(values) {
        let write_value = |w: &mut bytes::buf::Writer<&mut BytesMut>| -> serde_json::Result<()> {
            match value {
                Value::Null => Ok(()),
                Value::Bool(b) => serde_json::to_writer(w, b),
                Value::Int(i) => serde_json::to_writer(w, i),
                Value::Float(f) if f.is_finite() => serde_json::to_writer(w, f),
                Value::Float(_) => w.write_all(b"null").map_err(serde_json::Error::io),
                Value::Text(s) => serde_json::to_writer(w, &**s),
            }
        };
        if matches!(value, Value::Null) {
            continue;
        }
        if !first {
            w.write_all(b",").map_err(corrupt)?;
        }
        first = false;
        serde_json::to_writer(&mut w, &def.name)
            .and_then(|()| w.write_all(b":").map_err(serde_json::Error::io))
            .and_then(|()| write_value(&mut w))
            .map_err(|e| StoreError::Corrupt(format!("cannot encode properties: {e}")))?;
    }
    w.write_all(b"}").map_err(corrupt)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::catalog::builtin_schema;
    use crate::store::codec::properties_to_json;

    #[test]
    fn properties_are_written_as_the_codec_writes_them() {
        let schema = builtin_schema("pollution_sources").expect("schema");
        let mut values = vec![Value::Null; schema.properties.len()];
        values[0] = Value::Text("宜宾\"示例\"\n企业".into());
        if values.len() > 2 {
            values[2] = Value::Int(-3);
        }
        let mut buf = BytesMut::new();
        write_properties(&mut buf, &schema, &values).expect("encode");
        // Key order differs (schema order here, sorted there); jsonb does not keep it.
        let ours: serde_json::Value = serde_json::from_slice(&buf).expect("json");
        let codec: serde_json::Value =
            serde_json::from_str(&properties_to_json(&schema, &values)).expect("json");
        assert_eq!(ours, codec);
    }

    #[test]
    fn rows_carry_four_length_prefixed_fields() {
        let schema = builtin_schema("pollution_sources").expect("schema");
        let feature = NewFeature {
            id: "a".into(),
            geometry: geo_types::Geometry::Point(geo_types::point!(x: 104.6, y: 28.7)),
            properties: vec![Value::Null; schema.properties.len()],
        };
        let mut buf = BytesMut::new();
        encode_row(&mut buf, &schema, &feature).expect("encode");
        assert_eq!(&buf[..2], &4i16.to_be_bytes());
        let layer_len = i32::from_be_bytes([buf[2], buf[3], buf[4], buf[5]]) as usize;
        assert_eq!(&buf[6..6 + layer_len], schema.id.as_bytes());
        // The last field is jsonb: version 1, then "{}".
        assert_eq!(&buf[buf.len() - 3..], b"\x01{}");
    }
}
