//! The import: open the file, settle layer and CRS, check every record, then
//! write.
//!
//! All-or-nothing without a second store API: a first streaming pass converts
//! and checks every record (nothing is written); only when it found no problem
//! (or `--skip-invalid` is given) does a second pass write, in batches of
//! [`super::DEFAULT_BATCH`] through `Store::upsert_features`. Files up to
//! [`KEEP_IN_MEMORY`] features are kept from the first pass instead of being
//! read again. Ids are deterministic, so should the database fail half-way,
//! running the same import again completes it without duplicates.

use std::collections::HashMap;
use std::path::Path;

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
use crate::store::Store;

/// Up to this many checked features are kept for writing rather than re-read.
pub const KEEP_IN_MEMORY: usize = 200_000;

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
struct Converter<'a> {
    schema: &'a LayerSchema,
    columns: ColumnMap,
    crs: Crs,
    id_field: Option<&'a str>,
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

impl Converter<'_> {
    fn convert(&mut self, record: Record) -> Result<NewFeature, String> {
        let geometry = record.geometry?.map_coords(|c| {
            let (x, y) = self.crs.to_wgs84(c.x, c.y);
            geo_types::Coord { x, y }
        });
        validate::check(&geometry, self.schema)?;
        let mut properties = vec![Value::Null; self.schema.properties.len()];
        let mut id = None;
        for (name, value) in &record.properties {
            if Some(name.as_str()) == self.id_field {
                id = Some(id_text(value).ok_or_else(|| format!("id field '{name}' is empty"))?);
            }
            if let Some(pos) = self.columns.position(name) {
                let prop = &self.schema.properties[pos];
                properties[pos] = coerce(value, prop.kind)
                    .map_err(|e| format!("property '{}': {e}", prop.name))?;
            }
        }
        let id = match (self.id_field, id) {
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
    let converter = |columns: ColumnMap| Converter {
        schema: &schema,
        columns,
        crs,
        id_field: options.id_field.as_deref(),
        prefix: id_prefix(&options.file),
        seen: HashMap::new(),
    };

    // Pass 1: check everything, write nothing.
    progress.stage("检查 checking", None);
    let mut check = converter(columns.clone());
    let mut kept: Option<Vec<NewFeature>> = Some(Vec::new());
    for record in opened.records {
        let record = record?;
        report.read += 1;
        progress.inc(1);
        let location = record.location;
        match check.convert(record) {
            Ok(feature) => {
                report.valid += 1;
                if let Some(k) = kept.as_mut() {
                    if k.len() < KEEP_IN_MEMORY {
                        k.push(feature);
                    } else {
                        kept = None;
                    }
                }
            }
            Err(reason) => report.problems.push(Problem { location, reason }),
        }
    }
    drop(check);
    if options.dry_run || report.aborted() || report.valid == 0 {
        progress.finish();
        return Ok(report);
    }

    // Pass 2: write.
    if options.create {
        store.put_schema(&schema).await?;
    }
    progress.stage("写入 writing", Some(report.valid));
    let batch_size = options.batch_size.max(1);
    if let Some(features) = kept {
        for batch in features.chunks(batch_size) {
            store.upsert_features(&schema, batch).await?;
            report.written += batch.len() as u64;
            progress.inc(batch.len() as u64);
        }
    } else {
        let mut write = converter(columns);
        let mut batch = Vec::with_capacity(batch_size);
        for record in open(format, options)?.records {
            // Invalid records were reported in pass 1 and are skipped here.
            if let Ok(feature) = write.convert(record?) {
                batch.push(feature);
            }
            if batch.len() == batch_size {
                store.upsert_features(&schema, &batch).await?;
                report.written += batch.len() as u64;
                progress.inc(batch.len() as u64);
                batch.clear();
            }
        }
        if !batch.is_empty() {
            store.upsert_features(&schema, &batch).await?;
            report.written += batch.len() as u64;
            progress.inc(batch.len() as u64);
        }
    }
    progress.finish();
    Ok(report)
}
