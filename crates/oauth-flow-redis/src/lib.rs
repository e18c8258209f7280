//! A Redis [`TokenStore`](oauth_flow::TokenStore) for `oauth-flow`: the store for a fleet.
//!
//! Every process pointed at the same Redis and key prefix shares the tokens and takes the same
//! per-grant refresh lease, so a grant whose provider rotates refresh tokens is refreshed once
//! across all of them, not once per process. See [`RedisStore`] for the keys, the lease and
//! what happens when Redis is down, and the crate README ("Running more than one process").
//!
//! ```no_run
//! use oauth_flow_redis::RedisStore;
//!
//! # async fn run() -> Result<(), oauth_flow_redis::BuildError> {
//! let store = RedisStore::builder("redis://127.0.0.1:6379/").build().await?;
//! println!("{store:?}"); // the URL's password, if any, is redacted
//! # Ok(()) }
//! ```
//!
//! Features: `tls` (`rediss://` URLs, through the redis crate's rustls support), `test-util`
//! ([`test_util::RedisServer`], a throwaway `redis-server` for tests).

#![forbid(unsafe_code)]

mod error;
mod keys;
mod store;
#[cfg(feature = "test-util")]
pub mod test_util;

pub use error::BuildError;
pub use store::{DEFAULT_PREFIX, DEFAULT_RESPONSE_TIMEOUT, RedisStore, RedisStoreBuilder};

/// The README's example, compiled as a doctest so it cannot drift from the API.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
