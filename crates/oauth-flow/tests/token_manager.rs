//! The token lifecycle against a loopback token server that counts requests: single-flight
//! refresh storms, rotation, RFC 6749 §6 (no new refresh token), `invalid_grant`, failing
//! stores, the refresh margin with an injected clock, and client-credentials caching.
//!
//! SECURITY: S16 (reload first, rotate and persist before use, single-flight), S17
//! (`invalid_grant` → re-authorization, conditional delete), S21 (margin, injectable clock).
// Test code: helpers outside `#[test]` fns unwrap too (clippy.toml covers only test fns).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, SystemTime};

use async_trait::async_trait;
use common::{
    Resp, TestServer, access_token, authorized_code, expired, oauth_error, plain_manager,
    refresh_token, secret_of, t0, token, token_body, transport,
};
use oauth_flow::{
    Error, ExposeSecret, GrantKey, ManualClock, MemoryStore, Token, TokenManager, TokenStore,
};

/// A provider that rotates refresh tokens: only the latest one is accepted, each refresh
/// issues `AT-n`/`RT-n` (n = 1, 2, …) valid for an hour. Counts refreshes.
struct Rotating {
    issued: AtomicUsize,
    valid: std::sync::Mutex<String>,
    rotate: bool,
}

impl Rotating {
    fn new(rotate: bool) -> Arc<Self> {
        Arc::new(Self {
            issued: AtomicUsize::new(0),
            valid: std::sync::Mutex::new(refresh_token(0)),
            rotate,
        })
    }

    fn answer(&self, req: &common::Req) -> Resp {
        let p = req.params();
        match p.get("grant_type").map(String::as_str) {
            Some("refresh_token") => {
                let mut valid = self.valid.lock().unwrap();
                if p.get("refresh_token") != Some(&*valid) {
                    return oauth_error(400, "invalid_grant");
                }
                let n = self.issued.fetch_add(1, Ordering::SeqCst) + 1;
                if self.rotate {
                    *valid = refresh_token(n);
                    Resp::json(
                        200,
                        &token_body(&access_token(n), Some(&refresh_token(n)), Some(3600)),
                    )
                } else {
                    Resp::json(200, &token_body(&access_token(n), None, Some(3600)))
                }
            }
            Some("authorization_code") => Resp::json(
                200,
                &token_body(&access_token(0), Some(&refresh_token(0)), Some(3600)),
            ),
            other => panic!("unexpected grant {other:?}"),
        }
    }
}

async fn rotating_server(provider: &Arc<Rotating>, latency: Duration) -> TestServer {
    let p = provider.clone();
    TestServer::start(move |req| {
        let resp = p.answer(&req);
        if latency.is_zero() {
            resp
        } else {
            resp.delay(latency)
        }
    })
    .await
}

/// A manager on `server` with an injected clock and a store it may share with other managers.
fn shared_manager(
    server: &TestServer,
    clock: &Arc<ManualClock>,
    store: &Arc<MemoryStore>,
) -> TokenManager {
    TokenManager::builder(common::client(server), transport())
        .clock(clock.clone())
        .store(store.clone())
        .build()
        .unwrap()
}

/// S16: 50 and 1,000 concurrent callers on an expired token → one refresh, same token, store
/// rotated.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn s16_refresh_storm_single_flight() {
    for callers in [50usize, 1000] {
        let provider = Rotating::new(true);
        let server = rotating_server(&provider, Duration::from_millis(20)).await;
        let m = plain_manager(common::client(&server));
        m.insert("u", expired(&access_token(0), Some(&refresh_token(0))))
            .await
            .unwrap();
        let barrier = Arc::new(tokio::sync::Barrier::new(callers));
        let tasks: Vec<_> = (0..callers)
            .map(|_| {
                let (grant, barrier) = (m.grant("u"), barrier.clone());
                tokio::spawn(async move {
                    barrier.wait().await;
                    grant.access_token().await
                })
            })
            .collect();
        for t in tasks {
            assert_eq!(secret_of(&t.await.unwrap().unwrap()), access_token(1));
        }
        assert_eq!(server.hits("/token"), 1, "{callers} callers");
        let stored = m.store().load(&m.key("u")).await.unwrap().unwrap();
        assert_eq!(
            stored.refresh_token.unwrap().expose_secret(),
            refresh_token(1)
        );
        assert_eq!(stored.access_token.expose_secret(), access_token(1));
    }
}

/// S16: two rotations in a row; after each, the store already holds the new refresh token
/// when the access token is handed out, and each refresh used the latest one.
#[tokio::test]
async fn s16_rotation_across_two_refreshes() {
    let provider = Rotating::new(true);
    let server = rotating_server(&provider, Duration::ZERO).await;
    let clock = Arc::new(ManualClock::new(t0()));
    let store = Arc::new(MemoryStore::new());
    let m = shared_manager(&server, &clock, &store);
    let grant = m
        .insert(
            "u",
            token(
                &access_token(0),
                Some(&refresh_token(0)),
                Some(t0() + Duration::from_secs(3600)),
            ),
        )
        .await
        .unwrap();
    for n in 1..=2 {
        clock.advance(Duration::from_secs(3600));
        let at = grant.access_token().await.unwrap();
        assert_eq!(secret_of(&at), access_token(n));
        let stored = store.load(grant.key()).await.unwrap().unwrap();
        assert_eq!(
            stored.refresh_token.unwrap().expose_secret(),
            refresh_token(n)
        );
        assert_eq!(stored.access_token.expose_secret(), access_token(n));
        assert_eq!(server.hits("/token"), n);
        // Warm: served from memory.
        assert_eq!(
            secret_of(&grant.access_token().await.unwrap()),
            access_token(n)
        );
        assert_eq!(server.hits("/token"), n);
    }
}

/// RFC 6749 §6: a refresh answer without `refresh_token` keeps the old one, which is then
/// used again.
#[tokio::test]
async fn s16_refresh_without_new_refresh_token_keeps_the_old_one() {
    let provider = Rotating::new(false);
    let server = rotating_server(&provider, Duration::ZERO).await;
    let clock = Arc::new(ManualClock::new(t0()));
    let m = TokenManager::builder(common::client(&server), transport())
        .clock(clock.clone())
        .build()
        .unwrap();
    let mut t = token(&access_token(0), Some(&refresh_token(0)), Some(t0()));
    t.scope = Some("read write".into());
    let grant = m.insert("u", t).await.unwrap();
    for n in 1..=2 {
        assert_eq!(
            secret_of(&grant.access_token().await.unwrap()),
            access_token(n)
        );
        let stored = m.store().load(grant.key()).await.unwrap().unwrap();
        assert_eq!(
            stored.refresh_token.unwrap().expose_secret(),
            refresh_token(0)
        );
        // The granted scope is kept when the refresh answer omits it.
        assert_eq!(stored.scope.as_deref(), Some("read write"));
        clock.advance(Duration::from_secs(3600));
    }
    assert_eq!(server.hits("/token"), 2);
}

/// S16: another process (a second manager on the same store) rotated already: the store is
/// read before refreshing, so no second refresh happens and the stale token is never reused.
#[tokio::test]
async fn s16_store_is_reloaded_before_refreshing() {
    let provider = Rotating::new(true);
    let server = rotating_server(&provider, Duration::ZERO).await;
    let clock = Arc::new(ManualClock::new(t0()));
    let store = Arc::new(MemoryStore::new());
    let (a, b) = (
        shared_manager(&server, &clock, &store),
        shared_manager(&server, &clock, &store),
    );
    a.insert(
        "u",
        token(
            &access_token(0),
            Some(&refresh_token(0)),
            Some(t0() + Duration::from_secs(3600)),
        ),
    )
    .await
    .unwrap();
    // B has the old token in memory.
    assert_eq!(
        secret_of(&b.grant("u").access_token().await.unwrap()),
        access_token(0)
    );
    clock.advance(Duration::from_secs(3600));
    assert_eq!(
        secret_of(&a.grant("u").access_token().await.unwrap()),
        access_token(1)
    );
    assert_eq!(
        secret_of(&b.grant("u").access_token().await.unwrap()),
        access_token(1)
    );
    assert_eq!(
        server.hits("/token"),
        1,
        "B used A's rotation instead of RT-0"
    );
}

/// S17: `invalid_grant` → `ReauthorizationRequired` naming the grant, one refresh call, the
/// entry deleted; no retry afterwards either.
#[tokio::test]
async fn s17_invalid_grant_requires_reauthorization_and_deletes_the_grant() {
    let provider = Rotating::new(true);
    let server = rotating_server(&provider, Duration::ZERO).await;
    let clock = Arc::new(ManualClock::new(t0()));
    let store = Arc::new(MemoryStore::new());
    // Rotate once: RT-0 is now spent.
    let first = shared_manager(&server, &clock, &store);
    let old = token(&access_token(0), Some(&refresh_token(0)), Some(t0()));
    first.insert("u", old.clone()).await.unwrap();
    assert_eq!(
        secret_of(&first.grant("u").access_token().await.unwrap()),
        access_token(1)
    );
    assert_eq!(server.hits("/token"), 1);

    // A stale copy (a restored backup) holding the rotated RT-0 comes back.
    store.save(&first.key("u"), &old).await.unwrap();
    let second = shared_manager(&server, &clock, &store);
    let grant = second.grant("u");
    match grant.access_token().await {
        Err(Error::ReauthorizationRequired { key, reason }) => {
            assert_eq!(&key, grant.key());
            assert!(reason.contains("invalid_grant"), "{reason}");
        }
        other => panic!("{other:?}"),
    }
    let err = grant.access_token().await.unwrap_err();
    assert!(err.to_string().contains(&grant.key().to_string()), "{err}");
    assert_eq!(server.hits("/token"), 2, "one refresh call, no retry");
    assert!(
        store.load(grant.key()).await.unwrap().is_none(),
        "entry deleted"
    );
    assert!(matches!(err, Error::ReauthorizationRequired { .. }));
}

/// S17 and race recovery (issue 19): on `invalid_grant` the store is read again; when it
/// meanwhile holds a different refresh token (another process rotated while ours was being
/// refused), that token is used: no `ReauthorizationRequired`, nothing deleted.
#[tokio::test]
async fn s17_invalid_grant_after_another_process_rotated_uses_its_token() {
    let store = Arc::new(MemoryStore::new());
    let key = GrantKey::new("testprov", common::CLIENT_ID, "u");
    let server = {
        let (store, key) = (store.clone(), key.clone());
        TestServer::start_async(move |_req| {
            let (store, key) = (store.clone(), key.clone());
            Box::pin(async move {
                // Another process saves its freshly rotated token first.
                let theirs = token(
                    "AT-other",
                    Some("RT-other"),
                    Some(SystemTime::now() + Duration::from_secs(3600)),
                );
                store.save(&key, &theirs).await.unwrap();
                oauth_error(400, "invalid_grant")
            })
        })
        .await
    };
    let m = TokenManager::builder(common::client(&server), transport())
        .store(store.clone())
        .build()
        .unwrap();
    assert_eq!(m.key("u"), key);
    let grant = m
        .insert("u", expired(&access_token(0), Some(&refresh_token(0))))
        .await
        .unwrap();
    assert_eq!(secret_of(&grant.access_token().await.unwrap()), "AT-other");
    let kept = store.load(&key).await.unwrap().unwrap();
    assert_eq!(kept.refresh_token.unwrap().expose_secret(), "RT-other");
    // Next call: the other process's token, no further refresh.
    assert_eq!(secret_of(&grant.access_token().await.unwrap()), "AT-other");
    assert_eq!(server.hits("/token"), 1);
}

/// A store whose saves can be made to fail.
#[derive(Default)]
struct FlakyStore {
    inner: MemoryStore,
    fail: AtomicBool,
    saves: AtomicUsize,
}

impl std::fmt::Debug for FlakyStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FlakyStore").finish_non_exhaustive()
    }
}

#[async_trait]
impl TokenStore for FlakyStore {
    async fn load(&self, key: &GrantKey) -> oauth_flow::Result<Option<Token>> {
        self.inner.load(key).await
    }
    async fn save(&self, key: &GrantKey, token: &Token) -> oauth_flow::Result<()> {
        self.saves.fetch_add(1, Ordering::SeqCst);
        if self.fail.load(Ordering::SeqCst) {
            return Err(Error::Store {
                key: key.clone(),
                message: "disk full (test)".into(),
                source: None,
            });
        }
        self.inner.save(key, token).await
    }
    async fn delete(&self, key: &GrantKey) -> oauth_flow::Result<()> {
        self.inner.delete(key).await
    }
}

/// S16: when saving the rotated token fails, the caller gets `Error::Store` (the new access
/// token is not used), the new refresh token is kept in memory, and the next call saves it
/// and succeeds without another refresh.
#[tokio::test]
async fn s16_failed_save_keeps_the_new_refresh_token() {
    let provider = Rotating::new(true);
    let server = rotating_server(&provider, Duration::ZERO).await;
    let store = Arc::new(FlakyStore::default());
    let m = TokenManager::builder(common::client(&server), transport())
        .store(store.clone())
        .build()
        .unwrap();
    let grant = m
        .insert("u", expired(&access_token(0), Some(&refresh_token(0))))
        .await
        .unwrap();
    store.fail.store(true, Ordering::SeqCst);
    for _ in 0..2 {
        match grant.access_token().await {
            Err(Error::Store { key, .. }) => assert_eq!(&key, grant.key()),
            other => panic!("{other:?}"),
        }
    }
    assert_eq!(
        server.hits("/token"),
        1,
        "the rotated token is not refreshed again"
    );
    let on_disk = store.inner.load(grant.key()).await.unwrap().unwrap();
    assert_eq!(
        on_disk.refresh_token.unwrap().expose_secret(),
        refresh_token(0)
    );

    store.fail.store(false, Ordering::SeqCst);
    assert_eq!(
        secret_of(&grant.access_token().await.unwrap()),
        access_token(1)
    );
    assert_eq!(server.hits("/token"), 1);
    let saved = store.inner.load(grant.key()).await.unwrap().unwrap();
    assert_eq!(
        saved.refresh_token.unwrap().expose_secret(),
        refresh_token(1)
    );
}

/// The same for the code exchange: a failed save is reported, and the next call saves the
/// tokens without exchanging the (single-use) code again.
#[tokio::test]
async fn exchange_with_failing_store_keeps_the_tokens() {
    let provider = Rotating::new(true);
    let server = rotating_server(&provider, Duration::ZERO).await;
    let store = Arc::new(FlakyStore::default());
    store.fail.store(true, Ordering::SeqCst);
    let client = common::client(&server);
    let m = TokenManager::builder(client.clone(), transport())
        .store(store.clone())
        .build()
        .unwrap();
    let err = m
        .exchange_code("u", authorized_code(&client))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Store { .. }), "{err:?}");
    store.fail.store(false, Ordering::SeqCst);
    assert_eq!(
        secret_of(&m.grant("u").access_token().await.unwrap()),
        access_token(0)
    );
    assert_eq!(server.hits("/token"), 1);
    assert!(store.inner.load(&m.key("u")).await.unwrap().is_some());
}

/// S21: with the default 60 s margin, at `expires_at - 61 s` the token is served as is, at
/// `expires_at - 59 s` it is refreshed first. The clock is injected; nothing sleeps.
#[tokio::test]
async fn s21_refresh_margin_with_a_manual_clock() {
    let provider = Rotating::new(true);
    let server = rotating_server(&provider, Duration::ZERO).await;
    let exp = t0() + Duration::from_secs(3600);
    let clock = Arc::new(ManualClock::new(exp - Duration::from_secs(61)));
    let m = TokenManager::builder(common::client(&server), transport())
        .clock(clock.clone())
        .build()
        .unwrap();
    let grant = m
        .insert(
            "u",
            token(&access_token(0), Some(&refresh_token(0)), Some(exp)),
        )
        .await
        .unwrap();
    assert_eq!(
        secret_of(&grant.access_token().await.unwrap()),
        access_token(0)
    );
    assert_eq!(server.hits("/token"), 0, "-61 s: no refresh");
    clock.set(exp - Duration::from_secs(59));
    assert_eq!(
        secret_of(&grant.access_token().await.unwrap()),
        access_token(1)
    );
    assert_eq!(server.hits("/token"), 1, "-59 s: refreshed first");

    // A custom margin (5 min, the maximum) moves the boundary; more is refused.
    clock.set(exp - Duration::from_secs(301));
    let m5 = TokenManager::builder(common::client(&server), transport())
        .clock(clock.clone())
        .refresh_margin(Duration::from_secs(300))
        .build()
        .unwrap();
    let g5 = m5
        .insert("v", token("AT-v", Some(&refresh_token(1)), Some(exp)))
        .await
        .unwrap();
    assert_eq!(secret_of(&g5.access_token().await.unwrap()), "AT-v");
    clock.set(exp - Duration::from_secs(299));
    assert_eq!(
        secret_of(&g5.access_token().await.unwrap()),
        access_token(2)
    );
    let err = TokenManager::builder(common::client(&server), transport())
        .refresh_margin(Duration::from_secs(301))
        .build()
        .unwrap_err();
    assert!(matches!(err, Error::Config(_)));
}

/// A grant nobody authorized, or a token without expiry and without refresh token.
#[tokio::test]
async fn unknown_grant_and_missing_refresh_token() {
    let provider = Rotating::new(true);
    let server = rotating_server(&provider, Duration::ZERO).await;
    let m = plain_manager(common::client(&server));
    let err = m.grant("nobody").access_token().await.unwrap_err();
    assert!(
        matches!(err, Error::ReauthorizationRequired { .. }),
        "{err:?}"
    );
    let g = m.insert("u", expired("AT-x", None)).await.unwrap();
    let err = g.access_token().await.unwrap_err();
    assert!(
        matches!(err, Error::ReauthorizationRequired { .. }),
        "{err:?}"
    );
    // Forgetting clears memory and store.
    g.forget().await.unwrap();
    assert!(m.store().load(g.key()).await.unwrap().is_none());
    assert_eq!(server.hits("/token"), 0);
}

/// Client credentials: cached for the token's lifetime (N calls → 1 request), single-flight
/// when cold, asked again once expired; scopes get their own handle.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_credentials_cache_and_single_flight() {
    let issued = Arc::new(AtomicUsize::new(0));
    let server = {
        let issued = issued.clone();
        TestServer::start(move |req| {
            assert_eq!(
                req.param("grant_type").as_deref(),
                Some("client_credentials")
            );
            let n = issued.fetch_add(1, Ordering::SeqCst) + 1;
            Resp::json(200, &token_body(&format!("CC-{n}"), None, Some(21600)))
                .delay(Duration::from_millis(20))
        })
        .await
    };
    let clock = Arc::new(ManualClock::new(t0()));
    let m = TokenManager::builder(common::client(&server), transport())
        .clock(clock.clone())
        .build()
        .unwrap();
    let handle = m.client_credentials(&["read"]);
    let barrier = Arc::new(tokio::sync::Barrier::new(200));
    let tasks: Vec<_> = (0..200)
        .map(|_| {
            let (h, b) = (handle.clone(), barrier.clone());
            tokio::spawn(async move {
                b.wait().await;
                h.access_token().await
            })
        })
        .collect();
    for t in tasks {
        assert_eq!(secret_of(&t.await.unwrap().unwrap()), "CC-1");
    }
    for _ in 0..1000 {
        assert_eq!(secret_of(&handle.access_token().await.unwrap()), "CC-1");
    }
    assert_eq!(server.hits("/token"), 1);
    // Nothing is written to the store for client credentials.
    assert!(m.store().load(handle.key()).await.unwrap().is_none());

    clock.advance(Duration::from_secs(21600 - 59));
    assert_eq!(secret_of(&handle.access_token().await.unwrap()), "CC-2");
    assert_eq!(server.hits("/token"), 2);
    // Another scope set is another grant.
    assert_eq!(
        secret_of(
            &m.client_credentials(&["write"])
                .access_token()
                .await
                .unwrap()
        ),
        "CC-3"
    );
    assert_eq!(server.hits("/token"), 3);
}

/// The warm path serves each thread's copy of the current token: a token replaced or
/// forgotten on one thread is never served again by another that had copied it, and grants
/// that share a way of a thread's cache never serve each other's tokens.
#[test]
fn threads_never_serve_a_replaced_or_forgotten_token() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let provider = Rotating::new(true);
    let server = rt.block_on(rotating_server(&provider, Duration::ZERO));
    let m = plain_manager(common::client(&server));
    let in_an_hour = Some(SystemTime::now() + Duration::from_secs(3600));
    let g = rt
        .block_on(m.insert("u", token("AT-old", Some("RT-x"), in_an_hour)))
        .unwrap();
    let handle = rt.handle().clone();
    let (ask, asked) = std::sync::mpsc::channel::<()>();
    let (tell, told) = std::sync::mpsc::channel::<Result<String, Error>>();
    let reader = {
        let g = g.clone();
        std::thread::spawn(move || {
            while asked.recv().is_ok() {
                let got = handle.block_on(g.access_token()).map(|t| secret_of(&t));
                tell.send(got).unwrap();
            }
        })
    };
    let read = || {
        ask.send(()).unwrap();
        told.recv().unwrap()
    };
    // The reader thread copies AT-old, then sees each change made on this thread.
    assert_eq!(read().unwrap(), "AT-old");
    assert_eq!(read().unwrap(), "AT-old");
    rt.block_on(m.insert("u", token("AT-new", Some("RT-y"), in_an_hour)))
        .unwrap();
    assert_eq!(read().unwrap(), "AT-new");
    rt.block_on(g.forget()).unwrap();
    let err = read().unwrap_err();
    assert!(
        matches!(err, Error::ReauthorizationRequired { .. }),
        "{err:?}"
    );
    drop(ask);
    reader.join().unwrap();

    // 40 grants on one thread, asked in turn twice: each answers with its own token.
    let grants: Vec<_> = (0..40)
        .map(|i| {
            let t = token(&format!("AT-{i}"), Some("RT"), in_an_hour);
            rt.block_on(m.insert(&format!("user-{i}"), t)).unwrap()
        })
        .collect();
    for _ in 0..2 {
        for (i, g) in grants.iter().enumerate() {
            let got = rt.block_on(g.access_token()).unwrap();
            assert_eq!(secret_of(&got), format!("AT-{i}"));
        }
    }
    assert_eq!(server.hits("/token"), 0);
}

/// Tokens are never stored under an empty subject: an empty user id would put every such user
/// on one grant. The code is not sent.
#[tokio::test]
async fn an_empty_subject_is_refused_before_anything_is_sent() {
    let provider = Rotating::new(true);
    let server = rotating_server(&provider, Duration::ZERO).await;
    let client = common::client(&server);
    let m = plain_manager(client.clone());
    for subject in ["", "  "] {
        let err = m
            .exchange_code(subject, authorized_code(&client))
            .await
            .unwrap_err();
        assert!(
            matches!(
                err,
                Error::Config(oauth_flow::ConfigError::Empty("subject"))
            ),
            "{err:?}"
        );
        let err = m
            .insert(subject, token("AT", Some("RT"), None))
            .await
            .unwrap_err();
        assert!(matches!(err, Error::Config(_)), "{err:?}");
    }
    assert_eq!(server.hits("/token"), 0);
}

/// Builders that hold settings before the manager exists check them where they are made.
#[test]
fn manager_settings_validate_as_build_does() {
    let mut s = oauth_flow::ManagerSettings::default();
    assert!(s.validate().is_ok());
    s.refresh_margin = Some(Duration::from_secs(301));
    assert!(matches!(
        s.validate(),
        Err(oauth_flow::ConfigError::RefreshMarginTooLarge { .. })
    ));
    s.refresh_margin = None;
    s.lease_ttl = Some(Duration::ZERO);
    assert!(matches!(
        s.validate(),
        Err(oauth_flow::ConfigError::ZeroLeaseTtl)
    ));
}
