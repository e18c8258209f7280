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
//! such as the workspace sandbox's `sb.url(Provider::Kustomer)`.
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
//! // 4. The callback arrives with `code` and `state`: check it and exchange the code.
//! let callback = "https://example.com/callback?code=...&state=...";
//! let grant = match oauth.complete("user-42", pending, callback).await {
//!     Err(e @ kustomer_sdk::Error::AppNotInstalled { .. }) => {
//!         eprintln!("{e}"); // "... install it from the App Directory ... and authorize again"
//!         return Err(e);
//!     }
//!     other => other?,
//! };
//!
//! // 5. Call the API with the user's token (refreshed automatically).
//! let client = kustomer.client_with_grant(&grant)?;
//! let page = client.list_customers(PageParams::new().page_size(50)).await?;
//! for customer in page.items() {
//!     println!("{} {:?}", customer.id, customer.best_name());
//! }
//! let everyone = client.all_customers(100).await?; // walks `links.next`
//! println!("{} customers", everyone.len());
//! # Ok(()) }
//! ```
//!
//! # Example: your own token store, transport and clock
//!
//! What implementing a [`TokenStore`], a [`Transport`] or a [`Clock`] needs is re-exported
//! (the core's result type is [`oauth_flow::Result`]), so this crate is the only dependency:
//!
//! ```no_run
//! use std::sync::Arc;
//! use std::sync::atomic::{AtomicU64, Ordering};
//! use std::time::SystemTime;
//!
//! use kustomer_sdk::oauth_flow::Result as CoreResult;
//! use kustomer_sdk::{
//!     GrantKey, HttpRequest, HttpResponse, Kustomer, ManualClock, MemoryStore, ReqwestTransport,
//!     SecretString, Token, TokenStore, Transport, async_trait,
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
//! # fn run() -> Result<(), kustomer_sdk::Error> {
//! let kustomer = Kustomer::builder()
//!     .transport(Arc::new(LoggingTransport(ReqwestTransport::new()?)))
//!     .build()?;
//! let secret = SecretString::from(std::env::var("KUSTOMER_CLIENT_SECRET").unwrap_or_default());
//! let oauth = kustomer
//!     .oauth("client-id", secret, "https://example.com/callback")
//!     .store(Arc::new(CountingStore::default()))
//!     .clock(Arc::new(ManualClock::new(SystemTime::now())))
//!     .build()?;
//! let (url, _pending) = oauth.authorize_url([kustomer_sdk::scopes::CUSTOMER])?;
//! println!("open {url}");
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
pub use oauth::{KustomerGrant, KustomerOAuth, KustomerOAuthBuilder, PROVIDER, scopes};

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
    AccessToken, ApiRequest, AuthorizedCode, BaseUrl, BaseUrlError, CallbackError, Clock,
    ConfigError, Endpoint, ErrorCode, ExposeSecret, FileStore, GrantHandle, GrantKey, HttpRequest,
    HttpResponse, IntoBaseUrl, Lease, ManualClock, MemoryStore, OAuthError, PendingAuthorization,
    ReqwestTransport, RetryPolicy, SecretString, SystemClock, Token, TokenStore, Transport, Url,
    async_trait, http,
};
/// Re-exported for the page walks' bounds and their error.
pub use oauth_flow::{PageBound, PageLimitExceeded, PageLimits};

/// The README's examples, compiled as doctests so they cannot drift from the API.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
