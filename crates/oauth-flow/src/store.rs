//! Where tokens live between runs: the [`TokenStore`] trait, [`MemoryStore`] and [`FileStore`].

use std::collections::HashMap;
use std::fmt;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Duration;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use secrecy::{ExposeSecret as _, SecretString};
use sha2::{Digest, Sha256};

use crate::error::{Error, Result};
use crate::token::Token;

/// Names one grant: the provider, the client, and a user or account key chosen by the app, so
/// one process can hold tokens for many users.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct GrantKey {
    provider: String,
    client_id: String,
    subject: String,
}

impl GrantKey {
    /// A key for `subject`'s grant to `client_id` at `provider`.
    pub fn new(
        provider: impl Into<String>,
        client_id: impl Into<String>,
        subject: impl Into<String>,
    ) -> Self {
        Self {
            provider: provider.into(),
            client_id: client_id.into(),
            subject: subject.into(),
        }
    }
    /// The provider.
    pub fn provider(&self) -> &str {
        &self.provider
    }
    /// The client id.
    pub fn client_id(&self) -> &str {
        &self.client_id
    }
    /// The user or account key.
    pub fn subject(&self) -> &str {
        &self.subject
    }
}

impl fmt::Display for GrantKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}/{}", self.provider, self.client_id, self.subject)
    }
}

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
///    ([`Error::LeaseTimeout`] after that, never a hang). A lease is held for at most `ttl` if
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
    /// to release it; [`Error::LeaseTimeout`] when the wait runs out. The lease lapses by itself
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

    /// Records that the single-use value `id` (a fingerprint of an authorization `state`, never
    /// the state itself) has been used; `Ok(false)` if it already was. Entries may be forgotten
    /// after `ttl`.
    ///
    /// The default records nothing and returns `true`: replays are then caught in this process
    /// only.
    async fn claim_once(&self, id: &str, ttl: Duration) -> Result<bool> {
        let _ = (id, ttl);
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
pub fn refresh_token_is(stored: Option<&Token>, expected: Option<&SecretString>) -> bool {
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

/// Tokens in memory, lost at exit.
#[derive(Default)]
pub struct MemoryStore {
    tokens: Mutex<HashMap<GrantKey, Token>>,
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<GrantKey, Token>> {
        // A panic while holding this lock cannot leave the map half-updated (single inserts).
        self.tokens.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl fmt::Debug for MemoryStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MemoryStore")
            .field("grants", &self.lock().len())
            .finish()
    }
}

#[async_trait]
impl TokenStore for MemoryStore {
    async fn load(&self, key: &GrantKey) -> Result<Option<Token>> {
        Ok(self.lock().get(key).cloned())
    }
    async fn save(&self, key: &GrantKey, token: &Token) -> Result<()> {
        self.lock().insert(key.clone(), token.clone());
        Ok(())
    }
    async fn delete(&self, key: &GrantKey) -> Result<()> {
        self.lock().remove(key);
        Ok(())
    }
}

/// One JSON file per grant in a directory, written atomically.
///
/// Each save writes a temporary file in the same directory (created with mode 0600 on Unix, no
/// later chmod), fsyncs it, renames it over the old file and fsyncs the directory, so a crash or
/// a full disk leaves either the old file or the new one, never a truncated one (SECURITY S26).
/// The directory is created with mode 0700. A corrupt or unreadable file is a typed error, and
/// is never overwritten silently by a load.
pub struct FileStore {
    dir: PathBuf,
}

#[derive(Serialize, Deserialize)]
struct FileRecord {
    version: u32,
    key: GrantKey,
    token: Token,
}

impl FileStore {
    /// A store in `dir` (created on first save).
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        Self { dir: dir.into() }
    }

    /// The file holding `key`'s token: a hash of the key, so no user-chosen text becomes a path.
    pub fn path_for(&self, key: &GrantKey) -> PathBuf {
        let digest = Sha256::digest(key.to_string().as_bytes());
        let name: String = digest.iter().take(16).map(|b| format!("{b:02x}")).collect();
        self.dir.join(format!("{name}.json"))
    }

    async fn blocking<T, F>(&self, key: &GrantKey, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce() -> std::result::Result<
                T,
                (
                    &'static str,
                    Option<Box<dyn std::error::Error + Send + Sync>>,
                ),
            > + Send
            + 'static,
    {
        let out = tokio::task::spawn_blocking(f)
            .await
            .map_err(|e| Error::Store {
                key: key.clone(),
                message: "the store task failed".into(),
                source: Some(Box::new(e)),
            })?;
        out.map_err(|(message, source)| Error::Store {
            key: key.clone(),
            message: message.into(),
            source,
        })
    }
}

impl fmt::Debug for FileStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FileStore").field("dir", &self.dir).finish()
    }
}

type BlockingResult<T> = std::result::Result<
    T,
    (
        &'static str,
        Option<Box<dyn std::error::Error + Send + Sync>>,
    ),
>;

fn io(
    message: &'static str,
) -> impl FnOnce(
    std::io::Error,
) -> (
    &'static str,
    Option<Box<dyn std::error::Error + Send + Sync>>,
) {
    move |e| (message, Some(Box::new(e)))
}

fn read_record(path: &Path, key: &GrantKey) -> BlockingResult<Option<Token>> {
    let bytes = match std::fs::read(path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(io("could not read the token file")(e)),
    };
    // Not the serde message: it could quote a token.
    let record: FileRecord = serde_json::from_slice(&bytes)
        .map_err(|_| ("the token file is corrupt (not a valid token record)", None))?;
    if record.version != 1 {
        return Err(("the token file has an unknown version", None));
    }
    if &record.key != key {
        return Err(("the token file belongs to another grant", None));
    }
    Ok(Some(record.token))
}

/// Serialises file-store writes within this process. The temporary file's name is per process
/// (`.<file>.<pid>.tmp`), so two concurrent saves of one grant (two managers or stores over one
/// directory) would otherwise remove and rename each other's temporary file: a save could fail
/// or publish another's half-written file. Across processes the pid keeps the names apart.
static WRITE_LOCK: Mutex<()> = Mutex::new(());

fn write_atomic(dir: &Path, path: &Path, bytes: &[u8]) -> BlockingResult<()> {
    // Poisoning cannot leave shared state half-updated here: the guard protects no data.
    let _write = WRITE_LOCK.lock().unwrap_or_else(|p| p.into_inner());
    create_private_dir(dir).map_err(io("could not create the token directory"))?;
    let tmp = dir.join(format!(
        ".{}.{}.tmp",
        path.file_name().and_then(|n| n.to_str()).unwrap_or("token"),
        std::process::id()
    ));
    let result = (|| {
        let mut file =
            create_private_file(&tmp).map_err(io("could not create a temporary token file"))?;
        file.write_all(bytes)
            .map_err(io("could not write the token file"))?;
        file.sync_all()
            .map_err(io("could not flush the token file"))?;
        drop(file);
        std::fs::rename(&tmp, path).map_err(io("could not replace the token file"))?;
        sync_dir(dir).map_err(io("could not flush the token directory"))?;
        Ok(())
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

#[cfg(unix)]
fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::DirBuilderExt;
    match std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
    {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(e),
    }
}

#[cfg(not(unix))]
fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)
}

#[cfg(unix)]
fn create_private_file(path: &Path) -> std::io::Result<std::fs::File> {
    use std::os::unix::fs::OpenOptionsExt;
    let _ = std::fs::remove_file(path);
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
}

#[cfg(not(unix))]
fn create_private_file(path: &Path) -> std::io::Result<std::fs::File> {
    let _ = std::fs::remove_file(path);
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)
}

#[cfg(unix)]
fn sync_dir(dir: &Path) -> std::io::Result<()> {
    std::fs::File::open(dir)?.sync_all()
}

#[cfg(not(unix))]
fn sync_dir(_dir: &Path) -> std::io::Result<()> {
    Ok(())
}

#[async_trait]
impl TokenStore for FileStore {
    async fn load(&self, key: &GrantKey) -> Result<Option<Token>> {
        let path = self.path_for(key);
        let k = key.clone();
        self.blocking(key, move || read_record(&path, &k)).await
    }

    async fn save(&self, key: &GrantKey, token: &Token) -> Result<()> {
        let record = FileRecord {
            version: 1,
            key: key.clone(),
            token: token.clone(),
        };
        // The one place a stored token leaves its SecretString: Token's serialize_with.
        let bytes = serde_json::to_vec_pretty(&record).map_err(|_| Error::Store {
            key: key.clone(),
            message: "could not encode the token".into(),
            source: None,
        })?;
        let dir = self.dir.clone();
        let path = self.path_for(key);
        self.blocking(key, move || write_atomic(&dir, &path, &bytes))
            .await
    }

    async fn delete(&self, key: &GrantKey) -> Result<()> {
        let path = self.path_for(key);
        self.blocking(key, move || match std::fs::remove_file(&path) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(io("could not delete the token file")(e)),
        })
        .await
    }
}
