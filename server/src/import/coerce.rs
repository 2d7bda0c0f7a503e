//! From a file's attributes to a layer's typed properties.
//!
//! Columns are matched to schema properties by exact name, then ignoring case,
//! then as a DBF-truncated name (DBF field names hold 10 characters, so
//! `online_monitored` arrives as `online_mon`). Values are coerced the way a
//! spreadsheet user expects: `"12"` is an integer, `1`/`"是"` a boolean, an
//! integral number a code string. Anything that does not fit is a row problem.

use serde_json::Value as Json;

use crate::model::{LayerSchema, PropType, Value};

/// Where each file column goes: `Some(position in the schema)` or nowhere.
#[derive(Debug, Clone)]
pub struct ColumnMap {
    columns: Vec<(String, Option<usize>)>,
}

impl ColumnMap {
    /// Maps `fields` onto `schema`; `skip` are columns used otherwise (the id field).
    pub fn new(fields: &[String], schema: &LayerSchema) -> ColumnMap {
        let columns = fields
            .iter()
            .map(|f| (f.clone(), match_property(f, schema)))
            .collect();
        ColumnMap { columns }
    }

    /// The position a column's values go to.
    pub fn position(&self, field: &str) -> Option<usize> {
        self.columns
            .iter()
            .find(|(name, _)| name == field)
            .and_then(|(_, p)| *p)
    }

    /// Columns that have no property in the layer (reported once, not per row).
    pub fn unmatched(&self) -> Vec<String> {
        self.columns
            .iter()
            .filter(|(name, p)| p.is_none() && !is_reserved(name))
            .map(|(name, _)| name.clone())
            .collect()
    }

    /// Which file column feeds each property, for the report.
    pub fn renamed(&self, schema: &LayerSchema) -> Vec<(String, String)> {
        self.columns
            .iter()
            .filter_map(|(name, p)| {
                let prop = &schema.properties[(*p)?];
                (prop.name != *name).then(|| (name.clone(), prop.name.clone()))
            })
            .collect()
    }
}

/// `id` and `fid` are every feature's own, never layer properties.
pub fn is_reserved(name: &str) -> bool {
    name.eq_ignore_ascii_case("id") || name.eq_ignore_ascii_case("fid")
}

fn match_property(field: &str, schema: &LayerSchema) -> Option<usize> {
    if is_reserved(field) {
        return None;
    }
    if let Some(p) = schema.position(field) {
        return Some(p);
    }
    let lower = field.to_lowercase();
    if let Some(p) = schema
        .properties
        .iter()
        .position(|p| p.name.to_lowercase() == lower)
    {
        return Some(p);
    }
    if field.chars().count() == 10 {
        let mut candidates = schema
            .properties
            .iter()
            .enumerate()
            .filter(|(_, p)| p.name.to_lowercase().starts_with(&lower));
        if let (Some((p, _)), None) = (candidates.next(), candidates.next()) {
            return Some(p);
        }
    }
    None
}

fn integral_text(f: f64) -> Option<String> {
    (f.fract() == 0.0 && f.abs() < 9.0e15).then(|| format!("{}", f as i64))
}

/// Converts one attribute value to a property of type `ty`.
pub fn coerce(json: &Json, ty: PropType) -> Result<Value, String> {
    let bad = || format!("expected {}, got {}", ty.json_schema_type(), short(json));
    Ok(match (ty, json) {
        (_, Json::Null) => Value::Null,
        (PropType::String, Json::String(s)) => Value::Text(s.as_str().into()),
        (PropType::String, Json::Number(n)) => Value::Text(
            n.as_i64()
                .map(|i| i.to_string())
                .or_else(|| n.as_f64().and_then(integral_text))
                .unwrap_or_else(|| n.to_string())
                .into(),
        ),
        (PropType::String, Json::Bool(b)) => Value::Text(b.to_string().into()),
        (_, Json::String(s)) if s.trim().is_empty() => Value::Null,
        (PropType::Integer, Json::Number(n)) => Value::Int(
            n.as_i64()
                .or_else(|| {
                    n.as_f64()
                        .filter(|f| f.fract() == 0.0 && f.abs() < 9.0e15)
                        .map(|f| f as i64)
                })
                .ok_or_else(bad)?,
        ),
        (PropType::Integer, Json::String(s)) => {
            let t = s.trim();
            match t.parse::<i64>() {
                Ok(i) => Value::Int(i),
                Err(_) => Value::Int(
                    t.parse::<f64>()
                        .ok()
                        .filter(|f| f.fract() == 0.0 && f.abs() < 9.0e15)
                        .map(|f| f as i64)
                        .ok_or_else(bad)?,
                ),
            }
        }
        (PropType::Number, Json::Number(n)) => Value::Float(n.as_f64().ok_or_else(bad)?),
        (PropType::Number, Json::String(s)) => Value::Float(
            s.trim()
                .parse::<f64>()
                .ok()
                .filter(|f| f.is_finite())
                .ok_or_else(bad)?,
        ),
        (PropType::Boolean, Json::Bool(b)) => Value::Bool(*b),
        (PropType::Boolean, Json::Number(n)) => match n.as_f64() {
            Some(1.0) => Value::Bool(true),
            Some(0.0) => Value::Bool(false),
            _ => return Err(bad()),
        },
        (PropType::Boolean, Json::String(s)) => Value::Bool(parse_bool(s).ok_or_else(bad)?),
        _ => return Err(bad()),
    })
}

/// Spellings of yes/no in bureau spreadsheets.
pub fn parse_bool(text: &str) -> Option<bool> {
    match text.trim().to_lowercase().as_str() {
        "true" | "t" | "yes" | "y" | "1" | "是" | "有" => Some(true),
        "false" | "f" | "no" | "n" | "0" | "否" | "无" => Some(false),
        _ => None,
    }
}

fn short(json: &Json) -> String {
    let text = json.to_string();
    if text.chars().count() > 40 {
        format!("{}…", text.chars().take(40).collect::<String>())
    } else {
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::catalog::builtin_schema;
    use serde_json::json;

    #[test]
    fn values_coerce_like_a_spreadsheet_user_expects() {
        assert_eq!(coerce(&json!("12"), PropType::Integer), Ok(Value::Int(12)));
        assert_eq!(coerce(&json!(12.0), PropType::Integer), Ok(Value::Int(12)));
        assert!(coerce(&json!("12.5"), PropType::Integer).is_err());
        assert!(coerce(&json!("twelve"), PropType::Integer).is_err());
        assert_eq!(coerce(&json!(""), PropType::Integer), Ok(Value::Null));
        assert_eq!(
            coerce(&json!(511502.0), PropType::String),
            Ok(Value::Text("511502".into()))
        );
        assert_eq!(
            coerce(&json!("0831"), PropType::String),
            Ok(Value::Text("0831".into()))
        );
        assert_eq!(
            coerce(&json!("是"), PropType::Boolean),
            Ok(Value::Bool(true))
        );
        assert_eq!(coerce(&json!(0), PropType::Boolean), Ok(Value::Bool(false)));
        assert_eq!(
            coerce(&json!("2.5"), PropType::Number),
            Ok(Value::Float(2.5))
        );
    }

    #[test]
    fn dbf_truncated_names_find_their_property() {
        let schema = builtin_schema("pollution_sources").expect("built in");
        let fields: Vec<String> = ["online_mon", "industry_c", "NAME_ZH", "id", "extra"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        let map = ColumnMap::new(&fields, &schema);
        assert_eq!(
            map.position("online_mon"),
            schema.position("online_monitored")
        );
        assert_eq!(map.position("industry_c"), schema.position("industry_code"));
        assert_eq!(map.position("NAME_ZH"), schema.position("name_zh"));
        assert_eq!(map.position("id"), None);
        assert_eq!(map.unmatched(), vec!["extra".to_string()]);
    }
}
