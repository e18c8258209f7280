//! A kit for tests of code built on this crate (feature `test-util`): a [`ScriptedTransport`]
//! that answers without a network and records what was sent, the snapshot
//! [`redaction_settings`] that keep secrets out of `insta` snapshots (SECURITY S25), and
//! helpers to check an error's [`source`](std::error::Error::source) chain.

use std::collections::VecDeque;
use std::fmt;
use std::sync::{Mutex, MutexGuard, PoisonError};

use async_trait::async_trait;

use crate::{Error, HttpRequest, HttpResponse, Result, Transport};

type Matcher = Box<dyn Fn(&HttpRequest) -> bool + Send + Sync>;
type Answer = Box<dyn Fn(&HttpRequest) -> HttpResponse + Send + Sync>;

/// A [`Transport`] that answers each request from a queue of scripted responses, or from a
/// function once none of the queue applies, and records every request it receives.
///
/// A queued response answers the first request its matcher accepts ([`push`](Self::push)
/// accepts any), in the order they were pushed. A request nothing answers is a
/// [`Error::Transport`].
///
/// ```
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// use oauth_flow::http::{Method, StatusCode};
/// use oauth_flow::test_util::ScriptedTransport;
/// use oauth_flow::{HttpRequest, HttpResponse, Transport};
///
/// let transport = ScriptedTransport::new();
/// transport.push(HttpResponse::new(StatusCode::OK, "{}"));
/// let request = HttpRequest::new(Method::GET, "https://api.example.com/v1/me".parse().unwrap());
/// let response = transport.send(request).await.unwrap();
/// assert_eq!(response.status, StatusCode::OK);
/// assert_eq!(transport.requests().len(), 1);
/// // The queue is empty now and there is no fallback function.
/// let again = HttpRequest::new(Method::GET, "https://api.example.com/v1/me".parse().unwrap());
/// assert!(transport.send(again).await.is_err());
/// # });
/// ```
#[derive(Default)]
pub struct ScriptedTransport {
    queue: Mutex<VecDeque<(Option<Matcher>, HttpResponse)>>,
    fallback: Option<Answer>,
    requests: Mutex<Vec<HttpRequest>>,
}

impl ScriptedTransport {
    /// A transport that answers only from its queue.
    pub fn new() -> Self {
        Self::default()
    }

    /// A transport that answers with `answer` every request no queued response applies to.
    pub fn with_fallback(
        answer: impl Fn(&HttpRequest) -> HttpResponse + Send + Sync + 'static,
    ) -> Self {
        Self {
            fallback: Some(Box::new(answer)),
            ..Self::default()
        }
    }

    /// Queues `response` for the next request.
    pub fn push(&self, response: HttpResponse) {
        lock(&self.queue).push_back((None, response));
    }

    /// Queues `response` for the next request `matches` accepts (say, only token requests),
    /// leaving other requests to the rest of the queue or the fallback.
    pub fn push_when(
        &self,
        matches: impl Fn(&HttpRequest) -> bool + Send + Sync + 'static,
        response: HttpResponse,
    ) {
        lock(&self.queue).push_back((Some(Box::new(matches)), response));
    }

    /// Every request received so far, in order.
    pub fn requests(&self) -> Vec<HttpRequest> {
        lock(&self.requests).clone()
    }

    /// How many of the requests received so far `matches` accepts.
    pub fn count(&self, matches: impl Fn(&HttpRequest) -> bool) -> usize {
        lock(&self.requests).iter().filter(|r| matches(r)).count()
    }
}

/// A panic in another test thread must not hide what this transport recorded.
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl fmt::Debug for ScriptedTransport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ScriptedTransport")
            .field("queued", &lock(&self.queue).len())
            .field("fallback", &self.fallback.is_some())
            .field("requests", &lock(&self.requests).len())
            .finish()
    }
}

#[async_trait]
impl Transport for ScriptedTransport {
    async fn send(&self, request: HttpRequest) -> Result<HttpResponse> {
        // Let concurrent callers pile up, as they would on a real network, so single-flight
        // code is exercised.
        tokio::task::yield_now().await;
        let scripted = {
            let mut queue = lock(&self.queue);
            queue
                .iter()
                .position(|(m, _)| m.as_ref().is_none_or(|m| m(&request)))
                .and_then(|i| queue.remove(i))
                .map(|(_, response)| response)
        };
        let response = scripted.or_else(|| self.fallback.as_ref().map(|f| f(&request)));
        lock(&self.requests).push(request);
        response.ok_or_else(|| Error::Transport {
            message: "no scripted response left".into(),
        })
    }
}

/// `insta` settings with the shared redaction set for request snapshots: the credentials of
/// an `Authorization` header (its scheme kept), the secret body fields (`client_secret`,
/// `code`, `code_verifier`, `refresh_token`, `access_token`, `assertion`), and the random
/// `state` and `code_challenge` of an authorize URL, as a query field or inside a URL string.
/// Selectors match a request's [`HttpRequest::to_snapshot`] view, alone or in a map of them.
///
/// Use with `redaction_settings().bind(|| insta::assert_json_snapshot!(...))`.
pub fn redaction_settings() -> insta::Settings {
    let mut s = insta::Settings::clone_current();
    s.set_prepend_module_to_snapshot(true);
    for selector in [".headers.authorization", ".*.headers.authorization"] {
        s.add_redaction(
            selector,
            insta::dynamic_redaction(|value, _path| {
                let v = value.as_str().unwrap_or_default();
                match v.split_once(' ') {
                    Some((scheme, _)) => format!("{scheme} [redacted]"),
                    None => "[redacted]".to_owned(),
                }
            }),
        );
    }
    for field in [
        ".body.client_secret",
        ".body.code",
        ".body.code_verifier",
        ".body.refresh_token",
        ".body.access_token",
        ".body.assertion",
        ".query.state",
        ".query.code_challenge",
    ] {
        s.add_redaction(field, "[redacted]");
    }
    s.add_filter(r"state=[A-Za-z0-9_\-]+", "state=[redacted]");
    s.add_filter(
        r"code_challenge=[A-Za-z0-9_\-]+",
        "code_challenge=[redacted]",
    );
    s
}

/// The messages of `err` and of each error in its [`source`](std::error::Error::source) chain,
/// outermost first. Joined with `": "` they give what `anyhow`'s `{:#}` prints; no message
/// of this crate's errors repeats another's text in that chain.
pub fn source_chain(err: &(dyn std::error::Error + 'static)) -> Vec<String> {
    let mut out = Vec::new();
    let mut next = Some(err);
    while let Some(e) = next {
        out.push(e.to_string());
        next = e.source();
    }
    out
}

/// The first two messages of `err`'s [`source_chain`] of which one holds the other (outer
/// first): text a reporter walking `source()` would print twice. `None` when there is none.
/// For tests of error types that wrap this crate's errors.
pub fn repeated_in_chain(err: &(dyn std::error::Error + 'static)) -> Option<(String, String)> {
    let chain = source_chain(err);
    chain.iter().enumerate().find_map(|(i, a)| {
        chain[i + 1..]
            .iter()
            .find(|b| a.contains(b.as_str()) || b.contains(a.as_str()))
            .map(|b| (a.clone(), b.clone()))
    })
}
