//! The store's coordination contract (issue 19): leases, compare-and-swap saves and deletes,
//! single-use claims, for `MemoryStore` and `FileStore`; managers sharing a store refresh a
//! rotating grant once; an authorization state completed in one process is refused in another
//! sharing the store; `FileStore` refuses a directory others may enter and never lets two keys
//! share a file; idle grants are evicted from memory; a dropped caller never loses a rotation.
//!
//! SECURITY: S1 (single use across processes), S16 (rotation, single-flight across managers),
//! S17 (compare-and-delete), S26 (private directory).
// Test code: helpers outside `#[test]` fns unwrap too (clippy.toml covers only test fns).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::{
    CLIENT_ID, Resp, TestServer, access_token, expired, oauth_error, private_tempdir,
    refresh_token, secret, secret_of, token, token_body, transport,
};
use oauth_flow::{
    CallbackError, Error, ExposeSecret, FileStore, GrantKey, MemoryStore, TokenManager, TokenStore,
};

fn key(subject: &str) -> GrantKey {
    GrantKey::new("testprov", CLIENT_ID, subject)
}

/// A store's name and two handles on the same storage.
type StorePair = (&'static str, Arc<dyn TokenStore>, Arc<dyn TokenStore>);

const SHORT: Duration = Duration::from_millis(100);

/// Both stores, each as two handles on the same storage (two "processes" for `FileStore`:
/// separate instances over one directory, whose locks exclude each other like processes').
fn store_pairs(dir: &std::path::Path) -> Vec<StorePair> {
    let memory: Arc<dyn TokenStore> = Arc::new(MemoryStore::new());
    let path = dir.join("tokens");
    vec![
        ("memory", memory.clone(), memory),
        (
            "file",
            Arc::new(FileStore::new(&path)),
            Arc::new(FileStore::new(&path)),
        ),
    ]
}

#[tokio::test]
async fn lease_excludes_times_out_and_is_released() {
    let dir = private_tempdir();
    for (name, a, b) in store_pairs(dir.path()) {
        let k = key("u");
        let held = a.lease(&k, Duration::from_secs(30), SHORT).await.unwrap();
        let err = b
            .lease(&k, Duration::from_secs(30), SHORT)
            .await
            .unwrap_err();
        match err {
            Error::LeaseTimeout { key: busy, waited } => {
                assert_eq!(busy, k, "{name}");
                assert!(waited >= SHORT, "{name}: {waited:?}");
            }
            other => panic!("{name}: {other:?}"),
        }
        // Another grant's lease is independent.
        b.lease(&key("other"), Duration::from_secs(30), SHORT)
            .await
            .unwrap()
            .release()
            .await
            .unwrap();
        assert!(held.release().await.unwrap(), "{name}: still owned");
        let again = b.lease(&k, Duration::from_secs(30), SHORT).await.unwrap();
        assert!(again.release().await.unwrap(), "{name}");
    }
}

/// A waiter gets the lease as soon as the holder releases it (not at its deadline).
#[tokio::test]
async fn a_waiter_takes_the_lease_on_release() {
    let dir = private_tempdir();
    for (name, a, b) in store_pairs(dir.path()) {
        let k = key("u");
        let held = a.lease(&k, Duration::from_secs(30), SHORT).await.unwrap();
        let waiter = tokio::spawn({
            let (b, k) = (b.clone(), k.clone());
            async move {
                b.lease(&k, Duration::from_secs(30), Duration::from_secs(20))
                    .await
            }
        });
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert!(!waiter.is_finished(), "{name}");
        held.release().await.unwrap();
        let lease = tokio::time::timeout(Duration::from_secs(10), waiter)
            .await
            .expect("the waiter did not get the released lease")
            .unwrap()
            .unwrap();
        lease.release().await.unwrap();
    }
}

/// `MemoryStore`: a lease whose holder never releases it lapses after its TTL; the late
/// release of the lapsed holder does not end the new holder's lease.
#[tokio::test]
async fn memory_lease_lapses_and_only_its_owner_releases_it() {
    let store = MemoryStore::new();
    let k = key("u");
    let first = store.lease(&k, SHORT, SHORT).await.unwrap();
    let second = store
        .lease(&k, Duration::from_secs(30), Duration::from_secs(5))
        .await
        .unwrap();
    assert!(!first.release().await.unwrap(), "lapsed: no longer owned");
    let err = store
        .lease(&k, Duration::from_secs(30), SHORT)
        .await
        .unwrap_err();
    assert!(matches!(err, Error::LeaseTimeout { .. }), "{err:?}");
    assert!(second.release().await.unwrap());
}

#[tokio::test]
async fn save_if_and_delete_if_compare_the_refresh_token() {
    let dir = private_tempdir();
    for (name, a, b) in store_pairs(dir.path()) {
        let k = key("u");
        let t1 = token(&access_token(1), Some(&refresh_token(1)), None);
        let t2 = token(&access_token(2), Some(&refresh_token(2)), None);
        // Nothing stored: only `None` matches.
        assert!(
            !a.save_if(&k, Some(&secret("x")), &t1).await.unwrap(),
            "{name}"
        );
        assert!(a.save_if(&k, None, &t1).await.unwrap(), "{name}");
        // A stale expectation (another process rotated) changes nothing.
        assert!(
            !b.save_if(&k, Some(&secret("stale")), &t2).await.unwrap(),
            "{name}"
        );
        assert!(!b.delete_if(&k, &secret("stale")).await.unwrap(), "{name}");
        let kept = a.load(&k).await.unwrap().unwrap();
        assert_eq!(kept.access_token.expose_secret(), access_token(1), "{name}");
        assert!(
            b.save_if(&k, Some(&secret(&refresh_token(1))), &t2)
                .await
                .unwrap(),
            "{name}"
        );
        assert!(
            b.delete_if(&k, &secret(&refresh_token(2))).await.unwrap(),
            "{name}"
        );
        assert!(a.load(&k).await.unwrap().is_none(), "{name}");
    }
}

#[tokio::test]
async fn claim_once_is_shared_by_every_handle_on_the_store() {
    let dir = private_tempdir();
    for (name, a, b) in store_pairs(dir.path()) {
        let k = key("u");
        assert!(
            a.claim_once(&k, "abc123", Duration::from_secs(60))
                .await
                .unwrap(),
            "{name}"
        );
        assert!(
            !b.claim_once(&k, "abc123", Duration::from_secs(60))
                .await
                .unwrap(),
            "{name}"
        );
        assert!(
            b.claim_once(&k, "def456", Duration::from_secs(60))
                .await
                .unwrap(),
            "{name}"
        );
    }
    // A file store refuses an id that could name a path.
    let store = FileStore::new(dir.path().join("tokens"));
    let err = store
        .claim_once(&key("u"), "../x", Duration::from_secs(1))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Store { .. }), "{err:?}");
}

/// A manager of the test client on `server`, over `store` (as one process would hold).
fn manager_on<S: TokenStore>(server: &TestServer, store: &Arc<S>) -> TokenManager {
    TokenManager::builder(common::client(server), transport())
        .store(store.clone())
        .build()
        .unwrap()
}

/// A strict rotating provider: only the latest refresh token is accepted; reusing an older one
/// is refused (`invalid_grant`). Counts refreshes. Slow, so concurrent refreshes overlap.
async fn strict_server(latency: Duration) -> (TestServer, Arc<AtomicUsize>) {
    let issued = Arc::new(AtomicUsize::new(0));
    let valid = Arc::new(Mutex::new(refresh_token(0)));
    let n = issued.clone();
    let server = TestServer::start(move |req| {
        let p = req.params();
        let mut valid = valid.lock().unwrap();
        if p.get("refresh_token") != Some(&*valid) {
            return oauth_error(400, "invalid_grant");
        }
        let i = n.fetch_add(1, Ordering::SeqCst) + 1;
        *valid = refresh_token(i);
        Resp::json(
            200,
            &token_body(&access_token(i), Some(&refresh_token(i)), Some(3600)),
        )
        .delay(latency)
    })
    .await;
    (server, issued)
}

/// Four managers (as four processes would hold) over one store, each with 25 callers on the
/// expired grant: one refresh in all, every caller gets its token, none is logged out.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn managers_sharing_a_store_refresh_a_rotating_grant_once() {
    let dir = private_tempdir();
    for (name, a, b) in store_pairs(dir.path()) {
        let (server, issued) = strict_server(Duration::from_millis(50)).await;
        a.save(
            &key("u"),
            &expired(&access_token(0), Some(&refresh_token(0))),
        )
        .await
        .unwrap();
        let managers: Vec<TokenManager> = [&a, &b, &a, &b]
            .iter()
            .map(|s| {
                TokenManager::builder(common::client(&server), transport())
                    .store((*s).clone())
                    .build()
                    .unwrap()
            })
            .collect();
        let mut tasks = Vec::new();
        for m in &managers {
            for _ in 0..25 {
                let grant = m.grant("u");
                tasks.push(tokio::spawn(async move { grant.access_token().await }));
            }
        }
        for t in tasks {
            let got = t.await.unwrap();
            assert_eq!(secret_of(&got.unwrap()), access_token(1), "{name}");
        }
        assert_eq!(issued.load(Ordering::SeqCst), 1, "{name}: one refresh");
        let stored = a.load(&key("u")).await.unwrap().unwrap();
        assert_eq!(
            stored.refresh_token.unwrap().expose_secret(),
            refresh_token(1)
        );
    }
}

/// A process that missed a rotation (its memory holds the spent token) sends the refresh token
/// it reads from the store under the lease, never its spent one. (The `invalid_grant` recovery
/// itself is in `token_manager.rs`.)
#[tokio::test]
async fn a_process_that_missed_a_rotation_sends_the_stored_refresh_token() {
    let (server, issued) = strict_server(Duration::ZERO).await;
    let store = Arc::new(MemoryStore::new());
    let ours = manager_on(&server, &store);
    let grant = ours
        .insert("u", expired(&access_token(0), Some(&refresh_token(0))))
        .await
        .unwrap();
    // Another process rotates RT-0 → RT-1 and saves; then its token expires too. Our memory
    // still has RT-0, but the store is re-read under the lease, so RT-1 is what we send.
    let theirs = manager_on(&server, &store);
    theirs.grant("u").access_token().await.unwrap();
    store
        .save(
            &key("u"),
            &expired(&access_token(1), Some(&refresh_token(1))),
        )
        .await
        .unwrap();
    assert_eq!(
        secret_of(&grant.access_token().await.unwrap()),
        access_token(2)
    );
    assert_eq!(issued.load(Ordering::SeqCst), 2);
}

/// S17: `invalid_grant` with nothing newer in the store: re-authorization, and the grant is
/// deleted only because the store still holds the rejected token.
#[tokio::test]
async fn invalid_grant_with_nothing_newer_deletes_by_compare_and_swap() {
    let (server, _) = strict_server(Duration::ZERO).await;
    let store = Arc::new(MemoryStore::new());
    let m = manager_on(&server, &store);
    let grant = m
        .insert("u", expired(&access_token(0), Some("RT-unknown")))
        .await
        .unwrap();
    let err = grant.access_token().await.unwrap_err();
    assert!(
        matches!(err, Error::ReauthorizationRequired { .. }),
        "{err:?}"
    );
    assert!(store.load(&key("u")).await.unwrap().is_none());
}

/// S1 across processes: the same pending authorization, restored in a second process that
/// shares the `FileStore`, is refused as already used, and its code is never sent.
#[tokio::test]
async fn a_state_completed_in_one_process_is_refused_in_another() {
    if let Ok(job) = std::env::var("COORDINATION_REPLAY_CHILD") {
        return replay_child(&job).await;
    }
    let server = TestServer::start(|_req| {
        Resp::json(
            200,
            &token_body(&access_token(0), Some(&refresh_token(0)), Some(3600)),
        )
    })
    .await;
    let dir = private_tempdir();
    let store_dir = dir.path().join("tokens");
    let client = common::client(&server);
    let (url, pending) = client.authorize().build().unwrap();
    let callback = format!(
        "{}?code={}&state={}",
        common::REDIRECT_URI,
        common::CODE,
        common::query_param(&url, "state")
    );
    let parked = serde_json::to_string(&pending).unwrap();

    let m = TokenManager::builder(client, transport())
        .store(Arc::new(FileStore::new(&store_dir)))
        .build()
        .unwrap();
    m.exchange_code("u", pending.complete(&callback).unwrap())
        .await
        .unwrap();
    assert_eq!(server.hits("/token"), 1);

    let job = serde_json::json!({
        "token_url": server.url("/token"),
        "authorize_url": server.url("/authorize"),
        "store": store_dir,
        "pending": parked,
        "callback": callback,
    });
    let out = std::process::Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "a_state_completed_in_one_process_is_refused_in_another",
        ])
        .env("COORDINATION_REPLAY_CHILD", job.to_string())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "child: {stdout}");
    assert!(
        stdout.contains("1 passed"),
        "the child ran the test: {stdout}"
    );
    assert_eq!(server.hits("/token"), 1, "the replayed code was never sent");
}

/// The second process: its own memory has never seen the state; only the store knows.
async fn replay_child(job: &str) {
    let job: serde_json::Value = serde_json::from_str(job).unwrap();
    let s = |k: &str| job[k].as_str().unwrap().to_owned();
    let profile = oauth_flow::ProviderProfile::builder("testprov", s("token_url"))
        .authorize_url(s("authorize_url"))
        .client_auth(oauth_flow::ClientAuth::SecretPost)
        .build()
        .unwrap();
    let m = TokenManager::builder(common::client_for(profile), transport())
        .store(Arc::new(FileStore::new(s("store"))))
        .build()
        .unwrap();
    let pending: oauth_flow::PendingAuthorization = serde_json::from_str(&s("pending")).unwrap();
    let code = pending.complete(&s("callback")).unwrap();
    let err = m.exchange_code("u", code).await.unwrap_err();
    assert!(
        matches!(err, Error::Callback(CallbackError::AlreadyUsed)),
        "{err:?}"
    );
}

/// Issue 18, part 6: an existing directory that others may enter is refused, not used.
#[cfg(unix)]
#[tokio::test]
async fn file_store_refuses_a_directory_others_can_enter() {
    use std::os::unix::fs::PermissionsExt;
    let dir = private_tempdir();
    let open = dir.path().join("open");
    std::fs::create_dir(&open).unwrap();
    std::fs::set_permissions(&open, std::fs::Permissions::from_mode(0o755)).unwrap();
    let store = FileStore::new(&open);
    let t = token(&access_token(1), Some(&refresh_token(1)), None);
    let err = store.save(&key("u"), &t).await.unwrap_err();
    match &err {
        Error::Store { message, .. } => assert!(message.contains("other users"), "{message}"),
        other => panic!("{other:?}"),
    }
    assert!(store.load(&key("u")).await.is_err());
    assert_eq!(
        std::fs::read_dir(&open).unwrap().count(),
        0,
        "nothing written"
    );
    // Made private, the same store works.
    std::fs::set_permissions(&open, std::fs::Permissions::from_mode(0o700)).unwrap();
    store.save(&key("u"), &t).await.unwrap();
}

/// Issue 18, part 6: grant keys whose `provider/client/subject` strings are equal get
/// different files.
#[tokio::test]
async fn file_names_never_collide_between_keys() {
    let dir = private_tempdir();
    let store = FileStore::new(dir.path().join("tokens"));
    let a = GrantKey::new("p/q", "c", "s");
    let b = GrantKey::new("p", "q/c", "s");
    assert_eq!(a.to_string(), b.to_string());
    assert_ne!(store.path_for(&a), store.path_for(&b));
    store
        .save(&a, &token("AT-a", Some("RT-a"), None))
        .await
        .unwrap();
    store
        .save(&b, &token("AT-b", Some("RT-b"), None))
        .await
        .unwrap();
    let got = store.load(&a).await.unwrap().unwrap();
    assert_eq!(got.access_token.expose_secret(), "AT-a");
    let got = store.load(&b).await.unwrap().unwrap();
    assert_eq!(got.access_token.expose_secret(), "AT-b");
}

/// A token saved by an earlier version (file named by the ambiguous hash) is still found, and
/// the next save moves it to the new name.
#[tokio::test]
async fn file_store_reads_and_migrates_the_earlier_file_name() {
    use sha2::Digest as _;
    let dir = private_tempdir();
    let tokens = dir.path().join("tokens");
    let store = FileStore::new(&tokens);
    let k = key("u");
    // Write through the store, then move the file to the legacy name.
    store
        .save(&k, &token("AT-old", Some("RT-old"), None))
        .await
        .unwrap();
    let digest = sha2::Sha256::digest(k.to_string().as_bytes());
    let legacy_name: String = digest[..16].iter().map(|b| format!("{b:02x}")).collect();
    let legacy = tokens.join(format!("{legacy_name}.json"));
    std::fs::rename(store.path_for(&k), &legacy).unwrap();

    let got = store.load(&k).await.unwrap().unwrap();
    assert_eq!(got.access_token.expose_secret(), "AT-old");
    store
        .save(&k, &token("AT-new", Some("RT-new"), None))
        .await
        .unwrap();
    assert!(!legacy.exists(), "migrated");
    assert!(store.path_for(&k).exists());
}

/// Issue 18, part 6: idle grants beyond the cap are evicted; a grant with a live handle is not
/// (its single-flight lock must stay the one every caller shares).
#[tokio::test]
async fn idle_grants_are_evicted_live_ones_kept() {
    let server = TestServer::start(|_req| Resp::json(500, &serde_json::json!({}))).await;
    let m = TokenManager::builder(common::client(&server), transport())
        .max_cached_grants(100)
        .build()
        .unwrap();
    let live = m.grant("live");
    for i in 0..1_000 {
        let _ = m.grant(&format!("user-{i}"));
    }
    assert!(m.cached_grants() <= 100, "{}", m.cached_grants());
    // The live handle and a fresh one for the same subject share one slot: a token inserted
    // through one is seen through the other without a store read.
    m.insert("live", token("AT-live", Some("RT-live"), None))
        .await
        .unwrap();
    assert_eq!(secret_of(&live.access_token().await.unwrap()), "AT-live");
}

/// Issue 22 part 4 / S16: a caller that gives up while the refresh is in flight does not cut
/// it: the rotated token is saved, and the next caller uses it without a second refresh.
#[tokio::test]
async fn a_dropped_caller_does_not_lose_the_rotated_token() {
    let (server, issued) = strict_server(Duration::from_millis(200)).await;
    let store = Arc::new(MemoryStore::new());
    let m = manager_on(&server, &store);
    let grant = m
        .insert("u", expired(&access_token(0), Some(&refresh_token(0))))
        .await
        .unwrap();
    let gave_up = tokio::time::timeout(Duration::from_millis(50), grant.access_token()).await;
    assert!(gave_up.is_err(), "the caller stopped waiting mid-refresh");
    assert_eq!(
        secret_of(&grant.access_token().await.unwrap()),
        access_token(1)
    );
    assert_eq!(issued.load(Ordering::SeqCst), 1);
    let stored = store.load(&key("u")).await.unwrap().unwrap();
    assert_eq!(
        stored.refresh_token.unwrap().expose_secret(),
        refresh_token(1)
    );
}
