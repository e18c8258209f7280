//! Where Kustomer lives (two hosts) and the entry point, [`Kustomer`]. Its constructors of
//! the app-management, OAuth and API clients sit beside those clients (`apps.rs`, `oauth.rs`,
//! `api.rs`), so this file imports none of them.

use std::fmt;
use std::sync::Arc;

use oauth_flow::{ApiClient, CredentialSource, ReqwestTransport, RetryPolicy, Transport, Url};

use crate::error::Result;

/// The REST API host: app registration, secret generation, customers, conversations.
pub const API_BASE_URL: &str = "https://api.kustomerapp.com";
/// The OAuth host: `/oauth/authorize` and `/oauth/token`.
pub const OAUTH_BASE_URL: &str = "https://api.apps.kustomerapp.com";

/// The entry point: Kustomer's two base URLs and one transport, shared by the app-management
/// client ([`apps`](Self::apps)), the OAuth flow ([`oauth`](Self::oauth)) and the typed API
/// clients ([`client_with_api_key`](Self::client_with_api_key),
/// [`client_with_grant`](Self::client_with_grant)).
///
/// Cheap to clone.
#[derive(Clone)]
pub struct Kustomer {
    pub(crate) api_base: Url,
    pub(crate) oauth_base: Url,
    pub(crate) transport: Arc<dyn Transport>,
    pub(crate) retry: RetryPolicy,
}

impl fmt::Debug for Kustomer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Kustomer")
            .field("api_base", &self.api_base.as_str())
            .field("oauth_base", &self.oauth_base.as_str())
            .finish_non_exhaustive()
    }
}

/// Builder for [`Kustomer`]; URLs are checked at [`build`](Self::build).
#[must_use]
pub struct KustomerBuilder {
    api_base: String,
    oauth_base: String,
    transport: Option<Arc<dyn Transport>>,
    retry: RetryPolicy,
}

impl fmt::Debug for KustomerBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KustomerBuilder")
            .field("api_base", &self.api_base)
            .field("oauth_base", &self.oauth_base)
            .finish_non_exhaustive()
    }
}

impl KustomerBuilder {
    /// Points **both** hosts at one base URL: the sandbox (`sb.url(Provider::Kustomer)`) or a
    /// proxy that serves the API and OAuth routes under one prefix.
    pub fn base_url(mut self, url: impl Into<String>) -> Self {
        let url = url.into();
        self.api_base = url.clone();
        self.oauth_base = url;
        self
    }
    /// The REST API base (default [`API_BASE_URL`]).
    pub fn api_base_url(mut self, url: impl Into<String>) -> Self {
        self.api_base = url.into();
        self
    }
    /// The OAuth base (default [`OAUTH_BASE_URL`]).
    pub fn oauth_base_url(mut self, url: impl Into<String>) -> Self {
        self.oauth_base = url.into();
        self
    }
    /// The transport (default: [`ReqwestTransport`] with its timeouts and body cap).
    pub fn transport(mut self, transport: Arc<dyn Transport>) -> Self {
        self.transport = Some(transport);
        self
    }
    /// How API calls retry 429/503 (idempotent methods only; default: 3 attempts).
    pub fn retry(mut self, retry: RetryPolicy) -> Self {
        self.retry = retry;
        self
    }

    /// Checks the URLs (https, or http on loopback) and builds.
    pub fn build(self) -> Result<Kustomer> {
        let api_base = parse_base(&self.api_base)?;
        let oauth_base = parse_base(&self.oauth_base)?;
        let transport = match self.transport {
            Some(t) => t,
            None => Arc::new(ReqwestTransport::new()?),
        };
        Ok(Kustomer {
            api_base,
            oauth_base,
            transport,
            retry: self.retry,
        })
    }
}

/// A base URL: https (or http on loopback), no query or fragment, with a trailing `/` so paths
/// join below it.
fn parse_base(raw: &str) -> Result<Url> {
    Ok(oauth_flow::BaseUrl::parse(raw)
        .map_err(oauth_flow::Error::from)?
        .into_url())
}

impl Kustomer {
    /// Production: [`API_BASE_URL`] and [`OAUTH_BASE_URL`], the default transport.
    pub fn new() -> Result<Self> {
        Self::builder().build()
    }

    /// Starts a builder with the production URLs.
    pub fn builder() -> KustomerBuilder {
        KustomerBuilder {
            api_base: API_BASE_URL.to_owned(),
            oauth_base: OAUTH_BASE_URL.to_owned(),
            transport: None,
            retry: RetryPolicy::default(),
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
