//! Cross-origin calls, decided at the edge for the whole shop: a preflight is
//! answered here (it carries no shopper key and no body, so it has no cell to
//! go to), and every answer, proxied or the edge's own, gets the CORS headers
//! the edge's allow-list says — whatever a cell or the control plane said.

use std::collections::HashSet;

use pingora::http::{RequestHeader, ResponseHeader};
use pingora::prelude::*;

pub const ALLOW_METHODS: &str = "GET, POST, PUT, PATCH, DELETE";
/// What the shop's frontend sends besides the simple headers.
pub const ALLOW_HEADERS: &str =
    "authorization, content-type, idempotency-key, x-csrf-token, x-request-id, traceparent";
/// What a script on an allowed origin may read of an answer.
pub const EXPOSE_HEADERS: &str = "x-request-id, x-cellwear-cell, x-cellwear-degraded, retry-after";
pub const MAX_AGE_S: &str = "600";

const SET_BY_THE_EDGE: [&str; 6] = [
    "access-control-allow-origin",
    "access-control-allow-credentials",
    "access-control-expose-headers",
    "access-control-allow-methods",
    "access-control-allow-headers",
    "access-control-max-age",
];

/// The origins allowed to call the shop with credentials.
#[derive(Debug, Clone, Default)]
pub struct Cors {
    origins: HashSet<String>,
}

impl Cors {
    pub fn new(origins: &[String]) -> Self {
        Self {
            origins: origins
                .iter()
                .map(|origin| origin.trim_end_matches('/').to_ascii_lowercase())
                .collect(),
        }
    }

    /// The request's `Origin` when it is on the allow-list.
    pub fn allowed_origin(&self, request: &RequestHeader) -> Option<String> {
        let origin = origin(request)?;
        self.origins
            .contains(&origin.to_ascii_lowercase())
            .then(|| origin.to_owned())
    }
}

/// The request's `Origin` header, when it has a readable one.
pub fn origin(request: &RequestHeader) -> Option<&str> {
    request
        .headers
        .get(http::header::ORIGIN)
        .and_then(|value| value.to_str().ok())
        .filter(|origin| !origin.is_empty())
}

/// A browser asking whether it may make a cross-origin call.
pub fn is_preflight(request: &RequestHeader) -> bool {
    request.method == http::Method::OPTIONS
        && origin(request).is_some()
        && request
            .headers
            .contains_key(http::header::ACCESS_CONTROL_REQUEST_METHOD)
}

/// Sets the CORS headers of an answer: the edge's say for `allowed` (the
/// request's origin when on the list), none of an upstream's.
pub fn decorate(response: &mut ResponseHeader, allowed: Option<&str>) -> Result<()> {
    for name in SET_BY_THE_EDGE {
        response.remove_header(name);
    }
    if let Some(origin) = allowed {
        response.insert_header("access-control-allow-origin", origin)?;
        response.insert_header("access-control-allow-credentials", "true")?;
        response.insert_header("access-control-expose-headers", EXPOSE_HEADERS)?;
        response.append_header("vary", "origin")?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(method: &str, headers: &[(&'static str, &str)]) -> RequestHeader {
        let mut request = RequestHeader::build(method, b"/api/cart", None).unwrap();
        for (name, value) in headers {
            request.insert_header(*name, *value).unwrap();
        }
        request
    }

    #[test]
    fn only_listed_origins_are_allowed_whatever_their_case() {
        let cors = Cors::new(&["https://shop.example.com/".into()]);
        let listed = request("GET", &[("origin", "https://Shop.Example.com")]);
        assert_eq!(
            cors.allowed_origin(&listed).as_deref(),
            Some("https://Shop.Example.com")
        );
        let other = request("GET", &[("origin", "https://evil.example.com")]);
        assert_eq!(cors.allowed_origin(&other), None);
        assert_eq!(cors.allowed_origin(&request("GET", &[])), None);
    }

    #[test]
    fn a_preflight_is_an_options_with_an_origin_and_a_method_to_ask_for() {
        let origin = ("origin", "https://shop.example.com");
        let asks = ("access-control-request-method", "POST");
        assert!(is_preflight(&request("OPTIONS", &[origin, asks])));
        assert!(!is_preflight(&request("OPTIONS", &[origin])));
        assert!(!is_preflight(&request("OPTIONS", &[asks])));
        assert!(!is_preflight(&request("POST", &[origin, asks])));
    }

    #[test]
    fn an_upstreams_cors_headers_give_way_to_the_edges() {
        let mut response = ResponseHeader::build(200, None).unwrap();
        response
            .insert_header("access-control-allow-origin", "*")
            .unwrap();
        decorate(&mut response, None).unwrap();
        assert!(
            response
                .headers
                .get("access-control-allow-origin")
                .is_none()
        );
        decorate(&mut response, Some("https://shop.example.com")).unwrap();
        let allowed: Vec<_> = response
            .headers
            .get_all("access-control-allow-origin")
            .iter()
            .collect();
        assert_eq!(allowed, ["https://shop.example.com"]);
        assert_eq!(response.headers["access-control-allow-credentials"], "true");
    }
}
