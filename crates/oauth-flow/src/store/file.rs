//! [`FileStore`]: one JSON file per grant in a private directory, written atomically, with an OS
//! advisory lock per grant so processes on one host refresh a grant once.

use std::fmt;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::{GrantKey, Lease, TokenStore};
use crate::error::{Error, Result};
use crate::token::Token;

/// One JSON file per grant in a directory, written atomically, shared safely by the processes of
/// one host.
///
/// - **Atomic saves.** Each save writes a temporary file in the same directory (created with
///   mode 0600 on Unix, no later chmod), fsyncs it, renames it over the old file and fsyncs the
///   directory, so a crash or a full disk leaves either the old file or the new one, never a
///   truncated one (SECURITY S26).
/// - **A private directory.** It is created with mode 0700; an existing directory that group
///   or others can read, write or enter is refused with [`Error::Store`] rather than used.
/// - **One refresh per grant across processes.** [`lease`](TokenStore::lease) takes an OS
///   advisory lock on the grant's `<name>.lock` file (`flock` on Unix). The OS releases it when
///   the process dies, so the lease's time-to-live is not needed and is ignored; a waiter gives
///   up after the wait with [`Error::LeaseTimeout`]. Lock files are left in place (removing
///   one while another process waits on it would split the lock).
/// - **Single-use authorization states** are claimed as files under `claims/`.
///
/// File names are a hash of an unambiguous encoding of the grant key, so no user-chosen text
/// becomes a path and no two keys share a file. A corrupt or unreadable file is a typed error,
/// and is never overwritten silently by a load.
pub struct FileStore {
    dir: PathBuf,
    /// Set once the directory was found private; checked again until then.
    dir_checked: AtomicBool,
}

#[derive(Serialize, Deserialize)]
struct FileRecord {
    version: u32,
    key: GrantKey,
    token: Token,
}

type BlockingError = (
    &'static str,
    Option<Box<dyn std::error::Error + Send + Sync>>,
);
type BlockingResult<T> = std::result::Result<T, BlockingError>;

fn io(message: &'static str) -> impl FnOnce(std::io::Error) -> BlockingError {
    move |e| (message, Some(Box::new(e)))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

impl FileStore {
    /// A store in `dir` (created on first save).
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        Self {
            dir: dir.into(),
            dir_checked: AtomicBool::new(false),
        }
    }

    /// The file holding `key`'s token: a hash of the key's three parts, each prefixed by its
    /// length, so no user-chosen text becomes a path and `a/b`+`c` never meets `a`+`b/c`.
    pub fn path_for(&self, key: &GrantKey) -> PathBuf {
        self.dir.join(format!("{}.json", Self::name_for(key)))
    }

    fn name_for(key: &GrantKey) -> String {
        let mut h = Sha256::new();
        h.update(b"grant-key-v2");
        for part in [key.provider(), key.client_id(), key.subject()] {
            h.update((part.len() as u64).to_le_bytes());
            h.update(part.as_bytes());
        }
        hex(&h.finalize()[..16])
    }

    /// Where earlier versions kept `key`'s token (a hash of `provider/client/subject`, which
    /// two keys could share); read when the current file is missing. The record inside names
    /// its key, so a file of another grant is never taken for this one.
    fn legacy_path_for(&self, key: &GrantKey) -> PathBuf {
        let digest = Sha256::digest(key.to_string().as_bytes());
        self.dir.join(format!("{}.json", hex(&digest[..16])))
    }

    fn lock_path_for(&self, key: &GrantKey) -> PathBuf {
        self.dir.join(format!("{}.lock", Self::name_for(key)))
    }

    async fn blocking<T, F>(&self, key: &GrantKey, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce() -> BlockingResult<T> + Send + 'static,
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

    /// Creates the directory (0700) or checks an existing one is private.
    fn ensure_private_dir(dir: &Path) -> BlockingResult<()> {
        create_private_dir(dir).map_err(io("could not create the token directory"))?;
        check_private_dir(dir)?;
        sweep_stale_temp_files(dir);
        Ok(())
    }

    /// Runs `f` after the directory check (once per store: a passed check is remembered; a
    /// missing directory is checked when `create` makes it, or when it appears).
    async fn with_dir<T, F>(&self, key: &GrantKey, create: bool, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&Path) -> BlockingResult<T> + Send + 'static,
    {
        let dir = self.dir.clone();
        let checked = self.dir_checked.load(Ordering::Acquire);
        let (out, checked_now) = self
            .blocking(key, move || {
                let check = !checked && (create || dir.exists());
                if check {
                    Self::ensure_private_dir(&dir)?;
                }
                f(&dir).map(|v| (v, check))
            })
            .await?;
        if checked_now {
            self.dir_checked.store(true, Ordering::Release);
        }
        Ok(out)
    }
}

impl fmt::Debug for FileStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FileStore").field("dir", &self.dir).finish()
    }
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

/// The record at the current path, or at the legacy one if it holds this very key.
fn read_current_or_legacy(
    path: &Path,
    legacy: &Path,
    key: &GrantKey,
) -> BlockingResult<Option<Token>> {
    if let Some(t) = read_record(path, key)? {
        return Ok(Some(t));
    }
    match read_record(legacy, key) {
        Ok(t) => Ok(t),
        // A legacy file of another grant that hashed to the same old name: not ours.
        Err(("the token file belongs to another grant", None)) => Ok(None),
        Err(e) => Err(e),
    }
}

/// Serialises file-store writes within this process. The temporary file's name is per process
/// (`.<file>.<pid>.tmp`), so two concurrent saves of one grant (two managers or stores over one
/// directory) would otherwise remove and rename each other's temporary file: a save could fail
/// or publish another's half-written file. Across processes the pid keeps the names apart.
static WRITE_LOCK: Mutex<()> = Mutex::new(());

fn write_atomic(dir: &Path, path: &Path, bytes: &[u8]) -> BlockingResult<()> {
    // Poisoning cannot leave shared state half-updated here: the guard protects no data.
    let _write = WRITE_LOCK.lock().unwrap_or_else(|p| p.into_inner());
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

/// Removes temporary files left by saves that were killed before their rename (a crash, a
/// SIGKILL): `load` never reads them, but they would pile up. Once per store instance; only
/// files older than a minute, so a save in flight in another process is never touched.
fn sweep_stale_temp_files(dir: &Path) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let stale = |m: &std::fs::Metadata| {
        m.modified()
            .ok()
            .and_then(|t| t.elapsed().ok())
            .is_some_and(|age| age > Duration::from_secs(60))
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if name.starts_with('.')
            && name.ends_with(".tmp")
            && entry.metadata().is_ok_and(|m| m.is_file() && stale(&m))
        {
            let _ = std::fs::remove_file(entry.path());
        }
    }
}

fn remove_if_present(path: &Path) -> BlockingResult<()> {
    match std::fs::remove_file(path) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(io("could not delete the token file")(e)),
    }
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

/// Refuses a directory that group or others may read, write or enter: tokens would be one
/// `ls` away from other local users, or replaceable by them.
#[cfg(unix)]
fn check_private_dir(dir: &Path) -> BlockingResult<()> {
    use std::os::unix::fs::PermissionsExt;
    let meta = std::fs::metadata(dir).map_err(io("could not inspect the token directory"))?;
    if meta.permissions().mode() & 0o077 != 0 {
        return Err((
            "the token directory is accessible to other users; \
             restrict it to its owner (chmod 700) or choose a private directory",
            None,
        ));
    }
    Ok(())
}

#[cfg(not(unix))]
fn check_private_dir(_dir: &Path) -> BlockingResult<()> {
    Ok(())
}

#[cfg(unix)]
fn private_options() -> std::fs::OpenOptions {
    use std::os::unix::fs::OpenOptionsExt;
    let mut o = std::fs::OpenOptions::new();
    o.mode(0o600);
    o
}

#[cfg(not(unix))]
fn private_options() -> std::fs::OpenOptions {
    std::fs::OpenOptions::new()
}

fn create_private_file(path: &Path) -> std::io::Result<std::fs::File> {
    let _ = std::fs::remove_file(path);
    private_options().write(true).create_new(true).open(path)
}

#[cfg(unix)]
fn sync_dir(dir: &Path) -> std::io::Result<()> {
    std::fs::File::open(dir)?.sync_all()
}

#[cfg(not(unix))]
fn sync_dir(_dir: &Path) -> std::io::Result<()> {
    Ok(())
}

/// Tries once to lock `path` exclusively; `None` if another holder has it.
fn try_lock(path: &Path) -> BlockingResult<Option<std::fs::File>> {
    let file = private_options()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(path)
        .map_err(io("could not open the grant's lock file"))?;
    match file.try_lock() {
        Ok(()) => Ok(Some(file)),
        Err(std::fs::TryLockError::WouldBlock) => Ok(None),
        Err(std::fs::TryLockError::Error(e)) => Err(io("could not lock the grant's lock file")(e)),
    }
}

/// Claims `id` until `until` (unix seconds): a file under `claims/` holding the expiry. An
/// expired claim is taken over; expired claims are swept on each claim (logins are rare).
fn claim(dir: &Path, id: &str, until: u64, now: u64) -> BlockingResult<bool> {
    let claims = dir.join("claims");
    create_private_dir(&claims).map_err(io("could not create the claims directory"))?;
    let expired = |p: &Path| {
        std::fs::read_to_string(p)
            .ok()
            .and_then(|s| s.trim().parse::<u64>().ok())
            .is_none_or(|until| until <= now)
    };
    if let Ok(entries) = std::fs::read_dir(&claims) {
        for entry in entries.flatten() {
            let p = entry.path();
            if p.file_name().and_then(|n| n.to_str()) != Some(id) && expired(&p) {
                let _ = std::fs::remove_file(&p);
            }
        }
    }
    let path = claims.join(id);
    loop {
        match private_options().write(true).create_new(true).open(&path) {
            Ok(mut f) => {
                f.write_all(until.to_string().as_bytes())
                    .and_then(|()| f.sync_all())
                    .map_err(io("could not write the claim file"))?;
                return Ok(true);
            }
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                if !expired(&path) {
                    return Ok(false);
                }
                remove_if_present(&path)?;
            }
            Err(e) => return Err(io("could not create the claim file")(e)),
        }
    }
}

fn unix_secs(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

#[async_trait]
impl TokenStore for FileStore {
    async fn load(&self, key: &GrantKey) -> Result<Option<Token>> {
        let path = self.path_for(key);
        let legacy = self.legacy_path_for(key);
        let k = key.clone();
        self.with_dir(key, false, move |_| {
            read_current_or_legacy(&path, &legacy, &k)
        })
        .await
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
        let path = self.path_for(key);
        let legacy = self.legacy_path_for(key);
        let k = key.clone();
        self.with_dir(key, true, move |dir| {
            write_atomic(dir, &path, &bytes)?;
            // The legacy file of this key is superseded; one of another key is left alone.
            if read_record(&legacy, &k).is_ok_and(|t| t.is_some()) {
                remove_if_present(&legacy)?;
            }
            Ok(())
        })
        .await
    }

    async fn delete(&self, key: &GrantKey) -> Result<()> {
        let path = self.path_for(key);
        let legacy = self.legacy_path_for(key);
        let k = key.clone();
        self.with_dir(key, false, move |_| {
            remove_if_present(&path)?;
            if read_record(&legacy, &k).is_ok_and(|t| t.is_some()) {
                remove_if_present(&legacy)?;
            }
            Ok(())
        })
        .await
    }

    async fn lease(
        &self,
        key: &GrantKey,
        _ttl: Duration,
        wait: Duration,
    ) -> Result<Box<dyn Lease>> {
        let started = tokio::time::Instant::now();
        let deadline = started + wait;
        let mut pause = Duration::from_millis(2);
        loop {
            let path = self.lock_path_for(key);
            if let Some(file) = self.with_dir(key, true, move |_| try_lock(&path)).await? {
                return Ok(Box::new(FileLease {
                    file: Some(file),
                    key: key.clone(),
                }));
            }
            let now = tokio::time::Instant::now();
            if now >= deadline {
                return Err(Error::LeaseTimeout {
                    key: key.clone(),
                    waited: now - started,
                });
            }
            tokio::time::sleep(pause.min(deadline - now)).await;
            pause = (pause * 2).min(Duration::from_millis(50));
        }
    }

    async fn claim_once(&self, key: &GrantKey, id: &str, ttl: Duration) -> Result<bool> {
        if id.is_empty()
            || !id
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        {
            return Err(Error::Store {
                key: key.clone(),
                message: "a claim id must be letters, digits, '-' or '_'".into(),
                source: None,
            });
        }
        let now = SystemTime::now();
        let until = unix_secs(now + ttl);
        let now = unix_secs(now);
        let id = id.to_owned();
        self.with_dir(key, true, move |dir| claim(dir, &id, until, now))
            .await
    }
}

/// An advisory lock on a grant's lock file; the OS releases it when the file is closed (on
/// release, drop, or the process's death).
struct FileLease {
    file: Option<std::fs::File>,
    key: GrantKey,
}

impl fmt::Debug for FileLease {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FileLease")
            .field("key", &self.key)
            .finish_non_exhaustive()
    }
}

#[async_trait]
impl Lease for FileLease {
    async fn release(mut self: Box<Self>) -> Result<bool> {
        let Some(file) = self.file.take() else {
            return Ok(false);
        };
        // Closing releases the lock too; unlocking first makes the release explicit and
        // immediate even if a duplicated descriptor lingers.
        let unlocked = file.unlock();
        drop(file);
        unlocked.map(|()| true).map_err(|e| Error::Store {
            key: self.key.clone(),
            message: "could not unlock the grant's lock file".into(),
            source: Some(Box::new(e)),
        })
    }
}
