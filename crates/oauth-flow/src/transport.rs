//! The one place requests leave the process.

use std::any::Any;
use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use async_trait::async_trait;

use crate::error::{ConfigError, Error, Result};
use crate::request::{HttpRequest, HttpResponse, require_secure};
use http::HeaderValue;

/// Default cap on response bodies (SECURITY S10).
pub const DEFAULT_MAX_BODY: usize = 1024 * 1024;

/// Cap on token endpoint responses, set on every token request (SECURITY S10): a token
/// response is a few hundred bytes, so a larger body is a broken or hostile server.
pub const TOKEN_RESPONSE_MAX_BODY: usize = 64 * 1024;

/// Sends an [`HttpRequest`] and returns the whole (capped) response.
///
/// Implementations must not follow redirects, must refuse insecure URLs and must honour
/// [`HttpRequest::response_limit`] (token requests set 64 KiB); the provided
/// [`ReqwestTransport`] does all three. Swap in your own to add a proxy, metrics or a test double.
///
/// `Any` is a supertrait so that [`ApiClient`](crate::ApiClient) can recognise the stock
/// [`ReqwestTransport`] and call it directly, without a boxed future per request; every
/// `'static` type is `Any`, so implementations need nothing for it.
#[async_trait]
pub trait Transport: Any + Send + Sync {
    /// Sends the request.
    async fn send(&self, request: HttpRequest) -> Result<HttpResponse>;
}

/// The reqwest-based transport: rustls, redirects never followed, connect and total timeouts,
/// capped bodies read in chunks, HTTPS required except for loopback IP literals.
#[derive(Debug, Clone)]
pub struct ReqwestTransport {
    client: reqwest::Client,
    max_body: usize,
}

/// Builder for [`ReqwestTransport`].
#[derive(Debug, Clone)]
#[must_use]
pub struct ReqwestTransportBuilder {
    connect_timeout: Duration,
    timeout: Duration,
    max_body: usize,
    user_agent: Option<String>,
}

/// The `User-Agent` sent unless the builder is given another.
const DEFAULT_USER_AGENT: &str = concat!("oauth-flow/", env!("CARGO_PKG_VERSION"));

impl ReqwestTransport {
    /// A transport with the defaults: 10 s to connect, 30 s per request, 1 MiB bodies.
    pub fn new() -> Result<Self> {
        Self::builder().build()
    }

    /// Starts a builder.
    pub fn builder() -> ReqwestTransportBuilder {
        ReqwestTransportBuilder {
            connect_timeout: Duration::from_secs(10),
            timeout: Duration::from_secs(30),
            max_body: DEFAULT_MAX_BODY,
            user_agent: None,
        }
    }
}

impl ReqwestTransportBuilder {
    /// Time allowed to establish a connection.
    pub fn connect_timeout(mut self, d: Duration) -> Self {
        self.connect_timeout = d;
        self
    }
    /// Time allowed for a whole request, body included.
    pub fn timeout(mut self, d: Duration) -> Self {
        self.timeout = d;
        self
    }
    /// Largest response body accepted, in bytes.
    pub fn max_body_bytes(mut self, n: usize) -> Self {
        self.max_body = n;
        self
    }
    /// The `User-Agent` header (default `oauth-flow/<version>`).
    pub fn user_agent(mut self, ua: impl Into<String>) -> Self {
        self.user_agent = Some(ua.into());
        self
    }
    /// Builds the transport.
    pub fn build(self) -> Result<ReqwestTransport> {
        // The default as a static value: reqwest copies its default headers into every
        // request, and a static value is copied without touching a reference count.
        let user_agent = match self.user_agent {
            None => HeaderValue::from_static(DEFAULT_USER_AGENT),
            Some(ua) => {
                HeaderValue::try_from(ua).map_err(|_| ConfigError::InvalidHeader("user agent"))?
            }
        };
        let client = reqwest::Client::builder()
            // SECURITY S9: never follow redirects; a 3xx comes back as a response.
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(self.connect_timeout)
            .timeout(self.timeout)
            .user_agent(user_agent)
            .https_only(false) // checked per request: http is allowed on loopback only
            .build()
            .map_err(|e| Error::Transport {
                message: format!("could not build the HTTP client: {}", plain(&e)),
            })?;
        Ok(ReqwestTransport {
            client,
            max_body: self.max_body,
        })
    }
}

impl ReqwestTransport {
    /// [`Transport::send`] without the boxed future, for callers that hold the concrete type
    /// ([`ApiClient`](crate::ApiClient) does when given this transport).
    pub(crate) fn send_unboxed(
        &self,
        request: HttpRequest,
    ) -> Result<impl Future<Output = Result<HttpResponse>> + Send + use<>> {
        // SECURITY S8: refuse before any connection is attempted.
        require_secure(&request.url)?;
        let max_body = request
            .response_limit()
            .map_or(self.max_body, |limit| limit.min(self.max_body));
        // The request value moves into reqwest's as is: no builder, no header merge.
        let mut req = reqwest::Request::new(request.method, request.url);
        *req.headers_mut() = request.headers;
        if !request.body.is_empty() {
            *req.body_mut() = Some(request.body.into());
        }
        Ok(read_response(self.client.execute(req), max_body))
    }
}

impl Transport for ReqwestTransport {
    // Written out instead of through `#[async_trait]`: the request is checked and handed to
    // reqwest before the future is boxed, so the box holds only the wait for the response and
    // the body read (a third of the size `#[async_trait]` gives, small enough for the
    // allocator's per-thread cache, and fewer cache lines touched on every call).
    fn send<'life0, 'async_trait>(
        &'life0 self,
        request: HttpRequest,
    ) -> Pin<Box<dyn Future<Output = Result<HttpResponse>> + Send + 'async_trait>>
    where
        'life0: 'async_trait,
        Self: 'async_trait,
    {
        match self.send_unboxed(request) {
            Ok(pending) => Box::pin(pending),
            Err(e) => Box::pin(std::future::ready(Err(e))),
        }
    }
}

/// Waits for the response to a request reqwest has accepted and reads its body, at most
/// `max_body` bytes (SECURITY S10).
async fn read_response(
    pending: impl Future<Output = reqwest::Result<reqwest::Response>>,
    max_body: usize,
) -> Result<HttpResponse> {
    let mut resp = pending.await.map_err(map_err)?;
    let length = resp.content_length();
    if length.is_some_and(|n| n > max_body as u64) {
        return Err(Error::BodyTooLarge { limit: max_body });
    }
    let status = resp.status();
    let headers = std::mem::take(resp.headers_mut());
    let hint = length.unwrap_or(0).min(max_body as u64) as usize;
    let mut body = Vec::with_capacity(hint);
    while let Some(chunk) = resp.chunk().await.map_err(map_err)? {
        if body.len() + chunk.len() > max_body {
            return Err(Error::BodyTooLarge { limit: max_body });
        }
        body.extend_from_slice(&chunk);
    }
    Ok(HttpResponse {
        status,
        headers,
        body,
    })
}

fn map_err(e: reqwest::Error) -> Error {
    if e.is_timeout() {
        Error::Timeout
    } else {
        Error::Transport { message: plain(&e) }
    }
}

/// reqwest's message without the URL (whose query may hold a secret) and its source chain.
fn plain(e: &reqwest::Error) -> String {
    let kind = if e.is_connect() {
        "connection failed"
    } else if e.is_body() || e.is_decode() {
        "could not read the response body"
    } else if e.is_request() {
        "could not send the request"
    } else if e.is_builder() {
        "invalid request"
    } else {
        "HTTP error"
    };
    let mut msg = kind.to_owned();
    if let Some(url) = e.url() {
        msg.push_str(" (");
        msg.push_str(&crate::request::redacted_url(url));
        msg.push(')');
    }
    msg
}
