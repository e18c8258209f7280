//! [`KonvertClient`]: typed GraphQL operations sent with either authentication mode.

use std::collections::VecDeque;
use std::fmt;
use std::sync::Arc;
use std::time::SystemTime;

use futures_util::Stream;
use graphql_client::GraphQLQuery;
use oauth_flow::{
    AccessToken, ApiClient, BaseUrl, BasicEncoding, ClientAuth, ConfigError, CredentialSource,
    GrantHandle, HttpRequest, IntoBaseUrl, JwtSigner, OAuthClient, PageLimits, ProviderProfile,
    SdkSettings, SystemClock,
};

use crate::auth::{Auth, AuthMode, MAX_JWT_LIFETIME};
use crate::environment::{Environment, TOKEN_PATH};
use crate::error::{Error, Result};
use crate::graphql::{GraphQlCall, classify, decode_data};
use crate::graphql_errors::{Partial, PartialData};
use crate::operations::{ListContacts, list_contacts};

/// The provider name used in grant keys and logs.
pub const PROVIDER: &str = "konvert";

/// Sent by the default transport.
const USER_AGENT: &str = concat!("konvert-sdk/", env!("CARGO_PKG_VERSION"));

/// One page of contacts and the cursor of the next one (`None` on the last page).
type ContactsPage = (
    Vec<list_contacts::ListContactsContactsEdgesNode>,
    Option<String>,
);

/// A Konvert API client. Cheap to clone; clones share the token cache.
///
/// Build it with [`KonvertClient::builder`]; send operations with [`query`](Self::query).
#[derive(Clone)]
pub struct KonvertClient {
    environment: Environment,
    /// The base URL in use: the environment's, or the builder's `base_url`.
    base_url: String,
    mode: AuthMode,
    api: ApiClient,
    oauth: Option<OAuthClient>,
    page_limits: PageLimits,
    /// The same credential the API client holds, typed, for forced renewals and expiry.
    credential: Credential,
}

/// What mints the bearer: kept beside the API client's `dyn CredentialSource` because a
/// forced renewal and the expiry are not part of that trait.
#[derive(Clone)]
enum Credential {
    ClientCredentials(GrantHandle),
    Jwt(Arc<JwtSigner>),
}

impl fmt::Debug for KonvertClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KonvertClient")
            .field("environment", &self.environment)
            .field("base_url", &self.base_url)
            .field("mode", &self.mode)
            .finish_non_exhaustive()
    }
}

/// Builder for [`KonvertClient`], from [`KonvertClient::builder`].
///
/// Production unless [`environment`](Self::environment) says otherwise; [`base_url`](Self::base_url)
/// moves the chosen environment to another host. The shared settings ([`transport`](Self::transport),
/// [`clock`](Self::clock), [`refresh_margin`](Self::refresh_margin), [`retry`](Self::retry)) are
/// those of every SDK of this workspace; there is no token store or lease to configure, because
/// a Konvert token belongs to the client and is kept in its memory (a new process simply
/// requests or signs a new one). `refresh_margin` applies to client-credentials tokens; a JWT
/// is signed again a fixed minute (at most a quarter of its lifetime) before its `exp`.
#[must_use]
pub struct KonvertClientBuilder {
    auth: Auth,
    environment: Environment,
    /// Checked when given, reported by `build`.
    base_url: Option<std::result::Result<BaseUrl, ConfigError>>,
    settings: SdkSettings,
    page_limits: PageLimits,
}

impl fmt::Debug for KonvertClientBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KonvertClientBuilder")
            .field("environment", &self.environment)
            .field("auth", &self.auth)
            .field("base_url", &self.base_url)
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

impl KonvertClientBuilder {
    /// The Konvert deployment (default [`Environment::Production`]).
    /// [`Environment::Staging`] has different data; use it only when Konvert support asks you
    /// to.
    pub fn environment(mut self, environment: Environment) -> Self {
        self.environment = environment;
        self
    }

    /// Sends everything to `url` instead of the environment's documented host: GraphQL to
    /// `{url}/api`, tokens to `{url}/oauth/token`. For a staging emulator, a proxy, or the
    /// workspace's sandbox (`sb.url(sandbox::Provider::Konvert)`). The client still reports
    /// the [`environment`](Self::environment) chosen. A `&str`, `String`, [`Url`](crate::Url)
    /// or [`BaseUrl`] is accepted and checked by [`build`](Self::build): https, or http on a
    /// loopback IP literal (not `localhost`); no query, fragment or userinfo; a trailing `/`
    /// is ignored.
    pub fn base_url(mut self, url: impl IntoBaseUrl) -> Self {
        self.base_url = Some(url.into_base_url());
        self
    }

    oauth_flow::builder_settings!(settings: transport, clock, refresh_margin, retry);

    /// Bounds for [`KonvertClient::list_all_contacts`] and the page bound of
    /// [`KonvertClient::contacts`] (default [`PageLimits::default`]: 100 pages, 10,000 items).
    pub fn page_limits(mut self, limits: PageLimits) -> Self {
        self.page_limits = limits;
        self
    }

    /// Checks the configuration and builds the client. Nothing is sent: the first token is
    /// requested (or the first JWT signed) by the first call.
    pub fn build(self) -> Result<KonvertClient> {
        let base_url = match self.base_url {
            Some(url) => url?,
            None => BaseUrl::parse(self.environment.base_url())?,
        };
        let base_url = base_url.trimmed().to_owned();
        let transport = self.settings.transport_or_default(USER_AGENT)?;
        let Auth {
            api_key,
            api_secret,
            mode,
        } = self.auth;
        let (credential, oauth) = match mode {
            AuthMode::ClientCredentials => {
                let profile =
                    ProviderProfile::builder(PROVIDER, format!("{base_url}/{TOKEN_PATH}"))
                        .client_auth(ClientAuth::SecretBasic)
                        // Document 003: "a base64-encoded string client_id:client_secret", the
                        // parts as they are, not form-urlencoded first as RFC 6749 §2.3.1 has it.
                        .basic_encoding(BasicEncoding::Raw)
                        .encoding(oauth_flow::BodyEncoding::Form)
                        .build()?;
                let oauth = OAuthClient::builder(profile, api_key)
                    .client_secret(api_secret)
                    .build()?;
                let grant = self
                    .settings
                    .token_manager(oauth.clone(), transport.clone())?
                    .client_credentials(&[]);
                (Credential::ClientCredentials(grant), Some(oauth))
            }
            AuthMode::SelfSignedJwt { lifetime } => {
                let clock = self
                    .settings
                    .manager
                    .clock
                    .clone()
                    .unwrap_or_else(|| Arc::new(SystemClock));
                let signer = JwtSigner::new(api_key, &api_secret, lifetime, MAX_JWT_LIFETIME)?
                    .with_clock(clock);
                (Credential::Jwt(Arc::new(signer)), None)
            }
        };
        let credentials: Arc<dyn CredentialSource> = match &credential {
            Credential::ClientCredentials(grant) => Arc::new(grant.clone()),
            Credential::Jwt(signer) => signer.clone(),
        };
        let api = ApiClient::builder(&base_url, transport, credentials)
            .retry(self.settings.retry_policy());
        Ok(KonvertClient {
            environment: self.environment,
            base_url,
            mode,
            api: api.build()?,
            oauth,
            page_limits: self.page_limits,
            credential,
        })
    }
}

impl KonvertClient {
    /// Starts a client authenticating with `auth`, against production unless the builder's
    /// [`environment`](KonvertClientBuilder::environment) or
    /// [`base_url`](KonvertClientBuilder::base_url) says otherwise.
    pub fn builder(auth: Auth) -> KonvertClientBuilder {
        KonvertClientBuilder {
            auth,
            environment: Environment::Production,
            base_url: None,
            settings: SdkSettings::default(),
            page_limits: PageLimits::default(),
        }
    }

    /// The environment chosen with [`KonvertClientBuilder::environment`], also when a
    /// [`base_url`](KonvertClientBuilder::base_url) moved it to another host.
    pub fn environment(&self) -> Environment {
        self.environment
    }

    /// The base URL in use, without a trailing `/`: the environment's, or the one given to
    /// [`KonvertClientBuilder::base_url`].
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// The authentication mode.
    pub fn auth_mode(&self) -> AuthMode {
        self.mode
    }

    /// Sends operation `Q` with `variables` and returns its typed data.
    ///
    /// Errors: [`Error::GraphQl`] when the operation failed as a whole (200 with `errors` and
    /// no data), [`Error::PartialData`] when some fields failed (use
    /// [`query_partial`](Self::query_partial) to accept such data), [`Error::Unauthorized`]
    /// and [`Error::Api`] for HTTP failures, [`Error::Decode`] for an unexpected body,
    /// [`Error::Transport`] when no response came, and [`Error::OAuth`] for token endpoint
    /// failures.
    ///
    /// A 401 renews the credential once (a new token, or a freshly signed JWT) and retries.
    /// A 429 or 503 on a query is retried after its `Retry-After` within the builder's
    /// [`RetryPolicy`](oauth_flow::RetryPolicy) (queries only read); a mutation is never replayed. When the budget is
    /// spent the error is [`Error::RateLimited`] (with its `Retry-After`).
    pub async fn query<Q: GraphQLQuery>(&self, variables: Q::Variables) -> Result<Q::ResponseData> {
        let (data, errors) = self.send(GraphQlCall::new::<Q>(variables)?).await?;
        if !errors.is_empty() {
            return Err(Error::PartialData(PartialData { data, errors }));
        }
        decode_data(data)
    }

    /// Like [`query`](Self::query), but data that came with errors is returned with them
    /// instead of as [`Error::PartialData`]. A response without data is still an error.
    pub async fn query_partial<Q: GraphQLQuery>(
        &self,
        variables: Q::Variables,
    ) -> Result<Partial<Q::ResponseData>> {
        let (data, errors) = self.send(GraphQlCall::new::<Q>(variables)?).await?;
        Ok(Partial {
            data: decode_data(data)?,
            errors,
        })
    }

    /// Sends a GraphQL document that has no generated type (e.g. an operation added to the
    /// schema after the last `cargo xtask codegen`) and returns its `data` as JSON.
    ///
    /// `variables` is a JSON object (`null` sends `{}`); the document should hold a single
    /// operation, as no `operationName` is sent. Everything else is as for
    /// [`query`](Self::query): the same credential and 401 renewal, the same errors
    /// ([`Error::GraphQl`], [`Error::PartialData`], [`Error::Unauthorized`], [`Error::Api`],
    /// [`Error::Decode`]), the same body cap and tracing span. A document whose operations
    /// are all queries is retried on 429/503; one holding a mutation is never replayed.
    ///
    /// ```no_run
    /// # async fn run(client: &konvert_sdk::KonvertClient) -> Result<(), konvert_sdk::Error> {
    /// let data = client
    ///     .query_raw(
    ///         "query($id: ID!) { contact(id: $id) { id email } }",
    ///         konvert_sdk::serde_json::json!({ "id": "contact-1" }),
    ///     )
    ///     .await?;
    /// println!("{}", data["contact"]["email"]);
    /// # Ok(()) }
    /// ```
    pub async fn query_raw(
        &self,
        query: &str,
        variables: serde_json::Value,
    ) -> Result<serde_json::Value> {
        let (data, errors) = self.send(GraphQlCall::raw(query, variables)?).await?;
        if !errors.is_empty() {
            return Err(Error::PartialData(PartialData { data, errors }));
        }
        Ok(data)
    }

    async fn send(
        &self,
        call: GraphQlCall,
    ) -> Result<(serde_json::Value, Vec<crate::GraphQlError>)> {
        let resp = self.api.execute(&call).await?;
        classify(&resp)
    }

    /// The request [`query`](Self::query) would send for `Q` (sans-IO, for inspection and
    /// snapshots), with its `Authorization` header: this obtains a token or signs a JWT
    /// exactly as a call would.
    pub async fn request<Q: GraphQLQuery>(&self, variables: Q::Variables) -> Result<HttpRequest> {
        let call = GraphQlCall::new::<Q>(variables)?;
        let auth = self.api.credentials().authorization().await?;
        Ok(self.api.request(&call, Some(&auth))?)
    }

    /// The request [`query_raw`](Self::query_raw) would send (sans-IO), with its
    /// `Authorization` header, obtained as a call would.
    pub async fn request_raw(
        &self,
        query: &str,
        variables: serde_json::Value,
    ) -> Result<HttpRequest> {
        let call = GraphQlCall::raw(query, variables)?;
        let auth = self.api.credentials().authorization().await?;
        Ok(self.api.request(&call, Some(&auth))?)
    }

    /// The token request of the client credentials mode (`None` in JWT mode), as a value.
    pub fn token_request(&self) -> Result<Option<HttpRequest>> {
        match &self.oauth {
            Some(oauth) => Ok(Some(oauth.client_credentials_request(&[])?)),
            None => Ok(None),
        }
    }

    /// The bearer the next call will send: the cached token (requesting one if needed) or the
    /// current JWT (signing one if needed).
    pub async fn access_token(&self) -> Result<AccessToken> {
        let auth = self.api.credentials().authorization().await?;
        auth.token
            .ok_or_else(|| Error::OAuth(oauth_flow::Error::MissingField("access_token")))
    }

    /// Renews the credential now, whatever its expiry says, and returns the new bearer: a new
    /// token from `/oauth/token` (client credentials; calls waiting meanwhile share it) or a
    /// freshly signed JWT. Calls that follow use it.
    ///
    /// A JWT signed within the same second as the previous one is identical to it (`iat` and
    /// `exp` have second precision).
    pub async fn refresh(&self) -> Result<AccessToken> {
        Ok(match &self.credential {
            Credential::ClientCredentials(grant) => grant.force_refresh().await?,
            Credential::Jwt(signer) => signer.remint()?,
        })
    }

    /// When the current bearer expires: the token's `expires_in` counted from its request
    /// (client credentials), or the JWT's `exp`. `None` before the first call obtained one,
    /// after [`forget`](Self::forget), or when the token endpoint gave no `expires_in`.
    pub async fn expires_at(&self) -> Result<Option<SystemTime>> {
        Ok(match &self.credential {
            Credential::ClientCredentials(grant) => grant.expires_at().await?,
            Credential::Jwt(signer) => signer.expires_at(),
        })
    }

    /// Drops the cached bearer: the next call requests a new token (client credentials) or
    /// signs a new JWT. Nothing is sent and nothing is revoked: Konvert documents no
    /// revocation, so a forgotten token stays valid at Konvert until it expires. Use it to stop
    /// holding a bearer in memory while idle; clones of this client share the cache and forget
    /// with it.
    pub async fn forget(&self) -> Result<()> {
        match &self.credential {
            Credential::ClientCredentials(grant) => grant.forget().await?,
            Credential::Jwt(signer) => signer.forget(),
        }
        Ok(())
    }

    /// Every contact matching `filter`, following `pageInfo.endCursor` with pages of
    /// `page_size` (1–50) until `hasNextPage` is false, within the client's
    /// [`PageLimits`](KonvertClientBuilder::page_limits): past either bound the result is
    /// [`Error::PageLimitExceeded`], never a shortened list. [`contacts`](Self::contacts)
    /// streams them instead.
    pub async fn list_all_contacts(
        &self,
        page_size: i64,
        filter: Option<list_contacts::ContactFilter>,
    ) -> Result<Vec<list_contacts::ListContactsContactsEdgesNode>> {
        let mut out = Vec::new();
        let mut after: Option<String> = None;
        let mut fetched = 0;
        loop {
            self.page_limits.check_pages(fetched)?;
            let (nodes, next) = self.contacts_page(page_size, after, &filter).await?;
            fetched += 1;
            out.extend(nodes);
            self.page_limits.check_items(out.len())?;
            match next {
                Some(cursor) => after = Some(cursor),
                None => return Ok(out),
            }
        }
    }

    /// Every contact matching `filter` as a stream: a page of `page_size` is requested only
    /// when the contacts before it have been taken, one page is held at a time, and the page
    /// bound of the client's [`PageLimits`](KonvertClientBuilder::page_limits) applies (the
    /// item bound does not: nothing is collected). The stream ends after its first error.
    pub fn contacts(
        &self,
        page_size: i64,
        filter: Option<list_contacts::ContactFilter>,
    ) -> impl Stream<Item = Result<list_contacts::ListContactsContactsEdgesNode>> + Send + 'static
    {
        let walk = ContactWalk {
            client: self.clone(),
            filter,
            after: None,
            fetched: 0,
            done: false,
            held: VecDeque::new(),
        };
        futures_util::stream::try_unfold(walk, move |mut w| async move {
            loop {
                if let Some(node) = w.held.pop_front() {
                    return Ok(Some((node, w)));
                }
                if w.done {
                    return Ok(None);
                }
                w.client.page_limits.check_pages(w.fetched)?;
                let (nodes, next) = w
                    .client
                    .contacts_page(page_size, w.after.take(), &w.filter)
                    .await?;
                w.fetched += 1;
                w.held.extend(nodes);
                w.done = next.is_none();
                w.after = next;
            }
        })
    }

    /// One page of contacts after `after`, and the next cursor if `hasNextPage`; a cursor
    /// that does not advance is a decode error rather than a loop.
    async fn contacts_page(
        &self,
        page_size: i64,
        after: Option<String>,
        filter: &Option<list_contacts::ContactFilter>,
    ) -> Result<ContactsPage> {
        let page = self
            .query::<ListContacts>(list_contacts::Variables {
                first: Some(page_size),
                after: after.clone(),
                filter: filter.clone(),
            })
            .await?
            .contacts;
        let nodes = page.edges.into_iter().map(|e| e.node).collect();
        if !page.page_info.has_next_page {
            return Ok((nodes, None));
        }
        match page.page_info.end_cursor {
            Some(next) if after.as_deref() != Some(next.as_str()) => Ok((nodes, Some(next))),
            _ => Err(Error::Decode {
                what: "contacts page".to_owned(),
                source: oauth_flow::JsonError::shape(
                    "`hasNextPage` is true but `endCursor` does not advance",
                ),
            }),
        }
    }
}

/// Where [`KonvertClient::contacts`] is in its walk.
struct ContactWalk {
    client: KonvertClient,
    filter: Option<list_contacts::ContactFilter>,
    after: Option<String>,
    fetched: usize,
    done: bool,
    held: VecDeque<list_contacts::ListContactsContactsEdgesNode>,
}
