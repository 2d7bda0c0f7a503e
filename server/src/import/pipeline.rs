//! The import: open the file, settle layer and CRS, then check and write
//! every record in one streaming pass.
//!
//! A blocking thread reads the file, converts and checks each record, and
//! sends valid features in batches of [`super::DEFAULT_BATCH`] over a bounded
//! channel to `Store::bulk_upsert`, which writes them in one transaction as
//! they come (PostGIS: `COPY`). All-or-nothing: at the first invalid record
//! (without `--skip-invalid`) the thread stops sending but keeps checking, so
//! the report still lists every problem, and the write ends without its
//! commit message, which rolls it back. Memory stays bounded by the batches in
//! flight, whatever the file size. `--create` first reads the file once more
//! to infer the new layer's schema, which is registered in the same
//! transaction as the features.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

use geo::MapCoords;
use serde_json::Value as Json;

use super::coerce::{coerce, ColumnMap};
use super::crs::{Crs, Declared};
use super::infer::{self, TypeVote};
use super::record::{Location, Opened, Record};
use super::report::{ImportReport, Problem};
use super::validate;
use super::{csv_table, geojson_file, gpkg, shp, ImportError, ImportOptions, Progress};
use crate::model::catalog::builtin_schemas;
use crate::model::{LayerSchema, NewFeature, Value};
use crate::store::seed::SEEDED_AT;
use crate::store::{BulkItem, Store, StoreError};

/// Batches in flight between the reading thread and the store.
const IN_FLIGHT: usize = 4;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Format {
    GeoJson,
    Csv,
    Shapefile,
    GeoPackage,
}

fn detect(path: &Path) -> Result<Format, ImportError> {
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase)
        .unwrap_or_default();
    match ext.as_str() {
        "geojson" | "json" => return Ok(Format::GeoJson),
        "csv" | "txt" => return Ok(Format::Csv),
        "shp" => return Ok(Format::Shapefile),
        "gpkg" => return Ok(Format::GeoPackage),
        _ => {}
    }
    let mut head = [0u8; 16];
    let n = std::fs::File::open(path)
        .and_then(|mut f| std::io::Read::read(&mut f, &mut head))
        .map_err(|source| ImportError::Io {
            path: path.display().to_string(),
            source,
        })?;
    let head = &head[..n];
    if head.starts_with(b"SQLite format 3\0") {
        Ok(Format::GeoPackage)
    } else if head.trim_ascii_start().starts_with(b"{") {
        Ok(Format::GeoJson)
    } else {
        Err(ImportError::Input(format!(
            "cannot tell the format of {} (GeoJSON .geojson, CSV .csv, Shapefile .shp, GeoPackage .gpkg)",
            path.display()
        )))
    }
}

fn open(format: Format, options: &ImportOptions) -> Result<Opened, ImportError> {
    match format {
        Format::GeoJson => geojson_file::open(&options.file),
        Format::Csv => csv_table::open(&options.file, options),
        Format::Shapefile => shp::open(&options.file, options),
        Format::GeoPackage => gpkg::open(&options.file, &options.layer),
    }
}

fn settle_crs(
    options: &ImportOptions,
    declared: &Declared,
    notes: &mut Vec<String>,
) -> Result<Crs, ImportError> {
    match (options.crs, declared) {
        (Some(flag), Declared::Other(name)) => Err(ImportError::Crs(format!(
            "the file declares {name}, not lon/lat, so --crs {flag} cannot apply; reproject it first \
             (e.g. ogr2ogr -t_srs EPSG:4326)"
        ))),
        (Some(flag), _) => Ok(flag),
        (None, Declared::Known(crs)) => Ok(*crs),
        (None, Declared::Nothing) => {
            notes.push("no CRS declared: coordinates taken as WGS84 lon/lat (use --crs otherwise)".into());
            Ok(Crs::Wgs84)
        }
        (None, Declared::Other(name)) => Err(ImportError::Crs(format!(
            "the file uses {name}; only EPSG:4326 (WGS84), EPSG:4490 (CGCS2000) and GCJ-02 are \
             accepted: reproject it (e.g. ogr2ogr -t_srs EPSG:4326) or name it with --crs"
        ))),
    }
}

/// The prefix of generated ids: the file name's ASCII letters, digits, `-`, `_`.
fn id_prefix(path: &Path) -> String {
    let stem = path.file_stem().and_then(|s| s.to_str()).unwrap_or("");
    let clean: String = stem
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    if clean.chars().any(|c| c.is_ascii_alphanumeric()) {
        clean
    } else {
        "import".into()
    }
}

/// Everything needed to turn records into features.
struct Converter {
    schema: Arc<LayerSchema>,
    columns: ColumnMap,
    crs: Crs,
    id_field: Option<String>,
    prefix: String,
    seen: HashMap<String, Location>,
}

fn id_text(value: &Json) -> Option<String> {
    match value {
        Json::String(s) if !s.trim().is_empty() => Some(s.trim().to_string()),
        Json::Number(n) => Some(
            n.as_i64()
                .map(|i| i.to_string())
                .or_else(|| {
                    n.as_f64()
                        .filter(|f| f.fract() == 0.0)
                        .map(|f| format!("{}", f as i64))
                })
                .unwrap_or_else(|| n.to_string()),
        ),
        _ => None,
    }
}

impl Converter {
    fn convert(&mut self, record: Record) -> Result<NewFeature, String> {
        let geometry = record.geometry?.map_coords(|c| {
            let (x, y) = self.crs.to_wgs84(c.x, c.y);
            geo_types::Coord { x, y }
        });
        validate::check(&geometry, &self.schema)?;
        let mut properties = vec![Value::Null; self.schema.properties.len()];
        let mut id = None;
        for (name, value) in &record.properties {
            if Some(name.as_str()) == self.id_field.as_deref() {
                id = Some(id_text(value).ok_or_else(|| format!("id field '{name}' is empty"))?);
            }
            if let Some(pos) = self.columns.position(name) {
                let prop = &self.schema.properties[pos];
                properties[pos] = coerce(value, prop.kind)
                    .map_err(|e| format!("property '{}': {e}", prop.name))?;
            }
        }
        let id = match (self.id_field.as_deref(), id) {
            (Some(field), None) => return Err(format!("id field '{field}' is missing")),
            (_, Some(id)) => id,
            (None, None) => record
                .native_id
                .unwrap_or_else(|| format!("{}-{}", self.prefix, record.ordinal)),
        };
        if let Some(first) = self.seen.get(&id) {
            return Err(format!("duplicate id '{id}' (first at {first})"));
        }
        self.seen.insert(id.clone(), record.location);
        Ok(NewFeature {
            id,
            geometry,
            properties,
        })
    }
}

/// Makes sure the store has its layers: a new store gets the built-in ones
/// (never the sample data) and is marked initialised, so `serve` will not
/// seed sample data on top of the import later.
async fn layers(store: &dyn Store, dry_run: bool) -> Result<Vec<LayerSchema>, ImportError> {
    let schemas = store.schemas().await?;
    if !schemas.is_empty() {
        return Ok(schemas);
    }
    let builtin = builtin_schemas();
    if !dry_run {
        for schema in &builtin {
            store.put_schema(schema).await?;
        }
        if store.meta(SEEDED_AT).await?.is_none() {
            store.set_meta(SEEDED_AT, "import (no sample data)").await?;
        }
    }
    Ok(builtin)
}

/// `--create`: a pass over the file to infer the new layer's schema.
fn infer_schema(
    opened: Opened,
    options: &ImportOptions,
    progress: &Progress,
) -> Result<LayerSchema, ImportError> {
    if !infer::valid_layer_id(&options.layer) {
        return Err(ImportError::Layer(format!(
            "'{}' is not a valid layer id (lowercase letters, digits and _, starting with a letter)",
            options.layer
        )));
    }
    progress.stage("推断字段 inferring columns", None);
    let mut columns: Vec<(String, TypeVote)> = opened
        .fields
        .iter()
        .map(|f| (f.clone(), TypeVote::default()))
        .collect();
    let index: HashMap<String, usize> = opened
        .fields
        .iter()
        .enumerate()
        .map(|(i, f)| (f.clone(), i))
        .collect();
    let mut kind = None;
    for record in opened.records {
        let record = record?;
        progress.inc(1);
        if kind.is_none() {
            kind = record.geometry.as_ref().ok().and_then(validate::kind_of);
        }
        for (name, value) in &record.properties {
            if let Some(&i) = index.get(name) {
                columns[i].1.add(value);
            }
        }
    }
    let kind = kind.ok_or_else(|| ImportError::Input("the file has no valid geometry".into()))?;
    let source = options
        .file
        .file_name()
        .map_or_else(String::new, |n| n.to_string_lossy().into_owned());
    Ok(infer::schema(
        &options.layer,
        &source,
        kind,
        &columns,
        options.id_field.as_deref(),
    ))
}

/// Runs an import into `store`. Row problems are in the report; an `Err` means
/// the import could not run (unreadable file, unknown layer, foreign CRS).
pub async fn run(
    store: &dyn Store,
    options: &ImportOptions,
    progress: &Progress,
) -> Result<ImportReport, ImportError> {
    let format = detect(&options.file)?;
    let schemas = layers(store, options.dry_run).await?;
    let existing = schemas.into_iter().find(|s| s.id == options.layer);
    let schema = match (existing, options.create) {
        (Some(_), true) => {
            return Err(ImportError::Layer(format!(
                "layer '{}' already exists; import into it without --create",
                options.layer
            )))
        }
        (Some(schema), false) => schema,
        (None, true) => infer_schema(open(format, options)?, options, progress)?,
        (None, false) => {
            return Err(ImportError::Layer(format!(
                "no layer '{}'; pass --create to create it from the file",
                options.layer
            )))
        }
    };
    let opened = open(format, options)?;
    let mut notes = opened.notes.clone();
    let crs = settle_crs(options, &opened.declared, &mut notes)?;
    if let Some(field) = &options.id_field {
        if !opened.fields.contains(field) && format != Format::GeoJson {
            return Err(ImportError::Input(format!(
                "no field '{field}' for --id-field (fields: {})",
                opened.fields.join(", ")
            )));
        }
    }
    let columns = ColumnMap::new(&opened.fields, &schema);
    let unmatched: Vec<String> = columns
        .unmatched()
        .into_iter()
        .filter(|c| Some(c) != options.id_field.as_ref())
        .collect();
    if !unmatched.is_empty() {
        notes.push(format!(
            "columns not in layer '{}', ignored: {}",
            schema.id,
            unmatched.join(", ")
        ));
    }
    for (from, to) in columns.renamed(&schema) {
        notes.push(format!("column '{from}' → property '{to}'"));
    }
    let mut report = ImportReport {
        file: options.file.display().to_string(),
        format: opened.format,
        layer: schema.id.clone(),
        crs,
        created: options.create,
        dry_run: options.dry_run,
        skip_invalid: options.skip_invalid,
        read: 0,
        valid: 0,
        written: 0,
        problems: Vec::new(),
        notes,
    };
    let checker = Checker {
        converter: Converter {
            schema: Arc::new(schema.clone()),
            columns,
            crs,
            id_field: options.id_field.clone(),
            prefix: id_prefix(&options.file),
            seen: HashMap::new(),
        },
        skip_invalid: options.skip_invalid,
        batch_size: options.batch_size.max(1),
        progress: progress.clone(),
    };
    let records = opened.records;
    if options.dry_run {
        progress.stage("检查 checking", None);
        let checked = tokio::task::spawn_blocking(move || checker.run(records, None))
            .await
            .map_err(|e| ImportError::Input(format!("the reading thread failed: {e}")))??;
        checked.into_report(&mut report);
        progress.finish();
        return Ok(report);
    }
    progress.stage("导入 importing", None);
    let (sender, receiver) = tokio::sync::mpsc::channel(IN_FLIGHT);
    let reading = tokio::task::spawn_blocking(move || checker.run(records, Some(sender)));
    let writing = store.bulk_upsert(&schema, options.create, receiver);
    let (written, checked) = tokio::join!(writing, reading);
    progress.finish();
    let checked =
        checked.map_err(|e| ImportError::Input(format!("the reading thread failed: {e}")))??;
    let committed = checked.committed;
    checked.into_report(&mut report);
    match written {
        Ok(n) => report.written = n,
        // Nothing to write, or invalid records stopped the import: rolled back.
        Err(StoreError::Aborted) if !committed => {}
        Err(e) => return Err(e.into()),
    }
    Ok(report)
}

/// The reading thread: converts and checks every record, sending valid
/// features to the writer while the import is still clean.
struct Checker {
    converter: Converter,
    skip_invalid: bool,
    batch_size: usize,
    progress: Progress,
}

/// What the reading thread found.
struct Checked {
    read: u64,
    valid: u64,
    problems: Vec<Problem>,
    /// Whether the commit message was sent (the writer may still have failed).
    committed: bool,
}

impl Checked {
    fn into_report(self, report: &mut ImportReport) {
        report.read = self.read;
        report.valid = self.valid;
        report.problems = self.problems;
    }
}

impl Checker {
    fn run(
        mut self,
        records: Box<dyn Iterator<Item = Result<Record, ImportError>> + Send>,
        mut sender: Option<tokio::sync::mpsc::Sender<BulkItem>>,
    ) -> Result<Checked, ImportError> {
        let mut checked = Checked {
            read: 0,
            valid: 0,
            problems: Vec::new(),
            committed: false,
        };
        let mut batch = Vec::with_capacity(self.batch_size);
        for record in records {
            let record = record?;
            checked.read += 1;
            self.progress.inc(1);
            let location = record.location;
            match self.converter.convert(record) {
                Ok(feature) => {
                    checked.valid += 1;
                    if sender.is_some() {
                        batch.push(feature);
                    }
                }
                Err(reason) => {
                    checked.problems.push(Problem { location, reason });
                    if !self.skip_invalid {
                        // Dropping the sender without a commit rolls the write back.
                        sender = None;
                        batch = Vec::new();
                    }
                }
            }
            if batch.len() >= self.batch_size {
                let full = std::mem::replace(&mut batch, Vec::with_capacity(self.batch_size));
                if let Some(s) = &sender {
                    if s.blocking_send(BulkItem::Features(full)).is_err() {
                        // The writer failed; its error is what the import reports.
                        return Ok(checked);
                    }
                }
            }
        }
        if let Some(s) = sender.filter(|_| checked.valid > 0) {
            let sent = (batch.is_empty() || s.blocking_send(BulkItem::Features(batch)).is_ok())
                && s.blocking_send(BulkItem::Commit).is_ok();
            checked.committed = sent;
        }
        Ok(checked)
    }
}
