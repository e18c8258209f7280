//! The Askara entry point, one per application serving many users, and its builder.

use std::fmt;
use std::sync::Arc;

use oauth_flow::{
    AuthorizationRequest, AuthorizedCode, BaseUrl, BodyEncoding, ClientAuth, ConfigError,
    GrantHandle, HostUrls, HttpRequest, IntoBaseUrl, OAuthClient, PendingAuthorization, Pkce,
    ProviderProfile, RetryPolicy, SdkSettings, SecretString, SpaceEncoding, TokenManager,
    TokenStore, Transport, Url,
};

use crate::client::AskaraClient;
use crate::error::Result;

/// The provider name used in grant keys and logs.
pub const PROVIDER: &str = "askara";
/// Production host of the authorization page (`{app}/authorize`), as Askara's guide gives it.
pub const DEFAULT_APP_BASE_URL: &str = "https://app.askara.loc";
/// Production host of the token endpoint (`{api}/oauth2/token`) and, by assumption, of the API
/// (the guide names no API endpoint).
pub const DEFAULT_API_BASE_URL: &str = "https://api.askara.ai";
/// Scope: the user's profile.
pub const SCOPE_PROFILE: &str = "profile";
/// Scope: the user's organization.
pub const SCOPE_ORGANIZATION: &str = "organization";
/// The scopes requested by default, as in Askara's guide (`scope=profile%20organization`).
pub const DEFAULT_SCOPES: [&str; 2] = [SCOPE_PROFILE, SCOPE_ORGANIZATION];

/// Askara for one application (client id, secret and redirect URI), serving many users: each
/// user's grant lives in the token store under a subject key the application chooses (a user
/// id, an account id), and [`client`](Self::client) gives that user's [`AskaraClient`].
///
/// Cheap to clone (an `Arc`); `Debug` never shows the secret.
#[derive(Clone)]
pub struct Askara {
    inner: Arc<Inner>,
}

struct Inner {
    manager: TokenManager,
    transport: Arc<dyn Transport>,
    api_base: BaseUrl,
    scopes: Vec<String>,
    retry: RetryPolicy,
}

impl fmt::Debug for Askara {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Askara")
            .field("client", self.inner.manager.client())
            .field("api_base", &self.inner.api_base.as_str())
            .field("scopes", &self.inner.scopes)
            .finish_non_exhaustive()
    }
}

impl Askara {
    /// Starts configuring Askara for the application registered with Askara as `client_id` /
    /// `client_secret`, whose callback is `redirect_uri` (sent byte-identical in the authorize
    /// URL and the code exchange).
    pub fn builder(
        client_id: impl Into<String>,
        client_secret: impl Into<SecretString>,
        redirect_uri: impl Into<String>,
    ) -> AskaraBuilder {
        AskaraBuilder {
            client_id: client_id.into(),
            client_secret: client_secret.into(),
            redirect_uri: redirect_uri.into(),
            urls: HostUrls::default(),
            scopes: DEFAULT_SCOPES.iter().map(|s| (*s).to_owned()).collect(),
            settings: SdkSettings::default(),
        }
    }

    /// Step 1 of Askara's guide: the URL to send the user to, and the
    /// [`PendingAuthorization`] to keep until the callback (it holds the fresh `state`).
    ///
    /// `https://app.askara.loc/authorize?response_type=code&client_id=…&redirect_uri=…&scope=profile%20organization&state=…`
    pub fn authorize_url(&self) -> Result<(Url, PendingAuthorization)> {
        Ok(self.authorization().build()?)
    }

    /// The authorization request with this client's scopes, to adjust before
    /// [`build`](AuthorizationRequest::build) (e.g. a different `max_age`).
    pub fn authorization(&self) -> AuthorizationRequest<'_> {
        self.inner
            .manager
            .client()
            .authorize()
            .scopes(self.inner.scopes.iter())
    }

    /// Steps 2 and 3: checks the callback (the full redirect URL or its query string) against
    /// `pending` (state, redirect URI; `error=access_denied` becomes
    /// [`Error::Callback`](crate::Error::Callback)), exchanges the code, saves the
    /// tokens under `subject` and returns that user's client.
    pub async fn complete(
        &self,
        subject: &str,
        pending: PendingAuthorization,
        callback: &str,
    ) -> Result<AskaraClient> {
        let code = pending.complete(callback)?;
        self.exchange_code(subject, code).await
    }

    /// Step 3 alone: exchanges a code obtained with [`PendingAuthorization::complete`]. The
    /// code is sent once and never retried.
    pub async fn exchange_code(&self, subject: &str, code: AuthorizedCode) -> Result<AskaraClient> {
        let grant = self.inner.manager.exchange_code(subject, code).await?;
        self.client_for(grant)
    }

    /// The client of `subject`, whose tokens are read from the store when first needed (e.g.
    /// after a restart). If nothing is stored, calls fail with
    /// [`Error::ReauthorizationRequired`](crate::Error::ReauthorizationRequired).
    pub fn client(&self, subject: &str) -> Result<AskaraClient> {
        self.client_for(self.inner.manager.grant(subject))
    }

    /// The client of `subject` if the store holds tokens for it, `None` otherwise: the check
    /// to make at start-up before sending a user through the authorization again.
    pub async fn restore(&self, subject: &str) -> Result<Option<AskaraClient>> {
        let client = self.client(subject)?;
        Ok(client.token().await?.map(|_| client))
    }

    fn client_for(&self, grant: GrantHandle) -> Result<AskaraClient> {
        AskaraClient::new(
            grant,
            &self.inner.api_base,
            self.inner.transport.clone(),
            self.inner.retry,
        )
    }

    /// The code exchange request, built but not sent (for inspection and snapshot tests).
    pub fn exchange_code_request(&self, code: &AuthorizedCode) -> Result<HttpRequest> {
        Ok(self.inner.manager.client().exchange_code_request(code)?)
    }

    /// The refresh request, built but not sent (for inspection and snapshot tests).
    pub fn refresh_request(&self, refresh_token: &SecretString) -> Result<HttpRequest> {
        Ok(self.inner.manager.client().refresh_request(refresh_token)?)
    }

    /// The underlying OAuth client (profile, client id, redirect URI).
    pub fn oauth_client(&self) -> &OAuthClient {
        self.inner.manager.client()
    }

    /// The token manager (for advanced uses: grants by key, inserting migrated tokens).
    pub fn token_manager(&self) -> &TokenManager {
        &self.inner.manager
    }

    /// The token store.
    pub fn store(&self) -> &Arc<dyn TokenStore> {
        self.inner.manager.store()
    }

    /// The API base URL.
    pub fn api_base_url(&self) -> &Url {
        self.inner.api_base.as_url()
    }

    /// The scopes requested in the authorize URL.
    pub fn scopes(&self) -> &[String] {
        &self.inner.scopes
    }
}

/// Builder for [`Askara`]; checked at [`build`](Self::build).
#[must_use]
pub struct AskaraBuilder {
    client_id: String,
    client_secret: SecretString,
    redirect_uri: String,
    // Checked when set, reported at `build` (so the setters stay chainable) and resolved there:
    // a per-host URL wins over `base` whatever the order of the calls.
    urls: HostUrls,
    scopes: Vec<String>,
    settings: SdkSettings,
}

impl fmt::Debug for AskaraBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AskaraBuilder")
            .field("client_id", &self.client_id)
            .field("client_secret", &"[redacted]")
            .field("redirect_uri", &self.redirect_uri)
            .field("urls", &self.urls)
            .field("scopes", &self.scopes)
            .field("settings", &self.settings)
            .finish()
    }
}

impl AskaraBuilder {
    /// Points both Askara hosts (the authorization page and the token/API host) at one base
    /// URL: a staging server, or the sandbox's `sb.url(Provider::Askara)`.
    /// [`app_base_url`](Self::app_base_url) and [`api_base_url`](Self::api_base_url) override
    /// it per host, whichever is called first. Checked at [`build`](Self::build): https, or
    /// http on a loopback IP literal.
    pub fn base_url(mut self, url: impl IntoBaseUrl) -> Self {
        self.urls.set_root(url);
        self
    }
    /// The host of the authorization page; the authorize URL is `{url}/authorize`. It wins
    /// over [`base_url`](Self::base_url) whatever the order of the calls; without either,
    /// [`DEFAULT_APP_BASE_URL`].
    pub fn app_base_url(mut self, url: impl IntoBaseUrl) -> Self {
        self.urls.set("app", url);
        self
    }
    /// The host of the token endpoint and the API; the token endpoint is
    /// `{url}/oauth2/token`, API paths such as `v1/profile` join below it. It wins over
    /// [`base_url`](Self::base_url) whatever the order of the calls; without either,
    /// [`DEFAULT_API_BASE_URL`].
    pub fn api_base_url(mut self, url: impl IntoBaseUrl) -> Self {
        self.urls.set("api", url);
        self
    }
    /// The scopes to request (default `profile organization`).
    pub fn scopes<I, S>(mut self, scopes: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.scopes = scopes.into_iter().map(Into::into).collect();
        self
    }
    oauth_flow::builder_settings!(
        settings: store, transport, clock, refresh_margin, retry, lease_ttl, lease_wait,
        max_cached_grants
    );

    /// Validates the configuration (https URLs, or http on loopback; a client id, secret and
    /// scopes) and builds the client. Nothing is sent.
    pub fn build(self) -> Result<Askara> {
        if self.scopes.iter().all(|s| s.trim().is_empty()) {
            return Err(ConfigError::Empty("scopes").into());
        }
        let app = self.urls.resolve("app", DEFAULT_APP_BASE_URL)?;
        let api_base = self.urls.resolve("api", DEFAULT_API_BASE_URL)?;
        let profile = ProviderProfile::builder(PROVIDER, api_base.join("oauth2/token")?.as_str())
            .authorize_url(app.join("authorize")?.as_str())
            .encoding(BodyEncoding::Json)
            .client_auth(ClientAuth::SecretPost)
            .space_encoding(SpaceEncoding::Percent20)
            .pkce(Pkce::Disabled)
            .build()?;
        let client = OAuthClient::builder(profile, self.client_id)
            .client_secret(self.client_secret)
            .redirect_uri(self.redirect_uri)
            .build()?;
        let transport = self
            .settings
            .transport_or_default(concat!("askara-sdk/", env!("CARGO_PKG_VERSION")))?;
        let manager = self.settings.token_manager(client, transport.clone())?;
        Ok(Askara {
            inner: Arc::new(Inner {
                manager,
                transport,
                api_base,
                scopes: self.scopes,
                retry: self.settings.retry_policy(),
            }),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Error;

    fn builder() -> AskaraBuilder {
        Askara::builder(
            "client-id",
            "s3cr3t-value".to_owned(),
            "https://app.example/callback",
        )
    }

    fn refused_base_url(b: AskaraBuilder) -> bool {
        matches!(
            b.build(),
            Err(Error::Config(ConfigError::InvalidBaseUrl { .. }))
        )
    }

    #[test]
    fn s8_plain_http_is_refused_outside_loopback() {
        assert!(refused_base_url(
            builder().base_url("http://askara.example")
        ));
        assert!(
            builder()
                .base_url("http://127.0.0.1:8080/askara/")
                .build()
                .is_ok()
        );
    }

    #[test]
    fn base_urls_take_strings_urls_and_base_urls() {
        let url = Url::parse("http://127.0.0.1:8080/askara").unwrap();
        let by_url = builder().base_url(url.clone()).build().unwrap();
        let base = BaseUrl::from_url(url).unwrap();
        let by_base = builder().base_url(&base).build().unwrap();
        for c in [&by_url, &by_base] {
            assert_eq!(c.api_base_url().as_str(), "http://127.0.0.1:8080/askara/");
            assert_eq!(
                c.oauth_client().profile().authorize_url().map(Url::as_str),
                Some("http://127.0.0.1:8080/askara/authorize")
            );
        }
        // A bad URL is reported at `build` where it is used: not when both hosts override it,
        // whatever the order of the calls.
        assert!(refused_base_url(builder().api_base_url("not a url")));
        assert!(refused_base_url(
            builder()
                .base_url("https://askara.example?x=1")
                .app_base_url("https://app.askara.example")
        ));
        assert!(refused_base_url(
            builder()
                .api_base_url("https://api.askara.example")
                .base_url("https://askara.example?x=1")
        ));
        for b in [
            builder()
                .base_url("https://askara.example?x=1")
                .app_base_url("https://app.askara.example")
                .api_base_url(String::from("https://api.askara.example")),
            builder()
                .app_base_url("https://app.askara.example")
                .api_base_url(String::from("https://api.askara.example"))
                .base_url("https://askara.example?x=1"),
        ] {
            assert!(b.build().is_ok());
        }
    }

    /// A per-host URL wins over `base_url` whatever the order of the calls, as in KonPro; the
    /// other host follows `base_url`.
    #[test]
    fn a_per_host_url_wins_over_base_url_in_any_order() {
        let (api, base) = (
            "https://api.staging.askara.example/",
            "https://askara.example/",
        );
        for c in [
            builder().api_base_url(api).base_url(base),
            builder().base_url(base).api_base_url(api),
        ] {
            let c = c.build().unwrap();
            assert_eq!(c.api_base_url().as_str(), api);
            let profile = c.oauth_client().profile();
            assert_eq!(
                profile.token_url().as_str(),
                "https://api.staging.askara.example/oauth2/token"
            );
            assert_eq!(
                profile.authorize_url().map(Url::as_str),
                Some("https://askara.example/authorize")
            );
        }
        let app = "https://app.staging.askara.example/";
        for c in [
            builder().app_base_url(app).base_url(base),
            builder().base_url(base).app_base_url(app),
        ] {
            let c = c.build().unwrap();
            assert_eq!(c.api_base_url().as_str(), base);
            assert_eq!(
                c.oauth_client().profile().authorize_url().map(Url::as_str),
                Some("https://app.staging.askara.example/authorize")
            );
        }
    }

    #[test]
    fn empty_scopes_and_client_id_are_refused() {
        assert!(builder().scopes(Vec::<String>::new()).build().is_err());
        let err = Askara::builder("", "x".to_owned(), "https://a.example/cb")
            .build()
            .unwrap_err();
        assert!(matches!(
            err,
            Error::Config(ConfigError::Empty("client_id"))
        ));
    }

    #[test]
    fn s25_debug_never_shows_the_secret() {
        let b = builder();
        assert!(!format!("{b:?}").contains("s3cr3t-value"));
        let client = b.build().unwrap();
        assert!(!format!("{client:?}").contains("s3cr3t-value"));
    }

    #[test]
    fn production_urls_by_default() {
        let client = builder().build().unwrap();
        let profile = client.oauth_client().profile();
        assert_eq!(
            profile.authorize_url().map(Url::as_str),
            Some("https://app.askara.loc/authorize")
        );
        assert_eq!(
            profile.token_url().as_str(),
            "https://api.askara.ai/oauth2/token"
        );
        assert_eq!(
            profile.refresh_url().as_str(),
            "https://api.askara.ai/oauth2/token"
        );
        assert_eq!(client.api_base_url().as_str(), "https://api.askara.ai/");
    }
}
