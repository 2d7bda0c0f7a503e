//! ESRI Shapefiles: `.shp` geometry, `.dbf` attributes, `.prj` CRS, `.cpg` encoding.
//!
//! The DBF's text encoding is the `.cpg`'s when there is one, else
//! `--encoding`, else UTF-8 when every byte of the records is valid UTF-8 and
//! GBK otherwise (Chinese Windows exports are GBK without saying so).
//! Records stream from a reader thread through a bounded channel, so memory
//! stays flat for any file size. A Shapefile does not tell single from multi
//! geometries; single-part shapes come out as `Polygon`/`LineString`.

use std::fs::File;
use std::io::{BufReader, Read};
use std::path::{Path, PathBuf};

use geo_types::Geometry;
use serde_json::Value as Json;
use shapefile::dbase::{self, FieldValue};

use super::crs::{self, Declared};
use super::encoding::{is_utf8, TextEncoding};
use super::record::{Location, Opened, Record};
use super::{ImportError, ImportOptions};

fn io_err(path: &Path, source: std::io::Error) -> ImportError {
    ImportError::Io {
        path: path.display().to_string(),
        source,
    }
}

fn sidecar(shp: &Path, ext: &str) -> Option<PathBuf> {
    [ext.to_string(), ext.to_ascii_uppercase()]
        .into_iter()
        .map(|e| shp.with_extension(e))
        .find(|p| p.exists())
}

fn choose_encoding(
    shp: &Path,
    dbf: &Path,
    options: &ImportOptions,
    notes: &mut Vec<String>,
) -> Result<TextEncoding, ImportError> {
    if let Some(cpg) = sidecar(shp, "cpg") {
        let label = std::fs::read_to_string(&cpg).map_err(|e| io_err(&cpg, e))?;
        let enc = TextEncoding::from_label(&label).ok_or_else(|| {
            ImportError::Input(format!(
                "{} names encoding '{}', which is not supported (UTF-8 or GBK)",
                cpg.display(),
                label.trim()
            ))
        })?;
        notes.push(format!("text encoding from .cpg: {}", enc.name()));
        return Ok(enc);
    }
    if let Some(enc) = options.encoding {
        return Ok(enc);
    }
    // The header length is bytes 8–9 (little endian): records follow it.
    let mut file = BufReader::new(File::open(dbf).map_err(|e| io_err(dbf, e))?);
    let mut head = [0u8; 10];
    file.read_exact(&mut head).map_err(|e| io_err(dbf, e))?;
    let header_len = u64::from(u16::from_le_bytes([head[8], head[9]]));
    let enc = if is_utf8(file, header_len.saturating_sub(10)).map_err(|e| io_err(dbf, e))? {
        TextEncoding::Utf8
    } else {
        TextEncoding::Gbk
    };
    notes.push(format!("text encoding detected: {}", enc.name()));
    Ok(enc)
}

pub fn open(shp: &Path, options: &ImportOptions) -> Result<Opened, ImportError> {
    let dbf = sidecar(shp, "dbf")
        .ok_or_else(|| ImportError::Input(format!("{} has no .dbf beside it", shp.display())))?;
    let declared = match sidecar(shp, "prj") {
        Some(prj) => crs::from_wkt(&std::fs::read_to_string(&prj).map_err(|e| io_err(&prj, e))?),
        None => Declared::Nothing,
    };
    let mut notes = Vec::new();
    let encoding = choose_encoding(shp, &dbf, options, &mut notes)?;
    let shapes = shapefile::ShapeReader::from_path(shp)
        .map_err(|e| ImportError::Input(format!("{}: {e}", shp.display())))?;
    let table = dbase::ReaderBuilder::new()
        .with_encoding(dbase::encoding::EncodingRs::from(encoding.encoding_rs()))
        .open(&dbf)
        .map_err(|e| ImportError::Input(format!("{}: {e}", dbf.display())))?;
    let fields: Vec<String> = table
        .fields()
        .iter()
        .map(|f| f.name().to_string())
        .collect();
    let mut reader = shapefile::Reader::new(shapes, table);
    let (tx, rx) = std::sync::mpsc::sync_channel::<Result<Record, ImportError>>(1024);
    let names = fields.clone();
    std::thread::spawn(move || {
        for (i, item) in reader.iter_shapes_and_records().enumerate() {
            let number = i as u64 + 1;
            let message = match item {
                Ok((shape, attributes)) => Ok(record(number, shape, attributes, &names)),
                Err(e) => Err(ImportError::Input(format!("record {number}: {e}"))),
            };
            let fatal = message.is_err();
            if tx.send(message).is_err() || fatal {
                return;
            }
        }
    });
    Ok(Opened {
        format: "ESRI Shapefile",
        declared,
        fields,
        notes,
        records: Box::new(rx.into_iter()),
    })
}

fn record(
    number: u64,
    shape: shapefile::Shape,
    mut attributes: dbase::Record,
    names: &[String],
) -> Record {
    let geometry = match shape {
        shapefile::Shape::NullShape => Err("the record has no geometry (null shape)".to_string()),
        other => Geometry::<f64>::try_from(other)
            .map(single_part)
            .map_err(|e| format!("unreadable shape: {e}")),
    };
    let properties = names
        .iter()
        .map(|name| {
            let value = attributes.remove(name).map_or(Json::Null, to_json);
            (name.clone(), value)
        })
        .collect();
    Record {
        location: Location::Record(number),
        ordinal: number,
        native_id: None,
        geometry,
        properties,
    }
}

/// A Shapefile stores every polygon as "several rings", every line as "several parts".
fn single_part(geometry: Geometry<f64>) -> Geometry<f64> {
    match geometry {
        Geometry::MultiPolygon(mut m) if m.0.len() == 1 => Geometry::Polygon(m.0.remove(0)),
        Geometry::MultiLineString(mut m) if m.0.len() == 1 => Geometry::LineString(m.0.remove(0)),
        other => other,
    }
}

fn number(f: f64) -> Json {
    if f.fract() == 0.0 && f.abs() < 9.0e15 {
        Json::from(f as i64)
    } else {
        serde_json::Number::from_f64(f).map_or(Json::Null, Json::Number)
    }
}

fn to_json(value: FieldValue) -> Json {
    match value {
        FieldValue::Character(Some(s)) | FieldValue::Memo(s) => Json::String(s),
        FieldValue::Character(None)
        | FieldValue::Numeric(None)
        | FieldValue::Logical(None)
        | FieldValue::Date(None)
        | FieldValue::Float(None) => Json::Null,
        FieldValue::Numeric(Some(f)) | FieldValue::Double(f) | FieldValue::Currency(f) => number(f),
        FieldValue::Float(Some(f)) => number(f64::from(f)),
        FieldValue::Integer(i) => Json::from(i),
        FieldValue::Logical(Some(b)) => Json::Bool(b),
        FieldValue::Date(Some(d)) => Json::String(d.to_string()),
        FieldValue::DateTime(dt) => Json::from(dt.to_unix_timestamp()),
    }
}
