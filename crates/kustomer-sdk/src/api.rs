//! Typed calls to Kustomer's REST API (customers, conversations) and pagination.
//!
//! Each call is a value first: a [`ResourceRequest`] (one resource), a [`ListRequest`] (a
//! page of resources) or any other [`Endpoint`] (such as an [`ApiRequest`] for an endpoint
//! without a typed method), which [`KustomerClient::request`] turns into an [`HttpRequest`]
//! for inspection, and the client sends with its credentials (an API key or a user's OAuth
//! grant, both as `Authorization: Bearer`).
//!
//! Lists are paged with `page` and `pageSize` (1–100); a [`Page`] keeps the request that
//! produced it, so [`KustomerClient::next_page`] repeats it (same method, path and body, a
//! search included) with the query of `links.next`. The link's host and path are never
//! followed: credentials only go to the configured API base.
//!
//! A server can keep offering a next page, so walks are bounded by the client's
//! [`PageLimits`] (100 pages and 10,000 items by default): [`KustomerClient::all`] ends in
//! [`Error::PageLimitExceeded`] rather than a truncated list, and [`KustomerClient::items`]
//! streams items one page at a time for callers who want more without holding them.

use std::borrow::Cow;
use std::collections::{HashSet, VecDeque};
use std::fmt;
use std::marker::PhantomData;
use std::sync::Arc;
use std::time::SystemTime;

use futures_util::Stream;
use oauth_flow::http::Method;
use oauth_flow::{
    AccessToken, ApiClient, ApiKey, ApiRequest, Authorization, Endpoint, GrantHandle, HttpRequest,
    PageLimits, SecretString, Token,
};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::config::Kustomer;
use crate::error::{Error, Result};
use crate::models::{
    Conversation, ConversationId, Customer, CustomerFields, CustomerId, CustomerSearch, Document,
    NewConversation,
};
use crate::response;

/// The largest `pageSize` Kustomer accepts.
pub const MAX_PAGE_SIZE: u32 = 100;

/// Percent-encodes one path segment (everything but RFC 3986 unreserved characters).
pub(crate) fn encode_segment(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Which page to fetch and how big pages are. Unset values are left to Kustomer (page 1, 10
/// per page in the sandbox).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[must_use]
pub struct PageParams {
    page: Option<u32>,
    page_size: Option<u32>,
}

impl PageParams {
    /// The server's defaults.
    pub fn new() -> Self {
        Self::default()
    }
    /// The page number, from 1 (0 is taken as 1).
    pub fn page(mut self, page: u32) -> Self {
        self.page = Some(page.max(1));
        self
    }
    /// Items per page, clamped to 1..=[`MAX_PAGE_SIZE`].
    pub fn page_size(mut self, size: u32) -> Self {
        self.page_size = Some(size.clamp(1, MAX_PAGE_SIZE));
        self
    }
    fn query(self) -> Vec<(String, String)> {
        let mut q = Vec::new();
        if let Some(p) = self.page {
            q.push(("page".to_owned(), p.to_string()));
        }
        if let Some(s) = self.page_size {
            q.push(("pageSize".to_owned(), s.to_string()));
        }
        q
    }
}

/// A call that returns one resource (`{"data": {...}}`), decoded as `T`.
pub struct ResourceRequest<T> {
    method: Method,
    path: String,
    body: Option<Value>,
    _out: PhantomData<fn() -> T>,
}

impl<T> ResourceRequest<T> {
    fn new(method: Method, path: String, body: Option<Value>) -> Self {
        Self {
            method,
            path,
            body,
            _out: PhantomData,
        }
    }
}

impl<T> Clone for ResourceRequest<T> {
    fn clone(&self) -> Self {
        Self::new(self.method.clone(), self.path.clone(), self.body.clone())
    }
}

impl<T> fmt::Debug for ResourceRequest<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ResourceRequest")
            .field("method", &self.method)
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

fn to_json<S: Serialize + ?Sized>(what: &'static str, value: &S) -> Result<Value> {
    serde_json::to_value(value).map_err(|e| Error::Encode {
        what,
        source: oauth_flow::__private::json_error(&e),
    })
}

impl ResourceRequest<Customer> {
    /// `GET /v1/customers/{id}`.
    pub fn get_customer(id: &CustomerId) -> Self {
        Self::new(
            Method::GET,
            format!("v1/customers/{}", encode_segment(id.as_str())),
            None,
        )
    }
    /// `POST /v1/customers` with the fields set.
    pub fn create_customer(fields: &CustomerFields) -> Result<Self> {
        let body = to_json("customer fields", fields)?;
        Ok(Self::new(Method::POST, "v1/customers".into(), Some(body)))
    }
    /// `PUT /v1/customers/{id}` with the fields to change (at least one).
    pub fn update_customer(id: &CustomerId, fields: &CustomerFields) -> Result<Self> {
        if fields.is_empty() {
            return Err(Error::invalid("customer update", "no field to change"));
        }
        let body = to_json("customer fields", fields)?;
        Ok(Self::new(
            Method::PUT,
            format!("v1/customers/{}", encode_segment(id.as_str())),
            Some(body),
        ))
    }
}

impl ResourceRequest<Conversation> {
    /// `GET /v1/conversations/{id}`.
    pub fn get_conversation(id: &ConversationId) -> Self {
        Self::new(
            Method::GET,
            format!("v1/conversations/{}", encode_segment(id.as_str())),
            None,
        )
    }
    /// `POST /v1/conversations`.
    pub fn create_conversation(new: &NewConversation) -> Result<Self> {
        new.check()?;
        let body = to_json("conversation", new)?;
        Ok(Self::new(
            Method::POST,
            "v1/conversations".into(),
            Some(body),
        ))
    }
}

impl<T: DeserializeOwned> Endpoint for ResourceRequest<T> {
    type Output = Document<T>;
    fn method(&self) -> Method {
        self.method.clone()
    }
    fn path(&self) -> Cow<'_, str> {
        Cow::Borrowed(&self.path)
    }
    fn body(&self) -> oauth_flow::Result<Option<Value>> {
        Ok(self.body.clone())
    }
}

/// A call that returns a page of resources (`{"data": [...], "links": {...}, "meta": {...}}`).
pub struct ListRequest<T> {
    method: Method,
    path: String,
    query: Vec<(String, String)>,
    body: Option<Value>,
    _out: PhantomData<fn() -> T>,
}

impl<T> Clone for ListRequest<T> {
    fn clone(&self) -> Self {
        Self {
            method: self.method.clone(),
            path: self.path.clone(),
            query: self.query.clone(),
            body: self.body.clone(),
            _out: PhantomData,
        }
    }
}

impl<T> fmt::Debug for ListRequest<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ListRequest")
            .field("method", &self.method)
            .field("path", &self.path)
            .field("query", &self.query)
            .finish_non_exhaustive()
    }
}

impl<T> ListRequest<T> {
    fn new(method: Method, path: String, page: PageParams, body: Option<Value>) -> Self {
        Self {
            method,
            path,
            query: page.query(),
            body,
            _out: PhantomData,
        }
    }

    /// The query parameters (`page`, `pageSize`, or those of a `links.next`).
    pub fn query(&self) -> &[(String, String)] {
        &self.query
    }

    /// The same request with the query of `next_link` (relative like
    /// `/v1/customers?page=2&pageSize=10`, or absolute). Only the query is taken.
    pub fn following(&self, next_link: &str) -> Result<Self> {
        let bad = |detail: &'static str| Error::Decode {
            what: "page links".into(),
            source: oauth_flow::JsonError::shape(detail),
        };
        let without_fragment = next_link.split('#').next().unwrap_or_default();
        let query = without_fragment
            .split_once('?')
            .map(|(_, q)| q)
            .unwrap_or_default();
        let pairs: Vec<(String, String)> = url::form_urlencoded::parse(query.as_bytes())
            .into_owned()
            .collect();
        if pairs.is_empty() {
            return Err(bad("`links.next` carries no query parameters"));
        }
        if pairs == self.query {
            return Err(bad("`links.next` points to the current page"));
        }
        let mut next = self.clone();
        next.query = pairs;
        Ok(next)
    }
}

impl ListRequest<Customer> {
    /// `GET /v1/customers`.
    pub fn customers(page: PageParams) -> Self {
        Self::new(Method::GET, "v1/customers".into(), page, None)
    }
    /// `POST /v1/customers/search` with the search as body.
    pub fn search_customers(search: &CustomerSearch, page: PageParams) -> Self {
        Self::new(
            Method::POST,
            "v1/customers/search".into(),
            page,
            Some(search.to_body()),
        )
    }
}

impl ListRequest<Conversation> {
    /// `GET /v1/customers/{id}/conversations`.
    pub fn customer_conversations(customer: &CustomerId, page: PageParams) -> Self {
        Self::new(
            Method::GET,
            format!(
                "v1/customers/{}/conversations",
                encode_segment(customer.as_str())
            ),
            page,
            None,
        )
    }
}

impl<T: DeserializeOwned> Endpoint for ListRequest<T> {
    type Output = ListDocument<T>;
    fn method(&self) -> Method {
        self.method.clone()
    }
    fn path(&self) -> Cow<'_, str> {
        Cow::Borrowed(&self.path)
    }
    fn query(&self) -> Vec<(Cow<'_, str>, String)> {
        self.query
            .iter()
            .map(|(k, v)| (Cow::Borrowed(k.as_str()), v.clone()))
            .collect()
    }
    fn body(&self) -> oauth_flow::Result<Option<Value>> {
        Ok(self.body.clone())
    }
}

/// A list response as sent.
#[derive(Debug, Clone, Deserialize)]
#[serde(bound = "T: DeserializeOwned")]
#[non_exhaustive]
pub struct ListDocument<T> {
    /// The resources.
    #[serde(default = "Vec::new")]
    pub data: Vec<T>,
    /// Paging links.
    #[serde(default)]
    pub links: PageLinks,
    /// Paging counters.
    #[serde(default)]
    pub meta: PageMeta,
}

/// JSON:API paging links (relative paths with a query, as sent).
#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
#[non_exhaustive]
pub struct PageLinks {
    /// This page.
    #[serde(rename = "self", default)]
    pub self_link: Option<String>,
    /// The first page.
    #[serde(default)]
    pub first: Option<String>,
    /// The last page.
    #[serde(default)]
    pub last: Option<String>,
    /// The previous page (`null` on the first).
    #[serde(default)]
    pub prev: Option<String>,
    /// The next page (`null` on the last).
    #[serde(default)]
    pub next: Option<String>,
    /// Other links, kept.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// Paging counters, when the server sends them.
#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct PageMeta {
    /// This page's number.
    #[serde(default)]
    pub page: Option<u64>,
    /// Items per page.
    #[serde(default)]
    pub page_size: Option<u64>,
    /// Items in all pages.
    #[serde(default)]
    pub total: Option<u64>,
    /// Number of pages.
    #[serde(default)]
    pub total_pages: Option<u64>,
    /// Other counters, kept.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// One page of results, with the request that produced it (to fetch the next one).
#[derive(Debug, Clone)]
pub struct Page<T> {
    items: Vec<T>,
    links: PageLinks,
    meta: PageMeta,
    request: ListRequest<T>,
}

impl<T> Page<T> {
    /// The items of this page.
    pub fn items(&self) -> &[T] {
        &self.items
    }
    /// The items, owned.
    pub fn into_items(self) -> Vec<T> {
        self.items
    }
    /// The links as sent.
    pub fn links(&self) -> &PageLinks {
        &self.links
    }
    /// The counters as sent.
    pub fn meta(&self) -> &PageMeta {
        &self.meta
    }
    /// Whether `links.next` is set.
    pub fn has_next(&self) -> bool {
        self.links.next.as_deref().is_some_and(|n| !n.is_empty())
    }
    /// The request of the next page, if there is one.
    pub fn next_request(&self) -> Result<Option<ListRequest<T>>> {
        match self.links.next.as_deref() {
            Some(link) if !link.is_empty() => self.request.following(link).map(Some),
            _ => Ok(None),
        }
    }
}

/// Walks pages one at a time: `while let Some(page) = pager.next_page().await? { … }`.
///
/// It holds one page at a time and requests the next only when asked; the client's
/// [`PageLimits::pages`] bounds how many it requests.
#[derive(Debug)]
pub struct Pager<T> {
    client: KustomerClient,
    next: Option<ListRequest<T>>,
    seen: HashSet<Vec<(String, String)>>,
}

impl<T: DeserializeOwned> Pager<T> {
    /// The next page, or `None` after the last one. A `links.next` that repeats an earlier
    /// page is an error rather than an endless loop; asking for a page past the page bound is
    /// [`Error::PageLimitExceeded`], and that page is not requested.
    pub async fn next_page(&mut self) -> Result<Option<Page<T>>> {
        let Some(request) = self.next.take() else {
            return Ok(None);
        };
        self.client.limits.check_pages(self.seen.len())?;
        if !self.seen.insert(request.query.clone()) {
            return Err(Error::Decode {
                what: "page links".into(),
                source: oauth_flow::JsonError::shape(
                    "`links.next` points to a page already fetched",
                ),
            });
        }
        let page = self.client.page(&request).await?;
        self.next = page.next_request()?;
        Ok(Some(page))
    }
}

/// Typed calls to the Kustomer API with one set of credentials: a user's OAuth grant (from
/// [`KustomerOAuth::complete`](crate::KustomerOAuth::complete),
/// [`client`](crate::KustomerOAuth::client) or [`restore`](crate::KustomerOAuth::restore)) or
/// an org API key ([`Kustomer::api_key_client`]), both sent as `Authorization: Bearer`. Cheap
/// to clone; clones share the grant's cache and refresh lock.
///
/// On a 401 with a grant, the token is refreshed once and the call retried once; 429/503 on
/// GET/PUT are retried within the retry policy. Failures map to [`Error`]: 401 →
/// [`Error::Unauthorized`], 403 → [`Error::Forbidden`] (a missing role), JSON:API error
/// documents and anything else → [`Error::Api`].
#[derive(Clone, Debug)]
pub struct KustomerClient {
    api: ApiClient,
    /// The user's grant; `None` in API-key mode.
    grant: Option<GrantHandle>,
    limits: PageLimits,
}

impl KustomerClient {
    pub(crate) fn new(api: ApiClient, grant: Option<GrantHandle>) -> Self {
        Self {
            api,
            grant,
            limits: PageLimits::default(),
        }
    }

    /// The grant `operation` needs, or [`Error::ApiKeyMode`].
    fn require_grant(&self, operation: &'static str) -> Result<&GrantHandle> {
        self.grant.as_ref().ok_or(Error::ApiKeyMode { operation })
    }

    /// Your key for the user (`None` in API-key mode).
    pub fn subject(&self) -> Option<&str> {
        self.grant.as_ref().map(|g| g.key().subject())
    }

    /// The core's handle on the user's grant (`None` in API-key mode), e.g. for its
    /// [`key`](GrantHandle::key) in the store.
    pub fn grant(&self) -> Option<&GrantHandle> {
        self.grant.as_ref()
    }

    /// A valid access token, refreshed first if it expires within the margin (single-flight,
    /// rotated refresh token saved before use). [`Error::ApiKeyMode`] in API-key mode.
    pub async fn access_token(&self) -> Result<AccessToken> {
        Ok(self.require_grant("access_token")?.access_token().await?)
    }

    /// Refreshes now, whatever the expiry, and returns the new access token (the rotated
    /// refresh token is saved first). [`Error::ApiKeyMode`] in API-key mode: an API key has
    /// nothing to refresh.
    pub async fn refresh(&self) -> Result<AccessToken> {
        Ok(self.require_grant("refresh")?.force_refresh().await?)
    }

    /// The user's stored token set (expiry, granted scope, extra fields): `None` if nothing
    /// is stored, or in API-key mode.
    pub async fn token(&self) -> Result<Option<Token>> {
        match &self.grant {
            Some(grant) => Ok(grant.token().await?),
            None => Ok(None),
        }
    }

    /// When the current access token expires: `None` if nothing is stored, the token said
    /// no lifetime, or in API-key mode.
    pub async fn expires_at(&self) -> Result<Option<SystemTime>> {
        match &self.grant {
            Some(grant) => Ok(grant.expires_at().await?),
            None => Ok(None),
        }
    }

    /// The roles Kustomer granted (the token response's `scope`, split on spaces); empty when
    /// [`token`](Self::token) is `None`.
    pub async fn granted_scopes(&self) -> Result<Vec<String>> {
        Ok(self
            .token()
            .await?
            .map(|t| t.scopes().into_iter().map(str::to_owned).collect())
            .unwrap_or_default())
    }

    /// Logs the user out locally: forgets the grant in memory and deletes its tokens from the
    /// store (Kustomer is not told; the tokens stay valid until they expire).
    /// [`Error::ApiKeyMode`] in API-key mode: an API key is not stored, nothing is forgotten.
    pub async fn forget(&self) -> Result<()> {
        Ok(self.require_grant("forget")?.forget().await?)
    }

    /// The same client with other bounds for its page walks ([`all`](Self::all),
    /// [`pages`](Self::pages), [`items`](Self::items)); the default is
    /// [`PageLimits::default`] (100 pages, 10,000 items).
    #[must_use]
    pub fn with_page_limits(mut self, limits: PageLimits) -> Self {
        self.limits = limits;
        self
    }

    /// The bounds of this client's page walks.
    pub fn page_limits(&self) -> PageLimits {
        self.limits
    }

    /// The underlying [`ApiClient`] of the OAuth core.
    pub fn api_client(&self) -> &ApiClient {
        &self.api
    }

    /// Builds the request for `endpoint` with `auth` (e.g. `Authorization::bearer(token)`),
    /// without sending it: for inspection and snapshots.
    pub fn request<E: Endpoint + ?Sized>(
        &self,
        endpoint: &E,
        auth: Option<&Authorization>,
    ) -> Result<HttpRequest> {
        Ok(self.api.request(endpoint, auth)?)
    }

    /// Sends any endpoint with this client's credentials and decodes a 2xx JSON body as its
    /// output: an [`ApiRequest`] for an endpoint without a typed method, a
    /// [`ResourceRequest`] (a [`Document`]), a [`ListRequest`] (a [`ListDocument`]) or your
    /// own [`Endpoint`]. Errors are mapped as for the typed calls.
    ///
    /// ```no_run
    /// # async fn demo(client: kustomer_sdk::KustomerClient) -> Result<(), kustomer_sdk::Error> {
    /// use kustomer_sdk::ApiRequest;
    /// let notes: kustomer_sdk::serde_json::Value = client
    ///     .send(&ApiRequest::get("v1/customers/6650c0ffee/notes").query("pageSize", "5"))
    ///     .await?;
    /// # let _ = notes; Ok(()) }
    /// ```
    pub async fn send<E: Endpoint + ?Sized>(&self, endpoint: &E) -> Result<E::Output> {
        let resp = self.api.execute(endpoint).await?;
        response::decode(&resp, "API response")
    }

    /// `GET path` (relative to the API base, e.g. `"v1/customers/{id}/notes"`), the whole
    /// body decoded as `T`: a [`Document`] or [`ListDocument`] for a JSON:API answer, or
    /// [`serde_json::Value`].
    pub async fn get<T: DeserializeOwned>(&self, path: &str) -> Result<T> {
        self.send(&ApiRequest::<T>::get(path)).await
    }

    /// `POST path` with `body` as JSON, the whole answer decoded as `T`. Not retried on
    /// 429/503 (a POST may have side effects).
    pub async fn post<T: DeserializeOwned, B: Serialize + ?Sized>(
        &self,
        path: &str,
        body: &B,
    ) -> Result<T> {
        self.send(&ApiRequest::<T>::post(path).json_from(body)?)
            .await
    }

    /// Sends a one-resource call and returns the resource (the document's `data`).
    async fn resource<T: DeserializeOwned>(&self, request: &ResourceRequest<T>) -> Result<T> {
        Ok(self.send(request).await?.data)
    }

    /// Fetches one page.
    pub async fn page<T: DeserializeOwned>(&self, request: &ListRequest<T>) -> Result<Page<T>> {
        let resp = self.api.execute(request).await?;
        let doc: ListDocument<T> = response::decode(&resp, "API list response")?;
        Ok(Page {
            items: doc.data,
            links: doc.links,
            meta: doc.meta,
            request: request.clone(),
        })
    }

    /// The page after `page`, or `None` if it was the last.
    pub async fn next_page<T: DeserializeOwned>(&self, page: &Page<T>) -> Result<Option<Page<T>>> {
        match page.next_request()? {
            Some(next) => self.page(&next).await.map(Some),
            None => Ok(None),
        }
    }

    /// A pager starting at `first`.
    pub fn pages<T: DeserializeOwned>(&self, first: ListRequest<T>) -> Pager<T> {
        Pager {
            client: self.clone(),
            next: Some(first),
            seen: HashSet::new(),
        }
    }

    /// Every item of every page, starting at `first`, within the client's [`PageLimits`]:
    /// when the server offers more pages or items than that, the result is
    /// [`Error::PageLimitExceeded`], never a silently shortened list.
    pub async fn all<T: DeserializeOwned>(&self, first: ListRequest<T>) -> Result<Vec<T>> {
        let mut pager = self.pages(first);
        let mut items = Vec::new();
        while let Some(page) = pager.next_page().await? {
            items.extend(page.into_items());
            self.limits.check_items(items.len())?;
        }
        Ok(items)
    }

    /// Every item of every page, starting at `first`, as a stream: a page is requested only
    /// when the items before it have been taken, and only one page is held at a time. The
    /// page bound of the client's [`PageLimits`] applies (raise it with
    /// [`with_page_limits`](Self::with_page_limits) to stream more); the item bound does not,
    /// since nothing is collected. The stream ends after its first error.
    ///
    /// ```no_run
    /// use kustomer_sdk::futures_util::TryStreamExt as _;
    /// # async fn demo(client: kustomer_sdk::KustomerClient) -> Result<(), kustomer_sdk::Error> {
    /// let first = kustomer_sdk::ListRequest::customers(kustomer_sdk::PageParams::new().page_size(100));
    /// let mut customers = std::pin::pin!(client.items(first));
    /// while let Some(customer) = customers.try_next().await? {
    ///     println!("{}", customer.id);
    /// }
    /// # Ok(()) }
    /// ```
    pub fn items<T: DeserializeOwned + Send + 'static>(
        &self,
        first: ListRequest<T>,
    ) -> impl Stream<Item = Result<T>> + Send + 'static {
        let pager = self.pages(first);
        futures_util::stream::try_unfold(
            (pager, VecDeque::new()),
            |(mut pager, mut held)| async move {
                loop {
                    if let Some(item) = held.pop_front() {
                        return Ok(Some((item, (pager, held))));
                    }
                    match pager.next_page().await? {
                        Some(page) => held.extend(page.into_items()),
                        None => return Ok(None),
                    }
                }
            },
        )
    }

    /// `GET /v1/customers/{id}`.
    pub async fn get_customer(&self, id: &CustomerId) -> Result<Customer> {
        self.resource(&ResourceRequest::get_customer(id)).await
    }

    /// `GET /v1/customers`: one page.
    pub async fn list_customers(&self, page: PageParams) -> Result<Page<Customer>> {
        self.page(&ListRequest::customers(page)).await
    }

    /// Every customer, page after page of `page_size`, within the client's [`PageLimits`]
    /// (see [`all`](Self::all); [`items`](Self::items) streams instead).
    pub async fn all_customers(&self, page_size: u32) -> Result<Vec<Customer>> {
        self.all(ListRequest::customers(
            PageParams::new().page_size(page_size),
        ))
        .await
    }

    /// `POST /v1/customers/search`: one page of matches.
    pub async fn search_customers(
        &self,
        search: &CustomerSearch,
        page: PageParams,
    ) -> Result<Page<Customer>> {
        self.page(&ListRequest::search_customers(search, page))
            .await
    }

    /// `POST /v1/customers`.
    pub async fn create_customer(&self, fields: &CustomerFields) -> Result<Customer> {
        self.resource(&ResourceRequest::create_customer(fields)?)
            .await
    }

    /// `PUT /v1/customers/{id}`.
    pub async fn update_customer(
        &self,
        id: &CustomerId,
        fields: &CustomerFields,
    ) -> Result<Customer> {
        self.resource(&ResourceRequest::update_customer(id, fields)?)
            .await
    }

    /// `GET /v1/customers/{id}/conversations`: one page.
    pub async fn customer_conversations(
        &self,
        customer: &CustomerId,
        page: PageParams,
    ) -> Result<Page<Conversation>> {
        self.page(&ListRequest::customer_conversations(customer, page))
            .await
    }

    /// `GET /v1/conversations/{id}`.
    pub async fn get_conversation(&self, id: &ConversationId) -> Result<Conversation> {
        self.resource(&ResourceRequest::get_conversation(id)).await
    }

    /// `POST /v1/conversations`.
    pub async fn create_conversation(&self, new: &NewConversation) -> Result<Conversation> {
        self.resource(&ResourceRequest::create_conversation(new)?)
            .await
    }
}

impl Kustomer {
    /// An API client that sends an org API key as a bearer (no user, no refresh: its token
    /// methods answer [`Error::ApiKeyMode`] or `None`, see [`KustomerClient::refresh`]). A user's client comes from
    /// [`KustomerOAuth`](crate::KustomerOAuth).
    pub fn api_key_client(&self, api_key: SecretString) -> Result<KustomerClient> {
        let api = self.api_client(Arc::new(ApiKey::bearer(&api_key)?))?;
        Ok(KustomerClient::new(api, None))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn segments_are_percent_encoded() {
        assert_eq!(encode_segment("abc-1_2.3~"), "abc-1_2.3~");
        assert_eq!(encode_segment("a/b?c#d%"), "a%2Fb%3Fc%23d%25");
        assert_eq!(encode_segment("é"), "%C3%A9");
    }

    #[test]
    fn page_params_are_clamped() {
        let q = PageParams::new().page(0).page_size(1000).query();
        assert_eq!(
            q,
            vec![
                ("page".to_owned(), "1".to_owned()),
                ("pageSize".to_owned(), "100".to_owned())
            ]
        );
        assert!(PageParams::new().query().is_empty());
    }

    #[test]
    fn following_takes_only_the_query_and_refuses_loops() {
        let first = ListRequest::customers(PageParams::new().page_size(10));
        let next = first
            .following("https://evil.example/v1/other?page=2&pageSize=10#x")
            .unwrap();
        assert_eq!(next.path, "v1/customers");
        assert_eq!(
            next.query(),
            &[
                ("page".to_owned(), "2".to_owned()),
                ("pageSize".to_owned(), "10".to_owned())
            ]
        );
        assert!(next.following("/v1/customers?page=2&pageSize=10").is_err());
        assert!(next.following("/v1/customers").is_err());
    }

    #[test]
    fn search_pages_repeat_the_body() {
        let s = CustomerSearch::new().and(crate::models::Criterion::has_tag("vip"));
        let first = ListRequest::search_customers(&s, PageParams::new().page_size(2));
        let next = first
            .following("/v1/customers/search?page=2&pageSize=2")
            .unwrap();
        assert_eq!(next.method, Method::POST);
        assert_eq!(next.body, first.body);
    }

    #[test]
    fn list_documents_tolerate_missing_members() {
        let d: ListDocument<Customer> = serde_json::from_str(r#"{"data":[{"id":"c1"}]}"#).unwrap();
        assert_eq!(d.data.len(), 1);
        assert_eq!(d.links.next, None);
        let d: ListDocument<Customer> = serde_json::from_str(
            r#"{"data":[],"links":{"self":"/v1/customers?page=3","next":null,"custom":"x"},"meta":{"totalPages":3,"cursor":"c"}}"#,
        )
        .unwrap();
        assert_eq!(d.links.self_link.as_deref(), Some("/v1/customers?page=3"));
        assert!(d.links.extra.contains_key("custom"));
        assert_eq!(d.meta.total_pages, Some(3));
        assert!(d.meta.extra.contains_key("cursor"));
    }
}
