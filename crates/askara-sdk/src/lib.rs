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
//! ([`AskaraClient::profile`]) and `GET v1/organization` ([`AskaraClient::organization`]).
//! Both hosts are overridable ([`AskaraBuilder::base_url`] for both, and
//! [`AskaraBuilder::app_base_url`] and [`AskaraBuilder::api_base_url`], which win over it in
//! any order), and [`AskaraClient::get`], [`AskaraClient::post`] and
//! [`AskaraClient::send`] call any other endpoint with typed results.
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
//! let client = askara.complete("user-42", pending, callback_url).await?;
//! let profile = client.profile().await?;
//! let org = client.organization().await?;
//! println!("{:?} works at {:?}", profile.display_name(), org.name);
//!
//! // Later, or after a restart: the same user's client, from the store.
//! if let Some(client) = askara.restore("user-42").await? {
//!     let claims = client.claims().await?; // unverified, informational
//!     println!("token for {:?} expires at {:?}", claims.subject, claims.expires_at);
//! }
//! # Ok(()) }
//! ```
//!
//! # Example: the whole surface, with your own store, transport and clock
//!
//! What implementing a [`TokenStore`], a [`Transport`] or a [`Clock`] needs is re-exported (the
//! core's result type is [`oauth_flow::Result`]), so this crate is the only dependency:
//!
//! ```no_run
//! use std::sync::Arc;
//! use std::sync::atomic::{AtomicU64, Ordering};
//! use std::time::{Duration, SystemTime};
//!
//! use askara_sdk::oauth_flow::Result as CoreResult;
//! use askara_sdk::serde_json::{Value, json};
//! use askara_sdk::{
//!     AccessToken, ApiRequest, Askara, AskaraClient, CallbackError, Error, ExposeSecret,
//!     GrantKey, HttpRequest, HttpResponse, ManualClock, MemoryStore, PendingAuthorization,
//!     ReqwestTransport, RetryPolicy, Token, TokenStore, Transport, Url, async_trait,
//! };
//!
//! /// Keeps tokens in memory and counts the saves (each refresh saves the rotated token).
//! #[derive(Default)]
//! struct CountingStore {
//!     inner: MemoryStore,
//!     saves: AtomicU64,
//! }
//!
//! #[async_trait]
//! impl TokenStore for CountingStore {
//!     async fn load(&self, key: &GrantKey) -> CoreResult<Option<Token>> {
//!         self.inner.load(key).await
//!     }
//!     async fn save(&self, key: &GrantKey, token: &Token) -> CoreResult<()> {
//!         self.saves.fetch_add(1, Ordering::Relaxed);
//!         self.inner.save(key, token).await
//!     }
//!     async fn delete(&self, key: &GrantKey) -> CoreResult<()> {
//!         self.inner.delete(key).await
//!     }
//! }
//!
//! /// Sends with reqwest and logs each answer's status (never a header or a body).
//! struct LoggingTransport(ReqwestTransport);
//!
//! #[async_trait]
//! impl Transport for LoggingTransport {
//!     async fn send(&self, request: HttpRequest) -> CoreResult<HttpResponse> {
//!         let response = self.0.send(request).await?;
//!         eprintln!("Askara answered {}", response.status);
//!         Ok(response)
//!     }
//! }
//!
//! # async fn run(callback_url: &str) -> askara_sdk::Result<()> {
//! let store = Arc::new(CountingStore::default());
//! let clock = Arc::new(ManualClock::new(SystemTime::now()));
//! let askara = Askara::builder("my-client-id", "my-client-secret", "https://myapp.example/callback")
//!     .app_base_url("https://app.staging.askara.example") // or `.base_url(..)` for both hosts
//!     .api_base_url("https://api.staging.askara.example")
//!     .store(store.clone())
//!     .transport(Arc::new(LoggingTransport(ReqwestTransport::new()?)))
//!     .clock(clock.clone())
//!     .refresh_margin(Duration::from_secs(120))
//!     .retry(RetryPolicy::none())
//!     .lease_ttl(Duration::from_secs(20))
//!     .lease_wait(Duration::from_secs(25))
//!     .max_cached_grants(1_000)
//!     .build()?;
//!
//! // Log in: the URL to send the user to, then the callback it comes back with.
//! let (url, pending): (Url, PendingAuthorization) = askara.authorize_url()?;
//! println!("open {url}");
//! let client: AskaraClient = match askara.complete("user-42", pending, callback_url).await {
//!     Ok(client) => client,
//!     Err(e) if e.is_access_denied() => return Ok(()), // the user clicked "Deny"
//!     Err(Error::Callback(CallbackError::StateMismatch)) => return Ok(()), // not our login
//!     Err(e) => return Err(e),
//! };
//!
//! // The token, its expiry, a forced refresh (the rotated refresh token is saved first).
//! let token: Option<Token> = client.token().await?;
//! let expires_at: Option<SystemTime> = client.expires_at().await?;
//! let fresh: AccessToken = client.refresh().await?;
//! assert_eq!(fresh.secret().expose_secret(), client.access_token().await?.secret().expose_secret());
//! println!("{} saves; scope {:?}, expiring at {expires_at:?}", store.saves.load(Ordering::Relaxed),
//!     token.map(|t| t.scope));
//!
//! // Typed calls, and calls the crate has no method for.
//! match client.organization().await {
//!     Ok(org) => println!("{:?}", org.name),
//!     Err(Error::InsufficientScope { .. }) => println!("authorize with `organization`"),
//!     Err(e) if e.is_reauthorization_required() => return Ok(()), // log in again
//!     Err(Error::RateLimited { retry_after, .. }) => println!("wait {retry_after:?}"),
//!     // Any other error status, whatever the body (an HTML 502 from a proxy, an empty 404).
//!     Err(Error::Api { status, code, message }) => println!("HTTP {status}: {code:?} {message:?}"),
//!     Err(e) => return Err(e),
//! }
//! let profile: Value = client.get("v1/profile").await?;
//! let note: Value = client.post("v1/notes", &json!({ "text": "hello" })).await?;
//! let page: Value = client.send(&ApiRequest::get("v1/notes").query("page", "2")).await?;
//! println!("{} {note} {page}", profile["locale"]);
//!
//! // After a restart, the same user; then log out.
//! clock.advance(Duration::from_secs(3600));
//! if let Some(client) = askara.restore("user-42").await? {
//!     client.forget().await?;
//! }
//! assert!(askara.restore("user-42").await?.is_none());
//! # Ok(()) }
//! ```
//!
//! # Testing against the sandbox
//!
//! The workspace's `sandbox` crate emulates Askara on `127.0.0.1`; point both hosts at it with
//! `.base_url(sb.url(sandbox::Provider::Askara))` and use `sb.credentials().askara`.

#![forbid(unsafe_code)]

mod api;
mod app;
mod claims;
mod client;
mod error;
mod models;

pub use api::{GetOrganization, GetProfile};
pub use app::{
    Askara, AskaraBuilder, DEFAULT_API_BASE_URL, DEFAULT_APP_BASE_URL, DEFAULT_SCOPES, PROVIDER,
    SCOPE_ORGANIZATION, SCOPE_PROFILE,
};
pub use claims::AccessTokenClaims;
pub use client::AskaraClient;
pub use error::{Error, Result};
pub use models::{Address, Organization, Profile};

/// The Redis token store, for running more than one process (feature `redis`).
#[cfg(feature = "redis")]
pub use oauth_flow_redis::{RedisStore, RedisStoreBuilder};

/// The OAuth core, for its result type (implementing [`TokenStore`] or [`Transport`]) and the
/// rest of its API.
pub use oauth_flow;
/// Re-exported from the OAuth core: every type this crate's API names, and what implementing
/// a [`TokenStore`], a [`Transport`] or a [`Clock`] needs, so `askara-sdk` is the only
/// dependency an app needs.
pub use oauth_flow::{
    AccessToken, ApiClient, ApiRequest, AuthorizationRequest, AuthorizedCode, BaseUrl,
    BaseUrlError, CallbackError, Clock, ConfigError, Endpoint, ErrorCode, ExposeSecret, FileStore,
    GrantHandle, GrantKey, HttpRequest, HttpResponse, IntoBaseUrl, JsonError, JsonErrorKind, Lease,
    ManualClock, MemoryStore, OAuthClient, OAuthError, PageLimits, PendingAuthorization,
    ReqwestTransport, RetryPolicy, SecretString, SystemClock, Token, TokenManager, TokenStore,
    Transport, Url, async_trait, http,
};
/// Re-exported because the models keep unknown fields as JSON values, and untyped calls
/// ([`AskaraClient::get`], [`ApiRequest`]) decode to [`serde_json::Value`] by default.
pub use serde_json;

/// The README's examples, compiled as doctests so they cannot drift from the API.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
