//! What an analysis searches: the requested layers (or the default thematic
//! ones) and the property filter that narrows each of them.
//!
//! Filters come as `prop:value,prop:value` (GET) or `{"prop": value}` (POST).
//! A property applies to the requested layers that declare it and is ignored
//! by the others; a property that none of them declares is an error. The same
//! property given twice (or a JSON array of values) matches any of the values;
//! different properties must all match.

use std::sync::Arc;

use serde_json::{Map, Value as Json};

use super::InputError;
use crate::atlas::{Atlas, Layer};
use crate::model::{Feature, GeometryKind, Value};

/// The name of the filter parameter in both the query string and JSON bodies.
const FILTER: &str = "filter";

/// Reference layers that are not searched unless asked for.
const REFERENCE_LAYERS: [&str; 1] = ["admin_boundaries"];

/// One filter value as given, typed only once the layer is known.
#[derive(Debug, Clone, PartialEq)]
enum Given {
    Text(String),
    Json(Json),
}

/// A filter before it is matched to layers: property name → accepted values.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FilterSpec(Vec<(String, Vec<Given>)>);

impl FilterSpec {
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    fn push(&mut self, name: &str, value: Given) {
        match self.0.iter_mut().find(|(n, _)| n == name) {
            Some((_, values)) => values.push(value),
            None => self.0.push((name.to_string(), vec![value])),
        }
    }

    /// Parses `prop:value,prop:value` (the GET form).
    pub fn parse(text: &str) -> Result<Self, InputError> {
        let mut spec = FilterSpec::default();
        for pair in text.split(',').filter(|p| !p.trim().is_empty()) {
            let (name, value) = pair.split_once(':').ok_or_else(|| {
                InputError::new(
                    FILTER,
                    format!("filter '{pair}' must be property:value (pairs separated by commas)"),
                )
            })?;
            let name = name.trim();
            if name.is_empty() {
                return Err(InputError::new(
                    FILTER,
                    format!("filter '{pair}' has no property name"),
                ));
            }
            spec.push(name, Given::Text(value.trim().to_string()));
        }
        Ok(spec)
    }

    /// Reads `{"prop": value}` or `{"prop": [value, ...]}` (the POST form).
    pub fn from_json(map: &Map<String, Json>) -> Result<Self, InputError> {
        let mut spec = FilterSpec::default();
        for (name, value) in map {
            let values: Vec<&Json> = match value {
                Json::Array(values) if !values.is_empty() => values.iter().collect(),
                Json::Array(_) => {
                    return Err(InputError::new(
                        FILTER,
                        format!("filter '{name}' has an empty list of values"),
                    ))
                }
                Json::Object(_) => {
                    return Err(InputError::new(
                        FILTER,
                        format!(
                            "filter '{name}' must be a string, number, boolean or a list of them"
                        ),
                    ))
                }
                v => vec![v],
            };
            for v in values {
                spec.push(name, Given::Json(v.clone()));
            }
        }
        Ok(spec)
    }
}

/// One layer to search and the conditions its features must meet.
#[derive(Debug, Clone)]
pub struct LayerQuery {
    pub layer: Arc<Layer>,
    /// (property position, accepted values): every condition must hold.
    conditions: Vec<(usize, Vec<Value>)>,
}

impl LayerQuery {
    /// A layer searched without conditions.
    pub fn all(layer: Arc<Layer>) -> Self {
        LayerQuery {
            layer,
            conditions: Vec::new(),
        }
    }

    /// Whether every feature of the layer is searched.
    pub fn is_unfiltered(&self) -> bool {
        self.conditions.is_empty()
    }

    pub fn matches(&self, feature: &Feature) -> bool {
        self.conditions.iter().all(|(pos, accepted)| {
            feature
                .properties
                .get(*pos)
                .is_some_and(|v| accepted.contains(v))
        })
    }
}

/// The layers searched when a request names none: every point and polygon
/// thematic layer (not the administrative boundaries, not the river lines).
pub fn default_layers(atlas: &Atlas) -> Vec<Arc<Layer>> {
    atlas
        .layers()
        .into_iter()
        .filter(|l| l.schema.geometry != GeometryKind::Line && !REFERENCE_LAYERS.contains(&l.id()))
        .collect()
}

/// Resolves the requested layer ids (`None`: the defaults) and matches the
/// filter to them. `parameter` names the layer list in errors (`layers`).
pub fn select(
    atlas: &Atlas,
    requested: Option<&[String]>,
    filter: &FilterSpec,
    parameter: &str,
) -> Result<Vec<LayerQuery>, InputError> {
    let layers = match requested {
        None => default_layers(atlas),
        Some([]) => {
            return Err(InputError::new(
                parameter,
                "at least one layer id is needed",
            ))
        }
        Some(ids) => {
            let mut layers: Vec<Arc<Layer>> = Vec::with_capacity(ids.len());
            for id in ids {
                let layer = atlas.layer(id).ok_or_else(|| {
                    let known: Vec<String> =
                        atlas.layers().iter().map(|l| l.id().to_string()).collect();
                    InputError::new(
                        parameter,
                        format!("unknown layer '{id}'; layers are: {}", known.join(", ")),
                    )
                })?;
                if layers.iter().any(|l| l.id() == layer.id()) {
                    return Err(InputError::new(
                        parameter,
                        format!("layer '{id}' is given twice"),
                    ));
                }
                layers.push(layer);
            }
            layers
        }
    };
    for (name, _) in &filter.0 {
        if !layers.iter().any(|l| l.schema.position(name).is_some()) {
            let ids: Vec<&str> = layers.iter().map(|l| l.id()).collect();
            return Err(InputError::new(
                FILTER,
                format!(
                    "filter property '{name}' is not a property of any requested layer ({})",
                    ids.join(", ")
                ),
            ));
        }
    }
    layers
        .into_iter()
        .map(|layer| {
            let mut conditions = Vec::new();
            for (name, given) in &filter.0 {
                let Some(pos) = layer.schema.position(name) else {
                    continue; // the filter does not apply to this layer
                };
                let ty = layer.schema.properties[pos].kind;
                let accepted = given
                    .iter()
                    .map(|g| {
                        let typed = match g {
                            Given::Text(t) => Value::parse_query(t, ty),
                            Given::Json(Json::String(t)) => Value::parse_query(t, ty),
                            Given::Json(j) => Value::from_json(j, ty).ok(),
                        };
                        typed.ok_or_else(|| {
                            let shown = match g {
                                Given::Text(t) => t.clone(),
                                Given::Json(j) => j.to_string(),
                            };
                            InputError::new(
                                FILTER,
                                format!("filter value '{shown}' is not a valid {} for property '{name}' of layer '{}'", ty.json_schema_type(), layer.id()),
                            )
                        })
                    })
                    .collect::<Result<Vec<_>, _>>()?;
                conditions.push((pos, accepted));
            }
            Ok(LayerQuery { layer, conditions })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::catalog::builtin_schema;
    use geo_types::{point, Geometry};
    use serde_json::json;

    fn atlas() -> Atlas {
        let atlas = Atlas::new();
        for id in [
            "pollution_sources",
            "protection_zones",
            "rivers",
            "admin_boundaries",
        ] {
            let schema = Arc::new(builtin_schema(id).expect("schema"));
            atlas.insert(Layer::empty(schema));
        }
        atlas
    }

    fn source(county: &str, violations: i64) -> Feature {
        let schema = builtin_schema("pollution_sources").expect("schema");
        let mut properties = vec![Value::Null; schema.properties.len()];
        properties[schema.position("county").expect("county")] = Value::Text(county.into());
        properties[schema.position("violations").expect("violations")] = Value::Int(violations);
        Feature {
            fid: 1,
            id: "ps".into(),
            geometry: Geometry::Point(point!(x: 104.6, y: 28.8)),
            properties,
        }
    }

    #[test]
    fn default_layers_leave_out_reference_layers() {
        let ids: Vec<String> = default_layers(&atlas())
            .iter()
            .map(|l| l.id().to_string())
            .collect();
        assert_eq!(ids, ["pollution_sources", "protection_zones"]);
    }

    #[test]
    fn filters_apply_to_layers_that_have_the_property() {
        let atlas = atlas();
        let spec = FilterSpec::parse("county:511502,county:511503,violations:2").expect("parse");
        let selected = select(&atlas, None, &spec, "layers").expect("select");
        let sources = &selected[0];
        assert!(sources.matches(&source("511503", 2)));
        assert!(!sources.matches(&source("511504", 2)));
        assert!(!sources.matches(&source("511502", 1)));
        // Zones have neither property: unfiltered.
        assert!(selected[1].conditions.is_empty());

        let json = json!({"county": ["511502"], "violations": "2"});
        let spec = FilterSpec::from_json(json.as_object().expect("object")).expect("json");
        let selected = select(&atlas, None, &spec, "layers").expect("select");
        assert!(selected[0].matches(&source("511502", 2)));
    }

    #[test]
    fn bad_filters_and_layers_name_the_parameter() {
        let atlas = atlas();
        let unknown = FilterSpec::parse("colour:red").expect("parse");
        let e = select(&atlas, None, &unknown, "layers").expect_err("unknown property");
        assert_eq!(e.parameter, "filter");
        assert!(e.detail.contains("colour"));
        let bad_type = FilterSpec::parse("violations:many").expect("parse");
        assert!(select(&atlas, None, &bad_type, "layers").is_err());
        assert!(FilterSpec::parse("county").is_err());
        let e = select(
            &atlas,
            Some(&["nope".to_string()]),
            &FilterSpec::default(),
            "layers",
        )
        .expect_err("unknown layer");
        assert_eq!(e.parameter, "layers");
        let twice = ["rivers".to_string(), "rivers".to_string()];
        assert!(select(&atlas, Some(&twice), &FilterSpec::default(), "layers").is_err());
        // A filter on a property only the unrequested layers have is an error.
        let zone = FilterSpec::parse("zone_level:level1").expect("parse");
        let only_sources = ["pollution_sources".to_string()];
        assert!(select(&atlas, Some(&only_sources), &zone, "layers").is_err());
    }
}
