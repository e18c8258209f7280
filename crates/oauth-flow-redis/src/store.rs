//! [`RedisStore`]: tokens, leases and single-use ids in Redis, and its builder.

use std::fmt;
use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, LazyLock};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use oauth_flow::{Error, GrantKey, Lease, Result, Token, TokenStore};
use redis::aio::{ConnectionLike, ConnectionManager, ConnectionManagerConfig};
use redis::{Cmd, Pipeline, RedisFuture, Script, Value};
use secrecy::{ExposeSecret as _, SecretString};
use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};

use crate::error::BuildError;
use crate::keys::Keys;

/// The prefix of every key unless [`RedisStoreBuilder::prefix`] says otherwise.
pub const DEFAULT_PREFIX: &str = "oauth-flow:";

/// How long one store call waits for Redis unless
/// [`RedisStoreBuilder::response_timeout`] says otherwise.
pub const DEFAULT_RESPONSE_TIMEOUT: Duration = Duration::from_secs(3);

/// The first pause between two attempts to take a busy lease; it doubles up to
/// [`MAX_LEASE_POLL`].
const FIRST_LEASE_POLL: Duration = Duration::from_millis(5);
const MAX_LEASE_POLL: Duration = Duration::from_millis(50);

/// Saves the record only if the stored refresh-token fingerprint is `ARGV[1]` (`""`: no token, or
/// one without a refresh token). The fingerprint sits beside the JSON so Lua parses no JSON.
const SAVE_IF_LUA: &str = r"
local stored = redis.call('HGET', KEYS[1], 'rt') or ''
if stored ~= ARGV[1] then return 0 end
redis.call('HSET', KEYS[1], 'record', ARGV[2], 'rt', ARGV[3])
return 1
";
static SAVE_IF: LazyLock<Script> = LazyLock::new(|| Script::new(SAVE_IF_LUA));

/// Deletes the record only if its refresh-token fingerprint is `ARGV[1]`; a missing record counts
/// as deleted.
const DELETE_IF_LUA: &str = r"
if redis.call('EXISTS', KEYS[1]) == 0 then return 1 end
if redis.call('HGET', KEYS[1], 'rt') ~= ARGV[1] then return 0 end
redis.call('DEL', KEYS[1])
return 1
";
static DELETE_IF: LazyLock<Script> = LazyLock::new(|| Script::new(DELETE_IF_LUA));

/// Ends a lease only if `ARGV[1]` still owns it: a lease that lapsed and was taken by another
/// holder is left alone.
const RELEASE_LUA: &str = r"
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('DEL', KEYS[1])
  return 1
end
return 0
";
static RELEASE: LazyLock<Script> = LazyLock::new(|| Script::new(RELEASE_LUA));

/// Tokens in Redis, shared by every process that points at the same server and prefix: the store
/// for a fleet (several replicas, hosts or workers refreshing the same grants).
///
/// - Each grant is a hash at `<prefix>token:<provider>:<client id>:<subject>` (each part escaped,
///   so no two grants share a key) holding the token record as JSON (the grant key inside it is
///   checked on load) and a SHA-256 fingerprint of the refresh token.
/// - The refresh lease is `SET <prefix>lease:<grant> <random owner> NX PX <ttl>`, polled with a
///   short backoff until the wait runs out ([`Error::LeaseTimeout`]); release, compare-and-swap
///   save and compare-and-delete are Lua scripts, so each is atomic.
/// - [`claim_once`](TokenStore::claim_once) is `SET <prefix>used:<id> 1 NX PX <ttl>`.
///
/// Redis down, or slower than the response timeout, is an `Error::Store` whose message names
/// Redis, never a panic or a hang. The connection reconnects by itself when Redis is back.
/// Neither `Debug` nor logs show a token or the password in the URL.
///
/// # Example
///
/// ```no_run
/// use std::sync::Arc;
/// use std::time::Duration;
/// use oauth_flow_redis::RedisStore;
///
/// # async fn run() -> Result<(), oauth_flow_redis::BuildError> {
/// let store = RedisStore::builder("redis://:password@10.0.0.5:6379/0")
///     .prefix("myapp:oauth:")
///     .response_timeout(Duration::from_secs(2))
///     .build()
///     .await?;
/// // Give it to the token manager: `TokenManager::builder(..).store(Arc::new(store))`.
/// let _store: Arc<dyn oauth_flow::TokenStore> = Arc::new(store);
/// # Ok(()) }
/// ```
pub struct RedisStore {
    conn: Counted,
    keys: Keys,
    url: String,
    timeout: Duration,
}

/// Builds a [`RedisStore`]; from [`RedisStore::builder`].
pub struct RedisStoreBuilder {
    url: SecretString,
    prefix: String,
    response_timeout: Duration,
}

impl RedisStore {
    /// A builder for a store on the Redis at `url` (`redis://[user:password@]host[:port][/db]`,
    /// `rediss://` with feature `tls`, or `redis+unix:///path/to/socket`).
    pub fn builder(url: impl Into<String>) -> RedisStoreBuilder {
        RedisStoreBuilder {
            url: SecretString::from(url.into()),
            prefix: DEFAULT_PREFIX.to_owned(),
            response_timeout: DEFAULT_RESPONSE_TIMEOUT,
        }
    }

    /// How many commands this store (and the leases it handed out) has sent to Redis: each is
    /// one network round trip. A script Redis has not cached yet costs two more the first time.
    pub fn round_trips(&self) -> u64 {
        self.conn.trips.load(Ordering::Relaxed)
    }

    /// The key prefix.
    pub fn prefix(&self) -> &str {
        self.keys.prefix()
    }

    /// The longest one call waits for Redis.
    pub fn response_timeout(&self) -> Duration {
        self.timeout
    }

    /// Caches the Lua scripts in Redis (one round trip), so a refresh's first save and release
    /// cost one round trip each. A Redis that lost them (a restart) gets them again on first use.
    async fn load_scripts(&self) -> std::result::Result<(), BuildError> {
        let mut pipe = redis::pipe();
        for code in [SAVE_IF_LUA, DELETE_IF_LUA, RELEASE_LUA] {
            pipe.cmd("SCRIPT").arg("LOAD").arg(code);
        }
        let mut conn = self.conn.clone();
        match tokio::time::timeout(self.timeout, pipe.query_async::<Vec<String>>(&mut conn)).await {
            Ok(Ok(_)) => Ok(()),
            Ok(Err(source)) => Err(BuildError::Connect {
                url: self.url.clone(),
                source,
            }),
            Err(_) => Err(BuildError::ConnectTimeout {
                url: self.url.clone(),
                timeout: self.timeout,
            }),
        }
    }

    /// Runs one Redis operation under the response timeout, mapping failures to
    /// `Error::Store` naming Redis.
    async fn run<T, F>(&self, key: &GrantKey, what: &'static str, op: F) -> Result<T>
    where
        F: Future<Output = redis::RedisResult<T>>,
    {
        bounded(self.timeout, key, what, op).await
    }
}

impl RedisStoreBuilder {
    /// The prefix of every key this store writes (default [`DEFAULT_PREFIX`]): lets several
    /// apps or environments share one Redis.
    pub fn prefix(mut self, prefix: impl Into<String>) -> Self {
        self.prefix = prefix.into();
        self
    }

    /// The longest one store call waits for Redis, connecting included (default
    /// [`DEFAULT_RESPONSE_TIMEOUT`]). A lease waits for its holder on top of this.
    pub fn response_timeout(mut self, timeout: Duration) -> Self {
        self.response_timeout = timeout;
        self
    }

    /// Connects to Redis (within the response timeout) and returns the store.
    pub async fn build(self) -> std::result::Result<RedisStore, BuildError> {
        if self.response_timeout.is_zero() {
            return Err(BuildError::ZeroTimeout);
        }
        let url = redact_url(self.url.expose_secret());
        let client =
            redis::Client::open(self.url.expose_secret()).map_err(BuildError::InvalidUrl)?;
        let config = ConnectionManagerConfig::new()
            .set_response_timeout(Some(self.response_timeout))
            .set_connection_timeout(Some(self.response_timeout))
            // A dead Redis must not keep a caller in reconnect backoff: the next call retries.
            .set_number_of_retries(1)
            .set_max_delay(Duration::from_millis(200));
        let conn = match tokio::time::timeout(
            self.response_timeout,
            ConnectionManager::new_with_config(client, config),
        )
        .await
        {
            Ok(Ok(conn)) => conn,
            Ok(Err(source)) => return Err(BuildError::Connect { url, source }),
            Err(_) => {
                return Err(BuildError::ConnectTimeout {
                    url,
                    timeout: self.response_timeout,
                });
            }
        };
        let store = RedisStore {
            conn: Counted {
                conn,
                trips: Arc::new(AtomicU64::new(0)),
            },
            keys: Keys::new(self.prefix),
            url,
            timeout: self.response_timeout,
        };
        store.load_scripts().await?;
        Ok(store)
    }
}

impl fmt::Debug for RedisStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisStore")
            .field("url", &self.url)
            .field("prefix", &self.keys.prefix())
            .field("response_timeout", &self.timeout)
            .field("round_trips", &self.round_trips())
            .finish()
    }
}

impl fmt::Debug for RedisStoreBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisStoreBuilder")
            .field("url", &redact_url(self.url.expose_secret()))
            .field("prefix", &self.prefix)
            .field("response_timeout", &self.response_timeout)
            .finish()
    }
}

/// `url` with any password replaced by `redacted`; a URL that does not parse is not shown.
pub(crate) fn redact_url(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut u) => {
            if u.password().is_some() && u.set_password(Some("redacted")).is_err() {
                return "[unparseable Redis URL]".to_owned();
            }
            u.to_string()
        }
        Err(_) => "[unparseable Redis URL]".to_owned(),
    }
}

/// The connection, counting every command sent: the figure behind
/// [`RedisStore::round_trips`].
#[derive(Clone)]
struct Counted {
    conn: ConnectionManager,
    trips: Arc<AtomicU64>,
}

impl ConnectionLike for Counted {
    fn req_packed_command<'a>(&'a mut self, cmd: &'a Cmd) -> RedisFuture<'a, Value> {
        self.trips.fetch_add(1, Ordering::Relaxed);
        self.conn.req_packed_command(cmd)
    }

    fn req_packed_commands<'a>(
        &'a mut self,
        pipeline: &'a Pipeline,
        offset: usize,
        count: usize,
    ) -> RedisFuture<'a, Vec<Value>> {
        self.trips.fetch_add(1, Ordering::Relaxed);
        self.conn.req_packed_commands(pipeline, offset, count)
    }

    fn get_db(&self) -> i64 {
        self.conn.get_db()
    }
}

async fn bounded<T, F>(timeout: Duration, key: &GrantKey, what: &'static str, op: F) -> Result<T>
where
    F: Future<Output = redis::RedisResult<T>>,
{
    match tokio::time::timeout(timeout, op).await {
        Ok(Ok(v)) => Ok(v),
        Ok(Err(e)) => Err(Error::Store {
            key: key.clone(),
            message: format!("Redis failed to {what}"),
            source: Some(Box::new(e)),
        }),
        Err(_) => Err(Error::Store {
            key: key.clone(),
            message: format!("Redis did not answer within {timeout:?} (while trying to {what})"),
            source: None,
        }),
    }
}

/// What a grant's hash holds in its `record` field.
#[derive(Serialize, Deserialize)]
struct Record {
    version: u32,
    key: GrantKey,
    token: Token,
}

/// Hex SHA-256 of a refresh token, `""` for none: compared by the Lua scripts.
fn fingerprint(refresh_token: Option<&SecretString>) -> String {
    refresh_token
        .map(|t| {
            Sha256::digest(t.expose_secret().as_bytes())
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect()
        })
        .unwrap_or_default()
}

fn encode(key: &GrantKey, token: &Token) -> Result<Vec<u8>> {
    let record = Record {
        version: 1,
        key: key.clone(),
        token: token.clone(),
    };
    // The one place a stored token leaves its SecretString: Token's serialize_with.
    serde_json::to_vec(&record).map_err(|_| Error::Store {
        key: key.clone(),
        message: "could not encode the token for Redis".into(),
        source: None,
    })
}

fn decode(key: &GrantKey, bytes: &[u8]) -> Result<Token> {
    let corrupt = |message: &str| Error::Store {
        key: key.clone(),
        message: message.to_owned(),
        source: None,
    };
    // Not the serde message: it could quote a token.
    let record: Record = serde_json::from_slice(bytes)
        .map_err(|_| corrupt("the Redis token record is corrupt (not a valid record)"))?;
    if record.version != 1 {
        return Err(corrupt("the Redis token record has an unknown version"));
    }
    if &record.key != key {
        return Err(corrupt("the Redis token record belongs to another grant"));
    }
    Ok(record.token)
}

fn millis(d: Duration) -> u64 {
    // PX 0 is an error in Redis; a lease or claim lives at least a millisecond.
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX).max(1)
}

#[async_trait]
impl TokenStore for RedisStore {
    async fn load(&self, key: &GrantKey) -> Result<Option<Token>> {
        let mut conn = self.conn.clone();
        let cmd = redis::cmd("HGET")
            .arg(self.keys.token(key))
            .arg("record")
            .to_owned();
        let bytes: Option<Vec<u8>> = self
            .run(key, "load a token", cmd.query_async(&mut conn))
            .await?;
        bytes.map(|b| decode(key, &b)).transpose()
    }

    async fn save(&self, key: &GrantKey, token: &Token) -> Result<()> {
        let record = encode(key, token)?;
        let mut conn = self.conn.clone();
        let cmd = redis::cmd("HSET")
            .arg(self.keys.token(key))
            .arg("record")
            .arg(record)
            .arg("rt")
            .arg(fingerprint(token.refresh_token.as_ref()))
            .to_owned();
        self.run(key, "save a token", cmd.query_async::<i64>(&mut conn))
            .await?;
        Ok(())
    }

    async fn delete(&self, key: &GrantKey) -> Result<()> {
        let mut conn = self.conn.clone();
        let cmd = redis::cmd("DEL").arg(self.keys.token(key)).to_owned();
        self.run(key, "delete a token", cmd.query_async::<i64>(&mut conn))
            .await?;
        Ok(())
    }

    async fn lease(&self, key: &GrantKey, ttl: Duration, wait: Duration) -> Result<Box<dyn Lease>> {
        let lease_key = self.keys.lease(key);
        let owner = format!("{:032x}", rand::random::<u128>());
        let started = Instant::now();
        let deadline = started + wait;
        let mut pause = FIRST_LEASE_POLL;
        loop {
            let mut conn = self.conn.clone();
            let cmd = redis::cmd("SET")
                .arg(&lease_key)
                .arg(&owner)
                .arg("NX")
                .arg("PX")
                .arg(millis(ttl))
                .to_owned();
            let taken: Option<String> = self
                .run(key, "take the refresh lease", cmd.query_async(&mut conn))
                .await?;
            if taken.is_some() {
                tracing::debug!(grant = %key, "took the Redis refresh lease");
                return Ok(Box::new(RedisLease {
                    conn: self.conn.clone(),
                    key: key.clone(),
                    lease_key,
                    owner,
                    timeout: self.timeout,
                }));
            }
            let now = Instant::now();
            if now >= deadline {
                tracing::debug!(grant = %key, "the Redis refresh lease stayed busy");
                return Err(Error::LeaseTimeout {
                    key: key.clone(),
                    waited: now - started,
                });
            }
            // Jitter keeps a fleet of waiters from polling in lockstep.
            let jitter = pause.mul_f64(rand::random::<f64>() / 2.0);
            tokio::time::sleep((pause + jitter).min(deadline - now)).await;
            pause = (pause * 2).min(MAX_LEASE_POLL);
        }
    }

    async fn save_if(
        &self,
        key: &GrantKey,
        expected: Option<&SecretString>,
        token: &Token,
    ) -> Result<bool> {
        let record = encode(key, token)?;
        let mut conn = self.conn.clone();
        let mut call = SAVE_IF.key(self.keys.token(key));
        call.arg(fingerprint(expected))
            .arg(record)
            .arg(fingerprint(token.refresh_token.as_ref()));
        let saved: i64 = self
            .run(
                key,
                "save a token (compare-and-swap)",
                call.invoke_async(&mut conn),
            )
            .await?;
        Ok(saved == 1)
    }

    async fn delete_if(&self, key: &GrantKey, expected: &SecretString) -> Result<bool> {
        let mut conn = self.conn.clone();
        let mut call = DELETE_IF.key(self.keys.token(key));
        call.arg(fingerprint(Some(expected)));
        let deleted: i64 = self
            .run(
                key,
                "delete a token (compare-and-delete)",
                call.invoke_async(&mut conn),
            )
            .await?;
        Ok(deleted == 1)
    }

    async fn claim_once(&self, key: &GrantKey, id: &str, ttl: Duration) -> Result<bool> {
        let mut conn = self.conn.clone();
        let cmd = redis::cmd("SET")
            .arg(self.keys.used(id))
            .arg(1)
            .arg("NX")
            .arg("PX")
            .arg(millis(ttl))
            .to_owned();
        let claimed: Option<String> = self
            .run(key, "record a single-use value", cmd.query_async(&mut conn))
            .await?;
        Ok(claimed.is_some())
    }
}

/// A grant's refresh lease in Redis, from [`RedisStore`]'s [`TokenStore::lease`].
struct RedisLease {
    conn: Counted,
    key: GrantKey,
    lease_key: String,
    owner: String,
    timeout: Duration,
}

impl fmt::Debug for RedisLease {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisLease")
            .field("grant", &self.key)
            .field("lease_key", &self.lease_key)
            .finish_non_exhaustive()
    }
}

#[async_trait]
impl Lease for RedisLease {
    async fn release(self: Box<Self>) -> Result<bool> {
        let mut conn = self.conn.clone();
        let mut call = RELEASE.key(&self.lease_key);
        call.arg(&self.owner);
        let released: i64 = bounded(
            self.timeout,
            &self.key,
            "release the refresh lease",
            call.invoke_async(&mut conn),
        )
        .await?;
        Ok(released == 1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_lose_their_password() {
        assert_eq!(
            redact_url("redis://:hunter2@10.0.0.5:6379/0"),
            "redis://:redacted@10.0.0.5:6379/0"
        );
        assert_eq!(
            redact_url("rediss://app:hunter2@redis.example/1"),
            "rediss://app:redacted@redis.example/1"
        );
        assert_eq!(
            redact_url("redis://127.0.0.1:6379"),
            "redis://127.0.0.1:6379"
        );
        assert_eq!(redact_url("not a url hunter2"), "[unparseable Redis URL]");
    }

    #[test]
    fn fingerprints_are_sha256_hex_or_empty() {
        assert_eq!(fingerprint(None), "");
        let fp = fingerprint(Some(&SecretString::from("abc".to_owned())));
        assert_eq!(
            fp,
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn lease_ttl_is_at_least_one_millisecond() {
        assert_eq!(millis(Duration::ZERO), 1);
        assert_eq!(millis(Duration::from_secs(2)), 2000);
    }
}
