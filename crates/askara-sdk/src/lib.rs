//! Askara SDK: sign users in with Askara (OAuth 2.0 Authorization Code with a client secret),
//! keep their tokens fresh across Askara's rotating refresh tokens, and call the API.
//!
//! What Askara's OAuth guide specifies, and this crate does:
//! - **Authorize**: `https://app.askara.loc/authorize?response_type=code&client_id=…&redirect_uri=…&scope=profile%20organization&state=…`
//!   with a fresh 128-bit `state`, checked (in constant time) when the user comes back.
//! - **Token**: `POST https://api.askara.ai/oauth2/token` with `Content-Type: application/json`
//!   bodies, for the code exchange (`grant_type`, `code`, `redirect_uri`, `client_id`,
//!   `client_secret`) and the refresh (`grant_type`, `refresh_token`, `client_id`,
//!   `client_secret`).
//! - **Rotation**: each refresh returns a new refresh token and the old one stops working. The
//!   new one is saved to the token store before the new access token is used, refreshes are
//!   single-flight per user, and a rejected refresh token becomes
//!   [`Error::ReauthorizationRequired`].
//! - **JWT access tokens**: [`AccessTokenClaims`] reads subject, expiry and scopes without
//!   verifying the signature (informational only); `exp` sets the expiry when a token response
//!   has no `expires_in`.
//!
//! The guide names no API endpoint. This crate assumes the API is served from the token host,
//! `https://api.askara.ai`, with the resources the scopes give access to: `GET v1/profile`
//! ([`AskaraSession::profile`]) and `GET v1/organization` ([`AskaraSession::organization`]).
//! Both hosts are overridable ([`AskaraBuilder::base_url`], [`AskaraBuilder::app_base_url`],
//! [`AskaraBuilder::api_base_url`]), and [`AskaraSession::get`] / [`AskaraSession::send`] call
//! any other endpoint with typed results.
//!
//! # Example
//!
//! ```no_run
//! use std::sync::Arc;
//! use askara_sdk::{Askara, FileStore};
//!
//! # async fn run(callback_url: &str) -> askara_sdk::Result<()> {
//! let askara = Askara::builder("my-client-id", "my-client-secret", "https://myapp.example/callback")
//!     .store(Arc::new(FileStore::new("/var/lib/myapp/askara-tokens")))
//!     .build()?;
//!
//! // 1. Send the user to `url`; keep `pending` in their (server-side) session.
//! let (url, pending) = askara.authorize_url()?;
//! println!("open {url}");
//!
//! // 2-3. Askara redirects back: check the callback, exchange the code, save the tokens.
//! let session = askara.complete_authorization("user-42", pending, callback_url).await?;
//! let profile = session.profile().await?;
//! let org = session.organization().await?;
//! println!("{:?} works at {:?}", profile.display_name(), org.name);
//!
//! // Later, or after a restart: the same user's session, from the store.
//! if let Some(session) = askara.restore("user-42").await? {
//!     let claims = session.claims().await?; // unverified, informational
//!     println!("token for {:?} expires at {:?}", claims.subject, claims.expires_at);
//! }
//! # Ok(()) }
//! ```
//!
//! # Testing against the sandbox
//!
//! The workspace's `sandbox` crate emulates Askara on `127.0.0.1`; point both hosts at it with
//! `.base_url(sb.url(sandbox::Provider::Askara))` and use `sb.credentials().askara`.

#![forbid(unsafe_code)]

mod api;
mod claims;
mod client;
mod error;
mod models;
mod session;

pub use api::{GetOrganization, GetProfile};
pub use claims::AccessTokenClaims;
pub use client::{
    Askara, AskaraBuilder, DEFAULT_API_BASE_URL, DEFAULT_APP_BASE_URL, DEFAULT_SCOPES, PROVIDER,
    SCOPE_ORGANIZATION, SCOPE_PROFILE,
};
pub use error::{Error, Result};
pub use models::{Address, Organization, Profile};
pub use session::AskaraSession;

/// The Redis token store, for running more than one process (feature `redis`).
#[cfg(feature = "redis")]
pub use oauth_flow_redis::{RedisStore, RedisStoreBuilder};

/// Re-exported from the OAuth core: every type this crate's API names, and what implementing
/// a [`TokenStore`], a [`Transport`] or a [`Clock`] needs, so `askara-sdk` is the only
/// dependency an app needs.
pub use oauth_flow::{
    AccessToken, ApiRequest, AuthorizationRequest, AuthorizedCode, BaseUrl, BaseUrlError,
    CallbackError, Clock, ConfigError, Endpoint, ErrorCode, ExposeSecret, FileStore, GrantHandle,
    GrantKey, HttpRequest, HttpResponse, IntoBaseUrl, Lease, ManualClock, MemoryStore, OAuthClient,
    OAuthError, PageLimits, PendingAuthorization, ReqwestTransport, RetryPolicy, SecretString,
    SystemClock, Token, TokenManager, TokenStore, Transport, Url, async_trait, http,
};
