//! Streaming GeoJSON writer: one FeatureCollection per layer, one feature per line, written as
//! the generator produces features so `--scale 1000` never holds a layer in memory.
//!
//! Coordinates are printed from integer micro-degrees (6 decimals, trailing zeros trimmed), which
//! is exact and fast; properties are written in the order given, so output is byte-stable.

use std::fmt::Write as _;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use geo::{Coord, LineString, MultiPolygon, Polygon};

use super::SampleError;

/// A property value of the contracts: strings, integers, booleans, and areas (numbers).
#[derive(Debug, Clone)]
pub(crate) enum Val {
    Str(String),
    Int(i64),
    Bool(bool),
    /// A number written with one decimal (areas in m²), so it always reads back as a float.
    Num1(f64),
}

/// Ordered properties of one feature (`id` and `synthetic` are added by the writer).
#[derive(Debug, Default)]
pub(crate) struct Props(Vec<(&'static str, Val)>);

impl Props {
    pub(crate) fn new() -> Self {
        Props(Vec::with_capacity(16))
    }

    pub(crate) fn str(mut self, key: &'static str, v: impl Into<String>) -> Self {
        self.0.push((key, Val::Str(v.into())));
        self
    }

    pub(crate) fn int(mut self, key: &'static str, v: i64) -> Self {
        self.0.push((key, Val::Int(v)));
        self
    }

    pub(crate) fn bool(mut self, key: &'static str, v: bool) -> Self {
        self.0.push((key, Val::Bool(v)));
        self
    }

    pub(crate) fn num1(mut self, key: &'static str, v: f64) -> Self {
        self.0.push((key, Val::Num1(v)));
        self
    }

    /// Adds a string property only when there is a value: properties that do not apply to a
    /// feature (a reservoir's `river`) are omitted rather than written as null.
    pub(crate) fn opt_str(self, key: &'static str, v: Option<&str>) -> Self {
        match v {
            Some(s) => self.str(key, s),
            None => self,
        }
    }
}

/// Geometry of one feature; coordinates must already be rounded (see `geom`).
pub(crate) enum Geom<'a> {
    Point(Coord),
    Line(&'a LineString),
    /// Written as a `Polygon` when it has one part, else as a `MultiPolygon`.
    Area(&'a MultiPolygon),
}

/// One layer file being written.
pub(crate) struct LayerWriter {
    path: PathBuf,
    out: BufWriter<File>,
    buf: String,
    count: usize,
    synthetic: bool,
}

impl LayerWriter {
    /// Creates `path` and writes the collection header. `synthetic` is the value of every
    /// feature's `synthetic` property in this layer.
    pub(crate) fn create(path: &Path, synthetic: bool) -> Result<Self, SampleError> {
        let file = File::create(path).map_err(|e| SampleError::io(path, e))?;
        let mut w = LayerWriter {
            path: path.to_path_buf(),
            out: BufWriter::with_capacity(1 << 20, file),
            buf: String::with_capacity(4096),
            count: 0,
            synthetic,
        };
        w.raw("{\"type\":\"FeatureCollection\",\"features\":[")?;
        Ok(w)
    }

    fn raw(&mut self, s: &str) -> Result<(), SampleError> {
        self.out
            .write_all(s.as_bytes())
            .map_err(|e| SampleError::io(&self.path, e))
    }

    pub(crate) fn feature(
        &mut self,
        id: &str,
        geom: Geom<'_>,
        props: Props,
    ) -> Result<(), SampleError> {
        let mut b = std::mem::take(&mut self.buf);
        b.clear();
        b.push_str(if self.count == 0 { "\n" } else { ",\n" });
        b.push_str("{\"type\":\"Feature\",\"id\":");
        push_json_str(&mut b, id);
        b.push_str(",\"geometry\":");
        push_geometry(&mut b, &geom);
        b.push_str(",\"properties\":{\"id\":");
        push_json_str(&mut b, id);
        for (key, val) in &props.0 {
            b.push_str(",\"");
            b.push_str(key);
            b.push_str("\":");
            match val {
                Val::Str(s) => push_json_str(&mut b, s),
                Val::Int(i) => {
                    let _ = write!(b, "{i}");
                }
                Val::Bool(v) => b.push_str(if *v { "true" } else { "false" }),
                Val::Num1(v) => {
                    let _ = write!(b, "{v:.1}");
                }
            }
        }
        b.push_str(",\"synthetic\":");
        b.push_str(if self.synthetic { "true" } else { "false" });
        b.push_str("}}");
        let res = self.raw(&b);
        self.buf = b;
        self.count += 1;
        res
    }

    /// Closes the collection and flushes; returns the number of features written.
    pub(crate) fn finish(mut self) -> Result<usize, SampleError> {
        self.raw("\n]}\n")?;
        self.out
            .flush()
            .map_err(|e| SampleError::io(&self.path, e))?;
        Ok(self.count)
    }
}

fn push_json_str(b: &mut String, s: &str) {
    b.push('"');
    for ch in s.chars() {
        match ch {
            '"' => b.push_str("\\\""),
            '\\' => b.push_str("\\\\"),
            '\n' => b.push_str("\\n"),
            '\r' => b.push_str("\\r"),
            '\t' => b.push_str("\\t"),
            c if (c as u32) < 0x20 => {
                let _ = write!(b, "\\u{:04x}", c as u32);
            }
            c => b.push(c),
        }
    }
    b.push('"');
}

/// Writes a coordinate value from integer micro-degrees: `104.62`, `-0.5`, `28`.
fn push_num(b: &mut String, v: f64) {
    let micro = (v * 1e6).round() as i64;
    if micro < 0 {
        b.push('-');
    }
    let abs = micro.unsigned_abs();
    let (int, frac) = (abs / 1_000_000, abs % 1_000_000);
    let _ = write!(b, "{int}");
    if frac != 0 {
        let digits = format!("{frac:06}");
        b.push('.');
        b.push_str(digits.trim_end_matches('0'));
    }
}

fn push_coord(b: &mut String, c: &Coord) {
    b.push('[');
    push_num(b, c.x);
    b.push(',');
    push_num(b, c.y);
    b.push(']');
}

fn push_coords(b: &mut String, ls: &LineString) {
    b.push('[');
    for (i, c) in ls.coords().enumerate() {
        if i > 0 {
            b.push(',');
        }
        push_coord(b, c);
    }
    b.push(']');
}

fn push_polygon(b: &mut String, p: &Polygon) {
    b.push('[');
    push_coords(b, p.exterior());
    for h in p.interiors() {
        b.push(',');
        push_coords(b, h);
    }
    b.push(']');
}

fn push_geometry(b: &mut String, g: &Geom<'_>) {
    match g {
        Geom::Point(c) => {
            b.push_str("{\"type\":\"Point\",\"coordinates\":");
            push_coord(b, c);
        }
        Geom::Line(ls) => {
            b.push_str("{\"type\":\"LineString\",\"coordinates\":");
            push_coords(b, ls);
        }
        Geom::Area(mp) if mp.0.len() == 1 => {
            b.push_str("{\"type\":\"Polygon\",\"coordinates\":");
            push_polygon(b, &mp.0[0]);
        }
        Geom::Area(mp) => {
            b.push_str("{\"type\":\"MultiPolygon\",\"coordinates\":[");
            for (i, p) in mp.iter().enumerate() {
                if i > 0 {
                    b.push(',');
                }
                push_polygon(b, p);
            }
            b.push(']');
        }
    }
    b.push('}');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_fixed_point_without_trailing_zeros() {
        let mut b = String::new();
        for v in [104.62, 28.0, -0.5, 104.6200004, 0.000001, -12.3456789] {
            push_num(&mut b, v);
            b.push(' ');
        }
        assert_eq!(b, "104.62 28 -0.5 104.62 0.000001 -12.345679 ");
    }

    #[test]
    fn writes_parseable_collection() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("t.geojson");
        let mut w = LayerWriter::create(&path, true).expect("create");
        let props = Props::new()
            .str("name_zh", "示例 \"q\"")
            .int("n", 3)
            .bool("b", false)
            .num1("area_m2", 12.0)
            .opt_str("river", None);
        w.feature("x-1", Geom::Point(Coord { x: 104.5, y: 28.25 }), props)
            .expect("write");
        assert_eq!(w.finish().expect("finish"), 1);
        let text = std::fs::read_to_string(&path).expect("read");
        let v: serde_json::Value = serde_json::from_str(&text).expect("json");
        let f = &v["features"][0];
        assert_eq!(f["id"], "x-1");
        assert_eq!(f["properties"]["id"], "x-1");
        assert_eq!(f["properties"]["name_zh"], "示例 \"q\"");
        assert!(f["properties"]["n"].is_i64());
        assert!(f["properties"]["area_m2"].is_f64());
        assert!(f["properties"].get("river").is_none());
        assert_eq!(f["properties"]["synthetic"], true);
        assert_eq!(f["geometry"]["coordinates"][1], 28.25);
    }
}
