//! Array-bound batch writes of the PostGIS store: feature batches as columns
//! that one statement `UNNEST`s, the upsert of one batch keeping existing fids,
//! and the helpers readings use (exact microsecond times, last write wins).

use std::collections::HashMap;

use sqlx::{Postgres, Transaction};

use super::codec::{geometry_to_wkb, properties_to_json};
use super::StoreError;
use crate::model::{LayerSchema, NewFeature, Reading};

/// Unix time in microseconds: bound as `int8`, turned into `timestamptz` by SQL
/// (exact, and needs no sqlx date feature).
pub(super) fn micros(reading: &Reading) -> i64 {
    reading
        .time
        .unix_timestamp()
        .saturating_mul(1_000_000)
        .saturating_add(i64::from(reading.time.microsecond()))
}

/// Keeps the last of items sharing a key, in their original order: one
/// statement may not upsert the same row twice, and a later write wins.
pub(super) fn last_of_each<'a, T, K: std::hash::Hash + Eq>(
    items: &'a [T],
    key: impl Fn(&'a T) -> K,
) -> Vec<&'a T> {
    let mut last: HashMap<K, usize> = HashMap::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        last.insert(key(item), i);
    }
    if last.len() == items.len() {
        return items.iter().collect();
    }
    items
        .iter()
        .enumerate()
        .filter(|(i, item)| last.get(&key(item)) == Some(i))
        .map(|(_, item)| item)
        .collect()
}

/// Columns of a feature batch, as the arrays the statements `UNNEST`.
pub(super) struct FeatureColumns<'a> {
    pub ids: Vec<&'a str>,
    pub wkb: Vec<Vec<u8>>,
    pub properties: Vec<String>,
}

impl<'a> FeatureColumns<'a> {
    pub fn of(schema: &LayerSchema, features: &[&'a NewFeature]) -> Result<Self, StoreError> {
        Ok(Self {
            ids: features.iter().map(|f| f.id.as_str()).collect(),
            wkb: features
                .iter()
                .map(|f| geometry_to_wkb(&f.geometry))
                .collect::<Result<_, _>>()?,
            properties: features
                .iter()
                .map(|f| properties_to_json(schema, &f.properties))
                .collect(),
        })
    }
}

/// Replaces features that exist (their fids stay), inserts the others in input
/// order (fresh fids, ascending); returns every id's fid.
pub(super) async fn upsert_feature_batch(
    tx: &mut Transaction<'static, Postgres>,
    schema: &LayerSchema,
    batch: &[&NewFeature],
) -> Result<HashMap<String, i64>, StoreError> {
    let ids: Vec<&str> = batch.iter().map(|f| f.id.as_str()).collect();
    let mut fids: HashMap<String, i64> =
        sqlx::query_as("SELECT id, fid FROM features WHERE layer = $1 AND id = ANY($2)")
            .bind(&schema.id)
            .bind(&ids)
            .fetch_all(&mut **tx)
            .await?
            .into_iter()
            .collect();
    let (existing, new): (Vec<&NewFeature>, Vec<&NewFeature>) =
        batch.iter().partition(|f| fids.contains_key(&f.id));
    if !existing.is_empty() {
        let cols = FeatureColumns::of(schema, &existing)?;
        sqlx::query(
            "UPDATE features AS f
                SET geom = ST_SetSRID(ST_GeomFromWKB(u.wkb), 4326),
                    properties = u.props::jsonb, updated_at = now()
               FROM UNNEST($2::text[], $3::bytea[], $4::text[]) AS u(id, wkb, props)
              WHERE f.layer = $1 AND f.id = u.id",
        )
        .bind(&schema.id)
        .bind(&cols.ids)
        .bind(&cols.wkb)
        .bind(&cols.properties)
        .execute(&mut **tx)
        .await?;
    }
    if !new.is_empty() {
        let cols = FeatureColumns::of(schema, &new)?;
        // ORDER BY the input position: fids are handed out in input order, as
        // the embedded store does. ON CONFLICT covers a concurrent writer.
        let rows: Vec<(String, i64)> = sqlx::query_as(
            "INSERT INTO features (layer, id, geom, properties)
             SELECT $1, u.id, ST_SetSRID(ST_GeomFromWKB(u.wkb), 4326), u.props::jsonb
               FROM UNNEST($2::text[], $3::bytea[], $4::text[]) WITH ORDINALITY AS u(id, wkb, props, ord)
              ORDER BY u.ord
             ON CONFLICT (layer, id) DO UPDATE SET geom = excluded.geom,
                properties = excluded.properties, updated_at = excluded.updated_at
             RETURNING id, fid",
        )
        .bind(&schema.id)
        .bind(&cols.ids)
        .bind(&cols.wkb)
        .bind(&cols.properties)
        .fetch_all(&mut **tx)
        .await?;
        fids.extend(rows);
    }
    Ok(fids)
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn later_duplicates_win_and_order_is_kept() {
        let items = [("a", 1), ("b", 2), ("a", 3), ("c", 4)];
        let kept: Vec<_> = last_of_each(&items, |(k, _)| *k)
            .into_iter()
            .copied()
            .collect();
        assert_eq!(kept, vec![("b", 2), ("a", 3), ("c", 4)]);
    }

    #[test]
    fn reading_times_become_exact_microseconds() {
        let reading = Reading {
            station_id: "s".into(),
            pollutant: "w01018".into(),
            kind: "avg".into(),
            time: datetime!(1969-12-31 23:59:59.5 UTC),
            value: 1.0,
            flag: "N".into(),
        };
        assert_eq!(micros(&reading), -500_000);
    }
}
