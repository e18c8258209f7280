//! The authenticated API client: account.get, any other endpoint, in either authentication mode.

use std::fmt;
use std::sync::Arc;

use oauth_flow::{
    ApiClient, ApiKey, ApiRequest, CredentialSource, Endpoint, GrantHandle, HttpRequest,
    HttpResponse, ReqwestTransport, RetryPolicy, SecretString, Transport, Url,
};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::account::{Account, AccountGet};
use crate::error::{Error, Result, bounded, decode_error};
use crate::profile::{API_BASE_URL, BaseUrls};

/// The header KonPro reads API tokens from.
pub const API_KEY_HEADER: &str = "x-api-key";

/// How a [`Client`] authenticates. KonPro accepts both on every endpoint.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum Auth {
    /// An API token sent as `X-API-KEY: <token>` (the pre-OAuth method; nothing to renew).
    ApiKey(SecretString),
    /// A user's OAuth grant, sent as `Authorization: Bearer <access token>`: refreshed ahead of
    /// expiry and once after a 401. Usually obtained through [`KonPro`](crate::KonPro).
    OAuth(GrantHandle),
}

/// Which authentication mode a [`Client`] uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum AuthMode {
    /// `X-API-KEY`.
    ApiKey,
    /// `Authorization: Bearer` from an OAuth grant.
    OAuth,
}

/// Builder for [`Client`].
#[must_use]
pub struct ClientBuilder {
    auth: Auth,
    api_base: Option<String>,
    transport: Option<Arc<dyn Transport>>,
    retry: RetryPolicy,
}

impl fmt::Debug for ClientBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientBuilder")
            .field("auth", &self.auth)
            .field("api_base", &self.api_base)
            .field("retry", &self.retry)
            .finish_non_exhaustive()
    }
}

impl ClientBuilder {
    /// The API base URL (default `https://api.konpro.ai`; e.g. a staging host).
    pub fn api_base_url(mut self, url: impl Into<String>) -> Self {
        self.api_base = Some(url.into());
        self
    }

    /// Points the client at the sandbox: `sandbox.url(Provider::KonPro)`.
    pub fn sandbox(self, url: impl Into<String>) -> Self {
        self.api_base_url(url)
    }

    /// The transport (default: a [`ReqwestTransport`] with redirects off and timeouts on).
    pub fn transport(mut self, transport: Arc<dyn Transport>) -> Self {
        self.transport = Some(transport);
        self
    }

    /// How 429 and 503 answers are retried (default: 3 attempts, 30 s of waiting at most).
    pub fn retry(mut self, retry: RetryPolicy) -> Self {
        self.retry = retry;
        self
    }

    /// Checks the settings and builds the client.
    pub fn build(self) -> Result<Client> {
        let base = self.api_base.as_deref().unwrap_or(API_BASE_URL);
        let api = BaseUrls::new(base, base)?.api().clone();
        let transport = match self.transport {
            Some(t) => t,
            None => default_transport()?,
        };
        Client::assemble(self.auth, api, transport, self.retry)
    }
}

pub(crate) fn default_transport() -> Result<Arc<dyn Transport>> {
    Ok(Arc::new(
        ReqwestTransport::builder()
            .user_agent(concat!("konpro-sdk/", env!("CARGO_PKG_VERSION")))
            .build()?,
    ))
}

/// Calls the KonPro API with one set of credentials: a user's OAuth grant or an API token.
///
/// Cheap to clone. Obtain one from [`KonPro::complete_login`](crate::KonPro::complete_login) or
/// [`KonPro::client`](crate::KonPro::client) (OAuth), or from [`Client::api_key`] (no login).
///
/// Besides [`account_get`](Self::account_get), any endpoint can be called with the same
/// authentication: [`get`](Self::get) / [`post`](Self::post) for a one-off, [`ApiRequest`] for
/// query parameters and other methods, or your own [`Endpoint`] implementation, sent with
/// [`send`](Self::send).
#[derive(Clone)]
pub struct Client {
    api: ApiClient,
    mode: AuthMode,
    grant: Option<GrantHandle>,
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("mode", &self.mode)
            .field("subject", &self.subject())
            .field("base_url", &self.api.base_url().as_str())
            .finish_non_exhaustive()
    }
}

impl Client {
    /// Starts a client authenticating with `auth`.
    pub fn builder(auth: Auth) -> ClientBuilder {
        ClientBuilder {
            auth,
            api_base: None,
            transport: None,
            retry: RetryPolicy::default(),
        }
    }

    /// Starts a client sending `api_key` as `X-API-KEY` (no login needed).
    ///
    /// ```no_run
    /// # async fn run() -> konpro_sdk::Result<()> {
    /// use konpro_sdk::{Client, SecretString};
    ///
    /// let key = SecretString::from(std::env::var("KONPRO_API_KEY").unwrap_or_default());
    /// let client = Client::api_key(key).build()?;
    /// let account = client.account_get().await?;
    /// println!("plan: {:?}", account.user_plan.and_then(|p| p.tier));
    /// # Ok(()) }
    /// ```
    pub fn api_key(api_key: SecretString) -> ClientBuilder {
        Self::builder(Auth::ApiKey(api_key))
    }

    pub(crate) fn assemble(
        auth: Auth,
        api_base: Url,
        transport: Arc<dyn Transport>,
        retry: RetryPolicy,
    ) -> Result<Self> {
        let (credentials, mode, grant): (Arc<dyn CredentialSource>, _, _) = match auth {
            Auth::ApiKey(key) => (
                Arc::new(ApiKey::header(API_KEY_HEADER, &key)?),
                AuthMode::ApiKey,
                None,
            ),
            Auth::OAuth(grant) => (Arc::new(grant.clone()), AuthMode::OAuth, Some(grant)),
        };
        let api = ApiClient::builder(api_base.as_str(), transport, credentials)
            .retry(retry)
            .build()?;
        Ok(Self { api, mode, grant })
    }

    /// `GET /v1/pacific/account.get`: the user's experiments, features, space, profile and plan.
    pub async fn account_get(&self) -> Result<Account> {
        self.send(&AccountGet).await
    }

    /// Sends any endpoint with this client's credentials and decodes a 2xx JSON body.
    ///
    /// A 401 triggers one refresh and one retry in OAuth mode; 429/503 on idempotent methods
    /// are retried per the [`RetryPolicy`]. Failures: [`Error::Unauthorized`], [`Error::Api`]
    /// (with KonPro's error code and message), [`Error::Decode`], [`Error::OAuth`].
    pub async fn send<E: Endpoint + ?Sized>(&self, endpoint: &E) -> Result<E::Output> {
        let resp = self.execute(endpoint).await?;
        decode(&endpoint.path(), &resp)
    }

    /// `GET path` (relative to the API base, e.g. `"v1/some-endpoint"`, a query string allowed)
    /// decoded as `T` (use [`serde_json::Value`] for untyped JSON).
    pub async fn get<T: DeserializeOwned>(&self, path: &str) -> Result<T> {
        self.send(&ApiRequest::<T>::get(path)).await
    }

    /// `POST path` with `body` as JSON, decoded as `T`.
    pub async fn post<T: DeserializeOwned, B: Serialize + ?Sized>(
        &self,
        path: &str,
        body: &B,
    ) -> Result<T> {
        let body = serde_json::to_value(body).map_err(|e| Error::Encode {
            detail: bounded(&e.to_string()),
        })?;
        self.send(&ApiRequest::<T>::post(path).json(body)).await
    }

    /// Sends `endpoint` with credentials and the same retries as [`send`](Self::send), and
    /// returns the final response whatever its status (for callers that read headers or map
    /// error bodies themselves).
    pub async fn execute<E: Endpoint + ?Sized>(&self, endpoint: &E) -> Result<HttpResponse> {
        Ok(self.api.execute(endpoint).await?)
    }

    /// Builds, without sending, the request [`send`](Self::send) would send first: with the
    /// current credential (in OAuth mode this may refresh an expiring token). For inspection and
    /// snapshot tests; the credential header is marked sensitive.
    pub async fn request<E: Endpoint + ?Sized>(&self, endpoint: &E) -> Result<HttpRequest> {
        let auth = self.api.credentials().authorization().await?;
        Ok(self.api.request(endpoint, Some(&auth))?)
    }

    /// The authentication mode.
    pub fn auth_mode(&self) -> AuthMode {
        self.mode
    }

    /// The user key of the OAuth grant (`None` in API-key mode).
    pub fn subject(&self) -> Option<&str> {
        self.grant.as_ref().map(|g| g.key().subject())
    }

    /// The OAuth grant (`None` in API-key mode): its token set, or `forget()` to log out.
    pub fn grant(&self) -> Option<&GrantHandle> {
        self.grant.as_ref()
    }

    /// The API base URL.
    pub fn base_url(&self) -> &Url {
        self.api.base_url()
    }

    /// The underlying [`ApiClient`] of the OAuth core.
    pub fn api_client(&self) -> &ApiClient {
        &self.api
    }
}

/// Decodes a 2xx JSON body as `T`, or maps KonPro's error answer.
pub(crate) fn decode<T: DeserializeOwned>(path: &str, resp: &HttpResponse) -> Result<T> {
    let status = resp.status.as_u16();
    if resp.status.is_success() {
        let body: &[u8] = if resp.body.is_empty() {
            b"null"
        } else {
            &resp.body
        };
        return serde_json::from_slice(body).map_err(|e| decode_error(path, &e));
    }
    let (code, message) = error_fields(&resp.body);
    if status == 401 {
        Err(Error::Unauthorized { message })
    } else {
        Err(Error::Api {
            status,
            code,
            message,
        })
    }
}

/// KonPro's error code and message from an error body: `{"error": "...", "message": "..."}`,
/// `{"error": {"code": ..., "message": ...}}`, `{"code": ..., "msg": ...}` or RFC 6749 style;
/// a non-JSON body gives a bounded excerpt as the message.
fn error_fields(body: &[u8]) -> (Option<String>, Option<String>) {
    let Ok(Value::Object(map)) = serde_json::from_slice::<Value>(body) else {
        let excerpt = oauth_flow::__private::excerpt(body);
        return (None, (!excerpt.is_empty()).then_some(excerpt));
    };
    let text = |v: Option<&Value>| -> Option<String> {
        match v? {
            Value::String(s) if !s.is_empty() => Some(bounded(s)),
            Value::Number(n) => Some(n.to_string()),
            _ => None,
        }
    };
    let nested = map.get("error").and_then(Value::as_object);
    let code = text(map.get("error"))
        .or_else(|| nested.and_then(|e| text(e.get("code"))))
        .or_else(|| text(map.get("code")));
    let message = text(map.get("message"))
        .or_else(|| text(map.get("error_description")))
        .or_else(|| nested.and_then(|e| text(e.get("message"))))
        .or_else(|| text(map.get("msg")));
    (code, message)
}

#[cfg(test)]
mod tests {
    use super::*;
    use oauth_flow::http::StatusCode;

    fn resp(status: u16, body: &str) -> HttpResponse {
        HttpResponse::new(StatusCode::from_u16(status).unwrap(), body)
    }

    #[test]
    fn konpro_error_bodies_are_mapped() {
        let e = decode::<Value>(
            "v1/x",
            &resp(
                401,
                r#"{"error":"unauthorized","message":"the API key is invalid"}"#,
            ),
        )
        .unwrap_err();
        assert!(
            matches!(&e, Error::Unauthorized { message: Some(m) } if m == "the API key is invalid")
        );

        let e = decode::<Value>(
            "v1/x",
            &resp(
                404,
                r#"{"error":{"code":"not_found","message":"no such video"}}"#,
            ),
        )
        .unwrap_err();
        assert!(matches!(
            &e,
            Error::Api { status: 404, code: Some(c), message: Some(m) } if c == "not_found" && m == "no such video"
        ));

        let e =
            decode::<Value>("v1/x", &resp(400, r#"{"code":40001,"msg":"bad input"}"#)).unwrap_err();
        assert!(matches!(
            &e,
            Error::Api { code: Some(c), message: Some(m), .. } if c == "40001" && m == "bad input"
        ));

        let html = format!("<html><body>{}</body></html>", "x".repeat(4000));
        let e = decode::<Value>("v1/x", &resp(502, &html)).unwrap_err();
        let Error::Api {
            status: 502,
            message: Some(m),
            code: None,
        } = &e
        else {
            panic!("unexpected {e:?}");
        };
        assert!(m.len() <= 520 && m.starts_with("<html>"));
    }

    #[test]
    fn decode_errors_do_not_echo_the_body() {
        let e = decode::<Account>("v1/pacific/account.get?k=v", &resp(200, r#"{"user": "#))
            .unwrap_err();
        let Error::Decode {
            what: endpoint,
            detail,
        } = &e
        else {
            panic!("unexpected {e:?}");
        };
        assert_eq!(endpoint, "v1/pacific/account.get");
        assert!(detail.starts_with("truncated JSON"), "{detail}");

        let e = decode::<u32>("v1/x", &resp(200, r#""secret-looking-value""#)).unwrap_err();
        assert!(!e.to_string().contains("secret-looking-value"), "{e}");
    }

    #[test]
    fn empty_success_body_decodes_as_null() {
        let v: Option<u32> = decode("v1/x", &resp(204, "")).unwrap();
        assert_eq!(v, None);
    }

    #[test]
    fn api_request_debug_hides_query_values_and_body() {
        let r = ApiRequest::<Value>::post("v1/x?token=abc")
            .query("api_key", "zzz-secret")
            .json(serde_json::json!({ "password": "hunter2" }));
        let dbg = format!("{r:?}");
        assert!(!dbg.contains("zzz-secret") && !dbg.contains("hunter2") && !dbg.contains("abc"));
    }
}
