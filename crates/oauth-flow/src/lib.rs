//! Provider-agnostic OAuth 2.0 client core shared by the provider SDKs.
//!
//! Requests are built as plain values first ([`HttpRequest`]) and sent second, by one
//! [`Transport`]: every wire detail can be inspected and snapshot-tested without a server.
//!
//! - [`ProviderProfile`]: a provider's endpoints, body encoding, client authentication, PKCE.
//! - [`OAuthClient`]: a profile plus this app's client id, secret and redirect URI; builds the
//!   authorize URL ([`OAuthClient::authorize`]) and the token requests.
//! - [`PendingAuthorization`]: what the app keeps until the callback; completing it checks
//!   `state` and returns the code.
//! - [`TokenManager`] / [`GrantHandle`]: valid access tokens on demand, refreshed ahead of
//!   expiry, single-flight, rotation-safe, persisted in a [`TokenStore`].
//! - [`ApiClient`]: typed [`Endpoint`]s sent with a [`CredentialSource`] (a grant, an
//!   [`ApiKey`], or with feature `jwt` a self-signed [`JwtSigner`]).
//!
//! # Example
//!
//! ```no_run
//! use std::sync::Arc;
//! use oauth_flow::{ClientAuth, OAuthClient, ProviderProfile, ReqwestTransport, TokenManager};
//!
//! # async fn run() -> oauth_flow::Result<()> {
//! let profile = ProviderProfile::builder("example", "https://auth.example.com/token")
//!     .authorize_url("https://auth.example.com/authorize")
//!     .client_auth(ClientAuth::None) // a public client: PKCE S256 is switched on
//!     .build()?;
//! let client = OAuthClient::builder(profile, "my-client-id")
//!     .redirect_uri("http://127.0.0.1:8080/callback")
//!     .build()?;
//!
//! // 1. Send the user to `url`; keep `pending` (e.g. in the session).
//! let (url, pending) = client.authorize().scope("read").build()?;
//! println!("open {url}");
//!
//! // 2. The provider redirects back; complete with the callback URL.
//! let code = pending.complete("http://127.0.0.1:8080/callback?code=abc&state=...")?;
//!
//! // 3. Exchange the code; the manager keeps the tokens fresh from then on.
//! let manager = TokenManager::builder(client, Arc::new(ReqwestTransport::new()?)).build()?;
//! let grant = manager.exchange_code("user-42", code).await?;
//! let _token = grant.access_token().await?;
//! # Ok(()) }
//! ```

#![forbid(unsafe_code)]

// Lets the docs that `builder_settings!` expands link `oauth_flow::…` here as in the provider
// crates.
extern crate self as oauth_flow;

// One path per type: every module is private and its public items are re-exported below.
mod api;
mod api_request;
mod authorize;
mod base_url;
mod client;
mod clock;
mod credentials;
mod error;
mod grant;
mod hooks;
mod json_error;
#[cfg(feature = "jwt")]
mod jwt;
mod key;
#[cfg(feature = "loopback")]
mod loopback;
mod manager;
mod paging;
mod pkce;
mod profile;
mod request;
mod settings;
mod store;
#[cfg(any(test, feature = "test-util"))]
pub mod test_util;
mod thread_cache;
mod token;
mod transport;

pub use api::{ApiClient, ApiClientBuilder, Endpoint, RetryPolicy};
pub use api_request::ApiRequest;
pub use authorize::{AuthorizationRequest, AuthorizedCode, DEFAULT_MAX_AGE, PendingAuthorization};
pub use base_url::{BaseUrl, HostUrls, IntoBaseUrl};
pub use client::{OAuthClient, OAuthClientBuilder};
pub use clock::{Clock, ManualClock, SystemClock};
pub use credentials::{AccessToken, ApiKey, Authorization, CredentialSource};
pub use error::{
    BaseUrlError, CallbackError, ConfigError, EXCERPT_LIMIT, Error, ErrorCode, LoopbackError,
    OAuthError, Result,
};
pub use json_error::{JsonError, JsonErrorKind};
#[cfg(feature = "jwt")]
pub use jwt::{DEFAULT_REMINT_MARGIN, JwtSigner};
pub use key::GrantKey;
#[cfg(feature = "loopback")]
pub use loopback::{
    DEFAULT_CALLBACK_PATH, DEFAULT_LOOPBACK_MAX_REQUEST_BYTES, DEFAULT_LOOPBACK_READ_TIMEOUT,
    DEFAULT_LOOPBACK_TIMEOUT, LoopbackBuilder, LoopbackReceiver, open_system_browser,
};
pub use manager::{
    DEFAULT_LEASE_TTL, DEFAULT_LEASE_WAIT, DEFAULT_MAX_CACHED_GRANTS, DEFAULT_REFRESH_MARGIN,
    GrantHandle, MAX_REFRESH_MARGIN, ManagerSettings, TokenManager, TokenManagerBuilder,
};
pub use paging::{PageBound, PageLimitExceeded, PageLimits};
pub use pkce::PkceVerifier;
pub use profile::{
    BasicEncoding, BodyEncoding, ClientAuth, Pkce, ProfileBuilder, ProviderProfile, SpaceEncoding,
};
pub use request::{HttpRequest, HttpResponse};
pub use settings::SdkSettings;
pub use store::{FileStore, Lease, MemoryStore, TokenStore};
pub use token::{MAX_LIFETIME, Token};
pub use transport::{
    DEFAULT_MAX_BODY, ReqwestTransport, ReqwestTransportBuilder, TOKEN_RESPONSE_MAX_BODY, Transport,
};

/// Helpers the sibling crates of this workspace share (error excerpts, URL checks, response
/// decoding, token parsing). Not part of the public API: no semver promise, may change in any
/// release.
#[doc(hidden)]
pub mod __private {
    pub use crate::api::{auth_params, decode_success, retry_after};
    pub use crate::error::{excerpt, json_error, truncate};
    pub use crate::grant::{basic_credentials, encode_basic};
    pub use crate::request::{is_loopback, parse_secure_url, require_secure};
    pub use crate::settings::HoldsManagerSettings;
    pub use crate::token::{
        error_from_response, jwt_claims_unverified, jwt_expiry, parse_token_response,
    };
}

/// Re-exported so a [`Transport`] or [`TokenStore`] can be implemented without a direct
/// `async-trait` dependency.
pub use async_trait::async_trait;
/// Re-exported HTTP types used in the public API.
pub use http;
/// Re-exported so users need no direct `secrecy` dependency.
pub use secrecy::{ExposeSecret, SecretString};
/// Re-exported URL type used in the public API.
pub use url::Url;

/// The README's examples, compiled as doctests so they cannot drift from the API.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
