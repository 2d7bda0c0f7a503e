//! Start-up load of every layer from the PostGIS store (`Store::load_layers`).
//!
//! All layers share the `features` table, so it is read once, split into
//! ranges of heap pages read in parallel on separate connections (a TID range
//! scan, PostgreSQL 14+: no index, no sort, each page read once). Rows stream
//! in (`fetch`, not `fetch_all`) and are decoded as they arrive: geometry in
//! the column's own binary form (EWKB, no `ST_AsBinary` call), properties as
//! JSON text. Each range's features are routed to their layer; the ranges are
//! concatenated in page order and sorted by fid by `Layer::new`.
//!
//! Ranges read under separate snapshots: a row updated during the load may be
//! seen twice (old and new version) and is kept once (by fid). The server
//! reads the change log position before loading, so such a change is applied
//! again once it runs.

use std::collections::HashMap;

use futures_util::TryStreamExt;
use geozero::wkb::Ewkb;
use geozero::ToGeo;
use sqlx::{PgPool, Row};
use tokio::task::JoinSet;

use super::codec::properties_from_json;
use super::StoreError;
use crate::model::{Feature, LayerSchema};

/// Ranges read at once: a few per core keeps both the database and the
/// decoding busy while leaving pool connections for the rest of start-up.
const PARALLEL_RANGES: i64 = 4;

/// Below this many heap pages (8 kB each) one range is enough.
const MIN_PAGES_PER_RANGE: i64 = 512;

/// First version with TID range scans; older servers read in one range.
const TID_RANGE_VERSION: i32 = 140_000;

/// See `Store::load_layers`.
pub(super) async fn load_layers(
    pool: &PgPool,
    schemas: &[LayerSchema],
) -> Result<Vec<Vec<Feature>>, StoreError> {
    let row = sqlx::query(
        "SELECT (pg_relation_size('features') / current_setting('block_size')::int)::int8 AS pages,
                current_setting('server_version_num')::int4 AS version",
    )
    .fetch_one(pool)
    .await?;
    let pages: i64 = row.try_get("pages")?;
    let version: i32 = row.try_get("version")?;
    let ranges = if version < TID_RANGE_VERSION {
        1
    } else {
        (pages / MIN_PAGES_PER_RANGE).clamp(1, PARALLEL_RANGES)
    };
    let per_range = pages / ranges + 1;
    let schemas: std::sync::Arc<Vec<LayerSchema>> = std::sync::Arc::new(schemas.to_vec());
    let mut tasks = JoinSet::new();
    for i in 0..ranges {
        let from = i * per_range;
        // The last range is open-ended: the table may have grown meanwhile.
        let to = (i + 1 < ranges).then_some((i + 1) * per_range);
        let sql = match (ranges, to) {
            (1, _) => "SELECT layer, fid, id, geom, properties::text FROM features".to_string(),
            (_, Some(to)) => format!(
                "SELECT layer, fid, id, geom, properties::text FROM features
                  WHERE ctid >= '({from},0)'::tid AND ctid < '({to},0)'::tid"
            ),
            (_, None) => format!(
                "SELECT layer, fid, id, geom, properties::text FROM features
                  WHERE ctid >= '({from},0)'::tid"
            ),
        };
        let pool = pool.clone();
        let schemas = schemas.clone();
        tasks.spawn(async move { read_range(&pool, &sql, &schemas).await.map(|r| (i, r)) });
    }
    let mut parts: Vec<(i64, Vec<Vec<Feature>>)> = Vec::with_capacity(tasks.len());
    while let Some(joined) = tasks.join_next().await {
        let part = joined.map_err(|e| StoreError::Corrupt(format!("layer load panicked: {e}")))?;
        // An error drops the JoinSet, which cancels the other ranges.
        parts.push(part?);
    }
    parts.sort_by_key(|(i, _)| *i);
    let mut layers: Vec<Vec<Feature>> = (0..schemas.len()).map(|_| Vec::new()).collect();
    for (_, part) in parts {
        for (layer, features) in layers.iter_mut().zip(part) {
            if layer.is_empty() {
                *layer = features;
            } else {
                layer.extend(features);
            }
        }
    }
    if ranges > 1 {
        for layer in &mut layers {
            layer.sort_unstable_by_key(|f| f.fid);
            layer.dedup_by_key(|f| f.fid);
        }
    }
    Ok(layers)
}

/// Reads one range of the table, decoding rows as they arrive; rows of
/// layers not in `schemas` are skipped.
async fn read_range(
    pool: &PgPool,
    sql: &str,
    schemas: &[LayerSchema],
) -> Result<Vec<Vec<Feature>>, StoreError> {
    let index: HashMap<&str, usize> = schemas
        .iter()
        .enumerate()
        .map(|(i, s)| (s.id.as_str(), i))
        .collect();
    let mut out: Vec<Vec<Feature>> = (0..schemas.len()).map(|_| Vec::new()).collect();
    let mut conn = pool.acquire().await?;
    let mut rows = sqlx::query(sql).fetch(&mut *conn);
    while let Some(row) = rows.try_next().await? {
        let layer: &str = row.try_get(0)?;
        let Some(&at) = index.get(layer) else {
            continue;
        };
        // geometry has no sqlx type: its binary form is EWKB bytes.
        let ewkb: &[u8] = row.try_get_unchecked(3)?;
        let geometry = Ewkb(ewkb)
            .to_geo()
            .map_err(|e| StoreError::Corrupt(format!("cannot decode EWKB geometry: {e}")))?;
        let id: &str = row.try_get(2)?;
        out[at].push(Feature {
            fid: row.try_get(1)?,
            id: id.into(),
            geometry,
            properties: properties_from_json(&schemas[at], row.try_get(4)?)?,
        });
    }
    Ok(out)
}
