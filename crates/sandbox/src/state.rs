//! Shared server state.

use std::collections::HashMap;
use std::ops::Deref;
use std::sync::{Arc, Mutex, MutexGuard};

use crate::clock::Clock;
use crate::consent::ConsentStore;
use crate::credentials::Credentials;
use crate::faults::Tracker;
use crate::konvert::KonvertState;
use crate::kustomer::KustomerData;
use crate::oauth::TokenStore;
use crate::provider::Provider;

/// Locks a mutex, recovering the data if a previous holder panicked.
pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Per-provider test settings.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct ProviderSettings {
    pub(crate) access_token_lifetime: Option<u64>,
    pub(crate) omit_expires_in: bool,
    /// Reuse of a rotated refresh token is only refused, the tokens issued after it live on
    /// (the default, `false`, revokes them: RFC 9700 §4.14.2).
    pub(crate) lenient_reuse: bool,
}

/// Everything the handlers share.
pub(crate) struct Shared {
    pub(crate) creds: Credentials,
    /// `http://127.0.0.1:PORT`.
    pub(crate) base_url: String,
    pub(crate) clock: Clock,
    /// Random per sandbox: signs Askara access tokens and Konvert issued tokens.
    pub(crate) signing_key: Vec<u8>,
    pub(crate) settings: Mutex<HashMap<Provider, ProviderSettings>>,
    pub(crate) tracker: Mutex<Tracker>,
    pub(crate) consent: Mutex<ConsentStore>,
    pub(crate) tokens: Mutex<TokenStore>,
    pub(crate) kustomer: Mutex<KustomerData>,
    pub(crate) konvert: KonvertState,
    /// Redirect URIs registered for the Askara client besides `creds.redirect_uri`.
    pub(crate) askara_redirects: Mutex<Vec<String>>,
}

/// Cheaply clonable handle to [`Shared`].
#[derive(Clone)]
pub(crate) struct AppState(Arc<Shared>);

impl Deref for AppState {
    type Target = Shared;
    fn deref(&self) -> &Shared {
        &self.0
    }
}

impl AppState {
    pub(crate) fn new(base_url: String, creds: Credentials) -> Self {
        let kustomer = KustomerData::seeded(&creds.kustomer.org_id);
        Self(Arc::new(Shared {
            base_url,
            clock: Clock::default(),
            signing_key: crate::oauth::random_bytes(32),
            settings: Mutex::new(HashMap::new()),
            tracker: Mutex::new(Tracker::default()),
            consent: Mutex::new(ConsentStore::default()),
            tokens: Mutex::new(TokenStore::default()),
            kustomer: Mutex::new(kustomer),
            konvert: KonvertState::new(),
            askara_redirects: Mutex::new(Vec::new()),
            creds,
        }))
    }

    /// Sandbox now, Unix seconds.
    pub(crate) fn now(&self) -> i64 {
        self.clock.now()
    }

    /// The access-token lifetime in force for a provider.
    pub(crate) fn lifetime(&self, p: Provider) -> u64 {
        lock(&self.settings)
            .get(&p)
            .and_then(|s| s.access_token_lifetime)
            .unwrap_or_else(|| p.default_access_token_lifetime())
    }

    /// Whether token responses of a provider leave out `expires_in`.
    pub(crate) fn omit_expires_in(&self, p: Provider) -> bool {
        lock(&self.settings)
            .get(&p)
            .is_some_and(|s| s.omit_expires_in)
    }

    /// Whether reusing a rotated refresh token of a provider revokes its family's later tokens.
    pub(crate) fn reuse_detection(&self, p: Provider) -> bool {
        !lock(&self.settings)
            .get(&p)
            .is_some_and(|s| s.lenient_reuse)
    }

    pub(crate) fn update_settings(&self, p: Provider, f: impl FnOnce(&mut ProviderSettings)) {
        f(lock(&self.settings).entry(p).or_default());
    }

    /// The provider's base URL, e.g. `http://127.0.0.1:PORT/askara` (also its JWT `iss`).
    pub(crate) fn provider_url(&self, p: Provider) -> String {
        format!("{}{}", self.base_url, p.prefix())
    }
}
