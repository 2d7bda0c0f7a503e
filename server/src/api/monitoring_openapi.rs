//! OpenAPI operations of the monitoring routes (merged into the document by
//! `openapi::document`).

use serde_json::{json, Value as JsonValue};

fn query_param(name: &str, description: &str, required: bool) -> JsonValue {
    json!({"name": name, "in": "query", "description": description, "required": required,
           "schema": {"type": "string"}})
}

/// OpenAPI operations of these routes: (path, method, operation).
pub fn openapi_operations() -> Vec<(&'static str, &'static str, JsonValue)> {
    let problem = json!({"$ref": "#/components/responses/Problem"});
    let ok = |media: &str| json!({"description": "OK", "content": {media: {}}});
    let op = |summary: &str, params: Vec<JsonValue>, media: &str| {
        json!({"summary": summary, "tags": ["Monitoring"], "parameters": params,
               "responses": {"200": ok(media), "400": problem.clone(), "404": problem.clone()}})
    };
    let write = |summary: &str, item: &str| {
        json!({"summary": summary, "tags": ["Monitoring"], "security": [{"bearer": []}],
               "requestBody": {"required": true, "content": {"application/json": {"schema": {"type": "array", "items": {"type": "object", "description": item}}}}},
               "responses": {"200": ok("application/json"), "400": problem.clone(), "401": problem.clone(), "403": problem.clone()}})
    };
    let station = json!({"name": "id", "in": "path", "required": true, "schema": {"type": "string"}, "description": "Monitoring station id"});
    let county = query_param("county", "County adcode (6 digits)", false);
    vec![
        (
            "/api/monitoring/readings",
            "post",
            write(
                "Ingest readings 写入监测数据 (all rows valid or nothing stored)",
                "{station_id, pollutant, kind, time, value, flag}",
            ),
        ),
        (
            "/api/monitoring/stations/{id}/series",
            "get",
            op(
                "Time series of a station 站点时间序列",
                vec![
                    station,
                    query_param("pollutant", "HJ 212 pollutant code", true),
                    query_param(
                        "kind",
                        "rtd, avg, min, max, zs_rtd, zs_avg, cou (default avg)",
                        false,
                    ),
                    query_param(
                        "period",
                        "minute, hour or day: which averages of an interval kind (CN 2051, 2061, 2031; default hour)",
                        false,
                    ),
                    query_param("from", "RFC 3339 (default: 72 h before to)", false),
                    query_param("to", "RFC 3339 (default: now)", false),
                    query_param("agg", "raw, hour or day", false),
                    query_param("f", "json or csv", false),
                ],
                "application/json",
            ),
        ),
        (
            "/api/monitoring/latest",
            "get",
            op(
                "Latest values and status per station 最新监测值",
                vec![county.clone()],
                "application/json",
            ),
        ),
        (
            "/api/monitoring/exceedances",
            "get",
            op(
                "Exceedances 超标记录",
                vec![
                    query_param("from", "RFC 3339", false),
                    query_param("to", "RFC 3339", false),
                    county,
                    query_param("status", "open or all", false),
                    query_param("limit", "At most this many (default 1000)", false),
                ],
                "application/json",
            ),
        ),
        (
            "/api/monitoring/limits",
            "get",
            op("Limits 排放限值", vec![], "application/json"),
        ),
        (
            "/api/monitoring/limits",
            "put",
            write(
                "Insert or replace limits 修改限值",
                "{station_id, pollutant, value, unit, standard, basis: rtd|hourly|daily, ref_o2}",
            ),
        ),
        (
            "/api/events",
            "get",
            op(
                "Live events (Server-Sent Events) 实时告警",
                vec![],
                "text/event-stream",
            ),
        ),
    ]
}
