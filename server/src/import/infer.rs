//! `--create`: a new layer's schema inferred from the file.
//!
//! A column is `boolean` when every value is a JSON boolean or spelled
//! `true`/`false`; `integer` when every value is an integer (a digit string
//! with a leading zero stays text: it is a code, like `0831`); `number` when
//! every value is numeric; else `string`. Empty values do not vote. The
//! geometry kind is the first valid geometry's.

use serde_json::Value as Json;

use super::coerce::is_reserved;
use crate::model::{GeometryKind, LayerSchema, PropType, PropertyDef, Style};

/// Votes on one column's type.
#[derive(Debug, Clone, Copy, Default)]
pub struct TypeVote {
    seen: bool,
    all_bool: bool,
    all_int: bool,
    all_num: bool,
}

impl TypeVote {
    pub fn add(&mut self, value: &Json) {
        let (b, i, n) = match value {
            Json::Null => return,
            Json::String(s) if s.trim().is_empty() => return,
            Json::Bool(_) => (true, false, false),
            Json::Number(n) => (false, n.is_i64() || n.is_u64(), true),
            Json::String(s) => {
                let t = s.trim();
                let b = matches!(t.to_ascii_lowercase().as_str(), "true" | "false");
                let leading_zero = t.len() > 1 && (t.starts_with('0') || t.starts_with("-0"));
                let i = !leading_zero && t.parse::<i64>().is_ok();
                let n = !leading_zero && t.parse::<f64>().is_ok_and(f64::is_finite);
                (b, i, n)
            }
            _ => (false, false, false),
        };
        if !self.seen {
            *self = TypeVote {
                seen: true,
                all_bool: b,
                all_int: i,
                all_num: n,
            };
        } else {
            self.all_bool &= b;
            self.all_int &= i;
            self.all_num &= n;
        }
    }

    pub fn result(&self) -> PropType {
        if !self.seen {
            PropType::String
        } else if self.all_bool {
            PropType::Boolean
        } else if self.all_int {
            PropType::Integer
        } else if self.all_num {
            PropType::Number
        } else {
            PropType::String
        }
    }
}

/// Whether `id` is usable as a layer id (it appears in URLs and tile paths).
pub fn valid_layer_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 64
        && id.starts_with(|c: char| c.is_ascii_lowercase())
        && id
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

/// The schema of a new layer from its columns (with their votes) and geometry kind.
pub fn schema(
    id: &str,
    source: &str,
    geometry: GeometryKind,
    columns: &[(String, TypeVote)],
    id_field: Option<&str>,
) -> LayerSchema {
    let properties = columns
        .iter()
        .filter(|(name, _)| !is_reserved(name) && Some(name.as_str()) != id_field)
        .map(|(name, vote)| PropertyDef {
            name: name.clone(),
            kind: vote.result(),
            title_zh: name.clone(),
            title_en: name.clone(),
        })
        .collect();
    LayerSchema {
        id: id.to_string(),
        title_zh: id.to_string(),
        title_en: id.to_string(),
        description_zh: format!("导入自 {source}"),
        description_en: format!("Imported from {source}"),
        geometry,
        properties,
        style: Style {
            color: "#3388ff".into(),
            icon: None,
            min_zoom: 0,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn vote(values: &[Json]) -> PropType {
        let mut v = TypeVote::default();
        values.iter().for_each(|x| v.add(x));
        v.result()
    }

    #[test]
    fn column_types() {
        assert_eq!(
            vote(&[json!("12"), json!(""), json!("7")]),
            PropType::Integer
        );
        assert_eq!(vote(&[json!("12"), json!("0831")]), PropType::String);
        assert_eq!(vote(&[json!(1.5), json!("2")]), PropType::Number);
        assert_eq!(vote(&[json!(true), json!("false")]), PropType::Boolean);
        assert_eq!(vote(&[json!("化工"), json!(3)]), PropType::String);
        assert_eq!(vote(&[json!(null)]), PropType::String);
    }

    #[test]
    fn layer_ids() {
        assert!(valid_layer_id("noise_sites"));
        assert!(!valid_layer_id("Noise"));
        assert!(!valid_layer_id("a/b"));
    }
}
