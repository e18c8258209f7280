//! The settings every provider SDK's builder shares, and their setters, written once.
//!
//! Why a macro: the setters must be inherent methods of each provider's builder (a user calls
//! `KonPro::builder(..).store(..)` without importing a trait), yet a new setting should be added
//! in one place. [`builder_settings!`](crate::builder_settings) expands the chosen setters, with
//! their documentation, into the builder's `impl` block; the values land in an [`SdkSettings`]
//! (or, for the core's own [`TokenManagerBuilder`](crate::TokenManagerBuilder), a
//! [`ManagerSettings`]).

use std::fmt;
use std::sync::Arc;

use crate::api::RetryPolicy;
use crate::client::OAuthClient;
use crate::error::Result;
use crate::manager::{ManagerSettings, TokenManager};
use crate::transport::{ReqwestTransport, Transport};

/// What a provider builder collects before the OAuth client exists: the token manager's
/// settings, the transport and the retry policy. A field left `None` keeps its default.
///
/// Provider builders hold one and expose its setters through
/// [`builder_settings!`](crate::builder_settings).
#[derive(Clone, Default)]
#[non_exhaustive]
pub struct SdkSettings {
    /// Store, clock, refresh margin, lease and cache settings of the token manager.
    pub manager: ManagerSettings,
    /// The transport (default: a [`ReqwestTransport`] with the SDK's user agent).
    pub transport: Option<Arc<dyn Transport>>,
    /// Retries of API calls answered 429/503 (default: [`RetryPolicy::default`]).
    pub retry: Option<RetryPolicy>,
}

impl fmt::Debug for SdkSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SdkSettings")
            .field("manager", &self.manager)
            .field("transport", &self.transport.is_some())
            .field("retry", &self.retry)
            .finish()
    }
}

impl SdkSettings {
    /// The configured transport, or a new [`ReqwestTransport`] sending `user_agent`.
    pub fn transport_or_default(&self, user_agent: &str) -> Result<Arc<dyn Transport>> {
        match &self.transport {
            Some(t) => Ok(t.clone()),
            None => Ok(Arc::new(
                ReqwestTransport::builder().user_agent(user_agent).build()?,
            )),
        }
    }

    /// The configured retry policy, or the default one.
    pub fn retry_policy(&self) -> RetryPolicy {
        self.retry.unwrap_or_default()
    }

    /// Builds the token manager of `client` with these settings, sending through `transport`.
    pub fn token_manager(
        &self,
        client: OAuthClient,
        transport: Arc<dyn Transport>,
    ) -> Result<TokenManager> {
        TokenManager::builder(client, transport)
            .settings(self.manager.clone())
            .build()
    }
}

/// Where [`builder_settings!`](crate::builder_settings)'s setters find the manager's settings.
#[doc(hidden)]
pub trait HoldsManagerSettings {
    /// The token manager's settings.
    fn manager_settings(&mut self) -> &mut ManagerSettings;
}

impl HoldsManagerSettings for ManagerSettings {
    fn manager_settings(&mut self) -> &mut ManagerSettings {
        self
    }
}

impl HoldsManagerSettings for SdkSettings {
    fn manager_settings(&mut self) -> &mut ManagerSettings {
        &mut self.manager
    }
}

/// Expands the shared builder setters into a builder's `impl` block.
///
/// `builder_settings!(field: setting, ...)` where `field` names the builder's [`SdkSettings`]
/// (or [`ManagerSettings`]) field and each `setting` is one of `store`, `clock`,
/// `refresh_margin`, `lease_ttl`, `lease_wait`, `max_cached_grants` (any holder), `transport`,
/// `retry` (an [`SdkSettings`] holder only). Each setter takes `self` by value and returns it.
///
/// ```
/// use oauth_flow::SdkSettings;
///
/// /// A provider builder.
/// pub struct MyBuilder {
///     settings: SdkSettings,
/// }
///
/// impl MyBuilder {
///     oauth_flow::builder_settings!(settings: store, clock, refresh_margin, transport, retry);
/// }
///
/// let b = MyBuilder { settings: SdkSettings::default() }
///     .refresh_margin(std::time::Duration::from_secs(30))
///     .retry(oauth_flow::RetryPolicy::none());
/// assert_eq!(b.settings.manager.refresh_margin, Some(std::time::Duration::from_secs(30)));
/// assert_eq!(b.settings.retry_policy().max_attempts, 1);
/// ```
#[macro_export]
macro_rules! builder_settings {
    ($field:ident : $($setting:ident),+ $(,)?) => {
        $( $crate::builder_settings!(@ $field $setting); )+
    };
    (@ $field:ident store) => {
        /// Where tokens are persisted (default: in memory, lost at exit). Use a
        /// [`FileStore`](oauth_flow::FileStore) to survive restarts and share one host's
        /// processes, a Redis store (`oauth-flow-redis`) for a fleet, or your own
        /// [`TokenStore`](oauth_flow::TokenStore).
        pub fn store(
            mut self,
            store: ::std::sync::Arc<dyn $crate::TokenStore>,
        ) -> Self {
            $crate::__private::HoldsManagerSettings::manager_settings(&mut self.$field).store =
                ::std::option::Option::Some(store);
            self
        }
    };
    (@ $field:ident clock) => {
        /// The clock deciding when a token is due (default: the system clock); a
        /// [`ManualClock`](oauth_flow::ManualClock) makes expiry testable.
        pub fn clock(mut self, clock: ::std::sync::Arc<dyn $crate::Clock>) -> Self {
            $crate::__private::HoldsManagerSettings::manager_settings(&mut self.$field).clock =
                ::std::option::Option::Some(clock);
            self
        }
    };
    (@ $field:ident refresh_margin) => {
        /// How long before expiry tokens are refreshed (default 60 s; more than 5 minutes is
        /// refused at `build()` with `ConfigError::RefreshMarginTooLarge`). Never more than
        /// half a token's lifetime is used, so short-lived tokens are not refreshed on every
        /// call.
        pub fn refresh_margin(mut self, margin: ::std::time::Duration) -> Self {
            $crate::__private::HoldsManagerSettings::manager_settings(&mut self.$field)
                .refresh_margin = ::std::option::Option::Some(margin);
            self
        }
    };
    (@ $field:ident lease_ttl) => {
        /// How long a refresh lease lives if its holder dies mid-refresh (default 40 s); another
        /// process may refresh after it.
        pub fn lease_ttl(mut self, ttl: ::std::time::Duration) -> Self {
            $crate::__private::HoldsManagerSettings::manager_settings(&mut self.$field)
                .lease_ttl = ::std::option::Option::Some(ttl);
            self
        }
    };
    (@ $field:ident lease_wait) => {
        /// How long a caller waits for another process's refresh lease before failing with a
        /// lease timeout (default 45 s).
        pub fn lease_wait(mut self, wait: ::std::time::Duration) -> Self {
            $crate::__private::HoldsManagerSettings::manager_settings(&mut self.$field)
                .lease_wait = ::std::option::Option::Some(wait);
            self
        }
    };
    (@ $field:ident max_cached_grants) => {
        /// How many idle grants stay cached in memory (default 10,000); the least recently used
        /// are evicted beyond it and loaded from the store again when next used.
        pub fn max_cached_grants(mut self, n: usize) -> Self {
            $crate::__private::HoldsManagerSettings::manager_settings(&mut self.$field)
                .max_cached_grants = ::std::option::Option::Some(n);
            self
        }
    };
    (@ $field:ident transport) => {
        /// The transport every request goes through (default: a
        /// [`ReqwestTransport`](oauth_flow::ReqwestTransport) with its timeouts and body cap).
        /// Implement [`Transport`](oauth_flow::Transport) to record, proxy or replay requests.
        pub fn transport(
            mut self,
            transport: ::std::sync::Arc<dyn $crate::Transport>,
        ) -> Self {
            self.$field.transport = ::std::option::Option::Some(transport);
            self
        }
    };
    (@ $field:ident retry) => {
        /// Retries of API calls answered 429 or 503 (default: 3 attempts, 30 s of waiting at
        /// most, honouring `Retry-After`); [`RetryPolicy::none`](oauth_flow::RetryPolicy::none)
        /// turns them off.
        pub fn retry(mut self, retry: $crate::RetryPolicy) -> Self {
            self.$field.retry = ::std::option::Option::Some(retry);
            self
        }
    };
}
