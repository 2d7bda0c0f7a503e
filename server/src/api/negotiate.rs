//! Content negotiation and conditional requests shared by the tile and web
//! asset routes: whether a client takes gzip, and whether its cached copy
//! (`If-None-Match`) is still current.

use axum::http::{header, HeaderMap};

/// True when `Accept-Encoding` admits gzip (named or `*`) with a non-zero
/// quality; `gzip;q=0` is an explicit refusal.
pub fn accepts_gzip(headers: &HeaderMap) -> bool {
    headers
        .get_all(header::ACCEPT_ENCODING)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|part| {
            let mut it = part.split(';');
            let name = it.next().unwrap_or("").trim();
            let refused = it.any(|p| {
                p.trim()
                    .strip_prefix("q=")
                    .and_then(|q| q.trim().parse::<f32>().ok())
                    .is_some_and(|q| q <= 0.0)
            });
            (name.eq_ignore_ascii_case("gzip") || name == "*") && !refused
        })
}

/// True when `If-None-Match` names `etag` (weak or strong, in a list) or `*`,
/// so the answer is `304 Not Modified`.
pub fn not_modified(headers: &HeaderMap, etag: &str) -> bool {
    headers
        .get_all(header::IF_NONE_MATCH)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|t| {
            let t = t.trim();
            t == "*" || t.trim_start_matches("W/") == etag
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn with(name: header::HeaderName, value: &'static str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(name, HeaderValue::from_static(value));
        h
    }

    #[test]
    fn gzip_negotiation_follows_accept_encoding() {
        assert!(!accepts_gzip(&HeaderMap::new()));
        assert!(accepts_gzip(&with(
            header::ACCEPT_ENCODING,
            "br, gzip;q=0.8"
        )));
        assert!(accepts_gzip(&with(
            header::ACCEPT_ENCODING,
            "gzip, deflate, br"
        )));
        assert!(accepts_gzip(&with(header::ACCEPT_ENCODING, "*")));
        assert!(!accepts_gzip(&with(
            header::ACCEPT_ENCODING,
            "gzip;q=0, br"
        )));
        assert!(!accepts_gzip(&with(
            header::ACCEPT_ENCODING,
            "gzip;q=0.000"
        )));
    }

    #[test]
    fn etags_match_weak_strong_lists_and_star() {
        let h = with(header::IF_NONE_MATCH, "\"a\", W/\"b\"");
        assert!(not_modified(&h, "\"b\""));
        assert!(not_modified(&h, "\"a\""));
        assert!(!not_modified(&h, "\"c\""));
        assert!(not_modified(&with(header::IF_NONE_MATCH, "*"), "\"x\""));
        assert!(!not_modified(&HeaderMap::new(), "\"x\""));
    }
}
