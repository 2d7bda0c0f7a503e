//! Analysis results as CSV (`f=csv`), for spreadsheets: UTF-8 with a byte
//! order mark so that Excel (as set up in China) shows Chinese names.
//!
//! Columns: `layer,id,name_zh,distance_m`, then `bearing_deg,rank` for nearest
//! results, then the route's own columns (e.g. `along_river_m`,
//! `risk_score`), `fid`, every other property of the layers present (in layer
//! then schema order), and `lon,lat` of a representative point (the point
//! itself, else an interior point).

use super::hit::{representative_point, round_bearing, round_to, Hit};

/// The UTF-8 byte order mark.
const BOM: &str = "\u{feff}";

/// One result row: a hit and the values of the route's own columns.
#[derive(Debug, Clone)]
pub struct CsvRow<'a> {
    pub hit: &'a Hit,
    /// One value per extra column, in the order of the columns.
    pub extra: Vec<String>,
}

/// Writes the hits as CSV bytes.
pub fn hits_to_csv(hits: &[Hit]) -> Result<Vec<u8>, csv::Error> {
    let rows: Vec<CsvRow<'_>> = hits
        .iter()
        .map(|hit| CsvRow {
            hit,
            extra: Vec::new(),
        })
        .collect();
    rows_to_csv(&rows, &[])
}

/// Writes rows as CSV bytes, with `extra_columns` after the distance (and
/// ranking) columns.
pub fn rows_to_csv(rows: &[CsvRow<'_>], extra_columns: &[&str]) -> Result<Vec<u8>, csv::Error> {
    let ranked = rows.iter().any(|r| r.hit.ranking.is_some());
    let mut properties: Vec<&str> = Vec::new();
    for r in rows {
        for p in &r.hit.layer.schema.properties {
            if p.name != "name_zh"
                && !properties.contains(&p.name.as_str())
                && !extra_columns.contains(&p.name.as_str())
            {
                properties.push(&p.name);
            }
        }
    }
    let mut header: Vec<&str> = vec!["layer", "id", "name_zh", "distance_m"];
    if ranked {
        header.extend(["bearing_deg", "rank"]);
    }
    header.extend(extra_columns.iter().copied());
    header.push("fid");
    header.extend(properties.iter().copied());
    header.extend(["lon", "lat"]);

    let mut out = csv::Writer::from_writer(BOM.as_bytes().to_vec());
    out.write_record(&header)?;
    for r in rows {
        let h = r.hit;
        let Some(f) = h.feature() else { continue };
        let schema = &h.layer.schema;
        let mut row: Vec<String> = vec![
            h.layer.id().to_string(),
            f.id.to_string(),
            f.text(schema, "name_zh").to_string(),
            round_to(h.distance_m, 2).to_string(),
        ];
        if ranked {
            let r = h.ranking;
            row.push(
                r.and_then(|r| r.bearing_deg)
                    .map(|b| round_bearing(b).to_string())
                    .unwrap_or_default(),
            );
            row.push(r.map(|r| r.rank.to_string()).unwrap_or_default());
        }
        row.extend((0..extra_columns.len()).map(|i| r.extra.get(i).cloned().unwrap_or_default()));
        row.push(f.fid.to_string());
        for name in &properties {
            row.push(f.get(schema, name).map(|v| v.to_text()).unwrap_or_default());
        }
        match representative_point(&f.geometry) {
            Some(p) => row.extend([
                round_to(p.x(), 6).to_string(),
                round_to(p.y(), 6).to_string(),
            ]),
            None => row.extend([String::new(), String::new()]),
        }
        out.write_record(&row)?;
    }
    out.into_inner().map_err(|e| e.into_error().into())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::hit::Ranking;
    use crate::atlas::Layer;
    use crate::model::catalog::builtin_schema;
    use crate::model::{Feature, Value};
    use geo_types::{point, Geometry};
    use std::sync::Arc;

    #[test]
    fn csv_has_a_bom_a_header_and_chinese_names() {
        let schema = builtin_schema("drinking_water_sources").expect("schema");
        let mut properties = vec![Value::Null; schema.properties.len()];
        properties[0] = Value::Text("示例水源, 01".into());
        properties[4] = Value::Int(1200);
        let feature = Feature {
            fid: 9,
            id: "ws-1".into(),
            geometry: Geometry::Point(point!(x: 104.6, y: 28.8)),
            properties,
        };
        let layer = Arc::new(Layer::new(Arc::new(schema), vec![feature], 1));
        let hit = Hit {
            layer,
            position: 0,
            distance_m: 1234.5678,
            ranking: Some(Ranking {
                bearing_deg: Some(359.999),
                rank: 1,
            }),
        };
        let bytes = hits_to_csv(&[hit]).expect("csv");
        let text = String::from_utf8(bytes).expect("utf-8");
        assert!(text.starts_with('\u{feff}'));
        let mut lines = text.trim_start_matches('\u{feff}').lines();
        let header = lines.next().expect("header");
        assert!(
            header.starts_with("layer,id,name_zh,distance_m,bearing_deg,rank,fid,name_en,"),
            "{header}"
        );
        assert!(header.ends_with(",lon,lat"));
        let row = lines.next().expect("row");
        assert!(
            row.starts_with("drinking_water_sources,ws-1,\"示例水源, 01\",1234.57,0,1,9,"),
            "{row}"
        );
        assert!(row.ends_with(",104.6,28.8"), "{row}");
        assert!(row.contains(",1200,"));
    }

    #[test]
    fn extra_columns_follow_the_distance() {
        let schema = builtin_schema("pollution_sources").expect("schema");
        let n = schema.properties.len();
        let feature = Feature {
            fid: 3,
            id: "ps-1".into(),
            geometry: Geometry::Point(point!(x: 104.6, y: 28.8)),
            properties: vec![Value::Null; n],
        };
        let layer = Arc::new(Layer::new(Arc::new(schema), vec![feature], 1));
        let hit = Hit {
            layer,
            position: 0,
            distance_m: 12.0,
            ranking: None,
        };
        let rows = [CsvRow {
            hit: &hit,
            extra: vec!["1500.5".into(), "true".into()],
        }];
        let bytes = rows_to_csv(&rows, &["along_river_m", "flagged"]).expect("csv");
        let text = String::from_utf8(bytes).expect("utf-8");
        let mut lines = text.trim_start_matches('\u{feff}').lines();
        let header = lines.next().expect("header");
        assert!(
            header.starts_with("layer,id,name_zh,distance_m,along_river_m,flagged,fid,"),
            "{header}"
        );
        let row = lines.next().expect("row");
        assert!(
            row.starts_with("pollution_sources,ps-1,,12,1500.5,true,3,"),
            "{row}"
        );
    }
}
