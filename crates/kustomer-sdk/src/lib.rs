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
//! such as the workspace sandbox's `sb.url(Provider::Kustomer)`, and a per-host setter wins over
//! it whatever the call order. Every other setting (store, clock, transport, retry, ...) is set
//! once on [`Kustomer::builder`] and holds for every client it makes; without a store, all the
//! OAuth flows of one [`Kustomer`] share one in-memory store.
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
//! # The whole surface, offline: your own store, transport and clock
//!
//! What implementing a [`TokenStore`], a [`Transport`], a [`Clock`] or an [`Endpoint`] needs
//! is re-exported (the core's result type is [`oauth_flow::Result`]), so this crate is the
//! only dependency. Here a transport answers as Kustomer would, without a network, the way
//! your app's own tests can run its login code:
//!
//! ```
//! use std::sync::Arc;
//! use std::sync::atomic::{AtomicUsize, Ordering};
//! use std::time::{Duration, SystemTime};
//!
//! use kustomer_sdk::http::{Method, StatusCode};
//! use kustomer_sdk::oauth_flow::Result as CoreResult;
//! use kustomer_sdk::{
//!     AccessToken, ApiRequest, Customer, CustomerFields, Document, Error, ExposeSecret, GrantKey,
//!     HttpRequest, HttpResponse, Kustomer, KustomerClient, KustomerOAuth, ManualClock,
//!     MemoryStore, PageParams, PendingAuthorization, RetryPolicy, SecretString, Token,
//!     TokenStore, Transport, Url, async_trait, scopes, serde_json,
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
//! /// Answers like Kustomer's token endpoint and a few customer routes; a JSON:API 404 elsewhere.
//! #[derive(Default)]
//! struct FakeKustomer {
//!     issued: AtomicUsize,
//! }
//!
//! #[async_trait]
//! impl Transport for FakeKustomer {
//!     async fn send(&self, request: HttpRequest) -> CoreResult<HttpResponse> {
//!         let customer = |id: &str, name: &str| {
//!             format!(r#"{{"type":"customer","id":"{id}","attributes":{{"name":"{name}"}}}}"#)
//!         };
//!         let (status, body) = match (&request.method, request.url.path()) {
//!             (&Method::POST, "/oauth/token") => {
//!                 let n = self.issued.fetch_add(1, Ordering::Relaxed) + 1;
//!                 (StatusCode::OK, format!(
//!                     r#"{{"access_token":"at-{n}","token_type":"bearer","expires_in":86400,
//!                         "refresh_token":"rt-{n}","scope":"org.permission.customer offline_access"}}"#
//!                 ))
//!             }
//!             (&Method::GET, "/v1/customers") => {
//!                 (StatusCode::OK, format!(r#"{{"data":[{}],"links":{{"next":null}}}}"#, customer("c1", "Ava")))
//!             }
//!             (&Method::GET, "/v1/customers/c1") => {
//!                 (StatusCode::OK, format!(r#"{{"data":{}}}"#, customer("c1", "Ava")))
//!             }
//!             (&Method::POST, "/v1/customers") => {
//!                 (StatusCode::CREATED, format!(r#"{{"data":{}}}"#, customer("c2", "Bo")))
//!             }
//!             (&Method::GET, "/v1/notes") => (StatusCode::OK, r#"{"data":[]}"#.to_owned()),
//!             _ => (
//!                 StatusCode::NOT_FOUND,
//!                 r#"{"errors":[{"status":"404","title":"Not Found"}]}"#.to_owned(),
//!             ),
//!         };
//!         Ok(HttpResponse::new(status, body))
//!     }
//! }
//!
//! /// The `state` Kustomer sends back to the callback.
//! fn state_of(url: &Url) -> String {
//!     url.query_pairs().find(|(k, _)| k == "state").map(|(_, v)| v.into_owned()).unwrap_or_default()
//! }
//!
//! # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
//! // Every setting goes on `Kustomer::builder()`; the OAuth flows it makes inherit them.
//! let store = Arc::new(CountingStore::default());
//! let clock = Arc::new(ManualClock::new(SystemTime::now()));
//! let kustomer = Kustomer::builder()
//!     .base_url("https://kustomer.example.com") // both hosts; or api_base_url + oauth_base_url
//!     .store(store.clone())
//!     .transport(Arc::new(FakeKustomer::default()))
//!     .clock(clock.clone())
//!     .refresh_margin(Duration::from_secs(120))
//!     .retry(RetryPolicy::none())
//!     .build()?;
//! let secret = SecretString::from("client-secret".to_owned());
//! let oauth: KustomerOAuth = kustomer
//!     .oauth("client-id", secret, "https://example.com/callback")
//!     .pkce(false) // the only OAuth-specific option
//!     .build()?;
//!
//! // Log in: the URL for the user, `pending` for their session; Kustomer calls back.
//! let (url, pending): (Url, PendingAuthorization) = oauth.authorize_url([scopes::CUSTOMER])?;
//! let callback = format!("https://example.com/callback?code=the-code&state={}", state_of(&url));
//! // A user who clicks "Deny": typed, and nothing is sent.
//! let (denied_url, denied) = oauth.authorize_url([scopes::CUSTOMER])?;
//! let denial = format!(
//!     "https://example.com/callback?error=access_denied&state={}",
//!     state_of(&denied_url)
//! );
//! let refused = oauth.complete("user-42", denied, &denial).await.unwrap_err();
//! assert!(refused.is_access_denied() && matches!(refused, Error::Callback(_)));
//! let client: KustomerClient = oauth.complete("user-42", pending, &callback).await?;
//! assert_eq!(client.granted_scopes().await?, [scopes::CUSTOMER, scopes::OFFLINE_ACCESS]);
//!
//! // Typed calls, and endpoints without a typed method, with the same authentication.
//! let page = client.list_customers(PageParams::new().page_size(10)).await?;
//! assert_eq!(page.items()[0].best_name(), Some("Ava"));
//! let one: Document<Customer> = client.get("v1/customers/c1").await?;
//! let created: Document<Customer> =
//!     client.post("v1/customers", &CustomerFields::new().name("Bo")).await?;
//! assert_eq!((one.data.id.as_str(), created.data.id.as_str()), ("c1", "c2"));
//! let notes = ApiRequest::<serde_json::Value>::get("v1/notes").query("pageSize", "5");
//! assert_eq!(client.send(&notes).await?["data"], serde_json::json!([]));
//!
//! // The user's tokens: current token, expiry, a forced refresh (the rotated refresh token
//! // is saved before the new access token is handed out).
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
//!     Err(Error::Api { status: 404, errors, .. }) => {
//!         assert_eq!(errors[0].title.as_deref(), Some("Not Found"));
//!     }
//!     other => panic!("expected a 404, got {other:?}"),
//! }
//!
//! // At start-up: is the user still logged in? Log them out with `forget`.
//! let restored = oauth.restore("user-42").await?.expect("tokens are stored");
//! restored.forget().await?;
//! assert!(oauth.restore("user-42").await?.is_none());
//! let err = oauth.client("user-42")?.list_customers(PageParams::new()).await.unwrap_err();
//! assert!(err.is_reauthorization_required());
//!
//! // An org API key instead of a user: no grant, so nothing to refresh.
//! let by_key = kustomer.api_key_client(SecretString::from("api-key".to_owned()))?;
//! assert!(matches!(by_key.refresh().await, Err(Error::ApiKeyMode { .. })));
//! # Ok::<(), Error>(())
//! # }).unwrap();
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
    GrantKey, HttpRequest, HttpResponse, IntoBaseUrl, JsonError, JsonErrorKind, Lease, ManualClock,
    MemoryStore, OAuthClient, OAuthError, PendingAuthorization, ReqwestTransport, RetryPolicy,
    SecretString, SystemClock, Token, TokenManager, TokenStore, Transport, Url, async_trait, http,
};
/// Re-exported for the page walks' bounds and their error.
pub use oauth_flow::{PageBound, PageLimitExceeded, PageLimits};
/// Re-exported for untyped calls (`client.get::<serde_json::Value>(..)`), the JSON values in
/// the models' `extra` maps and [`Endpoint::body`].
pub use serde_json;

/// The README's examples, compiled as doctests so they cannot drift from the API.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
