//! KonPro's endpoints: production URLs and the [`ProviderProfile`] built from two base URLs.

use oauth_flow::{BaseUrl, BodyEncoding, ClientAuth, ConfigError, Pkce, ProviderProfile, Url};

use crate::error::Result;

/// The provider name used in grant keys and logs.
pub const PROVIDER: &str = "konpro";
/// Production base URL of KonPro's web app (the consent page).
pub const APP_BASE_URL: &str = "https://app.konpro.ai";
/// Production base URL of KonPro's API (token endpoints and API calls).
pub const API_BASE_URL: &str = "https://api.konpro.ai";
/// Authorization endpoint, relative to the app base URL.
pub const AUTHORIZE_PATH: &str = "oauth/authorize";
/// Token endpoint (code exchange), relative to the API base URL.
pub const TOKEN_PATH: &str = "v1/oauth/token";
/// Refresh endpoint, relative to the API base URL (KonPro refreshes apart from the token
/// endpoint).
pub const REFRESH_PATH: &str = "v1/oauth/refresh_token";

/// KonPro's two base URLs: the app (consent page) and the API (tokens and calls), as
/// [`KonPro::base_urls`](crate::KonPro::base_urls) reports them.
///
/// Production by default; set them with [`KonProBuilder::base_url`](crate::KonProBuilder::base_url)
/// (both hosts under one root, as the sandbox serves them) or
/// [`app_base_url`](crate::KonProBuilder::app_base_url) and
/// [`api_base_url`](crate::KonProBuilder::api_base_url).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BaseUrls {
    app: Url,
    api: Url,
}

impl BaseUrls {
    /// Production: `https://app.konpro.ai` and `https://api.konpro.ai`.
    // The two constants are valid https URLs (checked by a unit test), so this cannot fail.
    #[allow(clippy::expect_used)]
    pub fn production() -> Self {
        let parse = |url| BaseUrl::parse(url).expect("the production URLs are valid");
        Self::new(parse(APP_BASE_URL), parse(API_BASE_URL))
    }

    /// The two checked base URLs (their path prefix kept: routes resolve below it).
    pub(crate) fn new(app: BaseUrl, api: BaseUrl) -> Self {
        Self {
            app: app.into_url(),
            api: api.into_url(),
        }
    }

    /// The app base URL (always ending in `/`).
    pub fn app(&self) -> &Url {
        &self.app
    }

    /// The API base URL (always ending in `/`).
    pub fn api(&self) -> &Url {
        &self.api
    }

    /// The authorization endpoint.
    pub fn authorize_url(&self) -> Result<Url> {
        join(&self.app, AUTHORIZE_PATH)
    }

    /// The token endpoint.
    pub fn token_url(&self) -> Result<Url> {
        join(&self.api, TOKEN_PATH)
    }

    /// The refresh endpoint.
    pub fn refresh_url(&self) -> Result<Url> {
        join(&self.api, REFRESH_PATH)
    }

    /// KonPro's OAuth profile at these URLs: form bodies, a public client (`client_id` in the
    /// body, no secret), PKCE S256, refresh at its own endpoint.
    pub fn profile(&self) -> Result<ProviderProfile> {
        Ok(
            ProviderProfile::builder(PROVIDER, self.token_url()?.as_str())
                .authorize_url(self.authorize_url()?.as_str())
                .refresh_url(self.refresh_url()?.as_str())
                .encoding(BodyEncoding::Form)
                .client_auth(ClientAuth::None)
                .pkce(Pkce::S256)
                .build()?,
        )
    }
}

impl Default for BaseUrls {
    fn default() -> Self {
        Self::production()
    }
}

fn join(base: &Url, path: &str) -> Result<Url> {
    base.join(path).map_err(|_| {
        ConfigError::InvalidUrl {
            name: "KonPro endpoint",
        }
        .into()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn production_endpoints_match_the_documentation() {
        let urls = BaseUrls::production();
        assert_eq!(
            urls.authorize_url().unwrap().as_str(),
            "https://app.konpro.ai/oauth/authorize"
        );
        assert_eq!(
            urls.token_url().unwrap().as_str(),
            "https://api.konpro.ai/v1/oauth/token"
        );
        assert_eq!(
            urls.refresh_url().unwrap().as_str(),
            "https://api.konpro.ai/v1/oauth/refresh_token"
        );
        let p = urls.profile().unwrap();
        assert_eq!(p.pkce(), Pkce::S256);
        assert_eq!(p.client_auth(), ClientAuth::None);
        assert_eq!(p.encoding(), BodyEncoding::Form);
        assert_eq!(
            p.refresh_url().as_str(),
            "https://api.konpro.ai/v1/oauth/refresh_token"
        );
    }

    fn base(url: &str) -> BaseUrl {
        BaseUrl::parse(url).unwrap()
    }

    #[test]
    fn a_sandbox_prefix_serves_both_hosts() {
        let root = base("http://127.0.0.1:4010/konpro");
        let urls = BaseUrls::new(root.clone(), root);
        assert_eq!(
            urls.authorize_url().unwrap().as_str(),
            "http://127.0.0.1:4010/konpro/oauth/authorize"
        );
        assert_eq!(
            urls.refresh_url().unwrap().as_str(),
            "http://127.0.0.1:4010/konpro/v1/oauth/refresh_token"
        );
    }
}
