//! Per-route call counters and fault injection.
//!
//! Every request to a provider route (including the consent form post) is counted under the
//! provider prefix plus the route pattern, e.g. `/konpro/v1/oauth/token` or
//! `/kustomer/v1/customers/{id}` (a trailing `/` is dropped: `.../secret/` counts as
//! `.../secret`). Faulted calls are counted too.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::time::Duration;

use axum::body::Body;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use crate::state::{AppState, lock};

/// What an injected call answers instead of the real handler.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fault {
    /// This status with a JSON body `{"error":"server_error"|"temporarily_unavailable",
    /// "error_description":"sandbox injected status N"}`.
    Status(u16),
    /// Wait this long, then handle the request normally.
    Delay(Duration),
    /// `200`, `Content-Type: application/json`, and a truncated JSON body.
    MalformedJson,
    /// This status with `Content-Type: text/html` and an HTML error page (like a proxy's).
    HtmlError(u16),
    /// `200`, `Content-Type: application/json`, and a body of exactly this many bytes
    /// (valid JSON when at least 14 bytes), with a `Content-Length`.
    Oversized(usize),
    /// A redirect: this status (e.g. 302, 307) with this `Location`, empty body.
    Redirect {
        /// The status code.
        status: u16,
        /// The `Location` header value.
        location: String,
    },
    /// This status (429 or 503) with a `Retry-After` header holding `value` (delay seconds or
    /// an HTTP date) and a JSON error body.
    RetryAfter {
        /// The status code.
        status: u16,
        /// The `Retry-After` header value.
        value: String,
    },
    /// `200`, `Content-Type: application/json`, a chunked body whose first bytes are sent,
    /// then the connection is dropped mid-body (the body stream fails, so the server closes
    /// the connection without the final chunk).
    ResetMidBody,
    /// `200`, `Content-Type: application/json` and a `Content-Length` 64 bytes longer than
    /// the body that is sent before the connection closes.
    TruncatedBody,
    /// `200`, `Content-Type: application/json`, and an empty body.
    EmptyOk,
}

/// The JSON body of `POST /_sandbox/faults`.
#[derive(Debug, Deserialize)]
pub(crate) struct FaultRequest {
    pub(crate) route: String,
    #[serde(default = "one")]
    pub(crate) times: u32,
    pub(crate) fault: FaultSpec,
}

fn one() -> u32 {
    1
}

/// The wire form of a [`Fault`].
#[derive(Debug, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub(crate) enum FaultSpec {
    Status { status: u16 },
    Delay { ms: u64 },
    MalformedJson,
    HtmlError { status: u16 },
    Oversized { bytes: usize },
    Redirect { status: u16, location: String },
    RetryAfter { status: u16, value: String },
    ResetMidBody,
    TruncatedBody,
    EmptyOk,
}

impl From<FaultSpec> for Fault {
    fn from(s: FaultSpec) -> Self {
        match s {
            FaultSpec::Status { status } => Fault::Status(status),
            FaultSpec::Delay { ms } => Fault::Delay(Duration::from_millis(ms)),
            FaultSpec::MalformedJson => Fault::MalformedJson,
            FaultSpec::HtmlError { status } => Fault::HtmlError(status),
            FaultSpec::Oversized { bytes } => Fault::Oversized(bytes),
            FaultSpec::Redirect { status, location } => Fault::Redirect { status, location },
            FaultSpec::RetryAfter { status, value } => Fault::RetryAfter { status, value },
            FaultSpec::ResetMidBody => Fault::ResetMidBody,
            FaultSpec::TruncatedBody => Fault::TruncatedBody,
            FaultSpec::EmptyOk => Fault::EmptyOk,
        }
    }
}

/// Counters and queued faults.
#[derive(Debug, Default)]
pub(crate) struct Tracker {
    calls: BTreeMap<String, u64>,
    faults: HashMap<String, VecDeque<(Fault, u32)>>,
}

impl Tracker {
    pub(crate) fn count(&mut self, route: &str) {
        *self.calls.entry(route.to_owned()).or_default() += 1;
    }

    pub(crate) fn calls(&self, route: &str) -> u64 {
        self.calls
            .get(normalize(route))
            .copied()
            .unwrap_or_default()
    }

    pub(crate) fn all_calls(&self) -> BTreeMap<String, u64> {
        self.calls.clone()
    }

    pub(crate) fn reset_calls(&mut self) {
        self.calls.clear();
    }

    pub(crate) fn inject(&mut self, route: &str, fault: Fault, times: u32) {
        if times == 0 {
            return;
        }
        self.faults
            .entry(normalize(route).to_owned())
            .or_default()
            .push_back((fault, times));
    }

    pub(crate) fn clear_faults(&mut self) {
        self.faults.clear();
    }

    fn take_fault(&mut self, route: &str) -> Option<Fault> {
        let queue = self.faults.get_mut(route)?;
        let (fault, remaining) = queue.front_mut()?;
        let fault = fault.clone();
        *remaining -= 1;
        if *remaining == 0 {
            queue.pop_front();
        }
        Some(fault)
    }
}

/// Drops one trailing `/` (but not from `/`).
pub(crate) fn normalize(route: &str) -> &str {
    match route.strip_suffix('/') {
        Some(r) if !r.is_empty() => r,
        _ => route,
    }
}

/// Route layer: counts the call, then answers with a queued fault or runs the handler.
pub(crate) async fn track(
    State(state): State<AppState>,
    matched: Option<MatchedPath>,
    req: Request,
    next: Next,
) -> Response {
    let Some(matched) = matched else {
        return next.run(req).await;
    };
    let route = normalize(matched.as_str()).to_owned();
    let fault = {
        let mut tracker = lock(&state.tracker);
        tracker.count(&route);
        tracker.take_fault(&route)
    };
    match fault {
        None => next.run(req).await,
        Some(Fault::Delay(d)) => {
            tokio::time::sleep(d).await;
            next.run(req).await
        }
        Some(other) => respond(other),
    }
}

fn status(code: u16) -> StatusCode {
    StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
}

fn json_error(code: StatusCode) -> String {
    let error = match code.as_u16() {
        503 => "temporarily_unavailable",
        429 => "rate_limited",
        _ => "server_error",
    };
    serde_json::json!({
        "error": error,
        "error_description": format!("sandbox injected status {}", code.as_u16()),
    })
    .to_string()
}

fn respond(fault: Fault) -> Response {
    let json = HeaderValue::from_static("application/json");
    match fault {
        Fault::Status(code) => {
            let code = status(code);
            (code, [(header::CONTENT_TYPE, json)], json_error(code)).into_response()
        }
        Fault::MalformedJson => (
            StatusCode::OK,
            [(header::CONTENT_TYPE, json)],
            r#"{"access_token":"sandbox-truncated","token_type":"Bea"#,
        )
            .into_response(),
        Fault::HtmlError(code) => {
            let code = status(code);
            let reason = code.canonical_reason().unwrap_or("Error");
            let body = format!(
                "<!DOCTYPE html>\n<html><head><title>{n} {reason}</title></head>\
                 <body><center><h1>{n} {reason}</h1></center><hr><center>sandbox-proxy</center>\
                 </body></html>\n",
                n = code.as_u16()
            );
            (
                code,
                [(
                    header::CONTENT_TYPE,
                    HeaderValue::from_static("text/html; charset=utf-8"),
                )],
                body,
            )
                .into_response()
        }
        Fault::Oversized(bytes) => (
            StatusCode::OK,
            [(header::CONTENT_TYPE, json)],
            oversized(bytes),
        )
            .into_response(),
        Fault::Redirect {
            status: code,
            location,
        } => {
            let mut resp = Response::new(Body::empty());
            *resp.status_mut() = status(code);
            if let Ok(v) = HeaderValue::from_str(&location) {
                resp.headers_mut().insert(header::LOCATION, v);
            }
            resp
        }
        Fault::RetryAfter {
            status: code,
            value,
        } => {
            let code = status(code);
            let mut resp = (code, [(header::CONTENT_TYPE, json)], json_error(code)).into_response();
            if let Ok(v) = HeaderValue::from_str(&value) {
                resp.headers_mut().insert(header::RETRY_AFTER, v);
            }
            resp
        }
        Fault::ResetMidBody => {
            let body = Body::from_stream(cut_short(PARTIAL_BODY, true));
            (StatusCode::OK, [(header::CONTENT_TYPE, json)], body).into_response()
        }
        Fault::TruncatedBody => {
            let body = Body::from_stream(cut_short(PARTIAL_BODY, false));
            let mut resp = (StatusCode::OK, [(header::CONTENT_TYPE, json)], body).into_response();
            // A stream has no known length, so the server keeps this header as set: the
            // client waits for 64 bytes that never come, then sees the connection close.
            resp.headers_mut().insert(
                header::CONTENT_LENGTH,
                HeaderValue::from(PARTIAL_BODY.len() + 64),
            );
            resp
        }
        Fault::EmptyOk => (StatusCode::OK, [(header::CONTENT_TYPE, json)], "").into_response(),
        // Handled in `track`; kept total for safety.
        Fault::Delay(_) => (StatusCode::OK, [(header::CONTENT_TYPE, json)], "{}").into_response(),
    }
}

/// The start of a token response, all that the cut-short faults send.
const PARTIAL_BODY: &[u8] = br#"{"access_token":"sandbox-partial","token_type":"Bearer","expi"#;

/// A body stream that sends `head`, waits a moment (so `head` is on the wire first), then
/// fails (`fail`: the server drops the connection) or ends early (the declared length is
/// never reached, and the server closes the connection).
fn cut_short(
    head: &'static [u8],
    fail: bool,
) -> impl futures_util::Stream<Item = Result<Vec<u8>, std::io::Error>> + Send + 'static {
    futures_util::stream::unfold(0u8, move |step| async move {
        match step {
            0 => Some((Ok(head.to_vec()), 1)),
            1 => {
                tokio::time::sleep(Duration::from_millis(20)).await;
                fail.then(|| {
                    let reset = std::io::Error::new(
                        std::io::ErrorKind::ConnectionReset,
                        "sandbox injected a connection reset",
                    );
                    (Err(reset), 2)
                })
            }
            _ => None,
        }
    })
}

/// A body of exactly `bytes` bytes: `{"padding":"xxx…"}` when it fits, else spaces.
fn oversized(bytes: usize) -> Vec<u8> {
    const OPEN: &[u8] = br#"{"padding":""#;
    const CLOSE: &[u8] = br#""}"#;
    if bytes < OPEN.len() + CLOSE.len() {
        return vec![b' '; bytes];
    }
    let mut body = Vec::with_capacity(bytes);
    body.extend_from_slice(OPEN);
    body.resize(bytes - CLOSE.len(), b'x');
    body.extend_from_slice(CLOSE);
    body
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn oversized_is_exact_and_valid() {
        for n in [0, 5, 14, 15, 1000] {
            let b = oversized(n);
            assert_eq!(b.len(), n);
            if n >= 14 {
                assert!(serde_json::from_slice::<serde_json::Value>(&b).is_ok());
            }
        }
    }

    #[test]
    fn faults_queue_and_expire() {
        let mut t = Tracker::default();
        t.inject("/a/", Fault::Status(500), 2);
        t.inject("/a", Fault::MalformedJson, 1);
        assert_eq!(t.take_fault("/a"), Some(Fault::Status(500)));
        assert_eq!(t.take_fault("/a"), Some(Fault::Status(500)));
        assert_eq!(t.take_fault("/a"), Some(Fault::MalformedJson));
        assert_eq!(t.take_fault("/a"), None);
    }
}
