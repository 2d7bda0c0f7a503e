//! CSV with longitude/latitude columns, UTF-8 or GBK, as spreadsheets export it.
//!
//! The coordinate columns come from `--lon-field`/`--lat-field`, else from the
//! header (`lon`, `lng`, `longitude`, `x`, `经度` …; `lat`, `latitude`, `y`,
//! `纬度` …). Every other column is an attribute. Rows are read as bytes and
//! decoded per field, so one undecodable row is reported, not fatal.

use std::fs::File;
use std::io::BufReader;
use std::path::Path;

use geo_types::{Geometry, Point};
use serde_json::Value as Json;

use super::crs::Declared;
use super::encoding::{is_utf8, TextEncoding};
use super::record::{Location, Opened, Record};
use super::{ImportError, ImportOptions};

const LON_NAMES: &[&str] = &[
    "lon",
    "lng",
    "long",
    "longitude",
    "x",
    "经度",
    "东经",
    "经度(°)",
];
const LAT_NAMES: &[&str] = &["lat", "latitude", "y", "纬度", "北纬", "纬度(°)"];

fn io_err(path: &Path, source: std::io::Error) -> ImportError {
    ImportError::Io {
        path: path.display().to_string(),
        source,
    }
}

fn find_column(
    headers: &[String],
    wanted: Option<&str>,
    names: &[&str],
    what: &str,
) -> Result<usize, ImportError> {
    if let Some(w) = wanted {
        return headers.iter().position(|h| h == w).ok_or_else(|| {
            ImportError::Input(format!(
                "no column '{w}' for the {what} (columns: {})",
                headers.join(", ")
            ))
        });
    }
    headers
        .iter()
        .position(|h| names.contains(&h.trim().to_lowercase().as_str()))
        .ok_or_else(|| {
            ImportError::Input(format!(
                "cannot tell which column holds the {what} (columns: {}); name it with --{}-field",
                headers.join(", "),
                if what == "longitude" { "lon" } else { "lat" }
            ))
        })
}

pub fn open(path: &Path, options: &ImportOptions) -> Result<Opened, ImportError> {
    let mut notes = Vec::new();
    let encoding = match options.encoding {
        Some(e) => e,
        None => {
            let file = File::open(path).map_err(|e| io_err(path, e))?;
            let enc = if is_utf8(BufReader::new(file), 0).map_err(|e| io_err(path, e))? {
                TextEncoding::Utf8
            } else {
                TextEncoding::Gbk
            };
            notes.push(format!("text encoding detected: {}", enc.name()));
            enc
        }
    };
    let file = File::open(path).map_err(|e| io_err(path, e))?;
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .from_reader(BufReader::with_capacity(1 << 20, file));
    let raw = reader
        .byte_headers()
        .map_err(|e| ImportError::Input(format!("cannot read the CSV header: {e}")))?
        .clone();
    let mut headers = Vec::with_capacity(raw.len());
    for (i, field) in raw.iter().enumerate() {
        let text = encoding.decode(field).ok_or_else(|| {
            ImportError::Input(format!(
                "the CSV header is not valid {}; try --encoding",
                encoding.name()
            ))
        })?;
        let text = if i == 0 {
            text.trim_start_matches('\u{feff}')
        } else {
            &text
        };
        headers.push(text.trim().to_string());
    }
    let lon = find_column(
        &headers,
        options.lon_field.as_deref(),
        LON_NAMES,
        "longitude",
    )?;
    let lat = find_column(
        &headers,
        options.lat_field.as_deref(),
        LAT_NAMES,
        "latitude",
    )?;
    notes.push(format!(
        "coordinates from columns '{}' and '{}'",
        headers[lon], headers[lat]
    ));
    let fields: Vec<String> = headers
        .iter()
        .enumerate()
        .filter(|(i, _)| *i != lon && *i != lat)
        .map(|(_, h)| h.clone())
        .collect();
    let rows = Rows {
        reader,
        headers,
        lon,
        lat,
        encoding,
        ordinal: 0,
        record: csv::ByteRecord::new(),
    };
    Ok(Opened {
        format: "CSV",
        declared: Declared::Nothing,
        fields,
        notes,
        records: Box::new(rows),
    })
}

struct Rows {
    reader: csv::Reader<BufReader<File>>,
    headers: Vec<String>,
    lon: usize,
    lat: usize,
    encoding: TextEncoding,
    ordinal: u64,
    record: csv::ByteRecord,
}

fn coordinate(text: &str, name: &str) -> Result<f64, String> {
    let t = text.trim();
    if t.is_empty() {
        return Err(format!("{name} is empty"));
    }
    t.parse::<f64>()
        .map_err(|_| format!("{name} '{t}' is not a number"))
}

impl Rows {
    fn convert(&self, line: u64) -> Record {
        let mut properties = Vec::with_capacity(self.headers.len());
        let mut problem = None;
        let mut lon_text = String::new();
        let mut lat_text = String::new();
        for (i, bytes) in self.record.iter().enumerate() {
            let Some(text) = self.encoding.decode(bytes) else {
                problem = Some(format!(
                    "column {} is not valid {} text; try --encoding",
                    i + 1,
                    self.encoding.name()
                ));
                continue;
            };
            if i == self.lon {
                lon_text = text.into_owned();
            } else if i == self.lat {
                lat_text = text.into_owned();
            } else if let Some(name) = self.headers.get(i) {
                let value = if text.is_empty() {
                    Json::Null
                } else {
                    Json::String(text.into_owned())
                };
                properties.push((name.clone(), value));
            } else {
                problem = Some(format!(
                    "{} columns, the header has {}",
                    self.record.len(),
                    self.headers.len()
                ));
            }
        }
        let geometry = match problem {
            Some(p) => Err(p),
            None => coordinate(&lon_text, "longitude").and_then(|x| {
                coordinate(&lat_text, "latitude").map(|y| Geometry::Point(Point::new(x, y)))
            }),
        };
        Record {
            location: Location::Line(line),
            ordinal: self.ordinal,
            native_id: None,
            geometry,
            properties,
        }
    }
}

impl Iterator for Rows {
    type Item = Result<Record, ImportError>;

    fn next(&mut self) -> Option<Self::Item> {
        match self.reader.read_byte_record(&mut self.record) {
            Ok(false) => None,
            Ok(true) => {
                self.ordinal += 1;
                let line = self.record.position().map_or(0, |p| p.line());
                Some(Ok(self.convert(line)))
            }
            Err(e) => Some(Err(ImportError::Input(format!("CSV: {e}")))),
        }
    }
}
