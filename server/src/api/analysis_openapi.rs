//! OpenAPI operations of the river, risk and plume routes (merged into the
//! document by `openapi::document`; their paths are in its route table).

use serde_json::{json, Value};

use crate::config::Limits;

fn query(name: &str, description: &str, required: bool, schema: Value) -> Value {
    json!({"name": name, "in": "query", "description": description, "required": required, "schema": schema})
}

fn responses(media: &str) -> Value {
    let problem = json!({"$ref": "#/components/responses/Problem"});
    json!({"200": {"description": "OK", "content": {media: {}}},
           "400": problem.clone(), "404": problem.clone(), "413": problem})
}

fn body(required: &[&str], properties: Value) -> Value {
    json!({"required": true, "content": {"application/json": {"schema": {
        "type": "object", "additionalProperties": false, "required": required, "properties": properties}}}})
}

/// (path, method, operation) for every route of this group.
pub fn openapi_operations(limits: &Limits) -> Vec<(&'static str, &'static str, Value)> {
    let geo = "application/geo+json";
    let lon = json!({"type": "number", "minimum": -180, "maximum": 180, "description": "WGS84 longitude"});
    let lat =
        json!({"type": "number", "minimum": -90, "maximum": 90, "description": "WGS84 latitude"});
    let trace = json!({"type": "number", "exclusiveMinimum": 0, "maximum": limits.max_trace_m,
                       "description": "Along-river length of the trace, metres (limits.max_trace_m)"});
    let corridor = json!({"type": "number", "minimum": 0, "maximum": limits.max_distance_m,
                          "description": "Features within this distance of the path, metres (default rivers.default_corridor_m, 500)"});
    let op = |summary: &str, params: Vec<Value>, media: &str| json!({"summary": summary, "tags": ["Analysis"], "parameters": params, "responses": responses(media)});
    let post = |summary: &str, request: Value| json!({"summary": summary, "tags": ["Analysis"], "parameters": [], "requestBody": request, "responses": responses(geo)});
    let layer = query(
        "layer",
        "drinking_water_sources or ecology_areas",
        true,
        json!({"type": "string", "enum": ["drinking_water_sources", "ecology_areas"]}),
    );
    vec![
        ("/api/analysis/downstream", "post", post(
            "Downstream trace 下游追踪: intakes, water-quality sections and protection zones a spill reaches, with along_river_m and arrival_earliest_s / arrival_expected_s",
            body(&["lon", "lat", "max_distance_m"], json!({
                "lon": lon, "lat": lat, "max_distance_m": trace, "corridor_m": corridor,
                "velocity_mps": {"type": "number", "exclusiveMinimum": 0, "maximum": 20, "description": "One velocity for the whole path (default: per river, [rivers] velocities_mps)"}
            })),
        )),
        ("/api/analysis/upstream", "post", post(
            "Upstream trace 上游溯源: candidate pollution sources on every upstream reach, ranked by along_river_m, water dischargers and recent exceedances flagged",
            body(&["max_distance_m"], json!({
                "lon": lon, "lat": lat,
                "station_id": {"type": "string", "description": "A monitoring station instead of lon/lat"},
                "max_distance_m": trace, "corridor_m": corridor
            })),
        )),
        ("/api/analysis/rivers/diagnostics", "get", op(
            "River network diagnostics 河网诊断: links and their gaps, unconnected ends, heads, cycles",
            vec![],
            "application/json",
        )),
        ("/api/analysis/risk", "get", op(
            "Risk zones 风险评估: each water source or ecology area with risk_score, risk_factors and its sources",
            vec![layer.clone(), query("id", "Only this feature", false, json!({"type": "string"}))],
            geo,
        )),
        ("/api/analysis/risk/summary", "get", op(
            "Highest-risk water sources 高风险水源 (the top of /api/analysis/risk)",
            vec![
                query("limit", "How many (default 10)", false, json!({"type": "integer", "minimum": 1, "maximum": limits.max_results})),
                query("layer", "drinking_water_sources (default) or ecology_areas", false,
                      json!({"type": "string", "enum": ["drinking_water_sources", "ecology_areas"]})),
            ],
            geo,
        )),
        ("/api/analysis/plume", "post", post(
            "Air-release threat zone 大气泄漏威胁区 (Gaussian plume, Briggs rural; screening estimate)",
            body(
                &["lon", "lat", "release_g_s", "height_m", "wind_from_deg", "wind_speed_mps", "stability", "level_of_concern_mg_m3", "max_distance_m"],
                json!({
                    "lon": lon, "lat": lat,
                    "release_g_s": {"type": "number", "exclusiveMinimum": 0},
                    "height_m": {"type": "number", "minimum": 0, "maximum": 1000},
                    "wind_from_deg": {"type": "number", "minimum": 0, "maximum": 360, "description": "Where the wind blows from (0 north, 90 east)"},
                    "wind_speed_mps": {"type": "number", "minimum": 0.5, "maximum": 50},
                    "stability": {"type": "string", "enum": ["A", "B", "C", "D", "E", "F"]},
                    "level_of_concern_mg_m3": {"type": "number", "exclusiveMinimum": 0},
                    "max_distance_m": {"type": "number", "exclusiveMinimum": 0, "maximum": limits.max_distance_m}
                }),
            ),
        )),
    ]
}
