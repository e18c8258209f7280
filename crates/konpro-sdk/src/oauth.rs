//! [`KonPro`]: the OAuth side. One value serves every user of an app: it builds authorize
//! URLs, completes callbacks, and hands out a [`KonProClient`] per user whose tokens refresh
//! themselves.

use std::fmt;
use std::sync::Arc;

use oauth_flow::{
    AuthorizedCode, ConfigError, GrantHandle, HostUrls, HttpRequest, IntoBaseUrl, OAuthClient,
    PendingAuthorization, RetryPolicy, SdkSettings, SecretString, TokenManager, Transport, Url,
};

use crate::client::{Auth, KonProClient, USER_AGENT};
use crate::error::Result;
use crate::profile::{API_BASE_URL, APP_BASE_URL, BaseUrls};

/// KonPro's OAuth 2.0 client (Authorization Code + PKCE S256, public client: no secret).
///
/// Cheap to clone; share one per application. Tokens are kept per *subject*, a user key your
/// app chooses (a user id, an email, a session id), in the [`TokenStore`](oauth_flow::TokenStore)
/// given to the builder (in memory by default).
///
/// ```no_run
/// # async fn run(callback_url: &str) -> konpro_sdk::Result<()> {
/// use konpro_sdk::KonPro;
///
/// let konpro = KonPro::builder("my-client-id", "https://example.com/oauth/callback").build()?;
/// let (url, pending) = konpro.authorize_url()?; // redirect the user to `url`, keep `pending`
/// // ... KonPro redirects back to https://example.com/oauth/callback?code=...&state=...
/// let client = konpro.complete("user-42", pending, callback_url).await?;
/// let account = client.account_get().await?;
///
/// // Later, in another request of the same user:
/// let account = konpro.client("user-42")?.account_get().await?;
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct KonPro {
    inner: Arc<Inner>,
}

struct Inner {
    manager: TokenManager,
    transport: Arc<dyn Transport>,
    urls: BaseUrls,
    retry: RetryPolicy,
}

impl fmt::Debug for KonPro {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KonPro")
            .field("client", self.inner.manager.client())
            .field("app_base", &self.inner.urls.app().as_str())
            .field("api_base", &self.inner.urls.api().as_str())
            .finish_non_exhaustive()
    }
}

/// Builder for [`KonPro`]: the client id and redirect URI KonPro's Partnerships team
/// registered, then optional settings.
#[must_use]
pub struct KonProBuilder {
    client_id: String,
    redirect_uri: String,
    urls: HostUrls,
    settings: SdkSettings,
}

impl fmt::Debug for KonProBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KonProBuilder")
            .field("client_id", &self.client_id)
            .field("redirect_uri", &self.redirect_uri)
            .field("urls", &self.urls)
            .field("settings", &self.settings)
            .finish()
    }
}

impl KonProBuilder {
    /// One root for both KonPro hosts, as the sandbox serves them
    /// (`.base_url(sb.url(Provider::KonPro))`) or a proxy in front of both: the consent page,
    /// the token endpoints and the API are resolved below it. [`app_base_url`](Self::app_base_url)
    /// and [`api_base_url`](Self::api_base_url) override it per host.
    ///
    /// https, or http on a loopback IP literal; checked at [`build`](Self::build).
    pub fn base_url(mut self, url: impl IntoBaseUrl) -> Self {
        self.urls.set_root(url);
        self
    }

    /// The app host serving the consent page (`/oauth/authorize`), e.g. a staging deployment
    /// (default `https://app.konpro.ai`, or the [`base_url`](Self::base_url)).
    pub fn app_base_url(mut self, url: impl IntoBaseUrl) -> Self {
        self.urls.set("app", url);
        self
    }

    /// The API host serving the token endpoints and the API (default `https://api.konpro.ai`,
    /// or the [`base_url`](Self::base_url)).
    pub fn api_base_url(mut self, url: impl IntoBaseUrl) -> Self {
        self.urls.set("api", url);
        self
    }

    oauth_flow::builder_settings!(
        settings: store,
        transport,
        clock,
        refresh_margin,
        retry,
        lease_ttl,
        lease_wait,
        max_cached_grants,
    );

    /// Checks the settings (https URLs, or http on loopback; a non-empty client id; a valid
    /// redirect URI) and builds the client.
    pub fn build(self) -> Result<KonPro> {
        let urls = BaseUrls::new(
            self.urls.resolve("app", APP_BASE_URL)?,
            self.urls.resolve("api", API_BASE_URL)?,
        );
        let client = OAuthClient::builder(urls.profile()?, self.client_id)
            .redirect_uri(self.redirect_uri)
            .build()?;
        let transport = self.settings.transport_or_default(USER_AGENT)?;
        Ok(KonPro {
            inner: Arc::new(Inner {
                manager: self.settings.token_manager(client, transport.clone())?,
                transport,
                urls,
                retry: self.settings.retry_policy(),
            }),
        })
    }
}

impl KonPro {
    /// Starts a client with the `client_id` and `redirect_uri` KonPro registered for your app.
    /// The redirect URI is sent byte-identical in the authorize URL and the code exchange.
    pub fn builder(client_id: impl Into<String>, redirect_uri: impl Into<String>) -> KonProBuilder {
        KonProBuilder {
            client_id: client_id.into(),
            redirect_uri: redirect_uri.into(),
            urls: HostUrls::default(),
            settings: SdkSettings::default(),
        }
    }

    /// Step 1: the URL to send the user to (`/oauth/authorize` with `client_id`, a fresh
    /// `state`, `redirect_uri`, an S256 `code_challenge` and `response_type=code`), and the
    /// [`PendingAuthorization`] to keep until the callback (in a server-side session: it holds
    /// the state and the PKCE verifier).
    ///
    /// For more control (how long the callback may take, extra parameters) use
    /// `oauth_client().authorize()`.
    pub fn authorize_url(&self) -> Result<(Url, PendingAuthorization)> {
        Ok(self.oauth_client().authorize().build()?)
    }

    /// Steps 2 and 3: checks the callback (the full redirect URL, or its query string) against
    /// `pending` (state, redirect URI, `error=`), exchanges the code at `/v1/oauth/token`, saves
    /// the tokens for `subject`, and returns that user's [`KonProClient`].
    ///
    /// A callback with a wrong or missing `state`, on another redirect URI, or carrying an
    /// error fails with [`Error::Callback`](crate::Error::Callback) before any request is sent.
    pub async fn complete(
        &self,
        subject: &str,
        pending: PendingAuthorization,
        callback_url: &str,
    ) -> Result<KonProClient> {
        check_subject(subject)?;
        let code = pending.complete(callback_url)?;
        let grant = self.inner.manager.exchange_code(subject, code).await?;
        self.client_for(grant)
    }

    /// The [`KonProClient`] of `subject`, whose tokens were saved by an earlier
    /// [`complete`](Self::complete) (in this process or, with a persistent store, an earlier
    /// one). Nothing is read yet: calls fail with
    /// [`Error::ReauthorizationRequired`](crate::Error::ReauthorizationRequired) when the store
    /// holds no usable grant for them. [`restore`](Self::restore) checks first.
    pub fn client(&self, subject: &str) -> Result<KonProClient> {
        check_subject(subject)?;
        self.client_for(self.inner.manager.grant(subject))
    }

    /// The [`KonProClient`] of `subject` if the store holds tokens for them (they may still be
    /// rejected by KonPro), `None` if the user must log in: the start-up check of a
    /// command-line or desktop app.
    pub async fn restore(&self, subject: &str) -> Result<Option<KonProClient>> {
        check_subject(subject)?;
        let grant = self.inner.manager.grant(subject);
        if grant.token().await?.is_none() {
            return Ok(None);
        }
        self.client_for(grant).map(Some)
    }

    /// A [`KonProClient`] sending `api_key` as `X-API-KEY`, at this client's API base URL and
    /// with its transport and retry policy.
    pub fn api_key_client(&self, api_key: SecretString) -> Result<KonProClient> {
        KonProClient::assemble(
            Auth::ApiKey(api_key),
            self.inner.urls.api().clone(),
            self.inner.transport.clone(),
            self.inner.retry,
        )
    }

    /// The code exchange request [`complete`](Self::complete) sends, built without sending
    /// (sans-IO): `POST /v1/oauth/token` with `code`, `client_id`,
    /// `grant_type=authorization_code`, `redirect_uri` and `code_verifier` as a form.
    pub fn exchange_code_request(&self, code: &AuthorizedCode) -> Result<HttpRequest> {
        Ok(self.oauth_client().exchange_code_request(code)?)
    }

    /// The refresh request the token manager sends, built without sending (sans-IO):
    /// `POST /v1/oauth/refresh_token` with `client_id`, `grant_type=refresh_token` and
    /// `refresh_token` as a form.
    pub fn refresh_request(&self, refresh_token: &SecretString) -> Result<HttpRequest> {
        Ok(self.oauth_client().refresh_request(refresh_token)?)
    }

    /// The OAuth client of the core (profile, client id, redirect URI).
    pub fn oauth_client(&self) -> &OAuthClient {
        self.inner.manager.client()
    }

    /// The token manager (per-subject grants, the store).
    pub fn token_manager(&self) -> &TokenManager {
        &self.inner.manager
    }

    /// The base URLs in use.
    pub fn base_urls(&self) -> &BaseUrls {
        &self.inner.urls
    }

    pub(crate) fn client_for(&self, grant: GrantHandle) -> Result<KonProClient> {
        KonProClient::assemble(
            Auth::OAuth(grant),
            self.inner.urls.api().clone(),
            self.inner.transport.clone(),
            self.inner.retry,
        )
    }
}

pub(crate) fn check_subject(subject: &str) -> Result<()> {
    if subject.is_empty() {
        return Err(ConfigError::Empty("subject").into());
    }
    Ok(())
}
