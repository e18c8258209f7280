//! Credentials attached to API calls: OAuth access tokens from a grant, self-signed JWTs, or a
//! static API key in a header.

use std::fmt;
use std::sync::Arc;

use async_trait::async_trait;
use http::{HeaderName, HeaderValue, header};
use secrecy::{ExposeSecret, SecretString};
use subtle::ConstantTimeEq;

use crate::error::{ConfigError, Error, Result};

/// An access token handed out by a credential source. Cloning is an `Arc` clone; `Debug` is
/// redacted.
#[derive(Clone)]
pub struct AccessToken(Arc<SecretString>);

impl AccessToken {
    /// Wraps a secret.
    pub fn new(secret: SecretString) -> Self {
        Self(Arc::new(secret))
    }
    /// The token.
    pub fn secret(&self) -> &SecretString {
        &self.0
    }
    /// Whether both are the same token (same allocation, or equal in constant time).
    pub fn same_as(&self, other: &AccessToken) -> bool {
        Arc::ptr_eq(&self.0, &other.0) || self.secret_eq(&other.0)
    }
    pub(crate) fn secret_eq(&self, other: &SecretString) -> bool {
        bool::from(
            self.0
                .expose_secret()
                .as_bytes()
                .ct_eq(other.expose_secret().as_bytes()),
        )
    }
}

impl fmt::Debug for AccessToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("AccessToken([redacted])")
    }
}

/// The header a credential source wants on a request, and which token it used (so a 401 can
/// be matched to it).
#[derive(Clone)]
pub struct Authorization {
    /// Header name (`authorization`, `x-api-key`, …).
    pub name: HeaderName,
    /// Header value, marked sensitive.
    pub value: HeaderValue,
    /// The token behind it, for renewals after a 401.
    pub token: Option<AccessToken>,
}

impl fmt::Debug for Authorization {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Authorization")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

impl Authorization {
    /// `Authorization: Bearer <token>` (RFC 6750 §2.1).
    pub fn bearer(token: AccessToken) -> Result<Self> {
        let value = sensitive(&format!("Bearer {}", token.secret().expose_secret()))?;
        Ok(Self {
            name: header::AUTHORIZATION,
            value,
            token: Some(token),
        })
    }
}

fn sensitive(value: &str) -> Result<HeaderValue> {
    let mut v = HeaderValue::from_str(value).map_err(|_| Error::InvalidTokenCharacters)?;
    v.set_sensitive(true);
    Ok(v)
}

/// Supplies the credential for each API call and renews it after a 401.
#[async_trait]
pub trait CredentialSource: Send + Sync + 'static {
    /// The header to put on the next request.
    async fn authorization(&self) -> Result<Authorization>;

    /// The credential if it is at hand without waiting (a warm cache, a static key), so the
    /// API client's hot path skips a boxed future. `None` means "ask
    /// [`authorization`](Self::authorization)"; that is always correct, and the default.
    fn cached_authorization(&self) -> Option<Authorization> {
        None
    }

    /// The API answered 401 to a request sent with `used`. Returns a new credential to retry
    /// with once, or `None` when there is nothing to renew (e.g. a static API key).
    async fn renew_after_unauthorized(&self, used: &Authorization)
    -> Result<Option<Authorization>>;
}

/// A static API key, sent in a named header (`X-API-KEY: <key>`) or as a bearer
/// (`Authorization: Bearer <key>`). Nothing to renew after a 401.
pub struct ApiKey {
    header: Authorization,
}

impl ApiKey {
    /// The key in header `name` as is (KonPro: `X-API-KEY`).
    pub fn header(name: &str, key: &SecretString) -> Result<Self> {
        if key.expose_secret().is_empty() {
            return Err(ConfigError::Empty("API key").into());
        }
        let name = HeaderName::from_bytes(name.as_bytes())
            .map_err(|_| ConfigError::InvalidHeader("API key header name"))?;
        Ok(Self {
            header: Authorization {
                name,
                value: sensitive(key.expose_secret())?,
                token: None,
            },
        })
    }

    /// The key as a bearer token (Kustomer accepts its API keys so).
    pub fn bearer(key: &SecretString) -> Result<Self> {
        if key.expose_secret().is_empty() {
            return Err(ConfigError::Empty("API key").into());
        }
        Ok(Self {
            header: Authorization {
                token: None,
                ..Authorization::bearer(AccessToken::new(key.clone()))?
            },
        })
    }
}

impl fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ApiKey")
            .field("header", &self.header.name)
            .finish_non_exhaustive()
    }
}

#[async_trait]
impl CredentialSource for ApiKey {
    async fn authorization(&self) -> Result<Authorization> {
        Ok(self.header.clone())
    }
    fn cached_authorization(&self) -> Option<Authorization> {
        Some(self.header.clone())
    }
    async fn renew_after_unauthorized(
        &self,
        _used: &Authorization,
    ) -> Result<Option<Authorization>> {
        Ok(None)
    }
}
