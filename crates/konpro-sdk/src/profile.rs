//! KonPro's endpoints: production URLs and the [`ProviderProfile`] built from two base URLs.

use oauth_flow::{BodyEncoding, ClientAuth, Pkce, ProviderProfile, Url};

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

/// KonPro's two base URLs: the app (consent page) and the API (tokens and calls).
///
/// Production by default; point both at a staging deployment or at the sandbox (where both
/// hosts share one prefix, see [`BaseUrls::sandbox`]).
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
        Self::new(APP_BASE_URL, API_BASE_URL).expect("the production URLs are valid")
    }

    /// Two base URLs (https, or http on a loopback IP literal). A path prefix is kept: routes are
    /// resolved below it.
    pub fn new(app_base: &str, api_base: &str) -> Result<Self> {
        Ok(Self {
            app: base(app_base)?,
            api: base(api_base)?,
        })
    }

    /// One base URL for both hosts, as the sandbox serves them
    /// (`sandbox.url(Provider::KonPro)`, e.g. `http://127.0.0.1:PORT/konpro`).
    pub fn sandbox(base_url: &str) -> Result<Self> {
        Self::new(base_url, base_url)
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

fn base(value: &str) -> Result<Url> {
    Ok(oauth_flow::BaseUrl::parse(value)?.into_url())
}

fn join(base: &Url, path: &str) -> Result<Url> {
    base.join(path).map_err(|_| {
        oauth_flow::ConfigError::InvalidUrl {
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

    #[test]
    fn a_sandbox_prefix_serves_both_hosts() {
        let urls = BaseUrls::sandbox("http://127.0.0.1:4010/konpro").unwrap();
        assert_eq!(
            urls.authorize_url().unwrap().as_str(),
            "http://127.0.0.1:4010/konpro/oauth/authorize"
        );
        assert_eq!(
            urls.refresh_url().unwrap().as_str(),
            "http://127.0.0.1:4010/konpro/v1/oauth/refresh_token"
        );
    }

    #[test]
    fn s8_plain_http_off_loopback_is_refused() {
        let err = BaseUrls::new("http://app.konpro.ai", API_BASE_URL).unwrap_err();
        assert!(err.to_string().contains("must use https"), "{err}");
        assert!(BaseUrls::sandbox("https://staging.konpro.ai/?x=1").is_err());
    }
}
