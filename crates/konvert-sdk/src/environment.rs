//! Where the Konvert API lives: production or staging. A builder's
//! [`base_url`](crate::KonvertClientBuilder::base_url) points either at another host.

/// Production host: GraphQL at `/api`, tokens at `/oauth/token`.
pub const PRODUCTION_BASE_URL: &str = "https://api.konvertapp.com";
/// Staging host (different data; use it only when Konvert support asks you to).
pub const STAGING_BASE_URL: &str = "https://api.staging.konvertapp.com";
/// Path of the GraphQL endpoint below the base URL (every operation is a `POST` there).
pub const API_PATH: &str = "api";
/// Path of the OAuth 2.0 token endpoint below the base URL (client credentials only).
pub const TOKEN_PATH: &str = "oauth/token";

/// A Konvert deployment. The GraphQL endpoint is `{base}/api` and the token endpoint
/// `{base}/oauth/token` on the same host.
///
/// To reach a deployment at another URL (a staging emulator, a proxy, the workspace's
/// sandbox), keep the environment and override its URL with
/// [`KonvertClientBuilder::base_url`](crate::KonvertClientBuilder::base_url).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum Environment {
    /// `https://api.konvertapp.com`.
    #[default]
    Production,
    /// `https://api.staging.konvertapp.com`.
    Staging,
}

impl Environment {
    /// The documented base URL, without a trailing `/`.
    pub fn base_url(self) -> &'static str {
        match self {
            Self::Production => PRODUCTION_BASE_URL,
            Self::Staging => STAGING_BASE_URL,
        }
    }

    /// The documented GraphQL endpoint, `{base}/api`.
    pub fn api_url(self) -> String {
        format!("{}/{API_PATH}", self.base_url())
    }

    /// The documented token endpoint, `{base}/oauth/token`.
    pub fn token_url(self) -> String {
        format!("{}/{TOKEN_PATH}", self.base_url())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documented_endpoints() {
        assert_eq!(Environment::default(), Environment::Production);
        assert_eq!(
            Environment::Production.api_url(),
            "https://api.konvertapp.com/api"
        );
        assert_eq!(
            Environment::Production.token_url(),
            "https://api.konvertapp.com/oauth/token"
        );
        assert_eq!(
            Environment::Staging.api_url(),
            "https://api.staging.konvertapp.com/api"
        );
        assert_eq!(
            Environment::Staging.token_url(),
            "https://api.staging.konvertapp.com/oauth/token"
        );
    }
}
