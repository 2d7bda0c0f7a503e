//! GeoJSON files: RFC 7946, and the older (2008) form with a `crs` member.
//!
//! Streamed, never held whole: a first pass over the document reads its type,
//! `crs` member and property names (skipping geometries without building
//! them); then a reading thread parses the `features` array one feature at a
//! time and hands records over a bounded channel. Memory stays bounded by
//! one feature plus the channel, whatever the file size.

use std::fmt;
use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::sync::mpsc;

use serde::de::{self, DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;
use serde_json::{Map, Value as Json};

use super::crs::{self, Declared};
use super::record::{Location, Opened, Record};
use super::ImportError;
use crate::model::geojson::parse_geometry;

/// Records parsed ahead of the importer.
const READ_AHEAD: usize = 1_024;

/// The error a callback's "stop" becomes inside serde (not shown to users).
const STOPPED: &str = "envatlas: reading stopped";

pub fn open(path: &Path) -> Result<Opened, ImportError> {
    let mut fields: Vec<String> = Vec::new();
    let members = walk(path, |keys: FeatureKeys| {
        for k in keys.0 {
            if !fields.contains(&k) {
                fields.push(k);
            }
        }
        true
    })?;
    let declared = match members.get("crs") {
        None | Some(Json::Null) => Declared::Nothing,
        Some(c) => match c.pointer("/properties/name").and_then(Json::as_str) {
            Some(name) => crs::from_name(name),
            None => Declared::Other(format!("crs member {c}")),
        },
    };
    let records: Box<dyn Iterator<Item = Result<Record, ImportError>> + Send> =
        match members.get("type").and_then(Json::as_str) {
            Some("FeatureCollection") => {
                if !matches!(members.get("features"), Some(Json::Bool(true))) {
                    return Err(ImportError::Input(
                        "the FeatureCollection has no 'features' array".into(),
                    ));
                }
                Box::new(stream_features(path))
            }
            Some("Feature") => {
                let mut feature = members;
                if let Some(Json::Object(props)) = feature.get("properties") {
                    fields = props.keys().cloned().collect();
                }
                feature.remove("features");
                Box::new(std::iter::once(Ok(record(0, Json::Object(feature)))))
            }
            _ => {
                return Err(ImportError::Input(
                    "not a GeoJSON FeatureCollection or Feature".into(),
                ))
            }
        };
    Ok(Opened {
        format: "GeoJSON",
        declared,
        fields,
        notes: Vec::new(),
        records,
    })
}

/// Parses the records of a FeatureCollection on a thread, in order.
fn stream_features(path: &Path) -> impl Iterator<Item = Result<Record, ImportError>> {
    let (tx, rx) = mpsc::sync_channel(READ_AHEAD);
    let path = path.to_path_buf();
    std::thread::spawn(move || {
        let mut index = 0u64;
        let result = walk(&path, |feature: Json| {
            let sent = tx.send(Ok(record(index, feature))).is_ok();
            index += 1;
            sent
        });
        if let Err(e) = result {
            // The importer may have stopped reading already; nothing to tell then.
            let _ = tx.send(Err(e));
        }
    });
    rx.into_iter()
}

/// Reads the document once, calling `each` for every element of `features`
/// (as a `T`) until it returns false; returns the other top-level members,
/// with `features` set to `true` when that member was an array.
fn walk<T, F>(path: &Path, mut each: F) -> Result<Map<String, Json>, ImportError>
where
    T: for<'de> Deserialize<'de>,
    F: FnMut(T) -> bool,
{
    let file = File::open(path).map_err(|source| ImportError::Io {
        path: path.display().to_string(),
        source,
    })?;
    let mut reader = BufReader::with_capacity(1 << 16, file);
    let bom = reader
        .fill_buf()
        .map(|b| b.starts_with(b"\xEF\xBB\xBF"))
        .map_err(|source| ImportError::Io {
            path: path.display().to_string(),
            source,
        })?;
    if bom {
        reader.consume(3);
    }
    let mut de = serde_json::Deserializer::from_reader(reader);
    let members = Document {
        each: &mut each,
        _t: std::marker::PhantomData,
    }
    .deserialize(&mut de);
    match members {
        Ok(m) => {
            de.end()
                .map_err(|e| ImportError::Input(format!("not valid JSON: {e}")))?;
            Ok(m)
        }
        Err(e) if e.to_string().starts_with(STOPPED) => Ok(Map::new()),
        Err(e) if e.is_data() => Err(ImportError::Input(format!(
            "not a GeoJSON FeatureCollection or Feature: {e}"
        ))),
        Err(e) => Err(ImportError::Input(format!("not valid JSON: {e}"))),
    }
}

/// The top-level object: `features` streamed through `each`, the rest kept.
struct Document<'f, T, F> {
    each: &'f mut F,
    _t: std::marker::PhantomData<T>,
}

impl<'de, T: Deserialize<'de>, F: FnMut(T) -> bool> DeserializeSeed<'de> for Document<'_, T, F> {
    type Value = Map<String, Json>;

    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de, T: Deserialize<'de>, F: FnMut(T) -> bool> Visitor<'de> for Document<'_, T, F> {
    type Value = Map<String, Json>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a GeoJSON object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut members = Map::new();
        while let Some(key) = map.next_key::<String>()? {
            if key == "features" {
                let is_array = map.next_value_seed(Features {
                    each: &mut *self.each,
                    _t: std::marker::PhantomData,
                })?;
                members.insert(key, Json::Bool(is_array));
            } else {
                members.insert(key, map.next_value()?);
            }
        }
        Ok(members)
    }
}

/// The `features` member: each element goes to `each`; yields whether it was an array.
struct Features<'f, T, F> {
    each: &'f mut F,
    _t: std::marker::PhantomData<T>,
}

impl<'de, T: Deserialize<'de>, F: FnMut(T) -> bool> DeserializeSeed<'de> for Features<'_, T, F> {
    type Value = bool;

    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<bool, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de, T: Deserialize<'de>, F: FnMut(T) -> bool> Visitor<'de> for Features<'_, T, F> {
    type Value = bool;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an array of features")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<bool, A::Error> {
        while let Some(item) = seq.next_element::<T>()? {
            if !(self.each)(item) {
                return Err(de::Error::custom(STOPPED));
            }
        }
        Ok(true)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<bool, A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(false)
    }

    fn visit_unit<E>(self) -> Result<bool, E> {
        Ok(false)
    }

    fn visit_bool<E>(self, _: bool) -> Result<bool, E> {
        Ok(false)
    }

    fn visit_i64<E>(self, _: i64) -> Result<bool, E> {
        Ok(false)
    }

    fn visit_u64<E>(self, _: u64) -> Result<bool, E> {
        Ok(false)
    }

    fn visit_f64<E>(self, _: f64) -> Result<bool, E> {
        Ok(false)
    }

    fn visit_str<E>(self, _: &str) -> Result<bool, E> {
        Ok(false)
    }
}

/// The property names of one feature, geometry skipped unparsed; anything
/// that is not an object yields none (the record pass reports it).
struct FeatureKeys(Vec<String>);

impl<'de> Deserialize<'de> for FeatureKeys {
    fn deserialize<D: de::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(KeysVisitor { nested: false })
    }
}

/// Collects the keys of `properties` (`nested: false`: the feature object) or
/// of the properties object itself (`nested: true`).
struct KeysVisitor {
    nested: bool,
}

impl<'de> DeserializeSeed<'de> for KeysVisitor {
    type Value = FeatureKeys;

    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<FeatureKeys, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for KeysVisitor {
    type Value = FeatureKeys;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a GeoJSON feature")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<FeatureKeys, A::Error> {
        let mut keys = Vec::new();
        while let Some(key) = map.next_key::<String>()? {
            if self.nested {
                map.next_value::<IgnoredAny>()?;
                keys.push(key);
            } else if key == "properties" {
                keys = map.next_value_seed(KeysVisitor { nested: true })?.0;
            } else {
                map.next_value::<IgnoredAny>()?;
            }
        }
        Ok(FeatureKeys(keys))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<FeatureKeys, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(FeatureKeys(Vec::new()))
    }

    fn visit_unit<E>(self) -> Result<FeatureKeys, E> {
        Ok(FeatureKeys(Vec::new()))
    }

    fn visit_bool<E>(self, _: bool) -> Result<FeatureKeys, E> {
        Ok(FeatureKeys(Vec::new()))
    }

    fn visit_i64<E>(self, _: i64) -> Result<FeatureKeys, E> {
        Ok(FeatureKeys(Vec::new()))
    }

    fn visit_u64<E>(self, _: u64) -> Result<FeatureKeys, E> {
        Ok(FeatureKeys(Vec::new()))
    }

    fn visit_f64<E>(self, _: f64) -> Result<FeatureKeys, E> {
        Ok(FeatureKeys(Vec::new()))
    }

    fn visit_str<E>(self, _: &str) -> Result<FeatureKeys, E> {
        Ok(FeatureKeys(Vec::new()))
    }
}

fn record(index: u64, mut feature: Json) -> Record {
    let location = Location::Index(index);
    let ordinal = index + 1;
    if feature.get("type").and_then(Json::as_str) != Some("Feature") {
        return Record {
            location,
            ordinal,
            native_id: None,
            geometry: Err("not a GeoJSON Feature".into()),
            properties: Vec::new(),
        };
    }
    let native_id = match feature.get("id") {
        Some(Json::String(s)) if !s.is_empty() => Some(s.clone()),
        Some(Json::Number(n)) => Some(n.to_string()),
        _ => None,
    };
    let geometry = match feature.get("geometry") {
        None | Some(Json::Null) => Err("the feature has no geometry".to_string()),
        Some(g) => parse_geometry(g).map_err(|e| e.to_string()),
    };
    let properties = match feature.get_mut("properties").map(Json::take) {
        Some(Json::Object(map)) => map.into_iter().collect(),
        _ => Vec::new(),
    };
    Record {
        location,
        ordinal,
        native_id,
        geometry,
        properties,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(text: &str) -> (tempfile::TempDir, std::path::PathBuf) {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("f.geojson");
        std::fs::write(&path, text).expect("write");
        (dir, path)
    }

    #[test]
    fn collections_stream_with_fields_and_crs_in_any_order() {
        let (_d, path) = write(
            "\u{feff}{\"features\": [\
               {\"type\":\"Feature\",\"geometry\":{\"type\":\"Point\",\"coordinates\":[104.6,28.7]},\"properties\":{\"名称\":\"甲\",\"n\":1}},\
               7,\
               {\"type\":\"Feature\",\"geometry\":null,\"properties\":{\"n\":2,\"z\":null}}],\
             \"crs\": {\"type\":\"name\",\"properties\":{\"name\":\"EPSG:4490\"}},\
             \"type\": \"FeatureCollection\"}",
        );
        let opened = open(&path).expect("open");
        assert_eq!(opened.fields, ["名称", "n", "z"]);
        assert!(matches!(opened.declared, Declared::Known(_)));
        let records: Vec<Record> = opened.records.map(|r| r.expect("record")).collect();
        assert_eq!(records.len(), 3);
        assert!(records[0].geometry.is_ok());
        assert_eq!(
            records[1].geometry.as_ref().err().map(String::as_str),
            Some("not a GeoJSON Feature")
        );
        assert_eq!(records[2].location, Location::Index(2));
    }

    #[test]
    fn a_single_feature_and_bad_documents() {
        let (_d, path) = write(
            "{\"type\":\"Feature\",\"id\":5,\"geometry\":{\"type\":\"Point\",\"coordinates\":[1,2]},\"properties\":{\"a\":1}}",
        );
        let opened = open(&path).expect("open");
        assert_eq!(opened.fields, ["a"]);
        let records: Vec<Record> = opened.records.map(|r| r.expect("record")).collect();
        assert_eq!(records[0].native_id.as_deref(), Some("5"));

        let (_d, path) = write("{\"type\":\"FeatureCollection\"}");
        assert!(open(&path).is_err());
        let (_d, path) = write("[1, 2]");
        assert!(open(&path).is_err());
        let (_d, path) =
            write("{\"type\":\"FeatureCollection\",\"features\":[{\"type\":\"Feature\"},");
        assert!(open(&path).is_err(), "truncated JSON is an error");
    }
}
