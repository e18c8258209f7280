//! [`MemoryStore`]: tokens in this process's memory, with the coordination contract kept
//! in-process (leases, compare-and-swap, single-use claims).

use std::collections::HashMap;
use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use async_trait::async_trait;
use secrecy::SecretString;
use tokio::sync::Notify;
use tokio::time::Instant;

use super::{GrantKey, Lease, TokenStore, refresh_token_is};
use crate::error::{Error, Result};
use crate::token::Token;

/// Tokens in memory, lost at exit. Leases, compare-and-swap and single-use claims hold between
/// every manager of this process that shares the store (not across processes).
#[derive(Default)]
pub struct MemoryStore {
    tokens: Mutex<HashMap<GrantKey, Token>>,
    leases: Arc<LeaseTable>,
    claims: Mutex<HashMap<String, Instant>>,
}

/// Who holds which grant's lease, until when.
#[derive(Default)]
struct LeaseTable {
    held: Mutex<HashMap<GrantKey, (u64, Instant)>>,
    released: Notify,
    next_owner: AtomicU64,
}

/// Locks a map that is only ever changed by single inserts and removals: a panic elsewhere while
/// it was held cannot leave it half-updated, so a poisoned lock is used as is.
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }
}

impl fmt::Debug for MemoryStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MemoryStore")
            .field("grants", &lock(&self.tokens).len())
            .finish()
    }
}

#[async_trait]
impl TokenStore for MemoryStore {
    async fn load(&self, key: &GrantKey) -> Result<Option<Token>> {
        Ok(lock(&self.tokens).get(key).cloned())
    }

    async fn save(&self, key: &GrantKey, token: &Token) -> Result<()> {
        lock(&self.tokens).insert(key.clone(), token.clone());
        Ok(())
    }

    async fn delete(&self, key: &GrantKey) -> Result<()> {
        lock(&self.tokens).remove(key);
        Ok(())
    }

    async fn lease(&self, key: &GrantKey, ttl: Duration, wait: Duration) -> Result<Box<dyn Lease>> {
        let table = &self.leases;
        let deadline = Instant::now() + wait;
        loop {
            // Registered before the check, so a release between the check and the wait is seen.
            let released = table.released.notified();
            tokio::pin!(released);
            released.as_mut().enable();
            let now = Instant::now();
            let expires = {
                let mut held = lock(&table.held);
                match held.get(key) {
                    Some(&(_, until)) if until > now => until,
                    _ => {
                        let owner = table.next_owner.fetch_add(1, Ordering::Relaxed);
                        held.insert(key.clone(), (owner, now + ttl));
                        return Ok(Box::new(MemoryLease {
                            table: Some(table.clone()),
                            key: key.clone(),
                            owner,
                        }));
                    }
                }
            };
            if now >= deadline {
                return Err(Error::LeaseTimeout {
                    key: key.clone(),
                    waited: wait,
                });
            }
            // Wake on a release, on the holder's lapse, or at the deadline.
            let _ = tokio::time::timeout_at(expires.min(deadline), released).await;
        }
    }

    async fn save_if(
        &self,
        key: &GrantKey,
        expected: Option<&SecretString>,
        token: &Token,
    ) -> Result<bool> {
        let mut tokens = lock(&self.tokens);
        if !refresh_token_is(tokens.get(key), expected) {
            return Ok(false);
        }
        tokens.insert(key.clone(), token.clone());
        Ok(true)
    }

    async fn delete_if(&self, key: &GrantKey, expected: &SecretString) -> Result<bool> {
        let mut tokens = lock(&self.tokens);
        match tokens.get(key) {
            None => Ok(true),
            Some(t) if refresh_token_is(Some(t), Some(expected)) => {
                tokens.remove(key);
                Ok(true)
            }
            Some(_) => Ok(false),
        }
    }

    async fn claim_once(&self, _key: &GrantKey, id: &str, ttl: Duration) -> Result<bool> {
        let now = Instant::now();
        let mut claims = lock(&self.claims);
        claims.retain(|_, until| *until > now);
        Ok(claims.insert(id.to_owned(), now + ttl).is_none())
    }
}

/// A lease of a [`MemoryStore`]; ended on release or drop.
struct MemoryLease {
    /// `None` once released.
    table: Option<Arc<LeaseTable>>,
    key: GrantKey,
    owner: u64,
}

impl MemoryLease {
    fn end(&mut self) -> bool {
        let Some(table) = self.table.take() else {
            return false;
        };
        let mut held = lock(&table.held);
        let owned = held.get(&self.key).is_some_and(|&(o, _)| o == self.owner);
        if owned {
            held.remove(&self.key);
        }
        drop(held);
        table.released.notify_waiters();
        owned
    }
}

impl fmt::Debug for MemoryLease {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MemoryLease")
            .field("key", &self.key)
            .finish_non_exhaustive()
    }
}

#[async_trait]
impl Lease for MemoryLease {
    async fn release(mut self: Box<Self>) -> Result<bool> {
        Ok(self.end())
    }
}

impl Drop for MemoryLease {
    fn drop(&mut self) {
        self.end();
    }
}
