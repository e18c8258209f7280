//! Konvert SDK: typed GraphQL operations against the Konvert API, authenticated with OAuth 2.0
//! client credentials or a self-signed JWT.
//!
//! - [`KonvertClient::builder`]`(auth)`: production (`https://api.konvertapp.com/api`) by
//!   default; [`KonvertClientBuilder::environment`] picks [`Environment::Staging`], and
//!   [`KonvertClientBuilder::base_url`] moves either to another host (a staging emulator, a
//!   proxy, the workspace's sandbox) while the client still reports its environment.
//! - [`Auth`]: the API key and secret, used either for the client credentials grant or to sign
//!   HS256 JWTs. Both end up as `Authorization: Bearer`.
//! - [`KonvertClient::query`]: sends an operation from [`operations`] (generated with
//!   `graphql_client` by `cargo xtask codegen`) and returns its typed data. GraphQL errors,
//!   partial data and HTTP failures are distinct [`Error`] variants.
//! - [`KonvertClient::query_raw`]: a document without a generated type, same credential,
//!   retries and errors, `data` returned as JSON.
//! - [`KonvertClient::refresh`] renews the bearer now, [`KonvertClient::expires_at`] reads its
//!   expiry and [`KonvertClient::forget`] drops it (both modes).
//!
//! # Client credentials
//!
//! The token is requested once (`POST /oauth/token`, HTTP Basic, `grant_type=client_credentials`),
//! cached for its `expires_in` and renewed shortly before it expires, with one request however
//! many calls are waiting.
//!
//! ```no_run
//! use konvert_sdk::operations::{ListContacts, list_contacts};
//! use konvert_sdk::{Auth, KonvertClient, SecretString};
//!
//! # async fn run() -> Result<(), konvert_sdk::Error> {
//! let secret = SecretString::from(std::env::var("KONVERT_API_SECRET").unwrap_or_default());
//! let client = KonvertClient::builder(Auth::client_credentials("your-api-key", secret)).build()?;
//!
//! let page = client
//!     .query::<ListContacts>(list_contacts::Variables { first: Some(10), after: None, filter: None })
//!     .await?;
//! for edge in page.contacts.edges {
//!     println!("{} {}", edge.node.first_name, edge.node.last_name);
//! }
//! # Ok(()) }
//! ```
//!
//! # Self-signed JWT
//!
//! HS256, `sub` = the API key, signed with the API secret; the lifetime may not exceed six hours
//! ([`MAX_JWT_LIFETIME`]). One JWT is signed per lifetime and reused by every call until it
//! nears its `exp`.
//!
//! ```no_run
//! use std::time::Duration;
//! use konvert_sdk::operations::{CreateContact, create_contact};
//! use konvert_sdk::{Auth, Environment, KonvertClient, SecretString};
//!
//! # async fn run() -> Result<(), konvert_sdk::Error> {
//! let secret = SecretString::from(std::env::var("KONVERT_API_SECRET").unwrap_or_default());
//! let auth = Auth::jwt("your-api-key", secret, Duration::from_secs(3600));
//! let client = KonvertClient::builder(auth)
//!     .environment(Environment::Staging)
//!     .build()?;
//!
//! let created = client
//!     .query::<CreateContact>(create_contact::Variables {
//!         input: create_contact::CreateContactInput {
//!             first_name: "Ada".into(),
//!             last_name: "Lovelace".into(),
//!             email: "ada@example.com".into(),
//!             phone: None,
//!             job_title: None,
//!             company_id: None,
//!             lifecycle_stage: None,
//!         },
//!     })
//!     .await?;
//! println!("created {}", created.create_contact.id);
//! # Ok(()) }
//! ```
//!
//! # The whole surface, with this crate as the only dependency
//!
//! What implementing a [`Transport`] or a [`Clock`] needs is re-exported (the core's result
//! type is [`oauth_flow::Result`]), and so is [`serde_json`] for raw queries. Konvert has no
//! user login, so there is no authorize URL, callback or per-user client: the client itself
//! holds the one bearer, made from the API key and secret, in memory (no token store to plug
//! in).
//!
//! ```no_run
//! use std::sync::Arc;
//! use std::time::{Duration, SystemTime};
//!
//! use konvert_sdk::oauth_flow::Result as CoreResult;
//! use konvert_sdk::operations::{GetViewer, get_viewer};
//! use konvert_sdk::{
//!     AccessToken, Auth, Clock, Environment, Error, HttpRequest, HttpResponse, KonvertClient,
//!     PageLimits, ReqwestTransport, RetryPolicy, SecretString, Transport, async_trait,
//!     serde_json,
//! };
//!
//! /// Sends with reqwest and logs each answer's status (never a header or a body).
//! struct LoggingTransport(ReqwestTransport);
//!
//! #[async_trait]
//! impl Transport for LoggingTransport {
//!     async fn send(&self, request: HttpRequest) -> CoreResult<HttpResponse> {
//!         let response = self.0.send(request).await?;
//!         eprintln!("Konvert answered {}", response.status);
//!         Ok(response)
//!     }
//! }
//!
//! /// A clock that runs a fixed offset ahead of the system's, e.g. to match a skewed server.
//! struct SkewedClock(Duration);
//!
//! impl Clock for SkewedClock {
//!     fn now(&self) -> SystemTime {
//!         SystemTime::now() + self.0
//!     }
//! }
//!
//! # async fn run() -> Result<(), konvert_sdk::Error> {
//! let secret = SecretString::from(std::env::var("KONVERT_API_SECRET").unwrap_or_default());
//! let client = KonvertClient::builder(Auth::client_credentials("your-api-key", secret))
//!     .environment(Environment::Staging)
//!     .base_url("https://konvert-staging.internal") // a proxy in front of staging
//!     .transport(Arc::new(LoggingTransport(ReqwestTransport::new()?)))
//!     .clock(Arc::new(SkewedClock(Duration::from_secs(2))))
//!     .refresh_margin(Duration::from_secs(120))
//!     .retry(RetryPolicy::none())
//!     .page_limits(PageLimits::new().max_pages(20))
//!     .build()?;
//! assert_eq!(client.environment(), Environment::Staging);
//!
//! // An operation without a generated type yet.
//! let data = client
//!     .query_raw("{ viewer { apiKey } }", serde_json::json!({}))
//!     .await?;
//! println!("API key {}", data["viewer"]["apiKey"]);
//!
//! // The bearer: renew it now, read it and its expiry, drop it.
//! let renewed: AccessToken = client.refresh().await?;
//! assert!(client.access_token().await?.same_as(&renewed));
//! let expiry: Option<SystemTime> = client.expires_at().await?;
//! println!("valid until {expiry:?}");
//! client.forget().await?;
//!
//! match client.query::<GetViewer>(get_viewer::Variables).await {
//!     Ok(data) => println!("mode {}", data.viewer.mode),
//!     Err(Error::PartialData(partial)) => eprintln!("{} field errors", partial.errors.len()),
//!     Err(Error::GraphQl { errors }) => eprintln!("refused: {}", errors[0].message),
//!     Err(Error::Unauthorized { .. }) => eprintln!("check the API key and secret"),
//!     Err(e @ Error::RateLimited { .. }) => eprintln!("retry in {:?}", e.retry_after()),
//!     Err(Error::Api { status, .. }) => eprintln!("HTTP {status}"),
//!     Err(e) => return Err(e),
//! }
//! # Ok(()) }
//! ```
//!
//! # Against the sandbox
//!
//! `.base_url(sb.url(sandbox::Provider::Konvert))` on the builder points every endpoint at
//! the workspace's in-process emulator (`http://127.0.0.1:PORT/konvert`).

#![forbid(unsafe_code)]

mod auth;
mod client;
mod environment;
mod error;
mod graphql;
mod graphql_errors;

/// The checked-in generated operations (see the crate README's codegen section).
// Formatted by prettyplease in `cargo xtask codegen`, not rustfmt, so `--check` stays exact.
#[rustfmt::skip]
#[allow(missing_docs, unused_imports, non_camel_case_types, clippy::all)]
pub mod operations;

pub use auth::{Auth, AuthMode, DEFAULT_JWT_LIFETIME, MAX_JWT_LIFETIME};
pub use client::{KonvertClient, KonvertClientBuilder, PROVIDER};
pub use environment::{API_PATH, Environment, PRODUCTION_BASE_URL, STAGING_BASE_URL, TOKEN_PATH};
pub use error::{Error, Result};
pub use graphql_errors::{GraphQlError, Location, Partial, PartialData, PathSegment};

/// Re-exported so the stream of [`KonvertClient::contacts`] can be driven without a direct
/// dependency (`StreamExt`, `TryStreamExt`).
pub use futures_util;
/// The trait every generated operation implements.
pub use graphql_client::GraphQLQuery;
/// The body every generated operation builds ([`GraphQLQuery::build_query`]).
pub use graphql_client::QueryBody;
/// The OAuth core, for its transport, clock and error types.
pub use oauth_flow;
/// Re-exported from the OAuth core: every type this crate's API names, and what implementing
/// a [`Transport`] or a [`Clock`] needs, so `konvert-sdk` is the only dependency an app needs.
/// (Konvert keeps its tokens in memory: no store types.)
pub use oauth_flow::{
    AccessToken, ApiRequest, BaseUrl, BaseUrlError, Clock, ConfigError, Endpoint, ErrorCode,
    ExposeSecret, HttpRequest, HttpResponse, IntoBaseUrl, JsonError, JsonErrorKind, ManualClock,
    OAuthError, PageBound, PageLimitExceeded, PageLimits, ReqwestTransport, RetryPolicy,
    SecretString, SystemClock, Transport, Url, async_trait, http,
};
/// The JSON of [`KonvertClient::query_raw`]'s variables and data (`serde_json::json!`).
pub use serde_json;

/// The README's examples, compiled as doctests so they cannot drift from the API.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
