//! Where Kustomer lives (two hosts) and the entry point, [`Kustomer`], with the settings every
//! client it makes shares. Its constructors of the app-management, OAuth and API clients sit
//! beside those clients (`apps.rs`, `oauth.rs`, `api.rs`), so this file imports none of them.

use std::fmt;
use std::sync::Arc;

use oauth_flow::{
    ApiClient, CredentialSource, HostUrls, IntoBaseUrl, MemoryStore, RetryPolicy, SdkSettings,
    Transport, Url,
};

use crate::error::Result;

/// The REST API host: app registration, secret generation, customers, conversations.
pub const API_BASE_URL: &str = "https://api.kustomerapp.com";
/// The OAuth host: `/oauth/authorize` and `/oauth/token`.
pub const OAUTH_BASE_URL: &str = "https://api.apps.kustomerapp.com";

/// The user agent of the default transport.
const USER_AGENT: &str = concat!("kustomer-sdk/", env!("CARGO_PKG_VERSION"));

/// The entry point: Kustomer's two base URLs, one transport and the token settings, shared by
/// the app-management client ([`apps`](Self::apps)), the OAuth flow ([`oauth`](Self::oauth),
/// whose per-user [`KustomerClient`](crate::KustomerClient)s it makes) and the API-key client
/// ([`api_key_client`](Self::api_key_client)).
///
/// Cheap to clone.
#[derive(Clone)]
pub struct Kustomer {
    pub(crate) api_base: Url,
    pub(crate) oauth_base: Url,
    pub(crate) transport: Arc<dyn Transport>,
    pub(crate) retry: RetryPolicy,
    /// What [`KustomerOAuth`](crate::KustomerOAuth)'s token manager is built with.
    pub(crate) settings: SdkSettings,
}

impl fmt::Debug for Kustomer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Kustomer")
            .field("api_base", &self.api_base.as_str())
            .field("oauth_base", &self.oauth_base.as_str())
            .field("retry", &self.retry)
            .finish_non_exhaustive()
    }
}

/// Builder for [`Kustomer`]; URLs and settings are checked at [`build`](Self::build). Every
/// setting here holds for the OAuth flows made by [`Kustomer::oauth`] too.
#[must_use]
pub struct KustomerBuilder {
    urls: HostUrls,
    settings: SdkSettings,
}

impl fmt::Debug for KustomerBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KustomerBuilder")
            .field("urls", &self.urls)
            .field("settings", &self.settings)
            .finish()
    }
}

impl KustomerBuilder {
    /// One root for **both** hosts: the sandbox (`sb.url(Provider::Kustomer)`), a staging
    /// server or a proxy that serves the API and OAuth routes under one prefix.
    /// [`api_base_url`](Self::api_base_url) and [`oauth_base_url`](Self::oauth_base_url)
    /// override it per host, whichever is called first.
    ///
    /// https, or http on a loopback IP literal; checked at [`build`](Self::build).
    pub fn base_url(mut self, url: impl IntoBaseUrl) -> Self {
        self.urls.set_root(url);
        self
    }
    /// The REST API base (default [`API_BASE_URL`], or the [`base_url`](Self::base_url)); wins
    /// over [`base_url`](Self::base_url) whatever the call order.
    pub fn api_base_url(mut self, url: impl IntoBaseUrl) -> Self {
        self.urls.set("api", url);
        self
    }
    /// The OAuth base (default [`OAUTH_BASE_URL`], or the [`base_url`](Self::base_url)); wins
    /// over [`base_url`](Self::base_url) whatever the call order.
    pub fn oauth_base_url(mut self, url: impl IntoBaseUrl) -> Self {
        self.urls.set("oauth", url);
        self
    }

    oauth_flow::builder_settings!(
        settings: store,
        clock,
        refresh_margin,
        lease_ttl,
        lease_wait,
        max_cached_grants,
        transport,
        retry,
    );

    /// Checks the URLs (https, or http on loopback) and the token settings (a refresh margin
    /// of at most 5 minutes, a non-zero lease TTL), and builds.
    pub fn build(mut self) -> Result<Kustomer> {
        let api_base = self.urls.resolve("api", API_BASE_URL)?.into_url();
        let oauth_base = self.urls.resolve("oauth", OAUTH_BASE_URL)?.into_url();
        // Checked here rather than at each `oauth(..).build()`, so a bad setting fails at start-up.
        self.settings.manager.validate()?;
        // One store for every flow of this `Kustomer` and its clones: without it each
        // `oauth(..).build()` would make its own memory store and miss the others' logins.
        if self.settings.manager.store.is_none() {
            self.settings.manager.store = Some(Arc::new(MemoryStore::new()));
        }
        let transport = self.settings.transport_or_default(USER_AGENT)?;
        Ok(Kustomer {
            api_base,
            oauth_base,
            transport,
            retry: self.settings.retry_policy(),
            settings: self.settings,
        })
    }
}

impl Kustomer {
    /// Production: [`API_BASE_URL`] and [`OAUTH_BASE_URL`], the default settings.
    pub fn new() -> Result<Self> {
        Self::builder().build()
    }

    /// Starts a builder with the production URLs.
    pub fn builder() -> KustomerBuilder {
        KustomerBuilder {
            urls: HostUrls::default(),
            settings: SdkSettings::default(),
        }
    }

    /// The REST API base URL (ends with `/`).
    pub fn api_base_url(&self) -> &Url {
        &self.api_base
    }

    /// The OAuth base URL (ends with `/`).
    pub fn oauth_base_url(&self) -> &Url {
        &self.oauth_base
    }

    /// The transport.
    pub fn transport(&self) -> &Arc<dyn Transport> {
        &self.transport
    }

    pub(crate) fn api_client(&self, credentials: Arc<dyn CredentialSource>) -> Result<ApiClient> {
        Ok(
            ApiClient::builder(self.api_base.as_str(), self.transport.clone(), credentials)
                .retry(self.retry)
                .build()?,
        )
    }
}
