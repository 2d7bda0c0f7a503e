//! The one error type of the HTTP API: RFC 9457 `application/problem+json`.
//!
//! Client errors say what was wrong; server errors are logged with their cause
//! and answered with a generic message, never with internals.

use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::store::StoreError;

/// A problem in one row of a request (an import row, a reading).
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct RowProblem {
    pub index: usize,
    pub reason: String,
}

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// A malformed or out-of-range parameter: names the parameter.
    #[error("{detail}")]
    BadRequest {
        parameter: Option<String>,
        detail: String,
    },
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    PayloadTooLarge(String),
    #[error("{0}")]
    Unprocessable(String),
    /// An internal failure; the cause goes to the log, not to the client.
    #[error("internal error: {0}")]
    Internal(String),
    #[error("service unavailable: {0}")]
    Unavailable(String),
}

impl ApiError {
    /// A 400 naming the offending parameter.
    pub fn bad_param(parameter: &str, detail: impl Into<String>) -> Self {
        ApiError::BadRequest {
            parameter: Some(parameter.to_string()),
            detail: detail.into(),
        }
    }

    pub fn bad_request(detail: impl Into<String>) -> Self {
        ApiError::BadRequest {
            parameter: None,
            detail: detail.into(),
        }
    }

    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::BadRequest { .. } => StatusCode::BAD_REQUEST,
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::PayloadTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::Unprocessable(_) => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
            ApiError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
        }
    }

    fn slug(&self) -> &'static str {
        match self {
            ApiError::BadRequest { .. } => "bad-request",
            ApiError::NotFound(_) => "not-found",
            ApiError::PayloadTooLarge(_) => "payload-too-large",
            ApiError::Unprocessable(_) => "unprocessable",
            ApiError::Internal(_) => "internal",
            ApiError::Unavailable(_) => "unavailable",
        }
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        ApiError::Internal(e.to_string())
    }
}

/// Builds a problem+json response.
pub fn problem(status: StatusCode, slug: &str, detail: &str, extra: serde_json::Value) -> Response {
    let mut body = json!({
        "type": format!("urn:envatlas:problem:{slug}"),
        "title": status.canonical_reason().unwrap_or("Error"),
        "status": status.as_u16(),
        "detail": detail,
    });
    if let (Some(obj), serde_json::Value::Object(extra)) = (body.as_object_mut(), extra) {
        obj.extend(extra);
    }
    (
        status,
        [(header::CONTENT_TYPE, "application/problem+json")],
        body.to_string(),
    )
        .into_response()
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status();
        match &self {
            ApiError::Internal(cause) | ApiError::Unavailable(cause) => {
                tracing::error!(status = status.as_u16(), %cause, "request failed");
                let detail = if status == StatusCode::SERVICE_UNAVAILABLE {
                    "The service is temporarily unavailable; try again shortly."
                } else {
                    "An internal error occurred; it has been logged."
                };
                problem(status, self.slug(), detail, json!({}))
            }
            ApiError::BadRequest {
                parameter: Some(p),
                detail,
            } => problem(status, self.slug(), detail, json!({ "parameter": p })),
            _ => problem(status, self.slug(), &self.to_string(), json!({})),
        }
    }
}
