//! An OAuth client: a provider profile plus this application's registration.

use std::fmt;

use secrecy::SecretString;
use url::Url;

use crate::error::{ConfigError, Result};
use crate::profile::{BasicEncoding, ClientAuth, ProviderProfile};
use crate::request::is_loopback;

/// A provider profile with this application's client id, optional secret and redirect URI.
///
/// Cheap to clone; `Debug` never shows the secret.
#[derive(Clone)]
pub struct OAuthClient {
    pub(crate) profile: ProviderProfile,
    pub(crate) client_id: String,
    pub(crate) client_secret: Option<SecretString>,
    pub(crate) redirect_uri: Option<RedirectUri>,
}

/// A redirect URI as configured: validated once, then sent byte-identical (SECURITY S4).
#[derive(Debug, Clone)]
pub(crate) struct RedirectUri {
    pub(crate) raw: String,
}

impl OAuthClient {
    /// Starts a client for `profile` with `client_id`.
    pub fn builder(profile: ProviderProfile, client_id: impl Into<String>) -> OAuthClientBuilder {
        OAuthClientBuilder {
            profile,
            client_id: client_id.into(),
            client_secret: None,
            redirect_uri: None,
        }
    }

    /// The provider profile.
    pub fn profile(&self) -> &ProviderProfile {
        &self.profile
    }
    /// The client id.
    pub fn client_id(&self) -> &str {
        &self.client_id
    }
    /// The registered redirect URI, if any.
    pub fn redirect_uri(&self) -> Option<&str> {
        self.redirect_uri.as_ref().map(|r| r.raw.as_str())
    }
    /// The client secret, if any.
    pub fn client_secret(&self) -> Option<&SecretString> {
        self.client_secret.as_ref()
    }
}

impl fmt::Debug for OAuthClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OAuthClient")
            .field("provider", &self.profile.name)
            .field("client_id", &self.client_id)
            .field(
                "client_secret",
                &self.client_secret.as_ref().map(|_| "[redacted]"),
            )
            .field("redirect_uri", &self.redirect_uri())
            .finish()
    }
}

/// Builder for [`OAuthClient`]; checked at [`build`](Self::build).
#[must_use]
pub struct OAuthClientBuilder {
    profile: ProviderProfile,
    client_id: String,
    client_secret: Option<SecretString>,
    redirect_uri: Option<String>,
}

impl fmt::Debug for OAuthClientBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OAuthClientBuilder")
            .field("provider", &self.profile.name)
            .field("client_id", &self.client_id)
            .finish_non_exhaustive()
    }
}

impl OAuthClientBuilder {
    /// The client secret (for `SecretPost` and `SecretBasic`).
    pub fn client_secret(mut self, secret: SecretString) -> Self {
        self.client_secret = Some(secret);
        self
    }
    /// The redirect URI registered with the provider; sent byte-identical in the authorization
    /// and token requests (SECURITY S4).
    pub fn redirect_uri(mut self, uri: impl Into<String>) -> Self {
        self.redirect_uri = Some(uri.into());
        self
    }

    /// Validates and builds the client.
    pub fn build(self) -> Result<OAuthClient> {
        if self.client_id.is_empty() {
            return Err(ConfigError::Empty("client_id").into());
        }
        // Refused here, not only when the first request is built: the configuration is wrong.
        if self.profile.client_auth == ClientAuth::SecretBasic
            && self.profile.basic_encoding == BasicEncoding::Raw
            && self.client_id.contains(':')
        {
            return Err(ConfigError::ColonInClientId.into());
        }
        let needs_secret = self.profile.client_auth != ClientAuth::None;
        if needs_secret && self.client_secret.is_none() {
            return Err(ConfigError::MissingClientSecret.into());
        }
        let redirect_uri = self
            .redirect_uri
            .as_deref()
            .map(|raw| {
                parse_redirect_uri(raw).map(|_| RedirectUri {
                    raw: raw.to_owned(),
                })
            })
            .transpose()?;
        Ok(OAuthClient {
            // SECURITY S15: a public client sends no secret, even if one was given.
            client_secret: if needs_secret {
                self.client_secret
            } else {
                None
            },
            profile: self.profile,
            client_id: self.client_id,
            redirect_uri,
        })
    }
}

/// A redirect URI may be `https`, `http` on a loopback IP literal (RFC 8252 §7.3, §8.3: not
/// the name `localhost`; SECURITY S8) or a private-use
/// scheme of a native app (RFC 8252 §7.1); plain `http` elsewhere is refused.
fn parse_redirect_uri(value: &str) -> Result<Url, ConfigError> {
    let url = Url::parse(value).map_err(|_| ConfigError::InvalidUrl {
        name: "redirect_uri",
    })?;
    if url.scheme() == "http" && !is_loopback(&url) {
        return Err(ConfigError::InsecureUrl {
            url: crate::request::redacted_url(&url),
        });
    }
    if url.fragment().is_some() {
        return Err(ConfigError::RedirectUriFragment);
    }
    Ok(url)
}
