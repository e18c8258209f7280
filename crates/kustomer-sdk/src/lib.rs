//! Kustomer SDK: private-app registration, client-secret generation, the OAuth 2.0
//! Authorization Code flow, and typed calls to the customers and conversations API.
//!
//! Built on [`oauth_flow`]: every request is a value first (see the `*_request` methods and
//! [`KustomerClient::request`]), sent by one transport; tokens refresh themselves and rotated
//! refresh tokens are saved before use.
//!
//! Kustomer has two hosts: the REST API (`https://api.kustomerapp.com`: apps, customers,
//! conversations) and the OAuth host (`https://api.apps.kustomerapp.com`: `/oauth/authorize`,
//! `/oauth/token`). Both are overridable ([`KustomerBuilder::api_base_url`],
//! [`KustomerBuilder::oauth_base_url`]); [`KustomerBuilder::base_url`] points both at one prefix,
//! such as the workspace sandbox's `sb.url(Provider::Kustomer)`. Every other setting (store,
//! clock, transport, retry, ...) is set once on [`Kustomer::builder`] and holds for every
//! client it makes.
//!
//! # Example: register → secret → authorize → exchange → list customers
//!
//! ```no_run
//! use kustomer_sdk::{AppDefinition, Kustomer, PageParams, SecretString, scopes};
//!
//! # async fn run() -> Result<(), kustomer_sdk::Error> {
//! let kustomer = Kustomer::new()?; // production; `.builder().base_url(..)` for the sandbox
//! let api_key = SecretString::from(std::env::var("KUSTOMER_API_KEY").unwrap_or_default());
//!
//! // 1. Register a private app with an API key (roles org.admin.apps + org.permission.apps).
//! let apps = kustomer.apps(api_key.clone())?;
//! let app = apps
//!     .register(&AppDefinition::private("myoauthapp", "0.0.1", "My OAuth App"))
//!     .await?;
//! println!("registered {} (client id {})", app.name, app.client_id);
//!
//! // 2. Install the app from the org's App Directory, then generate its client secret.
//! //    `app.name` is the namespaced `myoauthapp_<orgId>` the secret call needs.
//! let secret = apps.generate_secret(&app.name).await?;
//!
//! // 3. Send the user to Kustomer's authorization screen; keep `pending` until the callback.
//! let oauth = kustomer
//!     .oauth(secret.client_id(), secret.client_secret().clone(), "https://example.com/callback")
//!     .build()?;
//! let (url, pending) = oauth.authorize_url([scopes::CUSTOMER, scopes::CONVERSATION])?;
//! println!("open {url}");
//!
//! // 4. The callback arrives with `code` and `state`: check it, exchange the code, and get
//! //    the user's API client.
//! let callback = "https://example.com/callback?code=...&state=...";
//! let client = match oauth.complete("user-42", pending, callback).await {
//!     Err(e @ kustomer_sdk::Error::AppNotInstalled { .. }) => {
//!         eprintln!("{e}"); // "... install it from the App Directory ... and authorize again"
//!         return Err(e);
//!     }
//!     other => other?,
//! };
//!
//! // 5. Call the API with the user's token (refreshed automatically).
//! let page = client.list_customers(PageParams::new().page_size(50)).await?;
//! for customer in page.items() {
//!     println!("{} {:?}", customer.id, customer.best_name());
//! }
//! let everyone = client.all_customers(100).await?; // walks `links.next`
//! println!("{} customers", everyone.len());
//! # Ok(()) }
//! ```
//!
//! # Example: the whole surface, with your own token store, transport and clock
//!
//! What implementing a [`TokenStore`], a [`Transport`] or a [`Clock`] needs is re-exported
//! (the core's result type is [`oauth_flow::Result`]), so this crate is the only dependency:
//!
//! ```no_run
//! use std::sync::Arc;
//! use std::sync::atomic::{AtomicU64, Ordering};
//! use std::time::{Duration, SystemTime};
//!
//! use kustomer_sdk::oauth_flow::Result as CoreResult;
//! use kustomer_sdk::{
//!     ApiRequest, Customer, CustomerFields, Document, Error, GrantKey, HttpRequest,
//!     HttpResponse, Kustomer, KustomerClient, KustomerOAuth, ManualClock, MemoryStore,
//!     PageParams, PendingAuthorization, ReqwestTransport, RetryPolicy, SecretString, Token,
//!     TokenStore, Transport, Url, async_trait, scopes,
//! };
//!
//! /// Keeps tokens in memory and counts the saves (a refresh saves the rotated token).
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
//!         eprintln!("Kustomer answered {}", response.status);
//!         Ok(response)
//!     }
//! }
//!
//! # async fn run() -> Result<(), Error> {
//! // Every setting goes on `Kustomer::builder()`; the OAuth flows it makes inherit them.
//! let kustomer = Kustomer::builder()
//!     .api_base_url("https://api.kustomerapp.com")
//!     .oauth_base_url("https://api.apps.kustomerapp.com")
//!     .store(Arc::new(CountingStore::default()))
//!     .transport(Arc::new(LoggingTransport(ReqwestTransport::new()?)))
//!     .clock(Arc::new(ManualClock::new(SystemTime::now())))
//!     .refresh_margin(Duration::from_secs(120))
//!     .retry(RetryPolicy::none())
//!     .build()?;
//! let secret = SecretString::from(std::env::var("KUSTOMER_CLIENT_SECRET").unwrap_or_default());
//! let oauth: KustomerOAuth = kustomer
//!     .oauth("client-id", secret, "https://example.com/callback")
//!     .pkce(false)
//!     .build()?;
//!
//! // Log in: the URL to send the user to, then the callback.
//! let (url, pending): (Url, PendingAuthorization) = oauth.authorize_url([scopes::CUSTOMER])?;
//! println!("open {url}");
//! let callback = "https://example.com/callback?code=...&state=...";
//! let client: KustomerClient = match oauth.complete("user-42", pending, callback).await {
//!     Ok(client) => client,
//!     Err(e) if e.is_access_denied() => return Ok(()), // the user clicked "Deny"
//!     Err(Error::AppNotInstalled { .. }) => return Ok(()), // install it, authorize again
//!     Err(e) => return Err(e),
//! };
//!
//! // After a restart: the user's client, if the store still holds their tokens.
//! let client = match oauth.restore("user-42").await? {
//!     Some(restored) => restored,
//!     None => client, // here: send the user through the authorization again
//! };
//! let same_user: KustomerClient = oauth.client("user-42")?; // no store read until a call
//!
//! // Tokens: force a refresh, read the current set and its expiry.
//! let fresh = client.refresh().await?;
//! let token: Option<Token> = client.token().await?;
//! let expires: Option<SystemTime> = client.expires_at().await?;
//! println!("{fresh:?} {:?} {expires:?} {:?}", token.map(|t| t.scope), client.granted_scopes().await?);
//!
//! // Typed calls, and endpoints without a typed method.
//! let page = same_user.list_customers(PageParams::new().page_size(10)).await?;
//! let one: Document<Customer> = client.get("v1/customers/6650c0ffee00000000000001").await?;
//! let created: Document<Customer> =
//!     client.post("v1/customers", &CustomerFields::new().name("Ava")).await?;
//! let notes: ApiRequest = ApiRequest::get("v1/notes").query("pageSize", "5"); // JSON as is
//! let notes = client.send(&notes).await?;
//! println!("{} {} {} {notes}", page.items().len(), one.data.id, created.data.id);
//!
//! // Errors a user matches on.
//! match client.all_customers(100).await {
//!     Ok(everyone) => println!("{} customers", everyone.len()),
//!     Err(Error::ReauthorizationRequired { .. }) => println!("log in again"),
//!     Err(Error::Forbidden { insufficient_scope: true, .. }) => println!("authorize a role"),
//!     Err(Error::RateLimited { retry_after, .. }) => println!("wait {retry_after:?}"),
//!     Err(Error::Api { status, errors, .. }) => println!("{status}: {errors:?}"),
//!     Err(Error::PageLimitExceeded(e)) => println!("{e}"),
//!     Err(Error::Unauthorized { message }) => println!("token refused: {message:?}"),
//!     Err(Error::Transport(e)) => println!("no answer: {e}"),
//!     Err(other) => return Err(other),
//! }
//!
//! // An org API key instead of a user: no tokens of its own to refresh.
//! let by_key = kustomer.api_key_client(SecretString::from("api-key".to_owned()))?;
//! assert!(matches!(by_key.refresh().await, Err(Error::NoGrant { .. })));
//!
//! // Log out: the user's tokens leave the store.
//! client.forget().await?;
//! # Ok(()) }
//! ```

#![forbid(unsafe_code)]

mod api;
mod apps;
mod config;
mod error;
mod models;
mod oauth;
mod response;

pub use api::{
    KustomerClient, ListDocument, ListRequest, MAX_PAGE_SIZE, Page, PageLinks, PageMeta,
    PageParams, Pager, ResourceRequest,
};
pub use apps::{AppDefinition, AppsClient, GeneratedSecret, NamespacedAppName, RegisteredApp};
pub use config::{API_BASE_URL, Kustomer, KustomerBuilder, OAUTH_BASE_URL};
pub use error::{ApiErrorObject, Error, Result};
pub use models::{
    Conversation, ConversationAttributes, ConversationCounts, ConversationId, ConversationStatus,
    Criterion, Customer, CustomerAttributes, CustomerFields, CustomerId, CustomerSearch, Document,
    EmailAddress, NewConversation, PhoneNumber, SearchOp,
};
pub use oauth::{KustomerOAuth, KustomerOAuthBuilder, PROVIDER, scopes};

/// The Redis token store, for running more than one process (feature `redis`).
#[cfg(feature = "redis")]
pub use oauth_flow_redis::{RedisStore, RedisStoreBuilder};

/// Re-exported so the stream of [`KustomerClient::items`] can be driven without a direct
/// dependency (`StreamExt`, `TryStreamExt`).
pub use futures_util;
/// The OAuth core, for its result type (implementing [`TokenStore`] or [`Transport`]) and the
/// rest of its API.
pub use oauth_flow;
/// Re-exported from the OAuth core: every type this crate's API names, and what implementing
/// a [`TokenStore`], a [`Transport`] or a [`Clock`] needs, so `kustomer-sdk` is the only
/// dependency an app needs.
pub use oauth_flow::{
    AccessToken, ApiClient, ApiRequest, Authorization, AuthorizedCode, BaseUrl, BaseUrlError,
    CallbackError, Clock, ConfigError, Endpoint, ErrorCode, ExposeSecret, FileStore, GrantHandle,
    GrantKey, HttpRequest, HttpResponse, IntoBaseUrl, Lease, ManualClock, MemoryStore, OAuthClient,
    OAuthError, PendingAuthorization, ReqwestTransport, RetryPolicy, SecretString, SystemClock,
    Token, TokenManager, TokenStore, Transport, Url, async_trait, http,
};
/// Re-exported for the page walks' bounds and their error.
pub use oauth_flow::{PageBound, PageLimitExceeded, PageLimits};

/// The README's examples, compiled as doctests so they cannot drift from the API.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
