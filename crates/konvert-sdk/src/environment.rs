//! Where the Konvert API lives: production, staging, or a custom base URL (the sandbox).

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
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Environment {
    /// `https://api.konvertapp.com`.
    #[default]
    Production,
    /// `https://api.staging.konvertapp.com`.
    Staging,
    /// Any other base URL, e.g. the sandbox's `sb.url(Provider::Konvert)`
    /// (`http://127.0.0.1:PORT/konvert`). It must be https, or http on a loopback IP literal; this is
    /// checked when the client is built.
    Custom(String),
}

impl Environment {
    /// A custom base URL (a trailing `/` is ignored).
    pub fn custom(base_url: impl Into<String>) -> Self {
        Self::Custom(base_url.into())
    }

    /// The base URL, without a trailing `/`.
    pub fn base_url(&self) -> &str {
        match self {
            Self::Production => PRODUCTION_BASE_URL,
            Self::Staging => STAGING_BASE_URL,
            Self::Custom(url) => url.trim_end_matches('/'),
        }
    }

    /// The GraphQL endpoint, `{base}/api`.
    pub fn api_url(&self) -> String {
        format!("{}/{API_PATH}", self.base_url())
    }

    /// The token endpoint, `{base}/oauth/token`.
    pub fn token_url(&self) -> String {
        format!("{}/{TOKEN_PATH}", self.base_url())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documented_endpoints() {
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
        let sb = Environment::custom("http://127.0.0.1:4000/konvert/");
        assert_eq!(sb.api_url(), "http://127.0.0.1:4000/konvert/api");
        assert_eq!(sb.token_url(), "http://127.0.0.1:4000/konvert/oauth/token");
    }
}
