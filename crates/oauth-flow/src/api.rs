//! The API client: typed endpoint values sent with credentials, one refresh-and-retry on 401,
//! bounded retries of 429/503 honouring `Retry-After`.

use std::borrow::Cow;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode, header};
use serde::de::DeserializeOwned;
use serde_json::Value;
use tracing::Instrument as _;
use url::Url;

use crate::base_url::{BaseUrl, IntoBaseUrl};
use crate::credentials::{Authorization, CredentialSource};
use crate::error::{ConfigError, Error, Result, excerpt};
use crate::hooks;
use crate::request::{HttpRequest, HttpResponse};
use crate::transport::{ReqwestTransport, Transport};

/// One API operation as a value: method, path, query, JSON body and the typed response.
pub trait Endpoint {
    /// The decoded response body.
    type Output: DeserializeOwned;

    /// The HTTP method (default GET).
    fn method(&self) -> Method {
        Method::GET
    }
    /// The path, relative to the API base URL (e.g. `v1/customers/42`).
    fn path(&self) -> Cow<'_, str>;
    /// Query parameters.
    fn query(&self) -> Vec<(Cow<'_, str>, String)> {
        Vec::new()
    }
    /// The JSON body, if any.
    fn body(&self) -> Result<Option<Value>> {
        Ok(None)
    }
    /// Whether sending this request twice has the same effect as sending it once, so a 429 or
    /// 503 may be retried. Defaults to the method's semantics (GET, HEAD, PUT, DELETE,
    /// OPTIONS); a POST that only reads, such as a GraphQL query, may say `true`.
    fn idempotent(&self) -> bool {
        matches!(
            self.method(),
            Method::GET | Method::HEAD | Method::PUT | Method::DELETE | Method::OPTIONS
        )
    }
}

/// How 429 and 503 answers are retried: idempotent methods only, within both budgets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts in all, the first included (1 disables retries).
    pub max_attempts: u32,
    /// The most time spent waiting between attempts, summed.
    pub max_total_wait: Duration,
    /// The wait when the server sends no `Retry-After`.
    pub default_wait: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_attempts: 3,
            max_total_wait: Duration::from_secs(30),
            default_wait: Duration::from_millis(500),
        }
    }
}

impl RetryPolicy {
    /// No retries.
    pub fn none() -> Self {
        Self {
            max_attempts: 1,
            ..Self::default()
        }
    }
}

/// Sends requests to one API origin with credentials from a [`CredentialSource`].
///
/// Cheap to clone. Bearer tokens go only in the `Authorization` header and only to the
/// configured origin (SECURITY S19).
#[derive(Clone)]
pub struct ApiClient {
    inner: Arc<ApiInner>,
}

struct ApiInner {
    base: Url,
    transport: Arc<dyn Transport>,
    /// The transport again when it is the stock [`ReqwestTransport`], called directly on the
    /// common path: no boxed future and no dynamic call per request.
    stock: Option<ReqwestTransport>,
    credentials: Arc<dyn CredentialSource>,
    retry: RetryPolicy,
    headers: HeaderMap,
}

impl fmt::Debug for ApiClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ApiClient")
            .field("base", &self.inner.base.as_str())
            .field("retry", &self.inner.retry)
            .finish_non_exhaustive()
    }
}

/// Builder for [`ApiClient`].
#[must_use]
pub struct ApiClientBuilder {
    base: Result<BaseUrl, ConfigError>,
    transport: Arc<dyn Transport>,
    credentials: Arc<dyn CredentialSource>,
    retry: RetryPolicy,
    headers: Vec<(HeaderName, String)>,
}

impl fmt::Debug for ApiClientBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ApiClientBuilder")
            .field("base", &self.base.as_ref().map(BaseUrl::as_str).ok())
            .finish_non_exhaustive()
    }
}

impl ApiClientBuilder {
    /// The retry policy for 429/503 (default: 3 attempts, 30 s of waiting at most).
    pub fn retry(mut self, retry: RetryPolicy) -> Self {
        self.retry = retry;
        self
    }
    /// A header sent on every request (not for credentials).
    pub fn header(mut self, name: HeaderName, value: impl Into<String>) -> Self {
        self.headers.push((name, value.into()));
        self
    }
    /// Builds the client. The base URL must be https (or http on loopback); a trailing `/` is
    /// added so relative paths join below it.
    pub fn build(self) -> Result<ApiClient> {
        let base = self.base?.into_url();
        let mut headers = HeaderMap::new();
        headers.insert(header::ACCEPT, HeaderValue::from_static("application/json"));
        for (name, value) in self.headers {
            let v = HeaderValue::from_str(&value)
                .map_err(|_| ConfigError::InvalidHeader("default header"))?;
            headers.insert(name, v);
        }
        let stock = hooks::stock_transport(&*self.transport);
        Ok(ApiClient {
            inner: Arc::new(ApiInner {
                base,
                stock,
                transport: self.transport,
                credentials: self.credentials,
                retry: self.retry,
                headers,
            }),
        })
    }
}

impl ApiClient {
    /// Starts a client for the API at `base_url`.
    pub fn builder(
        base_url: impl IntoBaseUrl,
        transport: Arc<dyn Transport>,
        credentials: Arc<dyn CredentialSource>,
    ) -> ApiClientBuilder {
        ApiClientBuilder {
            base: base_url.into_base_url(),
            transport,
            credentials,
            retry: RetryPolicy::default(),
            headers: Vec::new(),
        }
    }

    /// The API base URL.
    pub fn base_url(&self) -> &Url {
        &self.inner.base
    }

    /// The credential source.
    pub fn credentials(&self) -> &Arc<dyn CredentialSource> {
        &self.inner.credentials
    }

    /// Resolves `path` against the base URL, refusing anything that leaves its origin or goes
    /// above its path.
    pub fn url(&self, path: &str) -> Result<Url> {
        let base = &self.inner.base;
        let url = base
            .join(path.trim_start_matches('/'))
            .map_err(|_| ConfigError::ForeignOrigin(crate::error::truncate(path, 80)))?;
        // Same origin (scheme, host, port; the base is always http or https, whose origins are
        // tuples) compared field by field: `Url::origin` allocates.
        let same_origin = url.scheme() == base.scheme()
            && url.host() == base.host()
            && url.port_or_known_default() == base.port_or_known_default();
        if !same_origin || !url.path().starts_with(base.path()) {
            return Err(ConfigError::ForeignOrigin(crate::error::truncate(path, 80)).into());
        }
        Ok(url)
    }

    /// Builds the request for `endpoint` with `auth` (sans-IO: for inspection and snapshots).
    pub fn request<E: Endpoint + ?Sized>(
        &self,
        endpoint: &E,
        auth: Option<&Authorization>,
    ) -> Result<HttpRequest> {
        self.build_request(endpoint, self.url(&endpoint.path())?, auth)
    }

    /// [`request`](Self::request) with the URL already resolved (the first attempt's is, for
    /// its span).
    fn build_request<E: Endpoint + ?Sized>(
        &self,
        endpoint: &E,
        mut url: Url,
        auth: Option<&Authorization>,
    ) -> Result<HttpRequest> {
        let query = endpoint.query();
        if !query.is_empty() {
            let mut q = url.query_pairs_mut();
            for (k, v) in &query {
                q.append_pair(k, v);
            }
        }
        let mut req = HttpRequest::new(endpoint.method(), url);
        // A fresh map sized for every header this request will carry (defaults, credential,
        // content type, and the transport's user agent): a clone of the default map would have
        // room for the defaults only and grow, reallocating, as the rest arrive.
        req.headers = HeaderMap::with_capacity(self.inner.headers.len() + 3);
        for (name, value) in &self.inner.headers {
            req.headers.append(name.clone(), value.clone());
        }
        if let Some(body) = endpoint.body()? {
            req = req.json_body(&body)?;
        }
        if let Some(auth) = auth {
            req.headers.insert(auth.name.clone(), auth.value.clone());
        }
        Ok(req)
    }

    /// Sends `endpoint` and decodes a 2xx JSON body; other statuses become errors
    /// ([`Error::Unauthorized`], [`Error::Forbidden`], [`Error::RateLimited`],
    /// [`Error::HttpStatus`]).
    pub async fn send<E: Endpoint + ?Sized>(&self, endpoint: &E) -> Result<E::Output> {
        let resp = self.execute(endpoint).await?;
        decode_success(&resp)
    }

    /// `GET path` decoded as `T`.
    pub async fn get<T: DeserializeOwned>(&self, path: &str) -> Result<T> {
        // `send`'s body, not a call to it: one future less to nest on the most common call.
        let resp = self
            .execute(&Raw::<T>::new(Method::GET, path, None))
            .await?;
        decode_success(&resp)
    }

    /// `POST path` with a JSON body, decoded as `T`.
    pub async fn post<T: DeserializeOwned>(&self, path: &str, body: Value) -> Result<T> {
        self.send(&Raw::<T>::new(Method::POST, path, Some(body)))
            .await
    }

    /// Sends `endpoint` with credentials, retrying as documented, and returns the final
    /// response whatever its status, for callers that map provider-specific error bodies.
    ///
    /// - 401: the credential source renews once (a refresh, unless another request already
    ///   did) and the request is retried once.
    /// - 429/503 on an idempotent method: retried after `Retry-After` (seconds or HTTP date)
    ///   while attempts and total wait stay within the [`RetryPolicy`]; then
    ///   [`Error::RateLimited`].
    pub async fn execute<E: Endpoint + ?Sized>(&self, endpoint: &E) -> Result<HttpResponse> {
        // The path nearly every call takes, written flat: no span wanted and the credential at
        // hand. Each async layer between the caller and the transport costs on every call
        // (two layers measured 0.8% of a loopback GET at concurrency 1), so the rest lives out
        // of line.
        let span_wanted = span_wanted();
        let auth = if span_wanted {
            None
        } else {
            hooks::cached_authorization(&*self.inner.credentials)
        };
        let Some(auth) = auth else {
            return self.execute_slow(endpoint, span_wanted).await;
        };
        let req = self.request(endpoint, Some(&auth))?;
        let resp = match &self.inner.stock {
            Some(stock) => stock.send_unboxed(req)?.await?,
            None => self.inner.transport.send(req).await?,
        };
        if needs_follow_up(resp.status) {
            return self.follow_up_boxed(endpoint, auth, resp, None).await;
        }
        Ok(resp)
    }

    /// [`execute`](Self::execute) when a subscriber wants the `oauth_flow.api_call` span or
    /// the credential must be awaited (a refresh is due): boxed and out of line.
    /// `span_wanted` is [`span_wanted()`] as `execute` found it.
    #[cold]
    #[inline(never)]
    fn execute_slow<'a, E: Endpoint + ?Sized>(
        &'a self,
        endpoint: &'a E,
        span_wanted: bool,
    ) -> Pin<Box<impl Future<Output = Result<HttpResponse>> + 'a>> {
        Box::pin(async move {
            let url = self.url(&endpoint.path())?;
            let span = if span_wanted {
                api_span(&endpoint.method(), &url)
            } else {
                None
            };
            let started = span.as_ref().map(|_| Instant::now());
            // `execute`'s first attempt, with an awaited credential and the span's bookkeeping
            // (kept apart so that the common case stays one flat body).
            let attempt = async {
                let auth = match hooks::cached_authorization(&*self.inner.credentials) {
                    Some(auth) => auth,
                    None => self.inner.credentials.authorization().await?,
                };
                let req = self.build_request(endpoint, url, Some(&auth))?;
                let resp = self.inner.transport.send(req).await?;
                if let Some(started) = started {
                    record_attempt(started, resp.status, 1);
                }
                if needs_follow_up(resp.status) {
                    self.follow_up(endpoint, auth, resp, started).await
                } else {
                    Ok(resp)
                }
            };
            match span {
                Some(span) => attempt.instrument(span).await,
                None => attempt.await,
            }
        })
    }

    /// [`follow_up`](Self::follow_up), boxed and out of line: neither its state (a timer among
    /// it) nor the code that sets it up weighs on the calls that succeed at once.
    #[cold]
    #[inline(never)]
    fn follow_up_boxed<'a, E: Endpoint + ?Sized>(
        &'a self,
        endpoint: &'a E,
        auth: Authorization,
        resp: HttpResponse,
        started: Option<Instant>,
    ) -> Pin<Box<impl Future<Output = Result<HttpResponse>> + 'a>> {
        Box::pin(self.follow_up(endpoint, auth, resp, started))
    }

    /// After a 401, 429 or 503: renews the credential and retries once on a 401, retries
    /// throttled idempotent requests within the [`RetryPolicy`].
    async fn follow_up<E: Endpoint + ?Sized>(
        &self,
        endpoint: &E,
        mut auth: Authorization,
        mut resp: HttpResponse,
        started: Option<Instant>,
    ) -> Result<HttpResponse> {
        let policy = self.inner.retry;
        let mut renewed = false;
        let mut attempts = 1u32;
        let mut waited = Duration::ZERO;
        loop {
            let status = resp.status;
            // SECURITY S20: a 401 whose challenge names another error than `invalid_token`
            // (e.g. `invalid_request`) is not cured by a new token.
            if status == StatusCode::UNAUTHORIZED && !renewed && token_may_help(&resp.headers) {
                renewed = true;
                match self
                    .inner
                    .credentials
                    .renew_after_unauthorized(&auth)
                    .await?
                {
                    Some(fresh) => {
                        tracing::debug!("401: retrying once with a renewed credential");
                        auth = fresh;
                    }
                    None => return Ok(resp),
                }
            } else {
                let throttled = status == StatusCode::TOO_MANY_REQUESTS
                    || status == StatusCode::SERVICE_UNAVAILABLE;
                if !throttled {
                    return Ok(resp);
                }
                let after = retry_after(&resp.headers, SystemTime::now());
                let wait = after.unwrap_or(policy.default_wait);
                // `checked_add`: a hostile `Retry-After` (u64::MAX seconds) must not panic.
                let within_budget = waited
                    .checked_add(wait)
                    .is_some_and(|total| total <= policy.max_total_wait);
                if !(endpoint.idempotent() && attempts < policy.max_attempts && within_budget) {
                    return Err(Error::RateLimited {
                        status: status.as_u16(),
                        attempts,
                        retry_after: after,
                    });
                }
                tracing::debug!(
                    wait_ms = wait.as_millis() as u64,
                    "throttled: waiting to retry"
                );
                tokio::time::sleep(wait).await;
                waited += wait;
            }
            attempts += 1;
            let req = self.request(endpoint, Some(&auth))?;
            resp = self.inner.transport.send(req).await?;
            if let Some(started) = started {
                record_attempt(started, resp.status, attempts);
            }
        }
    }
}

/// Whether a subscriber may want INFO spans (the `oauth_flow.api_call` span is INFO): two
/// loads, so calls without tracing skip building the span altogether.
fn span_wanted() -> bool {
    tracing::level_filters::STATIC_MAX_LEVEL >= tracing::Level::INFO
        && tracing::level_filters::LevelFilter::current() >= tracing::Level::INFO
}

/// Statuses that may call for another attempt: 401 (renew the credential), 429 and 503
/// (throttled).
fn needs_follow_up(status: StatusCode) -> bool {
    matches!(
        status,
        StatusCode::UNAUTHORIZED | StatusCode::TOO_MANY_REQUESTS | StatusCode::SERVICE_UNAVAILABLE
    )
}

/// The `oauth_flow.api_call` span for a request, `None` when no subscriber wants it. Out of
/// line: the span's construction is sizeable code that calls without tracing never run.
#[cold]
#[inline(never)]
fn api_span(method: &Method, url: &Url) -> Option<tracing::Span> {
    let span = tracing::info_span!(
        "oauth_flow.api_call",
        method = %method,
        host = url.host_str().unwrap_or(""),
        path = url.path(),
        status = tracing::field::Empty,
        latency_ms = tracing::field::Empty,
        retries = tracing::field::Empty,
    );
    (!span.is_disabled()).then_some(span)
}

/// Records an attempt's outcome on the current `oauth_flow.api_call` span.
#[cold]
#[inline(never)]
fn record_attempt(started: Instant, status: StatusCode, attempts: u32) {
    let span = tracing::Span::current();
    span.record("status", status.as_u16());
    span.record("latency_ms", started.elapsed().as_millis() as u64);
    span.record("retries", attempts - 1);
}

/// Decodes a 2xx JSON body as `T`, or maps the status to an error.
pub fn decode_success<T: DeserializeOwned>(resp: &HttpResponse) -> Result<T> {
    let status = resp.status.as_u16();
    match status {
        200..=299 => {
            let body: &[u8] = if resp.body.is_empty() {
                b"null"
            } else {
                &resp.body
            };
            serde_json::from_slice(body).map_err(|e| Error::decode("API response", &e))
        }
        401 => Err(Error::Unauthorized {
            excerpt: excerpt(&resp.body),
        }),
        403 => Err(Error::Forbidden {
            excerpt: excerpt(&resp.body),
        }),
        _ => Err(Error::HttpStatus {
            status,
            excerpt: excerpt(&resp.body),
        }),
    }
}

/// Whether a 401's `WWW-Authenticate` leaves a renewed credential a chance: no challenge, or
/// a challenge without an `error`, or with `error="invalid_token"` (RFC 6750 §3.1).
fn token_may_help(headers: &HeaderMap) -> bool {
    let mut saw_error = false;
    for value in headers.get_all(header::WWW_AUTHENTICATE) {
        let Ok(value) = value.to_str() else { continue };
        for (name, val) in auth_params(value) {
            if name.eq_ignore_ascii_case("error") {
                if val == "invalid_token" {
                    return true;
                }
                saw_error = true;
            }
        }
    }
    !saw_error
}

/// The `name=value` / `name="quoted value"` parameters of every challenge in a
/// `WWW-Authenticate` value (RFC 9110 §11.6.1); scheme names are skipped.
pub fn auth_params(value: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let bytes = value.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        // A token: a scheme name or a parameter name.
        while i < bytes.len() && (bytes[i] == b' ' || bytes[i] == b',' || bytes[i] == b'\t') {
            i += 1;
        }
        let start = i;
        while i < bytes.len() && !matches!(bytes[i], b'=' | b' ' | b',' | b'\t') {
            i += 1;
        }
        let name = &value[start..i];
        if name.is_empty() {
            // A stray `=` (the loops above stop only at one here): step over it.
            i += 1;
            continue;
        }
        let mut j = i;
        while j < bytes.len() && bytes[j] == b' ' {
            j += 1;
        }
        if j >= bytes.len() || bytes[j] != b'=' {
            continue; // a scheme name (or token68 without '=')
        }
        i = j + 1;
        while i < bytes.len() && bytes[i] == b' ' {
            i += 1;
        }
        let mut val = String::new();
        if i < bytes.len() && bytes[i] == b'"' {
            i += 1;
            while i < bytes.len() && bytes[i] != b'"' {
                if bytes[i] == b'\\' && i + 1 < bytes.len() {
                    i += 1;
                }
                let ch_len = value[i..].chars().next().map_or(1, char::len_utf8);
                val.push_str(&value[i..i + ch_len]);
                i += ch_len;
            }
            i += 1;
        } else {
            let s = i;
            while i < bytes.len() && bytes[i] != b',' && bytes[i] != b' ' {
                i += 1;
            }
            val.push_str(&value[s..i]);
        }
        out.push((name.to_owned(), val));
    }
    out
}

/// `Retry-After` as delay-seconds or an HTTP date (RFC 9110 §10.2.3).
pub fn retry_after(headers: &HeaderMap, now: SystemTime) -> Option<Duration> {
    let v = headers.get(header::RETRY_AFTER)?.to_str().ok()?.trim();
    if let Ok(secs) = v.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let at = httpdate::parse_http_date(v).ok()?;
    Some(at.duration_since(now).unwrap_or(Duration::ZERO))
}

/// An ad-hoc endpoint for [`ApiClient::get`] and [`ApiClient::post`].
struct Raw<'a, T> {
    method: Method,
    path: &'a str,
    body: Option<Value>,
    _out: std::marker::PhantomData<fn() -> T>,
}

impl<'a, T> Raw<'a, T> {
    fn new(method: Method, path: &'a str, body: Option<Value>) -> Self {
        Self {
            method,
            path,
            body,
            _out: std::marker::PhantomData,
        }
    }
}

impl<T: DeserializeOwned> Endpoint for Raw<'_, T> {
    type Output = T;
    fn method(&self) -> Method {
        self.method.clone()
    }
    fn path(&self) -> Cow<'_, str> {
        Cow::Borrowed(self.path)
    }
    fn body(&self) -> Result<Option<Value>> {
        Ok(self.body.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn s20_www_authenticate_parsing() {
        let params = auth_params(
            r#"Bearer realm="api, \"v1\"", error="invalid_token", error_description="expired", Basic realm=x"#,
        );
        assert_eq!(
            params,
            vec![
                ("realm".to_owned(), "api, \"v1\"".to_owned()),
                ("error".to_owned(), "invalid_token".to_owned()),
                ("error_description".to_owned(), "expired".to_owned()),
                ("realm".to_owned(), "x".to_owned()),
            ]
        );
        let mut h = HeaderMap::new();
        assert!(token_may_help(&h));
        h.insert(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static("Bearer realm=\"x\""),
        );
        assert!(token_may_help(&h));
        h.insert(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static("BEARER ERROR=\"invalid_token\""),
        );
        assert!(token_may_help(&h));
        h.insert(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static("Bearer error=\"invalid_request\""),
        );
        assert!(!token_may_help(&h));
        h.insert(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static("Bearer error="),
        );
        assert!(!token_may_help(&h));
    }

    /// A server's malformed challenge must not hang the client: stray `=` signs are skipped.
    #[test]
    fn s20_malformed_www_authenticate_terminates() {
        assert_eq!(auth_params("="), vec![]);
        assert_eq!(auth_params(", =,=="), vec![]);
        assert_eq!(
            auth_params("= error=invalid_token"),
            vec![("error".to_owned(), "invalid_token".to_owned())]
        );
    }

    #[test]
    fn retry_after_seconds_and_date() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        let mut h = HeaderMap::new();
        h.insert(header::RETRY_AFTER, HeaderValue::from_static("7"));
        assert_eq!(retry_after(&h, now), Some(Duration::from_secs(7)));
        let date = httpdate::fmt_http_date(now + Duration::from_secs(12));
        h.insert(header::RETRY_AFTER, HeaderValue::from_str(&date).unwrap());
        assert_eq!(retry_after(&h, now), Some(Duration::from_secs(12)));
        h.insert(header::RETRY_AFTER, HeaderValue::from_static("soon"));
        assert_eq!(retry_after(&h, now), None);
    }

    /// The stock transport is recognised (and called without a boxed future); any other is
    /// called through the trait.
    #[test]
    fn the_stock_transport_is_recognised() {
        struct Custom;
        #[async_trait::async_trait]
        impl Transport for Custom {
            async fn send(&self, _: HttpRequest) -> Result<HttpResponse> {
                Err(Error::Timeout)
            }
        }
        let key: Arc<dyn CredentialSource> = Arc::new(
            crate::credentials::ApiKey::bearer(&secrecy::SecretString::from("k".to_owned()))
                .unwrap(),
        );
        let base = "https://api.example.com/v1";
        let stock = ReqwestTransport::new().unwrap();
        let client = ApiClient::builder(base, Arc::new(stock), key.clone())
            .build()
            .unwrap();
        assert!(client.inner.stock.is_some());
        let client = ApiClient::builder(base, Arc::new(Custom), key)
            .build()
            .unwrap();
        assert!(client.inner.stock.is_none());
    }
}
