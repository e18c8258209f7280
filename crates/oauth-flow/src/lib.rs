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

pub mod api;
mod api_request;
pub mod authorize;
mod base_url;
pub mod client;
pub mod clock;
pub mod credentials;
pub mod error;
pub mod grant;
#[cfg(feature = "jwt")]
pub mod jwt;
mod key;
#[cfg(feature = "loopback")]
pub mod loopback;
pub mod manager;
pub mod paging;
pub mod pkce;
pub mod profile;
pub mod request;
pub mod store;
pub mod token;
pub mod transport;

pub use api::{ApiClient, ApiClientBuilder, Endpoint, RetryPolicy};
pub use api_request::ApiRequest;
pub use authorize::{AuthorizationRequest, AuthorizedCode, PendingAuthorization};
pub use base_url::{BaseUrl, BaseUrlError, IntoBaseUrl};
pub use client::{OAuthClient, OAuthClientBuilder};
pub use clock::{Clock, ManualClock, SystemClock};
pub use credentials::{AccessToken, ApiKey, Authorization, CredentialSource};
pub use error::{CallbackError, ConfigError, Error, ErrorCode, LoopbackError, OAuthError, Result};
#[cfg(feature = "jwt")]
pub use jwt::JwtSigner;
#[cfg(feature = "loopback")]
pub use loopback::{LoopbackBuilder, LoopbackReceiver};
pub use manager::{GrantHandle, ManagerSettings, TokenManager, TokenManagerBuilder};
pub use paging::{PageBound, PageLimitExceeded, PageLimits};
pub use pkce::PkceVerifier;
pub use profile::{
    BasicEncoding, BodyEncoding, ClientAuth, Pkce, ProfileBuilder, ProviderProfile, SpaceEncoding,
};
pub use request::{HttpRequest, HttpResponse};
pub use store::{FileStore, GrantKey, Lease, MemoryStore, TokenStore};
pub use token::Token;
pub use transport::{ReqwestTransport, ReqwestTransportBuilder, Transport};

/// Re-exported so a [`Transport`] or [`TokenStore`] can be implemented without a direct
/// `async-trait` dependency.
pub use async_trait::async_trait;
/// Re-exported HTTP types used in the public API.
pub use http;
/// Re-exported so users need no direct `secrecy` dependency.
pub use secrecy::{ExposeSecret, SecretString};
/// Re-exported URL type used in the public API.
pub use url::Url;
