//! The crate's one error type: what can go wrong while building a [`RedisStore`](crate::RedisStore).
//!
//! Calls on a built store return [`oauth_flow::Error`] like every [`TokenStore`]
//! (`Error::Store` naming Redis, `Error::LeaseTimeout`).
//!
//! [`TokenStore`]: oauth_flow::TokenStore

use std::time::Duration;

/// Why a [`RedisStore`](crate::RedisStore) could not be built.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BuildError {
    /// The Redis URL does not parse (its text is not repeated: it may hold a password).
    #[error("the Redis URL is not valid")]
    InvalidUrl(#[source] redis::RedisError),
    /// The response timeout is zero.
    #[error("the Redis response timeout must be more than zero")]
    ZeroTimeout,
    /// Redis could not be reached or refused the connection (e.g. a wrong password).
    #[error("could not connect to Redis at {url}")]
    Connect {
        /// The URL with its password redacted.
        url: String,
        /// The client's error.
        #[source]
        source: redis::RedisError,
    },
    /// Redis did not answer the first connection within the response timeout.
    #[error("Redis at {url} did not answer within {timeout:?}")]
    ConnectTimeout {
        /// The URL with its password redacted.
        url: String,
        /// The response timeout in force.
        timeout: Duration,
    },
}
