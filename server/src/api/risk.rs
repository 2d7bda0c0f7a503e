//! HTTP layer of the risk assessment: `GET /api/analysis/risk?layer=…[&id=…]`
//! and `GET /api/analysis/risk/summary?limit=10` (the highest-risk water
//! sources for the leaders' view). Whole-layer assessments come from the
//! cache in `AppState::risk`; one feature (`id`) is assessed on its own.
//! `f=csv` answers the assessed features as CSV (factors flattened).

use std::sync::Arc;

use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use serde_json::{json, Map, Value as Json_};

use super::analysis::{check_query, csv_response, Format};
use super::error::ApiError;
use super::extract::{parse_count, QueryPairs};
use super::features::GEOJSON;
use crate::analysis::csv::{rows_to_csv, CsvRow};
use crate::analysis::risk::report::{csv_values, target_json, CSV_COLUMNS};
use crate::analysis::risk::{assess, RiskInputs, Target, TargetRisk};
use crate::analysis::Hit;
use crate::app::AppState;

fn target(q: &QueryPairs, default: Option<Target>) -> Result<Target, ApiError> {
    let valid = "drinking_water_sources, ecology_areas";
    match (q.single("layer")?, default) {
        (None, Some(t)) => Ok(t),
        (None, None) => Err(ApiError::bad_param(
            "layer",
            format!("layer is required; one of: {valid}"),
        )),
        (Some(id), _) => Target::from_layer_id(id).ok_or_else(|| {
            ApiError::bad_param(
                "layer",
                format!("risk is assessed for layer {valid}, not '{id}'"),
            )
        }),
    }
}

/// Runs the assessment (cached for a whole layer) off the async workers.
async fn run(
    state: &AppState,
    target: Target,
    id: Option<String>,
) -> Result<
    (
        Arc<crate::atlas::Layer>,
        Arc<crate::atlas::Layer>,
        Arc<Vec<TargetRisk>>,
    ),
    ApiError,
> {
    let state = state.clone();
    tokio::task::spawn_blocking(move || {
        let network = state.rivers.network(&state.atlas, &state.config.rivers);
        let inputs = RiskInputs::from_atlas(
            &state.atlas,
            target,
            &network.graph,
            &state.config.analysis,
            state.exceedances.as_ref(),
        )
        .ok_or_else(|| {
            ApiError::NotFound(format!(
                "layer '{}' or pollution_sources is missing",
                target.layer_id()
            ))
        })?;
        let results = match id {
            Some(id) => {
                let position = inputs
                    .targets
                    .features()
                    .iter()
                    .position(|f| f.id.as_ref() == id)
                    .ok_or_else(|| {
                        ApiError::bad_param(
                            "id",
                            format!("layer '{}' has no feature '{id}'", target.layer_id()),
                        )
                    })?;
                Arc::new(assess(&inputs, Some(position as u32)))
            }
            None => state.risk.all(target, &inputs, &network.graph),
        };
        Ok((inputs.targets.clone(), inputs.sources.clone(), results))
    })
    .await
    .map_err(|e| ApiError::Internal(format!("risk task failed: {e}")))?
}

fn respond(
    format: Format,
    name: &str,
    targets: &Arc<crate::atlas::Layer>,
    sources: &crate::atlas::Layer,
    results: &[TargetRisk],
    extras: Map<String, Json_>,
) -> Result<Response, ApiError> {
    if format == Format::Csv {
        let hits: Vec<Hit> = results
            .iter()
            .map(|r| Hit {
                layer: targets.clone(),
                position: r.position,
                distance_m: 0.0,
                ranking: None,
            })
            .collect();
        let rows: Vec<CsvRow<'_>> = hits
            .iter()
            .zip(results)
            .map(|(hit, r)| CsvRow {
                hit,
                extra: csv_values(sources, r),
            })
            .collect();
        return csv_response(name, rows_to_csv(&rows, &CSV_COLUMNS));
    }
    let features: Vec<Json_> = results
        .iter()
        .map(|r| target_json(targets, sources, r))
        .collect();
    let mut body = Map::new();
    body.insert("type".into(), json!("FeatureCollection"));
    body.insert("numberReturned".into(), json!(features.len()));
    body.insert("features".into(), Json_::Array(features));
    body.extend(extras);
    Ok((
        [(header::CONTENT_TYPE, GEOJSON)],
        Json_::Object(body).to_string(),
    )
        .into_response())
}

pub async fn risk(State(state): State<AppState>, q: QueryPairs) -> Result<Response, ApiError> {
    let format = check_query(&q, &["layer", "id", "f"])?;
    let target = target(&q, None)?;
    let id = q.single("id")?.map(str::to_string);
    let (targets, sources, results) = run(&state, target, id).await?;
    let mut extras = Map::new();
    extras.insert("layer".into(), json!(target.layer_id()));
    extras.insert(
        "risk_radius_m".into(),
        json!(state.config.analysis.risk_radius_m),
    );
    respond(format, "risk", &targets, &sources, &results, extras)
}

pub async fn summary(State(state): State<AppState>, q: QueryPairs) -> Result<Response, ApiError> {
    let format = check_query(&q, &["limit", "layer", "f"])?;
    let target = target(&q, Some(Target::WaterSources))?;
    let max = state.config.limits.max_results;
    let limit = match q.single("limit")? {
        None => 10,
        Some(t) => parse_count("limit", t)?,
    };
    if limit == 0 || limit > max {
        return Err(ApiError::bad_param(
            "limit",
            format!("limit must be within 1..=limits.max_results ({max}), got {limit}"),
        ));
    }
    let (targets, sources, results) = run(&state, target, None).await?;
    let top = &results[..limit.min(results.len())];
    let mut extras = Map::new();
    extras.insert("layer".into(), json!(target.layer_id()));
    extras.insert("limit".into(), json!(limit));
    extras.insert("numberMatched".into(), json!(results.len()));
    respond(format, "risk-summary", &targets, &sources, top, extras)
}
