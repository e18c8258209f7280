//! The authenticated API client: account.get, any other endpoint, in either authentication mode.

use std::fmt;
use std::sync::Arc;
use std::time::SystemTime;

use oauth_flow::{
    AccessToken, ApiClient, ApiKey, ApiRequest, CredentialSource, Endpoint, GrantHandle, HostUrls,
    HttpRequest, HttpResponse, IntoBaseUrl, RetryPolicy, SdkSettings, SecretString, Token,
    Transport, Url,
};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::account::{Account, AccountGet};
use crate::error::{Error, Result, bounded, decode_error};
use crate::profile::API_BASE_URL;

/// The header KonPro reads API tokens from.
pub const API_KEY_HEADER: &str = "x-api-key";

/// The `User-Agent` of the default transport.
pub(crate) const USER_AGENT: &str = concat!("konpro-sdk/", env!("CARGO_PKG_VERSION"));

/// How a [`KonProClient`] authenticates. KonPro accepts both on every endpoint.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum Auth {
    /// An API token sent as `X-API-KEY: <token>` (the pre-OAuth method; nothing to renew).
    ApiKey(SecretString),
    /// A user's OAuth grant, sent as `Authorization: Bearer <access token>`: refreshed ahead of
    /// expiry and once after a 401. Usually obtained through [`KonPro`](crate::KonPro).
    OAuth(GrantHandle),
}

/// Which authentication mode a [`KonProClient`] uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum AuthMode {
    /// `X-API-KEY`.
    ApiKey,
    /// `Authorization: Bearer` from an OAuth grant.
    OAuth,
}

/// Builder for a [`KonProClient`] without a [`KonPro`](crate::KonPro) entry, usually in API-key
/// mode ([`KonProClient::api_key`]).
#[must_use]
pub struct KonProClientBuilder {
    auth: Auth,
    urls: HostUrls,
    settings: SdkSettings,
}

impl fmt::Debug for KonProClientBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KonProClientBuilder")
            .field("auth", &self.auth)
            .field("urls", &self.urls)
            .field("settings", &self.settings)
            .finish()
    }
}

impl KonProClientBuilder {
    /// One root for KonPro's hosts, as the sandbox serves them
    /// (`.base_url(sb.url(Provider::KonPro))`); this client calls the API below it.
    /// https, or http on a loopback IP literal; checked at [`build`](Self::build).
    pub fn base_url(mut self, url: impl IntoBaseUrl) -> Self {
        self.urls.set_root(url);
        self
    }

    /// The API host (default `https://api.konpro.ai`, or the [`base_url`](Self::base_url)),
    /// e.g. a staging deployment.
    pub fn api_base_url(mut self, url: impl IntoBaseUrl) -> Self {
        self.urls.set("api", url);
        self
    }

    oauth_flow::builder_settings!(settings: transport, retry);

    /// Checks the settings and builds the client.
    pub fn build(self) -> Result<KonProClient> {
        let api = self.urls.resolve("api", API_BASE_URL)?;
        let transport = self.settings.transport_or_default(USER_AGENT)?;
        KonProClient::assemble(
            self.auth,
            api.into_url(),
            transport,
            self.settings.retry_policy(),
        )
    }
}

/// Calls the KonPro API with one set of credentials: a user's OAuth grant or an API token.
///
/// Cheap to clone. Obtain one from [`KonPro::complete`](crate::KonPro::complete),
/// [`KonPro::client`](crate::KonPro::client) or [`KonPro::restore`](crate::KonPro::restore)
/// (OAuth), or from [`KonProClient::api_key`] (no login).
///
/// Besides [`account_get`](Self::account_get), any endpoint can be called with the same
/// authentication: [`get`](Self::get) / [`post`](Self::post) for a one-off, [`ApiRequest`] for
/// query parameters and other methods, or your own [`Endpoint`] implementation, sent with
/// [`send`](Self::send).
#[derive(Clone)]
pub struct KonProClient {
    api: ApiClient,
    mode: AuthMode,
    grant: Option<GrantHandle>,
}

impl fmt::Debug for KonProClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KonProClient")
            .field("mode", &self.mode)
            .field("subject", &self.subject())
            .field("base_url", &self.api.base_url().as_str())
            .finish_non_exhaustive()
    }
}

impl KonProClient {
    /// Starts a client authenticating with `auth`.
    pub fn builder(auth: Auth) -> KonProClientBuilder {
        KonProClientBuilder {
            auth,
            urls: HostUrls::default(),
            settings: SdkSettings::default(),
        }
    }

    /// Starts a client sending `api_key` as `X-API-KEY` (no login needed).
    ///
    /// ```no_run
    /// # async fn run() -> konpro_sdk::Result<()> {
    /// use konpro_sdk::{KonProClient, SecretString};
    ///
    /// let key = SecretString::from(std::env::var("KONPRO_API_KEY").unwrap_or_default());
    /// let client = KonProClient::api_key(key).build()?;
    /// let account = client.account_get().await?;
    /// println!("plan: {:?}", account.user_plan.and_then(|p| p.tier));
    /// # Ok(()) }
    /// ```
    pub fn api_key(api_key: SecretString) -> KonProClientBuilder {
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
        self.send(&ApiRequest::<T>::post(path).json_from(body)?)
            .await
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

    /// The OAuth grant (`None` in API-key mode).
    pub fn grant(&self) -> Option<&GrantHandle> {
        self.grant.as_ref()
    }

    /// The grant `operation` needs, or [`Error::ApiKeyMode`].
    fn oauth_grant(&self, operation: &'static str) -> Result<&GrantHandle> {
        self.grant.as_ref().ok_or(Error::ApiKeyMode { operation })
    }

    /// Refreshes the user's access token now at `/v1/oauth/refresh_token`, whatever its expiry
    /// (e.g. after their plan changed). Concurrent callers share one refresh. A refresh token
    /// KonPro rejects gives [`Error::ReauthorizationRequired`]; in API-key mode there is
    /// nothing to refresh: [`Error::ApiKeyMode`].
    pub async fn refresh(&self) -> Result<AccessToken> {
        Ok(self.oauth_grant("refresh")?.force_refresh().await?)
    }

    /// A valid access token of the user, refreshed first if it is due (to call an endpoint
    /// through your own HTTP client). [`Error::ApiKeyMode`] in API-key mode: the API key is
    /// yours already.
    pub async fn access_token(&self) -> Result<AccessToken> {
        Ok(self.oauth_grant("access_token")?.access_token().await?)
    }

    /// The user's current token set (expiry, scope, extra fields) from memory or the store;
    /// `None` when none is stored, and always in API-key mode.
    pub async fn token(&self) -> Result<Option<Token>> {
        match &self.grant {
            Some(grant) => Ok(grant.token().await?),
            None => Ok(None),
        }
    }

    /// When the current access token expires; `None` when unknown (KonPro sent no
    /// `expires_in`, nothing is stored) and in API-key mode.
    pub async fn expires_at(&self) -> Result<Option<SystemTime>> {
        match &self.grant {
            Some(grant) => Ok(grant.expires_at().await?),
            None => Ok(None),
        }
    }

    /// Logs the user out of this app: deletes their tokens from memory and the store. KonPro
    /// documents no revocation endpoint, so the tokens stay valid at KonPro until they expire.
    /// [`Error::ApiKeyMode`] in API-key mode: an API key is not stored, nothing is forgotten.
    pub async fn forget(&self) -> Result<()> {
        Ok(self.oauth_grant("forget")?.forget().await?)
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
        assert!(m.len() <= 512 && m.starts_with("<html>"));
    }

    #[test]
    fn decode_errors_do_not_echo_the_body() {
        let e = decode::<Account>("v1/pacific/account.get?k=v", &resp(200, r#"{"user": "#))
            .unwrap_err();
        let Error::Decode {
            what: endpoint,
            source,
        } = &e
        else {
            panic!("unexpected {e:?}");
        };
        assert_eq!(endpoint, "v1/pacific/account.get");
        assert_eq!(
            source.kind(),
            oauth_flow::JsonErrorKind::Truncated,
            "{source}"
        );

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
