//! Kustomer's OAuth 2.0 Authorization Code flow.
//!
//! - Authorize: `GET https://api.apps.kustomerapp.com/oauth/authorize` with `client_id`,
//!   `redirect_uri`, `response_type=code`, the role scopes joined by spaces (written `+`) with
//!   `offline_access` always added, and `state`.
//! - Token: `POST https://api.apps.kustomerapp.com/oauth/token`, form-encoded, with
//!   `client_id` and `client_secret` in the body; the refresh goes to the same endpoint.
//!   Access tokens live 86400 s; each refresh returns a new refresh token, which the
//!   [`TokenManager`] saves to the store before the new access token is used.
//!
//! While the app is not installed in the org, the token endpoint answers 400 "Invalid Client":
//! that becomes [`Error::AppNotInstalled`].

use std::fmt;
use std::sync::Arc;
use std::time::SystemTime;

use oauth_flow::{
    AuthorizedCode, BodyEncoding, ClientAuth, ErrorCode, GrantHandle, HttpRequest, OAuthClient,
    PendingAuthorization, Pkce, ProviderProfile, SecretString, SpaceEncoding, TokenManager, Url,
};

use crate::api::KustomerClient;
use crate::config::Kustomer;
use crate::error::{Error, Result};

/// The provider name used in grant keys and logs.
pub const PROVIDER: &str = "kustomer";

/// Role scopes for `/oauth/authorize` (Kustomer calls them API key roles).
pub mod scopes {
    /// Customers: read and write.
    pub const CUSTOMER: &str = "org.permission.customer";
    /// Conversations: read and write.
    pub const CONVERSATION: &str = "org.permission.conversation";
    /// Refresh tokens; always added by the SDK.
    pub const OFFLINE_ACCESS: &str = "offline_access";
    /// Needed by an API key that registers apps (with [`APPS`]).
    pub const ADMIN_APPS: &str = "org.admin.apps";
    /// Needed by an API key that registers apps (with [`ADMIN_APPS`]).
    pub const APPS: &str = "org.permission.apps";
}

impl Kustomer {
    /// Starts the OAuth client of an installed app: its client id and secret (from
    /// [`AppsClient::generate_secret`](crate::AppsClient::generate_secret)) and the redirect URI that receives the code.
    pub fn oauth(
        &self,
        client_id: impl Into<String>,
        client_secret: SecretString,
        redirect_uri: impl Into<String>,
    ) -> KustomerOAuthBuilder {
        KustomerOAuthBuilder::new(self, client_id.into(), client_secret, redirect_uri.into())
    }

    /// The OAuth endpoint URL for `path` (`oauth/authorize`, `oauth/token`).
    pub(crate) fn oauth_url(&self, path: &str) -> Result<Url> {
        self.oauth_base
            .join(path)
            .map_err(|_| Error::invalid("OAuth base URL", "cannot join the endpoint path"))
    }
}

/// Kustomer's OAuth profile for `kustomer`'s OAuth base URL: form bodies, `client_secret` in
/// the body, scopes joined by spaces and written `+` in the authorize URL.
pub(crate) fn profile(kustomer: &Kustomer, pkce: bool) -> Result<ProviderProfile> {
    let authorize = kustomer.oauth_url("oauth/authorize")?;
    let token = kustomer.oauth_url("oauth/token")?;
    Ok(ProviderProfile::builder(PROVIDER, token.as_str())
        .authorize_url(authorize.as_str())
        .encoding(BodyEncoding::Form)
        .client_auth(ClientAuth::SecretPost)
        .scope_separator(" ")
        .space_encoding(SpaceEncoding::Plus)
        .pkce(if pkce { Pkce::S256 } else { Pkce::Disabled })
        .build()?)
}

/// Builder for [`KustomerOAuth`], from [`Kustomer::oauth`]: the OAuth-only options. The
/// store, clock, refresh margin, lease settings, transport and retry policy are
/// [`Kustomer::builder`]'s, shared by every flow of that [`Kustomer`].
#[must_use]
pub struct KustomerOAuthBuilder {
    kustomer: Kustomer,
    client_id: String,
    client_secret: SecretString,
    redirect_uri: String,
    pkce: bool,
}

impl fmt::Debug for KustomerOAuthBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KustomerOAuthBuilder")
            .field("client_id", &self.client_id)
            .field("redirect_uri", &self.redirect_uri)
            .field("pkce", &self.pkce)
            .finish_non_exhaustive()
    }
}

impl KustomerOAuthBuilder {
    pub(crate) fn new(
        kustomer: &Kustomer,
        client_id: String,
        client_secret: SecretString,
        redirect_uri: String,
    ) -> Self {
        Self {
            kustomer: kustomer.clone(),
            client_id,
            client_secret,
            redirect_uri,
            pkce: false,
        }
    }

    /// Adds a PKCE S256 challenge to the authorization (off by default: Kustomer's document
    /// does not list it).
    pub fn pkce(mut self, on: bool) -> Self {
        self.pkce = on;
        self
    }

    /// Checks the settings and builds.
    pub fn build(self) -> Result<KustomerOAuth> {
        let profile = profile(&self.kustomer, self.pkce)?;
        let client = OAuthClient::builder(profile, self.client_id)
            .client_secret(self.client_secret)
            .redirect_uri(self.redirect_uri)
            .build()?;
        let manager = self
            .kustomer
            .settings
            .token_manager(client.clone(), self.kustomer.transport.clone())?;
        Ok(KustomerOAuth {
            client,
            manager,
            kustomer: self.kustomer,
        })
    }
}

/// An installed app's OAuth client: builds the authorize URL, exchanges codes, keeps each
/// user's tokens fresh and hands out each user's [`KustomerClient`]. Cheap to clone.
#[derive(Clone)]
pub struct KustomerOAuth {
    client: OAuthClient,
    manager: TokenManager,
    kustomer: Kustomer,
}

impl fmt::Debug for KustomerOAuth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KustomerOAuth")
            .field("client", &self.client)
            .field("manager", &self.manager)
            .finish_non_exhaustive()
    }
}

/// The refresh token [`KustomerOAuth::is_installed`] sends: never issued, so never valid.
const INSTALL_PROBE: &str = "kustomer-sdk-install-check";

impl KustomerOAuth {
    /// The underlying OAuth client.
    pub fn oauth_client(&self) -> &OAuthClient {
        &self.client
    }

    /// The token manager.
    pub fn token_manager(&self) -> &TokenManager {
        &self.manager
    }

    /// The URL to send the user to, and the [`PendingAuthorization`] to keep until the
    /// callback. `roles` are API key roles such as [`scopes::CUSTOMER`]; `offline_access` is
    /// always added (last), so the token response carries a refresh token.
    pub fn authorize_url<I, S>(&self, roles: I) -> Result<(Url, PendingAuthorization)>
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let mut request = self.client.authorize();
        for role in roles {
            let role = role.into();
            if role.is_empty() || role.contains(char::is_whitespace) {
                return Err(Error::invalid(
                    "scope",
                    "roles must be non-empty and hold no whitespace",
                ));
            }
            if role != scopes::OFFLINE_ACCESS {
                request = request.scope(role);
            }
        }
        Ok(request.scope(scopes::OFFLINE_ACCESS).build()?)
    }

    /// Whether the app is installed in the organization yet, asked of the token endpoint (the
    /// one place Kustomer tells): a refresh with a refresh token that was never issued is
    /// answered 400 "Invalid Client" while the app is not installed (`false`) and
    /// `invalid_grant` once it is (`true`). Nothing is issued, spent or rotated, so it suits a
    /// wait loop between registration and the first authorization.
    ///
    /// Errors: [`Error::ClientRejected`] for a wrong client secret (e.g. replaced by a newer
    /// one), transport and other token endpoint failures.
    pub async fn is_installed(&self) -> Result<bool> {
        let probe = SecretString::from(INSTALL_PROBE.to_owned());
        let request = self.client.refresh_request(&probe)?;
        let sent_at = SystemTime::now();
        let response = self.kustomer.transport.send(request).await?;
        match oauth_flow::__private::parse_token_response(&response, sent_at) {
            // Tokens for a made-up refresh token would be odd, but prove the client works.
            Ok(_) => Ok(true),
            Err(e) => match Error::from(e) {
                Error::AppNotInstalled { .. } => Ok(false),
                Error::OAuth(oauth_flow::Error::OAuth(o)) if o.code == ErrorCode::InvalidGrant => {
                    Ok(true)
                }
                other => Err(other),
            },
        }
    }

    /// The code exchange request, built but not sent.
    pub fn exchange_code_request(&self, code: &AuthorizedCode) -> Result<HttpRequest> {
        Ok(self.client.exchange_code_request(code)?)
    }

    /// The refresh request, built but not sent.
    pub fn refresh_request(&self, refresh_token: &SecretString) -> Result<HttpRequest> {
        Ok(self.client.refresh_request(refresh_token)?)
    }

    /// Exchanges a code (from [`PendingAuthorization::complete`]) for `subject`'s tokens
    /// (`subject` is your key for the user), saves them and returns the user's client. The
    /// code is sent once.
    ///
    /// [`Error::AppNotInstalled`] if the app is not installed in the org yet: install it, then
    /// run the authorization again.
    pub async fn exchange_code(
        &self,
        subject: &str,
        code: AuthorizedCode,
    ) -> Result<KustomerClient> {
        let grant = self.manager.exchange_code(subject, code).await?;
        self.client_for(grant)
    }

    /// Checks the callback URL against `pending` (state, redirect URI, `error=access_denied` →
    /// [`Error::Callback`], see [`Error::is_access_denied`]), exchanges its code for
    /// `subject` and returns the user's client.
    pub async fn complete(
        &self,
        subject: &str,
        pending: PendingAuthorization,
        callback_url: &str,
    ) -> Result<KustomerClient> {
        let code = pending.complete(callback_url)?;
        self.exchange_code(subject, code).await
    }

    /// The API client of `subject`, whose tokens are read from the store when first needed
    /// (e.g. after a restart). If nothing is stored, calls fail with
    /// [`Error::ReauthorizationRequired`]; [`restore`](Self::restore) checks first.
    pub fn client(&self, subject: &str) -> Result<KustomerClient> {
        self.client_for(self.manager.grant(subject))
    }

    /// The API client of `subject` if the store holds tokens for it, `None` otherwise: the
    /// check to make at start-up before sending a user through the authorization again.
    pub async fn restore(&self, subject: &str) -> Result<Option<KustomerClient>> {
        let client = self.client(subject)?;
        Ok(client.token().await?.map(|_| client))
    }

    fn client_for(&self, grant: GrantHandle) -> Result<KustomerClient> {
        let api = self.kustomer.api_client(Arc::new(grant.clone()))?;
        Ok(KustomerClient::new(api, Some(grant)))
    }
}
