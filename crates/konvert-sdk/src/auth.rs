//! The two ways to authenticate with Konvert, both sent as `Authorization: Bearer`:
//!
//! 1. **Client credentials** (RFC 6749 §4.4): `POST {base}/oauth/token` with
//!    `Authorization: Basic base64(api_key:api_secret)` (key and secret as they are, not
//!    form-urlencoded: Konvert documents the plain pair, so an API key holding `:` is refused)
//!    and the form body `grant_type=client_credentials`; the token is cached for its `expires_in` (21600 s at
//!    Konvert) and renewed by one request however many calls wait for it.
//! 2. **Self-signed JWT** (RFC 7519): HS256 with `sub` = the API key, signed with the API
//!    secret, valid for a lifetime of at most 6 hours, signed once per lifetime.

use std::fmt;
use std::time::Duration;

use oauth_flow::SecretString;

/// Konvert's limit on a self-signed JWT's lifetime (`exp - iat`): 6 hours.
pub const MAX_JWT_LIFETIME: Duration = Duration::from_secs(21_600);
/// A reasonable self-signed JWT lifetime (Konvert's own example uses one hour).
pub const DEFAULT_JWT_LIFETIME: Duration = Duration::from_secs(3_600);

/// Which authentication a client uses (no secrets: safe to log).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum AuthMode {
    /// OAuth 2.0 client credentials: tokens from `/oauth/token`.
    ClientCredentials,
    /// Self-signed HS256 JWTs valid for `lifetime`.
    SelfSignedJwt {
        /// Each JWT's lifetime (`exp - iat`).
        lifetime: Duration,
    },
}

/// An API key and secret, and how to use them. `Debug` never shows the secret.
///
/// Both modes use the same pair: the key is the OAuth `client_id` and the JWT `sub`; the
/// secret is the OAuth `client_secret` and the JWT's HS256 key. Keep the secret on a server.
#[derive(Clone)]
pub struct Auth {
    pub(crate) api_key: String,
    pub(crate) api_secret: SecretString,
    pub(crate) mode: AuthMode,
}

impl Auth {
    /// OAuth 2.0 client credentials with the API key as client id and the API secret as
    /// client secret.
    pub fn client_credentials(api_key: impl Into<String>, api_secret: SecretString) -> Self {
        Self {
            api_key: api_key.into(),
            api_secret,
            mode: AuthMode::ClientCredentials,
        }
    }

    /// Self-signed HS256 JWTs (`sub` = the API key, key = the API secret), each valid for
    /// `lifetime`, which must not exceed [`MAX_JWT_LIFETIME`] (checked when the client is
    /// built: [`Error::Config`](crate::Error::Config) with `ConfigError::LifetimeOverCap`).
    pub fn jwt(api_key: impl Into<String>, api_secret: SecretString, lifetime: Duration) -> Self {
        Self {
            api_key: api_key.into(),
            api_secret,
            mode: AuthMode::SelfSignedJwt { lifetime },
        }
    }

    /// The API key (not a secret).
    pub fn api_key(&self) -> &str {
        &self.api_key
    }

    /// The authentication mode.
    pub fn mode(&self) -> AuthMode {
        self.mode
    }
}

impl fmt::Debug for Auth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Auth")
            .field("api_key", &self.api_key)
            .field("api_secret", &"[redacted]")
            .field("mode", &self.mode)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn s25_debug_hides_the_secret() {
        let auth = Auth::client_credentials("key", SecretString::from("s3cr3t-value".to_owned()));
        let dbg = format!("{auth:?}");
        assert!(dbg.contains("key"));
        assert!(!dbg.contains("s3cr3t-value"));
        assert_eq!(auth.mode(), AuthMode::ClientCredentials);
    }
}
