//! The token manager: valid access tokens on demand, refreshed ahead of expiry, one refresh in
//! flight per grant (in this process, and across processes through the store's lease), rotated
//! refresh tokens persisted before use.

use std::collections::HashMap;
use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant, SystemTime};

use async_trait::async_trait;
use secrecy::SecretString;
use tracing::Instrument as _;

use crate::authorize::AuthorizedCode;
use crate::client::OAuthClient;
use crate::clock::{Clock, SystemClock};
use crate::credentials::{AccessToken, Authorization, CredentialSource};
use crate::error::{CallbackError, ConfigError, Error, ErrorCode, Result};
use crate::request::HttpRequest;
use crate::store::{GrantKey, MemoryStore, TokenStore, refresh_token_is};
use crate::thread_cache::{self, Lookup};
use crate::token::{Token, parse_token_response};
use crate::transport::Transport;

/// Default refresh margin: tokens are refreshed this long before they expire (at most half
/// their lifetime, so short-lived tokens are not due on arrival).
pub const DEFAULT_REFRESH_MARGIN: Duration = Duration::from_secs(60);
/// Largest refresh margin accepted (SECURITY S21).
pub const MAX_REFRESH_MARGIN: Duration = Duration::from_secs(300);
/// Default time-to-live of a refresh lease: longer than the default transport timeout (30 s),
/// so a live holder keeps it for the whole token request.
pub const DEFAULT_LEASE_TTL: Duration = Duration::from_secs(40);
/// Default longest wait for another holder's refresh lease; longer than the TTL, so a waiter
/// outlives the lease of a holder that died.
pub const DEFAULT_LEASE_WAIT: Duration = Duration::from_secs(45);
/// Default number of idle grants kept in memory; grants with a live handle are never evicted.
pub const DEFAULT_MAX_CACHED_GRANTS: usize = 10_000;

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
    lease_ttl: Duration,
    lease_wait: Duration,
    slots: Mutex<Slots>,
}

/// The per-grant state held in memory, bounded: idle slots beyond the capacity are evicted,
/// least recently looked up first.
struct Slots {
    map: HashMap<GrantKey, Arc<Slot>>,
    capacity: usize,
    /// Incremented on every lookup; a slot's `last_used` is the tick of its last lookup.
    tick: u64,
}

impl Slots {
    /// Evicts idle slots (no handle outside the map, so no caller and no refresh in flight)
    /// until the map is 10 % under capacity; the sort is paid once per 10 % of insertions.
    fn evict(&mut self) {
        if self.map.len() <= self.capacity {
            return;
        }
        let target = self.capacity - self.capacity / 10;
        let mut idle: Vec<(u64, GrantKey)> = self
            .map
            .iter()
            .filter(|(_, slot)| Arc::strong_count(slot) == 1)
            .map(|(key, slot)| (slot.last_used.load(Ordering::Relaxed), key.clone()))
            .collect();
        idle.sort_unstable_by_key(|(used, _)| *used);
        let excess = self.map.len().saturating_sub(target);
        for (_, key) in idle.into_iter().take(excess) {
            self.map.remove(&key);
        }
    }
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
    /// Unique in this process: the key of the threads' copies (see `thread_cache`).
    id: u64,
    /// The current token; the warm path reads the threads' copies of it instead.
    current: RwLock<Option<Arc<Current>>>,
    /// Bumped, under `current`'s write lock, each time `current` changes: a thread's copy
    /// taken at another generation is stale, and a caller that waited for the flight lock
    /// accepts a token obtained after it started waiting instead of judging it again.
    generation: AtomicU64,
    /// The manager's lookup tick when this slot was last handed out (eviction order).
    last_used: AtomicU64,
    flight: tokio::sync::Mutex<()>,
    key: GrantKey,
    renewal: Renewal,
}

// `repr(C)`, fields in this order: what the warm path reads (`refresh_due`, `persisted`,
// `bearer`) sits at the front, in as few cache lines as can be.
#[repr(C)]
struct Current {
    /// From then on, callers refresh first (see [`Token::refresh_due`]).
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
    /// How long before expiry tokens are refreshed (default 60 s, at most 5 minutes; never
    /// more than half a token's lifetime).
    pub refresh_margin: Option<Duration>,
    /// How long a refresh lease lives if its holder dies (default 40 s).
    pub lease_ttl: Option<Duration>,
    /// How long a caller waits for another holder's lease before [`Error::LeaseTimeout`]
    /// (default 45 s).
    pub lease_wait: Option<Duration>,
    /// How many idle grants stay cached in memory (default 10,000).
    pub max_cached_grants: Option<usize>,
}

impl ManagerSettings {
    /// Checks the settings as [`TokenManagerBuilder::build`] will: a refresh margin of at
    /// most [`MAX_REFRESH_MARGIN`], a lease time-to-live above zero. For builders that hold
    /// settings before the manager exists, so a mistake is reported where it was made.
    pub fn validate(&self) -> std::result::Result<(), ConfigError> {
        if self.refresh_margin.unwrap_or(DEFAULT_REFRESH_MARGIN) > MAX_REFRESH_MARGIN {
            return Err(ConfigError::RefreshMarginTooLarge {
                max: MAX_REFRESH_MARGIN,
            });
        }
        if self.lease_ttl.unwrap_or(DEFAULT_LEASE_TTL).is_zero() {
            return Err(ConfigError::ZeroLeaseTtl);
        }
        Ok(())
    }
}

impl fmt::Debug for ManagerSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ManagerSettings")
            .field("store", &self.store.is_some())
            .field("clock", &self.clock.is_some())
            .field("refresh_margin", &self.refresh_margin)
            .field("lease_ttl", &self.lease_ttl)
            .field("lease_wait", &self.lease_wait)
            .field("max_cached_grants", &self.max_cached_grants)
            .finish()
    }
}

/// Builder for [`TokenManager`].
#[must_use]
pub struct TokenManagerBuilder {
    client: OAuthClient,
    transport: Arc<dyn Transport>,
    settings: ManagerSettings,
}

impl fmt::Debug for TokenManagerBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenManagerBuilder")
            .field("client", &self.client)
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

impl TokenManagerBuilder {
    crate::builder_settings!(settings: store, clock, refresh_margin, lease_ttl, lease_wait, max_cached_grants);
    /// Applies the settings that are set; the others keep their current values.
    pub fn settings(mut self, settings: ManagerSettings) -> Self {
        let s = &mut self.settings;
        s.store = settings.store.or(s.store.take());
        s.clock = settings.clock.or(s.clock.take());
        s.refresh_margin = settings.refresh_margin.or(s.refresh_margin);
        s.lease_ttl = settings.lease_ttl.or(s.lease_ttl);
        s.lease_wait = settings.lease_wait.or(s.lease_wait);
        s.max_cached_grants = settings.max_cached_grants.or(s.max_cached_grants);
        self
    }
    /// Builds the manager.
    pub fn build(self) -> Result<TokenManager> {
        let s = self.settings;
        s.validate()?;
        let margin = s.refresh_margin.unwrap_or(DEFAULT_REFRESH_MARGIN);
        let lease_ttl = s.lease_ttl.unwrap_or(DEFAULT_LEASE_TTL);
        Ok(TokenManager {
            inner: Arc::new(Inner {
                client: self.client,
                transport: self.transport,
                store: s.store.unwrap_or_else(|| Arc::new(MemoryStore::new())),
                clock: s.clock.unwrap_or_else(|| Arc::new(SystemClock)),
                margin,
                lease_ttl,
                lease_wait: s.lease_wait.unwrap_or(DEFAULT_LEASE_WAIT),
                slots: Mutex::new(Slots {
                    map: HashMap::new(),
                    capacity: s.max_cached_grants.unwrap_or(DEFAULT_MAX_CACHED_GRANTS),
                    tick: 0,
                }),
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
            settings: ManagerSettings::default(),
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

    /// How many grants are cached in memory now (idle ones beyond the configured maximum are
    /// evicted).
    pub fn cached_grants(&self) -> usize {
        self.lock_slots().map.len()
    }

    fn lock_slots(&self) -> std::sync::MutexGuard<'_, Slots> {
        // The map is only ever changed by single inserts and removals: a panic elsewhere while
        // it was held cannot leave it half-updated.
        self.inner.slots.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn slot(&self, key: GrantKey, renewal: Renewal) -> GrantHandle {
        let mut slots = self.lock_slots();
        slots.tick += 1;
        let tick = slots.tick;
        let slot = match slots.map.get(&key) {
            Some(slot) => slot.clone(),
            None => {
                let slot = Arc::new(Slot {
                    id: thread_cache::next_id(),
                    current: RwLock::new(None),
                    generation: AtomicU64::new(0),
                    last_used: AtomicU64::new(tick),
                    flight: tokio::sync::Mutex::new(()),
                    key: key.clone(),
                    renewal,
                });
                slots.map.insert(key, slot.clone());
                slots.evict();
                slot
            }
        };
        slot.last_used.store(tick, Ordering::Relaxed);
        drop(slots);
        GrantHandle {
            slot,
            clock: self.inner.clock.clone(),
            inner: self.inner.clone(),
        }
    }

    /// Exchanges an authorization code for tokens, saves them for `subject` and returns the
    /// grant's handle. A code is sent once, never retried (SECURITY S13); its authorization
    /// `state` is claimed in the store first, so a callback completed in one process is refused
    /// with [`CallbackError::AlreadyUsed`] in every process sharing the store (S1). An empty
    /// `subject` is refused with [`ConfigError::Empty`] before anything is sent.
    pub async fn exchange_code(&self, subject: &str, code: AuthorizedCode) -> Result<GrantHandle> {
        require_subject(subject)?;
        let key = self.key(subject);
        let (id, ttl) = code.single_use_id();
        if !self.inner.store.claim_once(&key, &id, ttl).await? {
            return Err(CallbackError::AlreadyUsed.into());
        }
        let req = self.inner.client.exchange_code_request(&code)?;
        let token = send_token_request(&self.inner, req, "authorization_code").await?;
        let handle = self.grant(subject);
        let _flight = handle.slot.flight.lock().await;
        if let Err(e) = self.inner.store.save(&handle.slot.key, &token).await {
            // Keep the tokens: the save is retried before the first use.
            handle.set_current(token, false);
            return Err(e);
        }
        handle.set_current(token, true);
        Ok(handle.clone())
    }

    /// Saves a token obtained elsewhere (e.g. migrated from another system) for `subject`
    /// (not empty: [`ConfigError::Empty`]).
    pub async fn insert(&self, subject: &str, token: Token) -> Result<GrantHandle> {
        require_subject(subject)?;
        let handle = self.grant(subject);
        let _flight = handle.slot.flight.lock().await;
        self.inner.store.save(&handle.slot.key, &token).await?;
        handle.set_current(token, true);
        Ok(handle.clone())
    }
}

/// Tokens are never stored under an empty subject: an empty user id upstream (a missing
/// session field) would otherwise put every such user on one shared grant.
fn require_subject(subject: &str) -> std::result::Result<(), ConfigError> {
    if subject.trim().is_empty() {
        return Err(ConfigError::Empty("subject"));
    }
    Ok(())
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
    /// - Served from memory while it is more than the refresh margin away from expiry (the
    ///   margin is at most half the token's lifetime). The warm path never touches the store.
    /// - Otherwise refreshed, with at most one refresh in flight per grant: concurrent callers
    ///   wait for that refresh and take its result (single-flight), even when the new token is
    ///   itself short-lived.
    /// - Across processes: the refresh runs under the store's lease for this grant; under it
    ///   the store is read again, and if another process rotated already, its token is used.
    /// - A rotated refresh token is saved to the store (compare-and-swap on the refresh token
    ///   it replaces) before the new access token is handed to anyone; if the save fails, the
    ///   caller gets [`Error::Store`], the new tokens stay in memory and the save is retried on
    ///   the next call.
    /// - The refresh runs in its own task: a caller that stops waiting (a dropped future, a
    ///   timeout) does not abort it, so a rotated refresh token is never lost half-way.
    /// - A refresh answered with `invalid_grant` re-reads the store: a refresh token rotated by
    ///   another process in the meantime is used. Otherwise it gives
    ///   [`Error::ReauthorizationRequired`] and removes the grant from the store if the store
    ///   still holds the rejected token.
    pub async fn access_token(&self) -> Result<AccessToken> {
        if let Some(token) = self.fresh(|access, _| Some(access.clone())) {
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
        self.fresh(|_, bearer| bearer.cloned())
    }

    /// Called after the API answered 401 to `used`: refreshes once if `used` is still the
    /// current token, or returns the newer token another caller already obtained (so many
    /// requests failing together cause a single refresh).
    pub async fn refresh_after_unauthorized(&self, used: &AccessToken) -> Result<AccessToken> {
        self.renew(Some(used.clone())).await
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
        self.renew(current).await
    }

    /// The current token set (scope, expiry, extra fields), from memory or the store.
    pub async fn token(&self) -> Result<Option<Token>> {
        if let Some(c) = self.load_current() {
            return Ok(Some(c.token.clone()));
        }
        match self.slot.renewal {
            Renewal::RefreshToken => self.inner.store.load(&self.slot.key).await,
            Renewal::ClientCredentials(_) => Ok(None),
        }
    }

    /// When the current access token expires, if known (from memory or the store).
    pub async fn expires_at(&self) -> Result<Option<SystemTime>> {
        Ok(self.token().await?.and_then(|t| t.expires_at))
    }

    /// Forgets the grant: clears memory and deletes it from the store.
    pub async fn forget(&self) -> Result<()> {
        let _flight = self.slot.flight.lock().await;
        self.clear();
        self.inner.store.delete(&self.slot.key).await
    }

    fn load_current(&self) -> Option<Arc<Current>> {
        // A poisoned lock holds a whole value (replaced in one assignment): use it as is.
        self.slot
            .current
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// The warm path: one atomic load, this thread's copy of the current token, one (coarse)
    /// clock read, one clone of what `pick` selects. `None` when a refresh is due (or the
    /// token is not yet saved). Without a current copy, the read lock; a copy is taken only
    /// when the thread's cache admits it (see `thread_cache`), so a thread that serves many
    /// grants in turn pays no more than the lock.
    fn fresh<T>(
        &self,
        pick: impl Fn(&AccessToken, Option<&Authorization>) -> Option<T>,
    ) -> Option<T> {
        let due = |refresh_due: Option<SystemTime>| {
            refresh_due.is_some_and(|due| self.clock.now() >= due)
        };
        let generation = self.slot.generation.load(Ordering::Acquire);
        let admit = match thread_cache::lookup(self.slot.id, generation, |entry| {
            if due(entry.refresh_due) {
                None
            } else {
                pick(&entry.access, entry.bearer.as_ref())
            }
        }) {
            Lookup::Hit(out) => return out,
            Lookup::Miss { admit } => admit,
        };
        let guard = self.slot.current.read().unwrap_or_else(|p| p.into_inner());
        let Some(current) = guard.as_ref().filter(|c| c.persisted) else {
            // Nothing to serve: drop this thread's stale copy now rather than later.
            drop(guard);
            thread_cache::remove(self.slot.id);
            return None;
        };
        let out = if due(current.refresh_due) {
            None
        } else {
            pick(&current.access, current.bearer.as_ref())
        };
        if admit {
            // Under the read lock the generation cannot move: the copy matches it.
            let entry = thread_cache::Entry {
                id: self.slot.id,
                generation: self.slot.generation.load(Ordering::Acquire),
                refresh_due: current.refresh_due,
                access: current.access.clone(),
                bearer: current.bearer.clone(),
            };
            drop(guard);
            thread_cache::insert(entry);
        }
        out
    }

    fn set_current(&self, token: Token, persisted: bool) -> AccessToken {
        let access = AccessToken::new(token.access_token.clone());
        let refresh_due = token.refresh_due(self.inner.margin);
        let bearer = Authorization::bearer(access.clone()).ok();
        self.replace_current(Some(Arc::new(Current {
            access: access.clone(),
            bearer,
            refresh_due,
            token,
            persisted,
        })));
        access
    }

    fn clear(&self) {
        self.replace_current(None);
        thread_cache::remove(self.slot.id);
    }

    /// The one place `current` changes: the generation moves under the same write lock, so a
    /// reader holding the read lock sees the two together.
    fn replace_current(&self, next: Option<Arc<Current>>) {
        let mut current = self.slot.current.write().unwrap_or_else(|p| p.into_inner());
        *current = next;
        self.slot.generation.fetch_add(1, Ordering::AcqRel);
    }

    fn is_due(&self, token: &Token) -> bool {
        token.is_due(self.inner.margin, self.clock.now())
    }

    /// The slow path. The work runs in a task of its own so that a caller who stops waiting
    /// cannot cut a refresh between the token response and the save of the rotated token.
    async fn renew(&self, failed: Option<AccessToken>) -> Result<AccessToken> {
        // Read before waiting for the flight lock: a token set after this point was obtained
        // for (or after) this caller's request.
        let seen = self.slot.generation.load(Ordering::Acquire);
        let handle = self.clone();
        let task = tokio::spawn(async move { handle.renew_locked(failed, seen).await });
        match task.await {
            Ok(result) => result,
            Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
            Err(_) => Err(Error::Transport {
                message: "the refresh was cancelled: the runtime is shutting down".into(),
            }),
        }
    }

    async fn renew_locked(&self, failed: Option<AccessToken>, seen: u64) -> Result<AccessToken> {
        let _flight = self.slot.flight.lock().await;

        // Another caller may have finished a refresh while we waited.
        if let Some(current) = self.load_current() {
            if !current.persisted {
                // A rotated token that could not be saved: save it before anyone uses it.
                return self.save_pending(&current.token).await;
            }
            let superseded = failed.as_ref().is_some_and(|f| !f.same_as(&current.access));
            let obtained_since = self.slot.generation.load(Ordering::Acquire) != seen
                && !current
                    .token
                    .expires_within(Duration::ZERO, self.clock.now());
            if superseded || (failed.is_none() && (obtained_since || !self.is_due(&current.token)))
            {
                return Ok(current.access.clone());
            }
        }

        match &self.slot.renewal {
            Renewal::ClientCredentials(scopes) => {
                let scopes: Vec<&str> = scopes.iter().map(String::as_str).collect();
                let req = self.inner.client.client_credentials_request(&scopes)?;
                let token = send_token_request(&self.inner, req, "client_credentials").await?;
                Ok(self.set_current(token, true))
            }
            Renewal::RefreshToken => {
                let key = &self.slot.key;
                let lease = self
                    .inner
                    .store
                    .lease(key, self.inner.lease_ttl, self.inner.lease_wait)
                    .await?;
                let out = self.refresh_under_lease(failed.as_ref()).await;
                match lease.release().await {
                    Ok(true) => {}
                    Ok(false) => tracing::warn!(
                        grant = %key,
                        "the refresh lease had lapsed before it was released; \
                         raise the lease time-to-live above the token request timeout"
                    ),
                    Err(e) => {
                        tracing::warn!(grant = %key, error = %e, "could not release the refresh lease")
                    }
                }
                out
            }
        }
    }

    /// Saves a token that is in memory only (its save failed earlier), under the lease.
    async fn save_pending(&self, token: &Token) -> Result<AccessToken> {
        let key = &self.slot.key;
        let store = &self.inner.store;
        let lease = store
            .lease(key, self.inner.lease_ttl, self.inner.lease_wait)
            .await?;
        let saved = store.save(key, token).await;
        let _ = lease.release().await;
        saved?;
        Ok(self.set_current(token.clone(), true))
    }

    /// SECURITY S16/S17 across processes: the store is read under the lease, a refresh token
    /// another process rotated is used instead of spending ours, and the result is saved with
    /// compare-and-swap on the refresh token it replaces.
    async fn refresh_under_lease(&self, failed: Option<&AccessToken>) -> Result<AccessToken> {
        let key = &self.slot.key;
        let store = &self.inner.store;
        let stored = store.load(key).await?;
        let from_store = stored.is_some();
        let memory = self.load_current().map(|c| c.token.clone());
        let Some(mut base) = stored.or(memory) else {
            return Err(Error::ReauthorizationRequired {
                key: key.clone(),
                reason: "no token is stored for this grant; authorize first".into(),
            });
        };
        // What the store holds now: the compare-and-swap's expected value.
        let mut expected = if from_store {
            base.refresh_token.clone()
        } else {
            None
        };
        let stored_is_newer = failed.is_some_and(|f| !f.secret_eq(&base.access_token));
        if from_store && (stored_is_newer || (failed.is_none() && !self.is_due(&base))) {
            return Ok(self.set_current(base, true));
        }

        // At most two refreshes: ours, and one with a token another process rotated while our
        // lease had lapsed (found on `invalid_grant`).
        for attempt in 0..2 {
            let Some(refresh_token) = base.refresh_token.clone() else {
                return Err(Error::ReauthorizationRequired {
                    key: key.clone(),
                    reason: "the access token expired and no refresh token was issued".into(),
                });
            };
            let req = self.inner.client.refresh_request(&refresh_token)?;
            match send_token_request(&self.inner, req, "refresh_token").await {
                Ok(token) => return self.save_refreshed(token, &base, expected.as_ref()).await,
                Err(e) if e.oauth_code() == Some(&ErrorCode::InvalidGrant) => {
                    let now = store.load(key).await?;
                    if attempt == 0
                        && let Some(now) = now
                        && now.refresh_token.is_some()
                        && !refresh_token_is(Some(&now), Some(&refresh_token))
                    {
                        // Another process rotated: its token, not a re-authorization.
                        if !self.is_due(&now) {
                            return Ok(self.set_current(now, true));
                        }
                        expected = now.refresh_token.clone();
                        base = now;
                        continue;
                    }
                    self.clear();
                    // SECURITY S17: delete only if the store still holds the rejected token.
                    store.delete_if(key, &refresh_token).await?;
                    return Err(Error::ReauthorizationRequired {
                        key: key.clone(),
                        reason: "the refresh token was rejected (invalid_grant)".into(),
                    });
                }
                Err(e) => return Err(e),
            }
        }
        Err(Error::ReauthorizationRequired {
            key: key.clone(),
            reason: "the refresh token was rejected (invalid_grant)".into(),
        })
    }

    async fn save_refreshed(
        &self,
        mut token: Token,
        base: &Token,
        expected: Option<&SecretString>,
    ) -> Result<AccessToken> {
        let key = &self.slot.key;
        // RFC 6749 §6: no new refresh token means the old one stays valid.
        if token.refresh_token.is_none() {
            token.refresh_token = base.refresh_token.clone();
        }
        if token.scope.is_none() {
            token.scope = base.scope.clone();
        }
        // Persist before anyone sees the new access token.
        match self.inner.store.save_if(key, expected, &token).await {
            Ok(true) => Ok(self.set_current(token, true)),
            Ok(false) => {
                // Our lease lapsed and another process saved meanwhile: the store is what every
                // process uses from now on.
                tracing::warn!(
                    grant = %key,
                    "the grant changed in the store during this refresh (the lease lapsed); \
                     using the stored token"
                );
                match self.inner.store.load(key).await? {
                    Some(stored) => Ok(self.set_current(stored, true)),
                    None => {
                        self.inner.store.save(key, &token).await?;
                        Ok(self.set_current(token, true))
                    }
                }
            }
            Err(e) => {
                self.set_current(token, false);
                Err(e)
            }
        }
    }
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

#[async_trait]
impl CredentialSource for GrantHandle {
    async fn authorization(&self) -> Result<Authorization> {
        self.bearer().await
    }

    async fn renew_after_unauthorized(
        &self,
        used: &Authorization,
    ) -> Result<Option<Authorization>> {
        let Some(token) = &used.token else {
            return Ok(None);
        };
        let fresh = self.refresh_after_unauthorized(token).await?;
        Ok(Some(Authorization::bearer(fresh)?))
    }
}
