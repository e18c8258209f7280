//! What a provider's OAuth endpoints look like: URLs, body encoding, client authentication,
//! scope separator, PKCE.

use url::Url;

use crate::error::{ConfigError, Result};
use crate::request::parse_secure_url;

/// How token request bodies are encoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyEncoding {
    /// `application/x-www-form-urlencoded` (RFC 6749's default).
    Form,
    /// `application/json` (e.g. Askara).
    Json,
}

/// How the client authenticates at the token endpoint (RFC 6749 §2.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClientAuth {
    /// Public client: `client_id` in the body, no secret (PKCE is then required).
    None,
    /// `client_id` and `client_secret` in the body (form or JSON).
    SecretPost,
    /// HTTP Basic: `client_id:client_secret`, base64-encoded, each part written as the
    /// profile's [`BasicEncoding`] says (form-urlencoded by default, RFC 6749 §2.3.1).
    SecretBasic,
}

/// How the client id and secret are written inside HTTP Basic credentials before base64.
///
/// RFC 6749 §2.3.1 form-urlencodes both parts, so a secret holding `+`, `%` or `:` survives
/// the trip. Some providers document the plain RFC 7617 form instead (Konvert: "a base64-encoded
/// string client_id:client_secret") and decode the header without form-decoding; sending them
/// the RFC 6749 form turns `+` into `%2B` and the secret no longer matches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum BasicEncoding {
    /// `base64(urlencode(id) ":" urlencode(secret))` (RFC 6749 §2.3.1, SECURITY S14).
    #[default]
    FormUrlEncoded,
    /// `base64(id ":" secret)` as given (RFC 7617 §2). A client id containing `:` is refused
    /// ([`ConfigError::ColonInClientId`]): the server could not tell where it ends.
    Raw,
}

/// Whether the authorization request carries a PKCE challenge. Only S256 exists: `plain` is
/// not offered (SECURITY S3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pkce {
    /// No PKCE (confidential clients whose provider does not support it).
    Disabled,
    /// PKCE with the S256 method.
    S256,
}

/// How spaces (the scope separator) are written in the authorize URL's query.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SpaceEncoding {
    /// `%20` (RFC 3986; e.g. Askara's `scope=profile%20organization`).
    #[default]
    Percent20,
    /// `+` (form encoding; e.g. Kustomer's `scope=a+b+offline_access`).
    Plus,
}

/// A provider's OAuth endpoints and conventions.
#[derive(Debug, Clone)]
pub struct ProviderProfile {
    pub(crate) name: String,
    pub(crate) authorize_url: Option<Url>,
    pub(crate) token_url: Url,
    pub(crate) refresh_url: Option<Url>,
    pub(crate) encoding: BodyEncoding,
    pub(crate) client_auth: ClientAuth,
    pub(crate) scope_separator: String,
    pub(crate) pkce: Pkce,
    pub(crate) issuer: Option<String>,
    pub(crate) issuer_required: bool,
    pub(crate) space_encoding: SpaceEncoding,
    pub(crate) basic_encoding: BasicEncoding,
}

impl ProviderProfile {
    /// Starts a profile for the provider `name` (used in grant keys and logs) whose token
    /// endpoint is `token_url`.
    pub fn builder(name: impl Into<String>, token_url: impl Into<String>) -> ProfileBuilder {
        ProfileBuilder {
            name: name.into(),
            token_url: token_url.into(),
            authorize_url: None,
            refresh_url: None,
            encoding: BodyEncoding::Form,
            client_auth: ClientAuth::SecretPost,
            scope_separator: " ".into(),
            pkce: Pkce::Disabled,
            issuer: None,
            issuer_required: false,
            space_encoding: SpaceEncoding::default(),
            basic_encoding: BasicEncoding::default(),
        }
    }

    /// The provider's name.
    pub fn name(&self) -> &str {
        &self.name
    }
    /// The authorization endpoint, if the provider has one.
    pub fn authorize_url(&self) -> Option<&Url> {
        self.authorize_url.as_ref()
    }
    /// The token endpoint.
    pub fn token_url(&self) -> &Url {
        &self.token_url
    }
    /// Where refresh requests go: the separate refresh endpoint, or the token endpoint.
    pub fn refresh_url(&self) -> &Url {
        self.refresh_url.as_ref().unwrap_or(&self.token_url)
    }
    /// The body encoding of token requests.
    pub fn encoding(&self) -> BodyEncoding {
        self.encoding
    }
    /// The client authentication method.
    pub fn client_auth(&self) -> ClientAuth {
        self.client_auth
    }
    /// The scope separator.
    pub fn scope_separator(&self) -> &str {
        &self.scope_separator
    }
    /// Whether PKCE is used.
    pub fn pkce(&self) -> Pkce {
        self.pkce
    }
    /// The issuer identifier checked against a callback's `iss` (RFC 9207), if set.
    pub fn issuer(&self) -> Option<&str> {
        self.issuer.as_deref()
    }
    /// How HTTP Basic credentials are written (used with [`ClientAuth::SecretBasic`]).
    pub fn basic_encoding(&self) -> BasicEncoding {
        self.basic_encoding
    }
    /// Whether a callback must carry `iss` (RFC 9207 §2.4); see
    /// [`ProfileBuilder::require_issuer`].
    pub fn issuer_parameter_required(&self) -> bool {
        self.issuer_required
    }
}

/// Builder for [`ProviderProfile`]; URLs are checked at [`build`](Self::build).
#[derive(Debug, Clone)]
#[must_use]
pub struct ProfileBuilder {
    name: String,
    token_url: String,
    authorize_url: Option<String>,
    refresh_url: Option<String>,
    encoding: BodyEncoding,
    client_auth: ClientAuth,
    scope_separator: String,
    pkce: Pkce,
    issuer: Option<String>,
    issuer_required: bool,
    space_encoding: SpaceEncoding,
    basic_encoding: BasicEncoding,
}

impl ProfileBuilder {
    /// The authorization endpoint (for the authorization code flow).
    pub fn authorize_url(mut self, url: impl Into<String>) -> Self {
        self.authorize_url = Some(url.into());
        self
    }
    /// A refresh endpoint apart from the token endpoint (KonPro's `/v1/oauth/refresh_token`).
    pub fn refresh_url(mut self, url: impl Into<String>) -> Self {
        self.refresh_url = Some(url.into());
        self
    }
    /// The token request body encoding (default form).
    pub fn encoding(mut self, encoding: BodyEncoding) -> Self {
        self.encoding = encoding;
        self
    }
    /// The client authentication method (default `SecretPost`).
    pub fn client_auth(mut self, auth: ClientAuth) -> Self {
        self.client_auth = auth;
        self
    }
    /// The scope separator (default a space).
    pub fn scope_separator(mut self, sep: impl Into<String>) -> Self {
        self.scope_separator = sep.into();
        self
    }
    /// PKCE on or off (default off; public clients always use it).
    pub fn pkce(mut self, pkce: Pkce) -> Self {
        self.pkce = pkce;
        self
    }
    /// The issuer identifier to pin (RFC 9207), if the provider sends `iss`.
    pub fn issuer(mut self, issuer: impl Into<String>) -> Self {
        self.issuer = Some(issuer.into());
        self
    }
    /// Refuse callbacks without `iss` (default off: `iss` is then checked only when present).
    /// Switch it on for servers that advertise `authorization_response_iss_parameter_supported`
    /// (RFC 9207 §3): a mix-up attacker could otherwise strip the parameter. Needs
    /// [`issuer`](Self::issuer); the rule is pinned in each
    /// [`PendingAuthorization`](crate::PendingAuthorization) (SECURITY S7).
    pub fn require_issuer(mut self, required: bool) -> Self {
        self.issuer_required = required;
        self
    }

    /// How spaces in authorize URL values are written (default `%20`).
    pub fn space_encoding(mut self, space: SpaceEncoding) -> Self {
        self.space_encoding = space;
        self
    }

    /// How HTTP Basic credentials are written (default [`BasicEncoding::FormUrlEncoded`]).
    pub fn basic_encoding(mut self, encoding: BasicEncoding) -> Self {
        self.basic_encoding = encoding;
        self
    }

    /// Checks the URLs (https, or http on loopback) and builds the profile.
    pub fn build(self) -> Result<ProviderProfile> {
        if self.name.is_empty() {
            return Err(ConfigError::Empty("provider name").into());
        }
        let token_url = parse_secure_url("token_url", &self.token_url)?;
        let authorize_url = self
            .authorize_url
            .as_deref()
            .map(|u| parse_secure_url("authorize_url", u))
            .transpose()?;
        let refresh_url = self
            .refresh_url
            .as_deref()
            .map(|u| parse_secure_url("refresh_url", u))
            .transpose()?;
        if self.issuer_required && self.issuer.as_deref().is_none_or(str::is_empty) {
            return Err(ConfigError::MissingIssuer.into());
        }
        // SECURITY S3: a public client always uses PKCE.
        let pkce = if self.client_auth == ClientAuth::None && authorize_url.is_some() {
            Pkce::S256
        } else {
            self.pkce
        };
        Ok(ProviderProfile {
            name: self.name,
            authorize_url,
            token_url,
            refresh_url,
            encoding: self.encoding,
            client_auth: self.client_auth,
            scope_separator: self.scope_separator,
            pkce,
            issuer: self.issuer,
            issuer_required: self.issuer_required,
            space_encoding: self.space_encoding,
            basic_encoding: self.basic_encoding,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Error;

    #[test]
    fn s3_public_clients_always_use_pkce() {
        let p = ProviderProfile::builder("p", "https://a.example/token")
            .authorize_url("https://a.example/authorize")
            .client_auth(ClientAuth::None)
            .build()
            .unwrap();
        assert_eq!(p.pkce(), Pkce::S256);
    }

    #[test]
    fn s8_insecure_token_url_is_refused() {
        let err = ProviderProfile::builder("p", "http://api.example.com/token")
            .build()
            .unwrap_err();
        assert!(matches!(
            err,
            Error::Config(ConfigError::InsecureUrl { .. })
        ));
    }

    #[test]
    fn s7_require_issuer_needs_an_issuer() {
        let err = ProviderProfile::builder("p", "https://a.example/token")
            .require_issuer(true)
            .build()
            .unwrap_err();
        assert!(
            matches!(err, Error::Config(ConfigError::MissingIssuer)),
            "{err:?}"
        );
        let p = ProviderProfile::builder("p", "https://a.example/token")
            .issuer("https://a.example")
            .require_issuer(true)
            .build()
            .unwrap();
        assert!(p.issuer_parameter_required());
    }

    #[test]
    fn refresh_url_defaults_to_token_url() {
        let p = ProviderProfile::builder("p", "https://a.example/token")
            .build()
            .unwrap();
        assert_eq!(p.refresh_url().as_str(), "https://a.example/token");
    }
}
