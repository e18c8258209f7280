//! Where tokens live between runs, and where processes sharing grants meet: the [`TokenStore`]
//! trait with its coordination contract, [`MemoryStore`] and [`FileStore`].

use std::fmt;
use std::time::Duration;

use async_trait::async_trait;
use secrecy::{ExposeSecret as _, SecretString};

use crate::error::Result;
use crate::token::Token;

mod file;
mod memory;

pub(crate) use crate::key::GrantKey;
pub use file::FileStore;
pub use memory::MemoryStore;

/// Persists tokens by grant key, and is where processes sharing grants meet. Implement it over
/// your database or secret manager; the core ships [`MemoryStore`] and [`FileStore`], and the
/// `oauth-flow-redis` crate a store for fleets.
///
/// Implementations must not print tokens in `Debug` and should make `save` atomic: a failed
/// save must leave the previous value readable.
///
/// # Coordination contract
///
/// A rotating refresh token may be spent once. The [`TokenManager`](crate::TokenManager)
/// refreshes a grant like this, and a store shared by several processes makes it safe across
/// them:
///
/// 1. [`lease`](Self::lease): take the grant's exclusive lease, waiting at most `wait`
///    ([`Error::LeaseTimeout`](crate::Error::LeaseTimeout) after that, never a hang). A lease is held for at most `ttl` if
///    its holder dies or hangs (a store whose locks die with their process, such as
///    [`FileStore`], may ignore `ttl`).
/// 2. [`load`](Self::load) under the lease: if the stored token differs from the one this
///    process would send, another process refreshed already and its token is used.
/// 3. Refresh, then [`save_if`](Self::save_if): save the new token only if the store still holds
///    the refresh token that was sent (compare-and-swap).
/// 4. [`Lease::release`]: end the lease, only if this holder still owns it.
///
/// After `invalid_grant` the store is read again (another process may have rotated), and a
/// grant is removed only with [`delete_if`](Self::delete_if). [`claim_once`](Self::claim_once)
/// shares the single use of authorization states between processes.
///
/// The default methods are correct within one process only (the manager's own single-flight
/// still holds): a store shared between processes must override all four.
#[async_trait]
pub trait TokenStore: Send + Sync + 'static {
    /// The token saved for `key`, if any.
    async fn load(&self, key: &GrantKey) -> Result<Option<Token>>;
    /// Saves `token` for `key`, replacing any previous one.
    async fn save(&self, key: &GrantKey, token: &Token) -> Result<()>;
    /// Forgets `key`'s token. Deleting a missing key is not an error.
    async fn delete(&self, key: &GrantKey) -> Result<()>;

    /// Takes the exclusive lease on `key`'s grant, waiting at most `wait` for another holder
    /// to release it; [`Error::LeaseTimeout`](crate::Error::LeaseTimeout) when the wait runs out. The lease lapses by itself
    /// after `ttl` if it is never released.
    ///
    /// The default grants every request at once: no exclusion beyond the manager's own.
    async fn lease(&self, key: &GrantKey, ttl: Duration, wait: Duration) -> Result<Box<dyn Lease>> {
        let _ = (key, ttl, wait);
        Ok(Box::new(NoLease))
    }

    /// Saves `token` for `key` only if the stored token's refresh token is `expected`
    /// (`None`: no token, or a token without a refresh token, is stored). Returns whether it
    /// saved; on `false` the store is unchanged.
    ///
    /// The default loads, compares and saves: atomic only under the lease.
    async fn save_if(
        &self,
        key: &GrantKey,
        expected: Option<&SecretString>,
        token: &Token,
    ) -> Result<bool> {
        let stored = self.load(key).await?;
        if !refresh_token_is(stored.as_ref(), expected) {
            return Ok(false);
        }
        self.save(key, token).await?;
        Ok(true)
    }

    /// Deletes `key`'s token only if its refresh token is still `expected`. Returns whether it
    /// deleted (also `true` when nothing was stored).
    ///
    /// The default loads, compares and deletes: atomic only under the lease.
    async fn delete_if(&self, key: &GrantKey, expected: &SecretString) -> Result<bool> {
        match self.load(key).await? {
            None => Ok(true),
            Some(stored) if refresh_token_is(Some(&stored), Some(expected)) => {
                self.delete(key).await?;
                Ok(true)
            }
            Some(_) => Ok(false),
        }
    }

    /// Records that the single-use value `id` (a hex fingerprint of an authorization `state`,
    /// never the state itself; unique across grants) has been used; `Ok(false)` if it already
    /// was. Entries may be forgotten after `ttl`. `key` is the grant being authorized, for
    /// error reports.
    ///
    /// The default records nothing and returns `true`: replays are then caught in this process
    /// only.
    async fn claim_once(&self, key: &GrantKey, id: &str, ttl: Duration) -> Result<bool> {
        let _ = (key, id, ttl);
        Ok(true)
    }
}

/// An exclusive lease on one grant, from [`TokenStore::lease`].
///
/// Dropping it without [`release`](Self::release) ends it at the latest when its time-to-live
/// runs out.
#[async_trait]
pub trait Lease: Send + Sync + fmt::Debug {
    /// Ends the lease if this holder still owns it; a lease that lapsed and was taken by
    /// another holder is left alone. Returns whether it was still owned.
    async fn release(self: Box<Self>) -> Result<bool>;
}

/// The lease of stores that coordinate nothing (the trait's default).
#[derive(Debug)]
struct NoLease;

#[async_trait]
impl Lease for NoLease {
    async fn release(self: Box<Self>) -> Result<bool> {
        Ok(true)
    }
}

/// Whether `stored`'s refresh token is `expected` (constant-time comparison).
pub(crate) fn refresh_token_is(stored: Option<&Token>, expected: Option<&SecretString>) -> bool {
    match (stored.and_then(|t| t.refresh_token.as_ref()), expected) {
        (None, None) => true,
        (Some(a), Some(b)) => {
            use subtle::ConstantTimeEq as _;
            bool::from(
                a.expose_secret()
                    .as_bytes()
                    .ct_eq(b.expose_secret().as_bytes()),
            )
        }
        _ => false,
    }
}
