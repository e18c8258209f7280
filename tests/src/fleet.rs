//! A fleet of real OS processes refreshing one Askara grant through a shared store: the worker
//! side (a re-executed test or bench binary) and the parent's helpers to start, release and read
//! the workers. The sandbox runs in the parent; workers get its URL and the store through
//! environment variables.
//!
//! A worker prints one line, `FLEET_RESULT key=value …`, with fingerprints of the token it got
//! (never the token).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use askara_sdk::{Askara, ExposeSecret, FileStore, TokenStore};
use oauth_flow::{Error, GrantHandle, ReqwestTransport, TokenManager};
use sha2::{Digest, Sha256};

/// Set in a worker's environment: the worker's settings, `;`-separated `key=value` pairs.
pub const WORKER_ENV: &str = "OAUTH_FLEET_WORKER";

/// The subject of the fleet's grant.
pub const SUBJECT: &str = "fleet-user";

/// Where the workers' grant lives.
#[derive(Debug, Clone)]
pub enum StoreSpec {
    /// A `FileStore` directory.
    File(PathBuf),
    /// A Redis URL (feature `redis`).
    Redis(String),
}

impl StoreSpec {
    /// `file` or `redis`, as printed by the bench.
    pub fn name(&self) -> &'static str {
        match self {
            StoreSpec::File(_) => "file",
            StoreSpec::Redis(_) => "redis",
        }
    }
}

/// The store of `spec`, and the Redis store itself when it is one (for its round-trip counter).
pub async fn open_store(spec: &StoreSpec) -> (Arc<dyn TokenStore>, Option<Arc<RedisHandle>>) {
    match spec {
        StoreSpec::File(dir) => (Arc::new(FileStore::new(dir)), None),
        StoreSpec::Redis(url) => open_redis(url).await,
    }
}

#[cfg(feature = "redis")]
/// The Redis store type when feature `redis` is on.
pub type RedisHandle = askara_sdk::RedisStore;
#[cfg(not(feature = "redis"))]
/// Without feature `redis` there is no Redis store.
pub type RedisHandle = std::convert::Infallible;

#[cfg(feature = "redis")]
async fn open_redis(url: &str) -> (Arc<dyn TokenStore>, Option<Arc<RedisHandle>>) {
    let store = Arc::new(
        askara_sdk::RedisStore::builder(url)
            .response_timeout(Duration::from_secs(2))
            .build()
            .await
            .unwrap_or_else(|e| panic!("worker could not reach Redis: {e}")),
    );
    (store.clone(), Some(store))
}

#[cfg(not(feature = "redis"))]
async fn open_redis(_url: &str) -> (Arc<dyn TokenStore>, Option<Arc<RedisHandle>>) {
    panic!("the Redis store needs the `redis` feature of e2e-tests")
}

fn round_trips(redis: &Option<Arc<RedisHandle>>) -> u64 {
    #[cfg(feature = "redis")]
    {
        redis.as_ref().map_or(0, |r| r.round_trips())
    }
    #[cfg(not(feature = "redis"))]
    {
        let _ = redis;
        0
    }
}

/// What a worker is told.
#[derive(Debug, Clone)]
pub struct WorkerSpec {
    /// The sandbox's Askara base URL.
    pub askara_url: String,
    /// The shared store.
    pub store: StoreSpec,
    /// Concurrent `access_token()` callers in this process.
    pub callers: usize,
    /// Warm `access_token()` calls after the cold round (0: none).
    pub warm_calls: usize,
    /// The workers wait for this file before calling, so all start together.
    pub go_file: PathBuf,
    /// The manager's lease time-to-live.
    pub lease_ttl: Duration,
}

impl WorkerSpec {
    /// The environment value for [`WORKER_ENV`].
    pub fn encode(&self) -> String {
        let (kind, where_) = match &self.store {
            StoreSpec::File(d) => ("file", d.display().to_string()),
            StoreSpec::Redis(u) => ("redis", u.clone()),
        };
        format!(
            "askara={};store={kind};at={where_};callers={};warm={};go={};ttl_ms={}",
            self.askara_url,
            self.callers,
            self.warm_calls,
            self.go_file.display(),
            self.lease_ttl.as_millis()
        )
    }

    /// Reads [`WORKER_ENV`]; `None` in the parent.
    pub fn from_env() -> Option<Self> {
        let raw = std::env::var(WORKER_ENV).ok()?;
        let map: BTreeMap<&str, &str> = raw.split(';').filter_map(|p| p.split_once('=')).collect();
        let get = |k: &str| map.get(k).copied().unwrap_or_default().to_owned();
        let num = |k: &str| get(k).parse::<u64>().unwrap_or(0);
        let store = match get("store").as_str() {
            "redis" => StoreSpec::Redis(get("at")),
            _ => StoreSpec::File(PathBuf::from(get("at"))),
        };
        Some(Self {
            askara_url: get("askara"),
            store,
            callers: usize::try_from(num("callers")).unwrap_or(1),
            warm_calls: usize::try_from(num("warm")).unwrap_or(0),
            go_file: PathBuf::from(get("go")),
            lease_ttl: Duration::from_millis(num("ttl_ms")),
        })
    }
}

/// An Askara client on the sandbox's fixed credentials.
pub fn askara(askara_url: &str, store: Arc<dyn TokenStore>) -> Askara {
    Askara::builder(
        sandbox::ASKARA_CLIENT_ID,
        sandbox::ASKARA_CLIENT_SECRET,
        sandbox::REDIRECT_URI,
    )
    .base_url(askara_url)
    .store(store)
    .build()
    .unwrap_or_else(|e| panic!("askara client: {e}"))
}

/// A token manager for Askara on `store` with a chosen lease time-to-live.
pub fn manager(askara_url: &str, store: Arc<dyn TokenStore>, lease_ttl: Duration) -> TokenManager {
    let client = askara(askara_url, store.clone()).oauth_client().clone();
    let transport = Arc::new(ReqwestTransport::new().unwrap_or_else(|e| panic!("transport: {e}")));
    TokenManager::builder(client, transport)
        .store(store)
        .lease_ttl(lease_ttl)
        .build()
        .unwrap_or_else(|e| panic!("manager: {e}"))
}

/// A short fingerprint of a secret, safe to print.
pub fn fingerprint(secret: &str) -> String {
    Sha256::digest(secret.as_bytes())
        .iter()
        .take(8)
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The worker: waits for the go file, runs `callers` concurrent `access_token()` calls, then the
/// warm calls, and prints its `FLEET_RESULT` line.
pub async fn run_worker(spec: WorkerSpec) {
    let (store, redis) = open_store(&spec.store).await;
    let manager = manager(&spec.askara_url, store, spec.lease_ttl);
    let grant: GrantHandle = manager.grant(SUBJECT);
    while !spec.go_file.exists() {
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    let before = round_trips(&redis);
    let calls: Vec<_> = (0..spec.callers)
        .map(|_| {
            let grant = grant.clone();
            tokio::spawn(async move { grant.access_token().await })
        })
        .collect();
    let (mut ok, mut reauth, mut errors) = (0u64, 0u64, 0u64);
    let mut tokens = BTreeMap::new();
    let mut first_error = String::from("-");
    for call in calls {
        match call.await {
            Ok(Ok(t)) => {
                ok += 1;
                *tokens
                    .entry(fingerprint(t.secret().expose_secret()))
                    .or_insert(0u64) += 1;
            }
            Ok(Err(Error::ReauthorizationRequired { .. })) => reauth += 1,
            Ok(Err(e)) => {
                errors += 1;
                first_error = e.to_string().replace(' ', "_");
            }
            Err(_) => errors += 1,
        }
    }
    let cold_trips = round_trips(&redis) - before;
    let warm_before = round_trips(&redis);
    let started = Instant::now();
    for _ in 0..spec.warm_calls {
        if grant.access_token().await.is_err() {
            errors += 1;
        }
    }
    let warm_ns = started.elapsed().as_nanos();
    let warm_trips = round_trips(&redis) - warm_before;
    let token = if tokens.len() == 1 {
        tokens.keys().next().cloned().unwrap_or_default()
    } else {
        "-".to_owned()
    };
    println!(
        "FLEET_RESULT pid={} ok={ok} reauth={reauth} errors={errors} distinct={} token={token} \
         cold_round_trips={cold_trips} warm_calls={} warm_round_trips={warm_trips} warm_ns={warm_ns} \
         first_error={first_error}",
        std::process::id(),
        tokens.len(),
        spec.warm_calls,
    );
}

/// One worker's `FLEET_RESULT` line, parsed.
#[derive(Debug, Clone, Default)]
pub struct WorkerResult {
    /// Fields as printed.
    pub fields: BTreeMap<String, String>,
}

impl WorkerResult {
    /// A numeric field (0 when missing).
    pub fn num(&self, k: &str) -> u64 {
        self.fields.get(k).and_then(|v| v.parse().ok()).unwrap_or(0)
    }
    /// A text field (empty when missing).
    pub fn text(&self, k: &str) -> &str {
        self.fields.get(k).map(String::as_str).unwrap_or_default()
    }
}

/// Starts a worker: `exe args…` with [`WORKER_ENV`] set, stdout piped.
pub fn spawn_worker(exe: &Path, args: &[&str], spec: &WorkerSpec) -> Child {
    Command::new(exe)
        .args(args)
        .env(WORKER_ENV, spec.encode())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap_or_else(|e| panic!("could not start a worker: {e}"))
}

/// Waits for a worker (killing it after `limit`) and parses its result line.
pub fn collect(child: Child, limit: Duration) -> WorkerResult {
    let pid = child.id();
    let started = Instant::now();
    let mut child = child;
    loop {
        match child.try_wait() {
            Ok(Some(_)) => break,
            Ok(None) if started.elapsed() > limit => {
                let _ = child.kill();
                let _ = child.wait();
                panic!("worker {pid} did not finish within {limit:?}");
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(10)),
            Err(e) => panic!("worker {pid}: {e}"),
        }
    }
    let out = child
        .wait_with_output()
        .unwrap_or_else(|e| panic!("worker {pid}: {e}"));
    assert!(
        out.status.success(),
        "worker {pid} failed: {:?}",
        out.status
    );
    let text = String::from_utf8_lossy(&out.stdout);
    let line = text
        .lines()
        .find_map(|l| l.strip_prefix("FLEET_RESULT "))
        .unwrap_or_else(|| panic!("worker {pid} printed no result: {text}"));
    WorkerResult {
        fields: line
            .split_whitespace()
            .filter_map(|kv| kv.split_once('='))
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect(),
    }
}

/// Signs `SUBJECT` in through the sandbox's consent page into `store`, then marks the stored
/// access token expired (the sandbox still accepts the refresh token): the fleet's starting
/// point.
pub async fn expired_grant(sb: &sandbox::Sandbox, store: Arc<dyn TokenStore>) {
    let askara = askara(&sb.url(sandbox::Provider::Askara), store.clone());
    let (url, pending) = askara
        .authorize_url()
        .unwrap_or_else(|e| panic!("authorize url: {e}"));
    let callback = sb
        .approve(url.as_str())
        .await
        .unwrap_or_else(|e| panic!("approve: {e}"));
    let client = askara
        .complete(SUBJECT, pending, &callback)
        .await
        .unwrap_or_else(|e| panic!("sign in: {e}"));
    let key = client.key().clone();
    let mut token = store
        .load(&key)
        .await
        .unwrap_or_else(|e| panic!("load: {e}"))
        .unwrap_or_else(|| panic!("the grant was not saved"));
    token.expires_at = Some(SystemTime::now() - Duration::from_secs(3600));
    store
        .save(&key, &token)
        .await
        .unwrap_or_else(|e| panic!("save: {e}"));
}

/// The refresh token stored for the fleet's grant, fingerprinted.
pub async fn stored_access_fingerprint(
    sb: &sandbox::Sandbox,
    store: Arc<dyn TokenStore>,
) -> String {
    let askara = askara(&sb.url(sandbox::Provider::Askara), store.clone());
    let key = askara
        .client(SUBJECT)
        .unwrap_or_else(|e| panic!("client: {e}"))
        .key()
        .clone();
    let token = store
        .load(&key)
        .await
        .unwrap_or_else(|e| panic!("load: {e}"))
        .unwrap_or_else(|| panic!("no token stored"));
    fingerprint(token.access_token.expose_secret())
}
