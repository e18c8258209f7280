//! KonPro SDK: log users in with OAuth 2.0 (Authorization Code + PKCE, public client) or use an
//! API token, then call the KonPro API with typed models.
//!
//! - [`KonPro`]: the OAuth client of your app. [`login_url`](KonPro::login_url) →
//!   [`complete_login`](KonPro::complete_login) → a per-user [`Client`]. Tokens are kept per
//!   user key in a [`TokenStore`], refreshed ahead of expiry at KonPro's separate
//!   `/v1/oauth/refresh_token` endpoint, and once more after a 401.
//! - [`Client`]: calls the API with a user's grant (`Authorization: Bearer`) or an API token
//!   ([`Client::api_key`], `X-API-KEY`): [`account_get`](Client::account_get) returns an
//!   [`Account`]; [`get`](Client::get), [`post`](Client::post), [`ApiRequest`] and your own
//!   [`Endpoint`]s reach any other endpoint with the same authentication.
//! - Command-line and desktop apps (feature `loopback`):
//!   `konpro.login_with_browser("user-42")` listens on `127.0.0.1`, opens the browser, and
//!   returns the user's [`Client`] (RFC 8252); `cargo run -p konpro-sdk --example login` shows it.
//! - [`BaseUrls`]: production by default; staging or the sandbox with one setting.
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
//!     // .sandbox("http://127.0.0.1:PORT/konpro") or .base_urls(app, api) for staging
//!     .build()?;
//!
//! // 1. Send the user to KonPro; keep `pending` in their (server-side) session.
//! let (url, pending) = konpro.login_url()?;
//! println!("open {url}");
//!
//! // 2. KonPro redirects to https://example.com/oauth/callback?code=...&state=...
//! let callback = "https://example.com/oauth/callback?code=...&state=...";
//!
//! // 3. Check the state, exchange the code, keep the tokens for this user.
//! let client = konpro.complete_login("user-42", pending, callback).await?;
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
//! use konpro_sdk::{Client, SecretString};
//!
//! let client = Client::api_key(SecretString::from("YOUR_API_TOKEN".to_owned())).build()?;
//! let account = client.account_get().await?;
//! # let _ = account;
//! # Ok(()) }
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
    GrantHandle, GrantKey, HttpRequest, HttpResponse, IntoBaseUrl, Lease, ManualClock,
    MemoryStore, OAuthClient, OAuthError, PageLimits, PendingAuthorization, ProviderProfile,
    ReqwestTransport, RetryPolicy, SecretString, SystemClock, Token, TokenManager, TokenStore,
    Transport, Url, async_trait, http,
};
/// Re-exported for the JSON values in [`Account`]'s `extra` maps, untyped calls
/// (`client.get::<serde_json::Value>(..)`) and [`Endpoint::body`].
pub use serde_json;
