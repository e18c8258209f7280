//! KonPro SDK: log users in with OAuth 2.0 (Authorization Code + PKCE, public client) or use an
//! API token, then call the KonPro API with typed models.
//!
//! - [`KonPro`]: the OAuth client of your app. [`authorize_url`](KonPro::authorize_url) →
//!   [`complete`](KonPro::complete) → a per-user [`KonProClient`];
//!   [`client`](KonPro::client) and [`restore`](KonPro::restore) find a user's client later.
//!   Tokens are kept per user key in a [`TokenStore`], refreshed ahead of expiry at KonPro's
//!   separate `/v1/oauth/refresh_token` endpoint, and once more after a 401.
//! - [`KonProClient`]: calls the API with a user's grant (`Authorization: Bearer`) or an API
//!   token ([`KonProClient::api_key`], `X-API-KEY`): [`account_get`](KonProClient::account_get)
//!   returns an [`Account`]; [`get`](KonProClient::get), [`post`](KonProClient::post),
//!   [`ApiRequest`] and your own [`Endpoint`]s reach any other endpoint with the same
//!   authentication. [`refresh`](KonProClient::refresh), [`token`](KonProClient::token),
//!   [`expires_at`](KonProClient::expires_at) and [`forget`](KonProClient::forget) manage the
//!   user's tokens.
//! - Command-line and desktop apps (feature `loopback`):
//!   `konpro.login_with_browser("user-42")` listens on `127.0.0.1`, opens the browser, and
//!   returns the user's [`KonProClient`] (RFC 8252); `cargo run -p konpro-sdk --example login`
//!   shows it.
//! - Production hosts by default; [`KonProBuilder::base_url`] points both at one root (the
//!   sandbox, a proxy), [`app_base_url`](KonProBuilder::app_base_url) and
//!   [`api_base_url`](KonProBuilder::api_base_url) one each (a staging deployment).
//! - [`Error`]: one error type; callback, re-authorization, 401 and API errors have their own
//!   variants. No message contains a token, code, verifier or key.
//!
//! # Example
//!
//! ```no_run
//! use konpro_sdk::KonPro;
//!
//! # async fn run() -> konpro_sdk::Result<()> {
//! let konpro = KonPro::builder("YOUR_CLIENT_ID", "https://example.com/oauth/callback")
//!     // .base_url("http://127.0.0.1:PORT/konpro") for the sandbox
//!     .build()?;
//!
//! // 1. Send the user to KonPro; keep `pending` in their (server-side) session.
//! let (url, pending) = konpro.authorize_url()?;
//! println!("open {url}");
//!
//! // 2. KonPro redirects to https://example.com/oauth/callback?code=...&state=...
//! let callback_url = "https://example.com/oauth/callback?code=...&state=...";
//!
//! // 3. Check the state, exchange the code, keep the tokens for this user.
//! let client = konpro.complete("user-42", pending, callback_url).await?;
//!
//! // 4. Call the API; tokens refresh themselves.
//! let account = client.account_get().await?;
//! let tier = account.user_plan.as_ref().and_then(|p| p.tier.as_deref());
//! println!("{:?} on plan {tier:?}", account.email());
//!
//! // Any other endpoint, same authentication:
//! let other: serde_json::Value = client.get("v1/some-endpoint").await?;
//! # let _ = other;
//! # Ok(()) }
//! ```
//!
//! With an API token instead (no login):
//!
//! ```no_run
//! # async fn run() -> konpro_sdk::Result<()> {
//! use konpro_sdk::{KonProClient, SecretString};
//!
//! let client = KonProClient::api_key(SecretString::from("YOUR_API_TOKEN".to_owned())).build()?;
//! let account = client.account_get().await?;
//! # let _ = account;
//! # Ok(()) }
//! ```
//!
//! # The whole surface, offline: your own store, transport and clock
//!
//! Everything implementing a [`TokenStore`], a [`Transport`], a [`Clock`] or an [`Endpoint`]
//! needs is re-exported (the core's result type is [`oauth_flow::Result`]), so this crate is
//! the only dependency. Here a transport answers as KonPro would, without a network, the way
//! your app's own tests can run its login code:
//!
//! ```
//! use std::borrow::Cow;
//! use std::sync::Arc;
//! use std::sync::atomic::{AtomicUsize, Ordering};
//! use std::time::{Duration, SystemTime};
//!
//! use konpro_sdk::http::StatusCode;
//! use konpro_sdk::oauth_flow::Result as CoreResult;
//! use konpro_sdk::{
//!     AccessToken, Account, AccountGet, ApiRequest, CallbackError, Endpoint, Error, ExposeSecret,
//!     GrantKey, HttpRequest, HttpResponse, KonPro, KonProClient, ManualClock, MemoryStore,
//!     RetryPolicy, SecretString, Token, TokenStore, Transport, async_trait, serde_json,
//! };
//!
//! /// Keeps tokens in memory and counts the saves (a code exchange and each refresh save).
//! #[derive(Default)]
//! struct CountingStore {
//!     inner: MemoryStore,
//!     saves: AtomicUsize,
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
//! /// Answers like KonPro's token, refresh and account.get endpoints; 404 elsewhere.
//! #[derive(Default)]
//! struct FakeKonPro {
//!     issued: AtomicUsize,
//! }
//!
//! #[async_trait]
//! impl Transport for FakeKonPro {
//!     async fn send(&self, request: HttpRequest) -> CoreResult<HttpResponse> {
//!         let token = |n: usize| {
//!             format!(r#"{{"access_token":"at-{n}","token_type":"Bearer","expires_in":3600,"refresh_token":"rt-1"}}"#)
//!         };
//!         let (status, body) = match request.url.path() {
//!             "/v1/oauth/token" | "/v1/oauth/refresh_token" => {
//!                 (StatusCode::OK, token(self.issued.fetch_add(1, Ordering::Relaxed) + 1))
//!             }
//!             "/v1/pacific/account.get" | "/v1/usage" => {
//!                 (StatusCode::OK, r#"{"user": {"email": "jamie@example.com"}}"#.to_owned())
//!             }
//!             _ => (
//!                 StatusCode::NOT_FOUND,
//!                 r#"{"error": "not_found", "message": "no such endpoint"}"#.to_owned(),
//!             ),
//!         };
//!         Ok(HttpResponse::new(status, body))
//!     }
//! }
//!
//! /// An endpoint this crate has no method for.
//! struct Usage;
//!
//! impl Endpoint for Usage {
//!     type Output = serde_json::Value;
//!     fn path(&self) -> Cow<'_, str> {
//!         Cow::Borrowed("v1/usage")
//!     }
//! }
//!
//! # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
//! let store = Arc::new(CountingStore::default());
//! let clock = Arc::new(ManualClock::new(SystemTime::now()));
//! let konpro = KonPro::builder("my-client-id", "https://example.com/oauth/callback")
//!     .base_url("https://konpro.example.com") // both hosts; or app_base_url + api_base_url
//!     .store(store.clone())
//!     .transport(Arc::new(FakeKonPro::default()))
//!     .clock(clock.clone())
//!     .refresh_margin(Duration::from_secs(60))
//!     .retry(RetryPolicy::none())
//!     .build()?;
//!
//! // Log in: the URL for the user, `pending` for their session; KonPro calls back with the state.
//! let (url, pending) = konpro.authorize_url()?;
//! let state = url.query_pairs().find(|(k, _)| k == "state").map(|(_, v)| v.into_owned());
//! let callback_url = format!(
//!     "https://example.com/oauth/callback?code=the-code&state={}",
//!     state.unwrap_or_default()
//! );
//! // Another login's callback is refused before any request.
//! let (_, someone_else) = konpro.authorize_url()?;
//! let refused = konpro.complete("user-42", someone_else, &callback_url).await;
//! assert!(matches!(refused, Err(Error::Callback(CallbackError::StateMismatch))));
//! let client: KonProClient = konpro.complete("user-42", pending, &callback_url).await?;
//!
//! // Typed, untyped and your own endpoints, with the same authentication.
//! let account: Account = client.account_get().await?;
//! assert_eq!(account.email(), Some("jamie@example.com"));
//! let raw: serde_json::Value = client.get("v1/pacific/account.get").await?;
//! assert_eq!(raw["user"]["email"], "jamie@example.com");
//! assert_eq!(client.send(&AccountGet).await?, account);
//! let usage: serde_json::Value = client.send(&Usage).await?;
//! let limited = ApiRequest::<serde_json::Value>::get("v1/usage").query("limit", "10");
//! assert_eq!(client.send(&limited).await?, usage);
//!
//! // The user's tokens: current token, expiry, a forced refresh.
//! let token: Option<Token> = client.token().await?;
//! let expires_at: Option<SystemTime> = client.expires_at().await?;
//! assert!(token.is_some() && expires_at.is_some());
//! clock.advance(Duration::from_secs(600));
//! let renewed: AccessToken = client.refresh().await?;
//! assert_eq!(renewed.secret().expose_secret(), "at-2");
//! assert!(client.expires_at().await? > expires_at);
//! assert_eq!(store.saves.load(Ordering::Relaxed), 2); // the exchange and the refresh
//!
//! // Errors a caller matches on.
//! match client.get::<serde_json::Value>("v1/no-such-endpoint").await {
//!     Err(Error::Api { status: 404, code, .. }) => assert_eq!(code.as_deref(), Some("not_found")),
//!     other => panic!("expected a 404, got {other:?}"),
//! }
//!
//! // At start-up: is the user still logged in? Log them out with `forget`.
//! let restored = konpro.restore("user-42").await?.expect("tokens are stored");
//! restored.forget().await?;
//! assert!(konpro.restore("user-42").await?.is_none());
//! let err = konpro.client("user-42")?.account_get().await.unwrap_err();
//! assert!(err.is_reauthorization_required());
//!
//! // API-key mode: no grant, so nothing to refresh.
//! let keyed = konpro.api_key_client(SecretString::from("YOUR_API_TOKEN".to_owned()))?;
//! assert!(matches!(keyed.refresh().await, Err(Error::ApiKeyMode { .. })));
//! # Ok::<(), Error>(())
//! # }).unwrap();
//! ```

#![forbid(unsafe_code)]

mod account;
mod client;
mod de;
mod error;
#[cfg(feature = "loopback")]
mod login;
mod oauth;
mod profile;

pub use account::{
    ACCOUNT_GET_PATH, Account, AccountGet, Experiment, Feature, Quota, SpaceInfo, User, UserPlan,
};
pub use client::{API_KEY_HEADER, Auth, AuthMode, KonProClient, KonProClientBuilder};
pub use error::{Error, Result};
#[cfg(feature = "loopback")]
pub use login::{BrowserLogin, LoginStep};
pub use oauth::{KonPro, KonProBuilder};
/// Re-exported to match the loopback login's failures (timeout, cancellation, the port).
#[cfg(feature = "loopback")]
pub use oauth_flow::LoopbackError;
pub use profile::{API_BASE_URL, APP_BASE_URL, BaseUrls, PROVIDER};

/// Re-exported so an [`Endpoint`] can name its method.
pub use oauth_flow::http::Method;

/// The Redis token store, for running more than one process (feature `redis`).
#[cfg(feature = "redis")]
pub use oauth_flow_redis::{RedisStore, RedisStoreBuilder};

/// The README's examples, compiled as doctests so they cannot drift from the API.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
/// The OAuth core, for its result type (implementing a [`TokenStore`], a [`Transport`] or an
/// [`Endpoint`]), its error type inside [`Error`]'s variants, and the rest of its API.
pub use oauth_flow;
/// Re-exported from the OAuth core: every type this crate's API names, and what implementing
/// a [`TokenStore`], a [`Transport`] or a [`Clock`] needs, so `konpro-sdk` is the only
/// dependency an app needs.
pub use oauth_flow::{
    AccessToken, ApiClient, ApiRequest, AuthorizationRequest, AuthorizedCode, BaseUrl,
    BaseUrlError, CallbackError, Clock, ConfigError, Endpoint, ErrorCode, ExposeSecret, FileStore,
    GrantHandle, GrantKey, HttpRequest, HttpResponse, IntoBaseUrl, JsonError, JsonErrorKind, Lease,
    ManualClock, MemoryStore, OAuthClient, OAuthError, PageLimits, PendingAuthorization,
    ProviderProfile, ReqwestTransport, RetryPolicy, SecretString, SystemClock, Token, TokenManager,
    TokenStore, Transport, Url, async_trait, http,
};
/// Re-exported for the JSON values in [`Account`]'s `extra` maps, untyped calls
/// (`client.get::<serde_json::Value>(..)`) and [`Endpoint::body`].
pub use serde_json;
