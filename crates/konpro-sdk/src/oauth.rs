//! [`KonPro`]: the OAuth side. One value serves every user of an app: it builds login URLs,
//! completes callbacks, and hands out a [`Client`] per user whose tokens refresh themselves.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use oauth_flow::{
    AuthorizedCode, Clock, ConfigError, GrantHandle, HttpRequest, ManagerSettings, OAuthClient,
    PendingAuthorization, RetryPolicy, SecretString, TokenManager, TokenStore, Transport, Url,
};

use crate::client::{Auth, Client, default_transport};
use crate::error::Result;
use crate::profile::BaseUrls;

/// KonPro's OAuth 2.0 client (Authorization Code + PKCE S256, public client: no secret).
///
/// Cheap to clone; share one per application. Tokens are kept per *subject*, a user key your
/// app chooses (a user id, an email, a session id), in the [`TokenStore`] given to the builder
/// (in memory by default).
///
/// ```no_run
/// # async fn run(callback_url: &str) -> konpro_sdk::Result<()> {
/// use konpro_sdk::KonPro;
///
/// let konpro = KonPro::builder("my-client-id", "https://example.com/oauth/callback").build()?;
/// let (url, pending) = konpro.login_url()?;     // redirect the user to `url`, keep `pending`
/// // ... KonPro redirects back to https://example.com/oauth/callback?code=...&state=...
/// let client = konpro.complete_login("user-42", pending, callback_url).await?;
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
    urls: Option<(String, String)>,
    manager: ManagerSettings,
    transport: Option<Arc<dyn Transport>>,
    retry: RetryPolicy,
}

impl fmt::Debug for KonProBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KonProBuilder")
            .field("client_id", &self.client_id)
            .field("redirect_uri", &self.redirect_uri)
            .field("urls", &self.urls)
            .finish_non_exhaustive()
    }
}

impl KonProBuilder {
    /// Both base URLs, e.g. a staging deployment: `app_base` serves the consent page
    /// (`/oauth/authorize`), `api_base` the token endpoints and the API (default
    /// `https://app.konpro.ai` and `https://api.konpro.ai`).
    pub fn base_urls(mut self, app_base: impl Into<String>, api_base: impl Into<String>) -> Self {
        self.urls = Some((app_base.into(), api_base.into()));
        self
    }

    /// Points every KonPro host at one base URL, as the sandbox serves them:
    /// `.sandbox(sandbox.url(Provider::KonPro))`.
    pub fn sandbox(self, base_url: impl Into<String>) -> Self {
        let url = base_url.into();
        self.base_urls(url.clone(), url)
    }

    /// Where tokens are persisted, keyed by subject (default: in memory). Use
    /// [`oauth_flow::FileStore`] or your own [`TokenStore`] so logins survive restarts.
    pub fn store(mut self, store: Arc<dyn TokenStore>) -> Self {
        self.manager.store = Some(store);
        self
    }

    /// The transport for token and API requests (default: a [`oauth_flow::ReqwestTransport`]
    /// with redirects off and timeouts on).
    pub fn transport(mut self, transport: Arc<dyn Transport>) -> Self {
        self.transport = Some(transport);
        self
    }

    /// The clock deciding when tokens are due for refresh (default: the system clock).
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.manager.clock = Some(clock);
        self
    }

    /// How long before expiry access tokens are refreshed (default 60 s, at most 5 minutes).
    pub fn refresh_margin(mut self, margin: Duration) -> Self {
        self.manager.refresh_margin = Some(margin);
        self
    }

    /// How API calls retry 429 and 503 answers (default: 3 attempts, 30 s of waiting at most).
    pub fn retry(mut self, retry: RetryPolicy) -> Self {
        self.retry = retry;
        self
    }

    /// Checks the settings (https URLs, or http on loopback; a non-empty client id; a valid
    /// redirect URI) and builds the client.
    pub fn build(self) -> Result<KonPro> {
        let urls = match &self.urls {
            Some((app, api)) => BaseUrls::new(app, api)?,
            None => BaseUrls::production(),
        };
        let client = OAuthClient::builder(urls.profile()?, self.client_id)
            .redirect_uri(self.redirect_uri)
            .build()?;
        let transport = match self.transport {
            Some(t) => t,
            None => default_transport()?,
        };
        let manager = TokenManager::builder(client, transport.clone()).settings(self.manager);
        Ok(KonPro {
            inner: Arc::new(Inner {
                manager: manager.build()?,
                transport,
                urls,
                retry: self.retry,
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
            urls: None,
            manager: ManagerSettings::default(),
            transport: None,
            retry: RetryPolicy::default(),
        }
    }

    /// Step 1: the URL to send the user to (`/oauth/authorize` with `client_id`, a fresh
    /// `state`, `redirect_uri`, an S256 `code_challenge` and `response_type=code`), and the
    /// [`PendingAuthorization`] to keep until the callback (in a server-side session: it holds
    /// the state and the PKCE verifier).
    ///
    /// For more control (how long the callback may take, extra parameters) use
    /// `oauth_client().authorize()`.
    pub fn login_url(&self) -> Result<(Url, PendingAuthorization)> {
        Ok(self.oauth_client().authorize().build()?)
    }

    /// Steps 2 and 3: checks the callback (the full redirect URL, or its query string) against
    /// `pending` (state, redirect URI, `error=`), exchanges the code at `/v1/oauth/token`, saves
    /// the tokens for `subject`, and returns that user's [`Client`].
    ///
    /// A callback with a wrong or missing `state`, on another redirect URI, or carrying an
    /// error fails with [`Error::Callback`](crate::Error::Callback) before any request is sent.
    pub async fn complete_login(
        &self,
        subject: &str,
        pending: PendingAuthorization,
        callback: &str,
    ) -> Result<Client> {
        check_subject(subject)?;
        let code = pending.complete(callback)?;
        let grant = self.inner.manager.exchange_code(subject, code).await?;
        self.client_for(grant)
    }

    /// The [`Client`] of `subject`, whose tokens were saved by an earlier
    /// [`complete_login`](Self::complete_login) (in this process or, with a persistent store,
    /// an earlier one). Calls fail with
    /// [`Error::ReauthorizationRequired`](crate::Error::ReauthorizationRequired) when the store
    /// holds no usable grant for them.
    pub fn client(&self, subject: &str) -> Result<Client> {
        check_subject(subject)?;
        self.client_for(self.inner.manager.grant(subject))
    }

    /// A [`Client`] sending `api_key` as `X-API-KEY`, at this client's API base URL and with
    /// its transport.
    pub fn api_key_client(&self, api_key: SecretString) -> Result<Client> {
        Client::assemble(
            Auth::ApiKey(api_key),
            self.inner.urls.api().clone(),
            self.inner.transport.clone(),
            self.inner.retry,
        )
    }

    /// Whether the store holds tokens for `subject` (they may still be rejected by KonPro).
    pub async fn is_logged_in(&self, subject: &str) -> Result<bool> {
        check_subject(subject)?;
        Ok(self.inner.manager.grant(subject).token().await?.is_some())
    }

    /// Forgets `subject`'s tokens, in memory and in the store. KonPro documents no revocation
    /// endpoint, so the tokens stay valid at KonPro until they expire.
    pub async fn logout(&self, subject: &str) -> Result<()> {
        check_subject(subject)?;
        Ok(self.inner.manager.grant(subject).forget().await?)
    }

    /// The code exchange request `complete_login` sends, built without sending (sans-IO):
    /// `POST /v1/oauth/token` with `code`, `client_id`, `grant_type=authorization_code`,
    /// `redirect_uri` and `code_verifier` as a form.
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

    pub(crate) fn client_for(&self, grant: GrantHandle) -> Result<Client> {
        Client::assemble(
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
