//! The token manager: valid access tokens on demand, refreshed ahead of expiry, one refresh in
//! flight per grant, rotated refresh tokens persisted before use.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant, SystemTime};

use secrecy::{ExposeSecret, SecretString};
use subtle::ConstantTimeEq;
use tracing::Instrument as _;

use crate::authorize::AuthorizedCode;
use crate::client::OAuthClient;
use crate::clock::{Clock, SystemClock};
use crate::credentials::{AccessToken, Authorization};
use crate::error::{ConfigError, Error, ErrorCode, Result};
use crate::request::HttpRequest;
use crate::store::{GrantKey, MemoryStore, TokenStore};
use crate::token::{Token, parse_token_response};
use crate::transport::Transport;

/// Default refresh margin: tokens are refreshed this long before they expire.
pub const DEFAULT_REFRESH_MARGIN: Duration = Duration::from_secs(60);
/// Largest refresh margin accepted (SECURITY S21).
pub const MAX_REFRESH_MARGIN: Duration = Duration::from_secs(300);

/// Hands out valid access tokens for many grants of one OAuth client.
///
/// Cheap to clone (an `Arc`). See [`GrantHandle::access_token`] for the guarantees.
#[derive(Clone)]
pub struct TokenManager {
    inner: Arc<Inner>,
}

struct Inner {
    client: OAuthClient,
    transport: Arc<dyn Transport>,
    store: Arc<dyn TokenStore>,
    clock: Arc<dyn Clock>,
    margin: Duration,
    slots: Mutex<HashMap<GrantKey, Arc<Slot>>>,
}

/// How a grant gets a new access token.
#[derive(Debug, Clone)]
enum Renewal {
    /// With its refresh token (authorization code grants); tokens are persisted in the store.
    RefreshToken,
    /// By asking again (client credentials); tokens are kept in memory only.
    ClientCredentials(Vec<String>),
}

struct Slot {
    key: GrantKey,
    renewal: Renewal,
    current: RwLock<Option<Arc<Current>>>,
    flight: tokio::sync::Mutex<()>,
}

// `repr(C)`, fields in this order: what the warm path reads (`refresh_due`, `persisted`,
// `bearer`) sits at the front, beside the reference counts, in as few cache lines as can be.
#[repr(C)]
struct Current {
    /// `expires_at - margin`: from then on, callers refresh first.
    refresh_due: Option<SystemTime>,
    /// False when a rotated token could not be saved: it must be saved before it is used.
    persisted: bool,
    /// `Authorization: Bearer <access>`, built once per token for the API client's warm path
    /// (`None` if the token cannot go in a header; the slow path then reports the error).
    bearer: Option<Authorization>,
    access: AccessToken,
    token: Token,
}

/// The optional settings of a [`TokenManager`], for builders that collect them before the
/// OAuth client exists (the provider SDKs do). A field left `None` keeps the manager's default.
#[derive(Clone, Default)]
#[non_exhaustive]
pub struct ManagerSettings {
    /// Where tokens are persisted (default: a [`MemoryStore`]).
    pub store: Option<Arc<dyn TokenStore>>,
    /// The clock (default: the system clock).
    pub clock: Option<Arc<dyn Clock>>,
    /// How long before expiry tokens are refreshed (default 60 s, at most 5 minutes).
    pub refresh_margin: Option<Duration>,
}

impl fmt::Debug for ManagerSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ManagerSettings")
            .field("store", &self.store.is_some())
            .field("clock", &self.clock.is_some())
            .field("refresh_margin", &self.refresh_margin)
            .finish()
    }
}

/// Builder for [`TokenManager`].
#[must_use]
pub struct TokenManagerBuilder {
    client: OAuthClient,
    transport: Arc<dyn Transport>,
    store: Option<Arc<dyn TokenStore>>,
    clock: Arc<dyn Clock>,
    margin: Duration,
}

impl fmt::Debug for TokenManagerBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenManagerBuilder")
            .field("client", &self.client)
            .field("margin", &self.margin)
            .finish_non_exhaustive()
    }
}

impl TokenManagerBuilder {
    /// Where tokens are persisted (default: a [`MemoryStore`]).
    pub fn store(mut self, store: Arc<dyn TokenStore>) -> Self {
        self.store = Some(store);
        self
    }
    /// The clock (default: the system clock).
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }
    /// How long before expiry tokens are refreshed (default 60 s, at most 5 minutes).
    pub fn refresh_margin(mut self, margin: Duration) -> Self {
        self.margin = margin;
        self
    }
    /// Applies the settings that are set; the others keep their current values.
    pub fn settings(mut self, settings: ManagerSettings) -> Self {
        if let Some(store) = settings.store {
            self.store = Some(store);
        }
        if let Some(clock) = settings.clock {
            self.clock = clock;
        }
        if let Some(margin) = settings.refresh_margin {
            self.margin = margin;
        }
        self
    }
    /// Builds the manager.
    pub fn build(self) -> Result<TokenManager> {
        if self.margin > MAX_REFRESH_MARGIN {
            return Err(ConfigError::Other("refresh margin must be at most 300 s".into()).into());
        }
        Ok(TokenManager {
            inner: Arc::new(Inner {
                client: self.client,
                transport: self.transport,
                store: self.store.unwrap_or_else(|| Arc::new(MemoryStore::new())),
                clock: self.clock,
                margin: self.margin,
                slots: Mutex::new(HashMap::new()),
            }),
        })
    }
}

impl TokenManager {
    /// Starts a manager for `client`, sending through `transport`.
    pub fn builder(client: OAuthClient, transport: Arc<dyn Transport>) -> TokenManagerBuilder {
        TokenManagerBuilder {
            client,
            transport,
            store: None,
            clock: Arc::new(SystemClock),
            margin: DEFAULT_REFRESH_MARGIN,
        }
    }

    /// The OAuth client.
    pub fn client(&self) -> &OAuthClient {
        &self.inner.client
    }

    /// The store.
    pub fn store(&self) -> &Arc<dyn TokenStore> {
        &self.inner.store
    }

    /// The grant key of `subject` (a user or account key chosen by the app).
    pub fn key(&self, subject: &str) -> GrantKey {
        GrantKey::new(
            self.inner.client.profile.name.clone(),
            self.inner.client.client_id.clone(),
            subject,
        )
    }

    /// The handle of `subject`'s authorization code grant, whose tokens live in the store.
    pub fn grant(&self, subject: &str) -> GrantHandle {
        self.slot(self.key(subject), Renewal::RefreshToken)
    }

    /// A handle that obtains tokens with the client credentials grant and caches them in memory
    /// for their lifetime.
    pub fn client_credentials(&self, scopes: &[&str]) -> GrantHandle {
        let subject = format!("client_credentials:{}", scopes.join(" "));
        self.slot(
            self.key(&subject),
            Renewal::ClientCredentials(scopes.iter().map(|s| s.to_string()).collect()),
        )
    }

    fn slot(&self, key: GrantKey, renewal: Renewal) -> GrantHandle {
        let mut slots = self.inner.slots.lock().unwrap_or_else(|p| p.into_inner());
        let slot = slots
            .entry(key.clone())
            .or_insert_with(|| {
                Arc::new(Slot {
                    key,
                    renewal,
                    current: RwLock::new(None),
                    flight: tokio::sync::Mutex::new(()),
                })
            })
            .clone();
        GrantHandle {
            slot,
            clock: self.inner.clock.clone(),
            inner: self.inner.clone(),
        }
    }

    /// Exchanges an authorization code for tokens, saves them for `subject` and returns the
    /// grant's handle. A code is sent once, never retried (SECURITY S13).
    pub async fn exchange_code(&self, subject: &str, code: AuthorizedCode) -> Result<GrantHandle> {
        let req = self.inner.client.exchange_code_request(&code)?;
        let token = send_token_request(&self.inner, req, "authorization_code").await?;
        let handle = self.grant(subject);
        let slot = handle.slot.clone();
        let _flight = slot.flight.lock().await;
        if let Err(e) = self.inner.store.save(&handle.slot.key, &token).await {
            // Keep the tokens: the save is retried before the first use.
            handle.set_current(token, false);
            return Err(e);
        }
        handle.set_current(token, true);
        drop(_flight);
        Ok(handle)
    }

    /// Saves a token obtained elsewhere (e.g. migrated from another system) for `subject`.
    pub async fn insert(&self, subject: &str, token: Token) -> Result<GrantHandle> {
        let handle = self.grant(subject);
        let slot = handle.slot.clone();
        let _flight = slot.flight.lock().await;
        self.inner.store.save(&handle.slot.key, &token).await?;
        handle.set_current(token, true);
        drop(_flight);
        Ok(handle)
    }
}

impl fmt::Debug for TokenManager {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenManager")
            .field("client", &self.inner.client)
            .field("margin", &self.inner.margin)
            .finish_non_exhaustive()
    }
}

/// One grant's tokens. Cheap to clone; all clones share the same cache and refresh lock.
#[derive(Clone)]
pub struct GrantHandle {
    slot: Arc<Slot>,
    /// The manager's clock, held here too so that the warm path reads one allocation less.
    clock: Arc<dyn Clock>,
    inner: Arc<Inner>,
}

impl fmt::Debug for GrantHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GrantHandle")
            .field("key", &self.slot.key)
            .finish_non_exhaustive()
    }
}

impl GrantHandle {
    /// The grant key.
    pub fn key(&self) -> &GrantKey {
        &self.slot.key
    }

    /// A valid access token.
    ///
    /// - Served from memory while it is more than the refresh margin away from expiry.
    /// - Otherwise refreshed, with at most one refresh in flight per grant: concurrent callers
    ///   wait for that refresh and share its result (single-flight).
    /// - Before refreshing, the store is read again: another process may have rotated already.
    /// - A rotated refresh token is saved to the store before the new access token is handed to
    ///   anyone; if the save fails, the caller gets [`Error::Store`], the new tokens stay in
    ///   memory and the save is retried on the next call.
    /// - A refresh answered with `invalid_grant` gives [`Error::ReauthorizationRequired`] and
    ///   removes the grant from the store if the store still holds the rejected token.
    pub async fn access_token(&self) -> Result<AccessToken> {
        if let Some(token) = self.fresh(|c| Some(c.access.clone())) {
            return Ok(token);
        }
        self.renew(None).await
    }

    /// [`access_token`](Self::access_token) as an `Authorization: Bearer` header; on the warm
    /// path the header value is built once per token, not per call.
    pub(crate) async fn bearer(&self) -> Result<Authorization> {
        if let Some(auth) = self.cached_bearer() {
            return Ok(auth);
        }
        Authorization::bearer(self.renew(None).await?)
    }

    /// The warm path of [`bearer`](Self::bearer): `None` when a refresh is due.
    pub(crate) fn cached_bearer(&self) -> Option<Authorization> {
        self.fresh(|c| c.bearer.clone())
    }

    /// Called after the API answered 401 to `used`: refreshes once if `used` is still the
    /// current token, or returns the newer token another caller already obtained (so many
    /// requests failing together cause a single refresh).
    pub async fn refresh_after_unauthorized(&self, used: &AccessToken) -> Result<AccessToken> {
        self.renew(Some(used)).await
    }

    /// Refreshes now, whatever the expiry says (e.g. after the user's permissions changed),
    /// with the same guarantees as [`access_token`](Self::access_token): single-flight, the
    /// store re-read first, a rotated refresh token saved before the new access token is
    /// returned. Callers that arrive while this refresh is in flight share its result.
    pub async fn force_refresh(&self) -> Result<AccessToken> {
        let current = self
            .token()
            .await?
            .map(|t| AccessToken::new(t.access_token));
        self.renew(current.as_ref()).await
    }

    /// The current token set (scope, expiry, extra fields), from memory or the store.
    pub async fn token(&self) -> Result<Option<Token>> {
        if let Some(c) = self.read() {
            return Ok(Some(c.token.clone()));
        }
        match self.slot.renewal {
            Renewal::RefreshToken => self.inner.store.load(&self.slot.key).await,
            Renewal::ClientCredentials(_) => Ok(None),
        }
    }

    /// Forgets the grant: clears memory and deletes it from the store.
    pub async fn forget(&self) -> Result<()> {
        let _flight = self.slot.flight.lock().await;
        *self.slot.current.write().unwrap_or_else(|p| p.into_inner()) = None;
        self.inner.store.delete(&self.slot.key).await
    }

    fn read(&self) -> Option<Arc<Current>> {
        self.slot
            .current
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// The warm path: one read lock, one clock read, one clone of what `pick` selects.
    fn fresh<T>(&self, pick: impl FnOnce(&Current) -> Option<T>) -> Option<T> {
        let guard = self.slot.current.read().unwrap_or_else(|p| p.into_inner());
        let current = guard.as_ref()?;
        if !current.persisted {
            return None;
        }
        match current.refresh_due {
            Some(due) if self.clock.now() >= due => None,
            _ => pick(current),
        }
    }

    fn set_current(&self, token: Token, persisted: bool) -> AccessToken {
        let access = AccessToken::new(token.access_token.clone());
        let refresh_due = token
            .expires_at
            .map(|at| at.checked_sub(self.inner.margin).unwrap_or(at));
        let bearer = Authorization::bearer(access.clone()).ok();
        *self.slot.current.write().unwrap_or_else(|p| p.into_inner()) = Some(Arc::new(Current {
            access: access.clone(),
            bearer,
            refresh_due,
            token,
            persisted,
        }));
        access
    }

    fn is_due(&self, token: &Token) -> bool {
        token.expires_within(self.inner.margin, self.clock.now())
    }

    async fn renew(&self, failed: Option<&AccessToken>) -> Result<AccessToken> {
        let _flight = self.slot.flight.lock().await;
        let key = &self.slot.key;

        // Another caller may have finished a refresh while we waited.
        if let Some(current) = self.read() {
            let superseded = failed.is_some_and(|f| !f.same_as(&current.access));
            if !current.persisted {
                // A rotated token that could not be saved: save it before anyone uses it.
                self.inner.store.save(key, &current.token).await?;
                return Ok(self.set_current(current.token.clone(), true));
            }
            if superseded || (failed.is_none() && !self.is_due(&current.token)) {
                return Ok(current.access.clone());
            }
        }

        let stored = match &self.slot.renewal {
            Renewal::ClientCredentials(scopes) => {
                let scopes: Vec<&str> = scopes.iter().map(String::as_str).collect();
                let req = self.inner.client.client_credentials_request(&scopes)?;
                let token = send_token_request(&self.inner, req, "client_credentials").await?;
                return Ok(self.set_current(token, true));
            }
            // SECURITY S16: reload the store first; another process may have rotated.
            Renewal::RefreshToken => self.inner.store.load(key).await?,
        };
        let memory = self.read().map(|c| c.token.clone());
        let base = match (stored, memory) {
            (Some(s), _) => s,
            (None, Some(m)) => m,
            (None, None) => {
                return Err(Error::ReauthorizationRequired {
                    key: key.clone(),
                    reason: "no token is stored for this grant; authorize first".into(),
                });
            }
        };
        let stored_is_newer = failed.is_some_and(|f| !f.secret_eq(&base.access_token));
        if stored_is_newer || (failed.is_none() && !self.is_due(&base)) {
            return Ok(self.set_current(base, true));
        }
        let Some(refresh_token) = base.refresh_token.clone() else {
            return Err(Error::ReauthorizationRequired {
                key: key.clone(),
                reason: "the access token expired and no refresh token was issued".into(),
            });
        };

        let req = self.inner.client.refresh_request(&refresh_token)?;
        let mut token = match send_token_request(&self.inner, req, "refresh_token").await {
            Ok(t) => t,
            Err(e) if e.oauth_code() == Some(&ErrorCode::InvalidGrant) => {
                *self.slot.current.write().unwrap_or_else(|p| p.into_inner()) = None;
                // SECURITY S17: delete only if the store still holds the rejected token.
                if let Some(now) = self.inner.store.load(key).await?
                    && now
                        .refresh_token
                        .as_ref()
                        .is_some_and(|rt| secret_eq(rt, &refresh_token))
                {
                    self.inner.store.delete(key).await?;
                }
                return Err(Error::ReauthorizationRequired {
                    key: key.clone(),
                    reason: "the refresh token was rejected (invalid_grant)".into(),
                });
            }
            Err(e) => return Err(e),
        };
        // RFC 6749 §6: no new refresh token means the old one stays valid.
        if token.refresh_token.is_none() {
            token.refresh_token = Some(refresh_token);
        }
        if token.scope.is_none() {
            token.scope = base.scope.clone();
        }
        // Persist before anyone sees the new access token.
        if let Err(e) = self.inner.store.save(key, &token).await {
            self.set_current(token, false);
            return Err(e);
        }
        Ok(self.set_current(token, true))
    }
}

fn secret_eq(a: &SecretString, b: &SecretString) -> bool {
    bool::from(
        a.expose_secret()
            .as_bytes()
            .ct_eq(b.expose_secret().as_bytes()),
    )
}

/// Sends a token request and parses the answer, inside a `tracing` span that records the grant
/// type, host, path, status and latency (never a credential).
async fn send_token_request(inner: &Inner, req: HttpRequest, grant: &'static str) -> Result<Token> {
    let span = tracing::info_span!(
        "oauth_flow.token_request",
        provider = %inner.client.profile.name,
        grant,
        host = req.url.host_str().unwrap_or(""),
        path = req.url.path(),
        status = tracing::field::Empty,
        latency_ms = tracing::field::Empty,
    );
    async move {
        let sent_at = inner.clock.now();
        let started = Instant::now();
        let resp = inner.transport.send(req).await;
        let span = tracing::Span::current();
        span.record("latency_ms", started.elapsed().as_millis() as u64);
        let resp = resp.inspect_err(|e| tracing::warn!(error = %e, "token request failed"))?;
        span.record("status", resp.status.as_u16());
        let out = parse_token_response(&resp, sent_at);
        if let Err(e) = &out {
            tracing::warn!(error = %e, "token endpoint refused");
        }
        out
    }
    .instrument(span)
    .await
}
