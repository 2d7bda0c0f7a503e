//! Write access: the [`WriteAccess`] extractor guards every writing handler.
//!
//! The contract (architecture.md, "Write access"): a bearer token configured as
//! `write_token` (`ENVATLAS_WRITE_TOKEN`). With no token configured every write
//! is refused with 403 and a problem saying how to enable writes; a missing or
//! wrong token is a 401 carrying `WWW-Authenticate: Bearer`.
//!
//! Put `_: WriteAccess` first among a handler's extractors so that the body is
//! not parsed (or validated) for a caller who may not write.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use super::error::problem;
use crate::app::AppState;

/// Proof that the request carried the configured write token.
#[derive(Debug, Clone, Copy)]
pub struct WriteAccess;

/// Why a write was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    /// The server has no write token: it is read-only.
    #[error("writes are disabled")]
    WritesDisabled,
    /// No `Authorization: Bearer` header.
    #[error("missing bearer token")]
    Missing,
    /// A bearer token that is not the configured one.
    #[error("wrong bearer token")]
    Wrong,
}

impl IntoResponse for AuthError {
    fn into_response(self) -> Response {
        match self {
            AuthError::WritesDisabled => problem(
                StatusCode::FORBIDDEN,
                "writes-disabled",
                "写入未启用：服务器未配置写入令牌。Writes are disabled on this server: \
                 no write token is configured. Set ENVATLAS_WRITE_TOKEN (or `write_token` \
                 in envatlas.toml) and restart, then send `Authorization: Bearer <token>`.",
                json!({}),
            ),
            AuthError::Missing | AuthError::Wrong => {
                let detail = if self == AuthError::Missing {
                    "需要写入令牌。This request writes data: send the write token as \
                     `Authorization: Bearer <token>`."
                } else {
                    "写入令牌无效。The bearer token is not the server's write token."
                };
                let mut response =
                    problem(StatusCode::UNAUTHORIZED, "unauthorized", detail, json!({}));
                let challenge = if self == AuthError::Missing {
                    r#"Bearer realm="envatlas""#
                } else {
                    r#"Bearer realm="envatlas", error="invalid_token""#
                };
                response.headers_mut().insert(
                    header::WWW_AUTHENTICATE,
                    HeaderValue::from_static(challenge),
                );
                response
            }
        }
    }
}

impl FromRequestParts<AppState> for WriteAccess {
    type Rejection = AuthError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        check(
            state.config.write_token.as_deref(),
            parts.headers.get(header::AUTHORIZATION),
        )
    }
}

/// Decides on one request: `configured` is the server's token, `header` the
/// request's `Authorization` header.
pub fn check(
    configured: Option<&str>,
    header: Option<&HeaderValue>,
) -> Result<WriteAccess, AuthError> {
    let Some(expected) = configured.filter(|t| !t.is_empty()) else {
        return Err(AuthError::WritesDisabled);
    };
    let value = header.ok_or(AuthError::Missing)?;
    let given = bearer_token(value.as_bytes()).ok_or(AuthError::Missing)?;
    if constant_time_eq(given, expected.as_bytes()) {
        Ok(WriteAccess)
    } else {
        Err(AuthError::Wrong)
    }
}

/// The token of an `Authorization: Bearer <token>` value (scheme is
/// case-insensitive, RFC 7235).
fn bearer_token(value: &[u8]) -> Option<&[u8]> {
    let scheme = value.get(..7)?;
    if !scheme.eq_ignore_ascii_case(b"bearer ") {
        return None;
    }
    let token = value[7..].trim_ascii();
    (!token.is_empty()).then_some(token)
}

/// Compares without an early exit, so the time taken does not reveal how many
/// leading bytes of a guess were right. The length is not secret.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hv(s: &str) -> HeaderValue {
        HeaderValue::from_str(s).expect("test value")
    }

    #[test]
    fn no_token_configured_is_forbidden() {
        assert_eq!(
            check(None, Some(&hv("Bearer x"))).expect_err("refused"),
            AuthError::WritesDisabled
        );
        assert_eq!(
            check(Some(""), None).expect_err("refused"),
            AuthError::WritesDisabled
        );
    }

    #[test]
    fn missing_or_wrong_token_is_unauthorized() {
        assert_eq!(
            check(Some("s3cret"), None).expect_err("refused"),
            AuthError::Missing
        );
        assert_eq!(
            check(Some("s3cret"), Some(&hv("Basic abc"))).expect_err("refused"),
            AuthError::Missing
        );
        assert_eq!(
            check(Some("s3cret"), Some(&hv("Bearer s3cre"))).expect_err("refused"),
            AuthError::Wrong
        );
        assert_eq!(
            check(Some("s3cret"), Some(&hv("Bearer s3creT"))).expect_err("refused"),
            AuthError::Wrong
        );
    }

    #[test]
    fn right_token_is_accepted_with_any_scheme_case() {
        assert!(check(Some("s3cret"), Some(&hv("Bearer s3cret"))).is_ok());
        assert!(check(Some("s3cret"), Some(&hv("bearer  s3cret "))).is_ok());
    }

    #[test]
    fn responses_carry_status_and_challenge() {
        let r = AuthError::Wrong.into_response();
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
        assert!(r.headers().get(header::WWW_AUTHENTICATE).is_some());
        let r = AuthError::WritesDisabled.into_response();
        assert_eq!(r.status(), StatusCode::FORBIDDEN);
        assert!(r.headers().get(header::WWW_AUTHENTICATE).is_none());
    }
}
