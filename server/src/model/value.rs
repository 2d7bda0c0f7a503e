//! Typed property values.
//!
//! Properties are stored positionally (in the order of the layer's schema) as
//! [`Value`]s: a scale-1000 atlas holds millions of them, so they are kept small
//! (`Box<str>` rather than `String`) and carry their type.

use serde::{Deserialize, Serialize};

/// The type of a property, as declared in a layer schema.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PropType {
    String,
    Integer,
    Number,
    Boolean,
}

impl PropType {
    /// The JSON Schema type name used in OGC API queryables and OpenAPI.
    pub fn json_schema_type(self) -> &'static str {
        match self {
            PropType::String => "string",
            PropType::Integer => "integer",
            PropType::Number => "number",
            PropType::Boolean => "boolean",
        }
    }
}

/// One property value. `Null` is allowed for every type (the property is absent).
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Text(Box<str>),
}

/// Why a JSON value does not fit a property's declared type.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("expected {expected}, got {got}")]
pub struct TypeMismatch {
    pub expected: &'static str,
    pub got: String,
}

impl Value {
    /// Converts a JSON value to a property of type `ty`, accepting only what fits.
    pub fn from_json(json: &serde_json::Value, ty: PropType) -> Result<Value, TypeMismatch> {
        use serde_json::Value as J;
        let mismatch = || TypeMismatch {
            expected: ty.json_schema_type(),
            got: short_json(json),
        };
        Ok(match (ty, json) {
            (_, J::Null) => Value::Null,
            (PropType::String, J::String(s)) => Value::Text(s.as_str().into()),
            (PropType::Boolean, J::Bool(b)) => Value::Bool(*b),
            (PropType::Integer, J::Number(n)) => Value::Int(n.as_i64().ok_or_else(mismatch)?),
            (PropType::Number, J::Number(n)) => Value::Float(n.as_f64().ok_or_else(mismatch)?),
            _ => return Err(mismatch()),
        })
    }

    /// Parses a query-string value (as in `?county=511502`) as a value of type `ty`.
    pub fn parse_query(text: &str, ty: PropType) -> Option<Value> {
        match ty {
            PropType::String => Some(Value::Text(text.into())),
            PropType::Integer => text.parse().ok().map(Value::Int),
            PropType::Number => text.parse().ok().map(Value::Float),
            PropType::Boolean => match text {
                "true" | "1" => Some(Value::Bool(true)),
                "false" | "0" => Some(Value::Bool(false)),
                _ => None,
            },
        }
    }

    pub fn to_json(&self) -> serde_json::Value {
        match self {
            Value::Null => serde_json::Value::Null,
            Value::Bool(b) => serde_json::Value::Bool(*b),
            Value::Int(i) => serde_json::Value::from(*i),
            Value::Float(f) => serde_json::Number::from_f64(*f)
                .map(serde_json::Value::Number)
                .unwrap_or(serde_json::Value::Null),
            Value::Text(s) => serde_json::Value::String(s.to_string()),
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::Text(s) => Some(s),
            _ => None,
        }
    }

    pub fn as_i64(&self) -> Option<i64> {
        match self {
            Value::Int(i) => Some(*i),
            _ => None,
        }
    }

    pub fn as_bool(&self) -> Option<bool> {
        match self {
            Value::Bool(b) => Some(*b),
            _ => None,
        }
    }

    /// The value as text for CSV output and string comparisons.
    pub fn to_text(&self) -> String {
        match self {
            Value::Null => String::new(),
            Value::Bool(b) => b.to_string(),
            Value::Int(i) => i.to_string(),
            Value::Float(f) => f.to_string(),
            Value::Text(s) => s.to_string(),
        }
    }
}

fn short_json(json: &serde_json::Value) -> String {
    let text = json.to_string();
    if text.chars().count() > 40 {
        let cut: String = text.chars().take(40).collect();
        format!("{cut}…")
    } else {
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn json_values_must_fit_their_type() {
        assert_eq!(
            Value::from_json(&json!("511502"), PropType::String),
            Ok(Value::Text("511502".into()))
        );
        assert_eq!(
            Value::from_json(&json!(3), PropType::Integer),
            Ok(Value::Int(3))
        );
        assert!(Value::from_json(&json!(3.5), PropType::Integer).is_err());
        assert!(Value::from_json(&json!("x"), PropType::Boolean).is_err());
        assert_eq!(
            Value::from_json(&json!(null), PropType::Boolean),
            Ok(Value::Null)
        );
    }

    #[test]
    fn query_values_parse_by_type() {
        assert_eq!(
            Value::parse_query("true", PropType::Boolean),
            Some(Value::Bool(true))
        );
        assert_eq!(
            Value::parse_query("12", PropType::Integer),
            Some(Value::Int(12))
        );
        assert_eq!(Value::parse_query("x", PropType::Integer), None);
    }
}
