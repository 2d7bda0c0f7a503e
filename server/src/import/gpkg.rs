//! GeoPackages (OGC 12-128r18): a SQLite file, read with sqlx.
//!
//! The feature table comes from `gpkg_contents` (the only one, or the one named
//! like the target layer), its geometry column and SRS from
//! `gpkg_geometry_columns` and `gpkg_spatial_ref_sys`. Geometry blobs are the
//! GeoPackage header (magic `GP`, flags, srs id, optional envelope) followed by
//! standard WKB, decoded with geozero. Rows are read in primary-key pages on a
//! reader thread with its own small runtime, so the importer's iterator stays
//! synchronous and memory stays flat.

use std::path::Path;
use std::str::FromStr;
use std::sync::mpsc::{sync_channel, SyncSender};

use geo_types::Geometry;
use geozero::wkb::Wkb;
use geozero::ToGeo;
use serde_json::Value as Json;
use sqlx::sqlite::{SqliteConnectOptions, SqliteRow};
use sqlx::{Connection, Row, SqliteConnection, TypeInfo, ValueRef};

use super::crs::{self, Declared};
use super::record::{Location, Opened, Record};
use super::ImportError;

const PAGE: i64 = 5_000;

struct Table {
    name: String,
    pk: String,
    geometry: String,
    columns: Vec<String>,
    declared: Declared,
}

fn quote(ident: &str) -> String {
    format!("\"{}\"", ident.replace('"', "\"\""))
}

fn db_err(e: sqlx::Error) -> ImportError {
    ImportError::Input(format!("GeoPackage: {e}"))
}

async fn describe(conn: &mut SqliteConnection, layer: &str) -> Result<Table, ImportError> {
    let tables: Vec<String> = sqlx::query_scalar(
        "SELECT table_name FROM gpkg_contents WHERE data_type = 'features' ORDER BY table_name",
    )
    .fetch_all(&mut *conn)
    .await
    .map_err(|e| ImportError::Input(format!("not a GeoPackage with feature tables ({e})")))?;
    let name = match tables.as_slice() {
        [] => {
            return Err(ImportError::Input(
                "the GeoPackage has no feature table".into(),
            ))
        }
        [one] => one.clone(),
        many => many
            .iter()
            .find(|t| t.as_str() == layer)
            .cloned()
            .ok_or_else(|| {
                ImportError::Input(format!(
                    "the GeoPackage has several feature tables ({}); none is named '{layer}'",
                    many.join(", ")
                ))
            })?,
    };
    let row = sqlx::query(
        "SELECT g.column_name, g.srs_id, s.organization, s.organization_coordsys_id, s.srs_name
           FROM gpkg_geometry_columns g LEFT JOIN gpkg_spatial_ref_sys s ON s.srs_id = g.srs_id
          WHERE g.table_name = ?",
    )
    .bind(&name)
    .fetch_one(&mut *conn)
    .await
    .map_err(db_err)?;
    let geometry: String = row.try_get(0).map_err(db_err)?;
    let srs_id: i64 = row.try_get(1).map_err(db_err)?;
    let org: Option<String> = row.try_get(2).map_err(db_err)?;
    let code: Option<i64> = row.try_get(3).map_err(db_err)?;
    let srs_name: Option<String> = row.try_get(4).map_err(db_err)?;
    let declared = crs::from_epsg(
        org.as_deref().unwrap_or("none"),
        code.unwrap_or(srs_id),
        srs_name.as_deref().unwrap_or(""),
    );
    let info = sqlx::query(&format!("PRAGMA table_info({})", quote(&name)))
        .fetch_all(&mut *conn)
        .await
        .map_err(db_err)?;
    let mut pk = None;
    let mut columns = Vec::new();
    for col in &info {
        let col_name: String = col.try_get("name").map_err(db_err)?;
        let is_pk: i64 = col.try_get("pk").map_err(db_err)?;
        if is_pk == 1 {
            pk = Some(col_name);
        } else if col_name != geometry {
            columns.push(col_name);
        }
    }
    let pk = pk.ok_or_else(|| ImportError::Input(format!("table '{name}' has no primary key")))?;
    Ok(Table {
        name,
        pk,
        geometry,
        columns,
        declared,
    })
}

/// The WKB inside a GeoPackage geometry blob, or `None` for an empty geometry.
pub fn blob_wkb(blob: &[u8]) -> Result<Option<&[u8]>, String> {
    if blob.len() < 8 || &blob[..2] != b"GP" {
        return Err("not a GeoPackage geometry blob".into());
    }
    let flags = blob[3];
    let envelope = match (flags >> 1) & 0b111 {
        0 => 0,
        1 => 32,
        2 | 3 => 48,
        4 => 64,
        other => return Err(format!("invalid envelope indicator {other}")),
    };
    if flags & 0b1_0000 != 0 {
        return Ok(None);
    }
    blob.get(8 + envelope..)
        .map(Some)
        .ok_or_else(|| "truncated geometry blob".to_string())
}

fn geometry(blob: Option<Vec<u8>>) -> Result<Geometry<f64>, String> {
    let blob = blob.ok_or("the feature has no geometry")?;
    let wkb = blob_wkb(&blob)?.ok_or("the geometry is empty")?;
    Wkb(wkb)
        .to_geo()
        .map_err(|e| format!("unreadable WKB: {e}"))
}

fn value(row: &SqliteRow, i: usize) -> Json {
    let Ok(raw) = row.try_get_raw(i) else {
        return Json::Null;
    };
    if raw.is_null() {
        return Json::Null;
    }
    let kind = raw.type_info().name().to_ascii_uppercase();
    match kind.as_str() {
        "INTEGER" | "BOOLEAN" => row.try_get::<i64, _>(i).map_or(Json::Null, Json::from),
        "REAL" => row
            .try_get::<f64, _>(i)
            .ok()
            .and_then(serde_json::Number::from_f64)
            .map_or(Json::Null, Json::Number),
        _ => row.try_get::<String, _>(i).map_or(Json::Null, Json::String),
    }
}

async fn pages(
    conn: &mut SqliteConnection,
    table: &Table,
    tx: &SyncSender<Result<Record, ImportError>>,
) -> Result<(), ImportError> {
    let mut select = format!("SELECT {}, {}", quote(&table.pk), quote(&table.geometry));
    for c in &table.columns {
        select.push_str(", ");
        select.push_str(&quote(c));
    }
    let sql = format!(
        "{select} FROM {} WHERE {} > ? ORDER BY {} LIMIT {PAGE}",
        quote(&table.name),
        quote(&table.pk),
        quote(&table.pk)
    );
    let mut after = i64::MIN;
    let mut ordinal = 0u64;
    loop {
        let rows = sqlx::query(&sql)
            .bind(after)
            .fetch_all(&mut *conn)
            .await
            .map_err(db_err)?;
        if rows.is_empty() {
            return Ok(());
        }
        for row in &rows {
            let fid: i64 = row.try_get(0).map_err(db_err)?;
            after = fid;
            ordinal += 1;
            let properties = table
                .columns
                .iter()
                .enumerate()
                .map(|(i, name)| (name.clone(), value(row, i + 2)))
                .collect();
            let record = Record {
                location: Location::Fid(fid),
                // The fid is the row's stable key: generated ids follow it.
                ordinal: u64::try_from(fid).unwrap_or(ordinal),
                native_id: None,
                geometry: geometry(row.try_get(1).map_err(db_err)?),
                properties,
            };
            if tx.send(Ok(record)).is_err() {
                return Ok(());
            }
        }
    }
}

pub fn open(path: &Path, layer: &str) -> Result<Opened, ImportError> {
    let options = SqliteConnectOptions::from_str(&format!("sqlite://{}", path.display()))
        .map_err(db_err)?
        .read_only(true);
    let (meta_tx, meta_rx) =
        sync_channel::<Result<(Vec<String>, Declared, String), ImportError>>(1);
    let (tx, rx) = sync_channel::<Result<Record, ImportError>>(1024);
    let layer = layer.to_string();
    std::thread::spawn(move || {
        let runtime = match tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
        {
            Ok(r) => r,
            Err(e) => {
                let _ = meta_tx.send(Err(ImportError::Input(format!(
                    "cannot start a reader: {e}"
                ))));
                return;
            }
        };
        runtime.block_on(async move {
            let mut conn = match SqliteConnection::connect_with(&options).await {
                Ok(c) => c,
                Err(e) => {
                    let _ = meta_tx.send(Err(db_err(e)));
                    return;
                }
            };
            let table = match describe(&mut conn, &layer).await {
                Ok(t) => t,
                Err(e) => {
                    let _ = meta_tx.send(Err(e));
                    return;
                }
            };
            if meta_tx
                .send(Ok((
                    table.columns.clone(),
                    table.declared.clone(),
                    table.name.clone(),
                )))
                .is_err()
            {
                return;
            }
            if let Err(e) = pages(&mut conn, &table, &tx).await {
                let _ = tx.send(Err(e));
            }
        });
    });
    let (fields, declared, table) = meta_rx
        .recv()
        .map_err(|_| ImportError::Input("the GeoPackage reader stopped".into()))??;
    Ok(Opened {
        format: "GeoPackage",
        declared,
        fields,
        notes: vec![format!("feature table '{table}'")],
        records: Box::new(rx.into_iter()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blob_header_with_envelope() {
        let mut blob = vec![b'G', b'P', 0, 0b0000_0011, 0xE6, 0x10, 0, 0];
        blob.extend([0u8; 32]);
        blob.extend([1, 1, 0, 0, 0]);
        assert_eq!(blob_wkb(&blob), Ok(Some(&[1u8, 1, 0, 0, 0][..])));
        assert!(blob_wkb(b"XX").is_err());
        let empty = [b'G', b'P', 0, 0b0001_0001, 0, 0, 0, 0];
        assert_eq!(blob_wkb(&empty), Ok(None));
    }
}
