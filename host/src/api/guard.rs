//! The API's middleware: the bearer token (checked before a body is read, in constant
//! time), URI and header limits answered in JSON (414, 431), the request timeout (408),
//! load shedding past `api_max_requests` (503), and JSON bodies for every error status.

use super::{ApiError, S};
use crate::service::VestingSystem;
use axum::BoxError;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};
use std::sync::atomic::Ordering;
use std::time::Duration;
use subtle::ConstantTimeEq;

/// Longest request target (path and query) answered; longer ones get 414.
pub const MAX_URI: usize = 8 << 10;
/// Most request headers answered; more get 431.
pub const MAX_HEADERS: usize = 64;
/// Most bytes of request headers answered; more get 431.
pub const MAX_HEADER_BYTES: usize = 16 << 10;

/// Checks `Authorization: Bearer <api_token>` in constant time (both sides hashed first, so
/// neither the token's bytes nor its length show in the time taken).
pub fn authorize(s: &VestingSystem, headers: &HeaderMap) -> Result<(), ApiError> {
    let Some(token) = s.config().api_token.as_deref().filter(|t| !t.is_empty()) else {
        return Err(ApiError(
            StatusCode::FORBIDDEN,
            "policy changes are off: no api_token is configured".into(),
        ));
    };
    let given = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    let ok = given.is_some_and(|g| {
        let (a, b) = (
            Sha256::digest(g.as_bytes()),
            Sha256::digest(token.as_bytes()),
        );
        bool::from(a.as_slice().ct_eq(b.as_slice()))
    });
    if ok {
        Ok(())
    } else {
        Err(ApiError(
            StatusCode::UNAUTHORIZED,
            "a valid `Authorization: Bearer <api_token>` header is required".into(),
        ))
    }
}

/// Policy changes (every method but GET) need the token; checked before the handler, so
/// before a byte of the body is read.
pub async fn require_token(State(s): S, req: Request, next: Next) -> Response {
    if req.method() != Method::GET
        && req.method() != Method::HEAD
        && let Err(e) = authorize(&s, req.headers())
    {
        return e.into_response();
    }
    next.run(req).await
}

/// 414 for a request target over [`MAX_URI`], 431 for headers over [`MAX_HEADERS`] or
/// [`MAX_HEADER_BYTES`], with JSON bodies (hyper's own limits, far above these, answer
/// bare).
pub async fn head_limits(req: Request, next: Next) -> Response {
    let target = req.uri().path_and_query().map_or(0, |p| p.as_str().len());
    if target > MAX_URI {
        return ApiError(
            StatusCode::URI_TOO_LONG,
            format!("the request target is {target} bytes; at most {MAX_URI} are accepted"),
        )
        .into_response();
    }
    let headers = req.headers();
    let bytes: usize = headers
        .iter()
        .map(|(k, v)| k.as_str().len() + v.len() + 4)
        .sum();
    if headers.len() > MAX_HEADERS || bytes > MAX_HEADER_BYTES {
        return ApiError(
            StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
            format!(
                "{} headers of {bytes} bytes; at most {MAX_HEADERS} headers of \
                 {MAX_HEADER_BYTES} bytes are accepted",
                headers.len()
            ),
        )
        .into_response();
    }
    next.run(req).await
}

/// Times each request by route (its pattern, `/miners/{hotkey}`; `unmatched` for the
/// fallback) into `vesting_http_request_duration_seconds`: from the router's first look
/// at it to its answer's headers, so the server's own time, not the client's or hyper's.
pub async fn time_requests(State(s): S, req: Request, next: Next) -> Response {
    let t = std::time::Instant::now();
    let route = req
        .extensions()
        .get::<axum::extract::MatchedPath>()
        .map_or("unmatched".to_string(), |p| p.as_str().to_string());
    let res = next.run(req).await;
    s.metrics().http.durations.observe(&route, t.elapsed());
    res
}

/// Counts the requests holding one of the `api_max_requests` slots (inside the limit:
/// `vesting_http_requests_in_progress`, and `/health`'s `api`).
pub async fn in_progress(State(s): S, req: Request, next: Next) -> Response {
    struct Slot<'a>(&'a std::sync::atomic::AtomicU64);
    impl Drop for Slot<'_> {
        fn drop(&mut self) {
            self.0.fetch_sub(1, Ordering::Relaxed);
        }
    }
    let http = &s.metrics().http;
    http.in_progress.fetch_add(1, Ordering::Relaxed);
    let _slot = Slot(&http.in_progress);
    next.run(req).await
}

/// Answers 408 when a request is not read and answered within `d`.
pub fn timeout(d: Duration) -> tower_http::timeout::TimeoutLayer {
    tower_http::timeout::TimeoutLayer::with_status_code(StatusCode::REQUEST_TIMEOUT, d)
}

/// Marks a response of the load shedder (counted by [`json_errors`]).
#[derive(Clone, Copy)]
struct Shed;

/// The answer of the load shedder (`api_max_requests` in progress): 503 with Retry-After.
pub async fn overloaded(err: BoxError) -> Response {
    let mut r = if err.is::<tower::load_shed::error::Overloaded>() {
        ApiError(
            StatusCode::SERVICE_UNAVAILABLE,
            "the API is busy (api_max_requests requests in progress); retry shortly".into(),
        )
        .into_response()
    } else {
        ApiError(StatusCode::INTERNAL_SERVER_ERROR, err.to_string()).into_response()
    };
    r.headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
    r.extensions_mut().insert(Shed);
    r
}

/// Gives every error status a JSON body `{"error": ...}`: axum's and tower's bare or plain
/// text ones (404, 405, 408, 413, path rejections) get one from their text or status.
/// Counts timeouts and shed requests.
pub async fn json_errors(State(s): S, res: Response) -> Response {
    let status = res.status();
    let http = &s.metrics().http;
    if status == StatusCode::REQUEST_TIMEOUT {
        http.timeouts.fetch_add(1, Ordering::Relaxed);
    }
    if res.extensions().get::<Shed>().is_some() {
        http.shed.fetch_add(1, Ordering::Relaxed);
    }
    if !(status.is_client_error() || status.is_server_error()) {
        return res;
    }
    let json = res
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if json {
        return res;
    }
    let (mut parts, body) = res.into_parts();
    let text = axum::body::to_bytes(body, 64 << 10)
        .await
        .map(|b| String::from_utf8_lossy(&b).trim().to_string())
        .unwrap_or_default();
    let msg = if text.is_empty() {
        status
            .canonical_reason()
            .unwrap_or("error")
            .to_ascii_lowercase()
    } else {
        text
    };
    let msg = if status == StatusCode::REQUEST_TIMEOUT {
        format!(
            "{msg}: the request was not read and answered within the request timeout \
             (api_request_timeout_seconds)"
        )
    } else {
        msg
    };
    let body = serde_json::json!({ "error": msg }).to_string();
    parts.headers.remove(header::CONTENT_LENGTH);
    parts.headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    Response::from_parts(parts, Body::from(body))
}
