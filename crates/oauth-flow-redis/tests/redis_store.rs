//! The store's primitives against a real `redis-server` (started here on a free loopback port,
//! stopped by its PID). Ignored unless asked for: `cargo test -p oauth-flow-redis --
//! --include-ignored` with `redis-server` on PATH.
// Test code panics on purpose: a failure is a test failure.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::{Duration, SystemTime};

use oauth_flow::{Error, GrantKey, Token, TokenStore};
use oauth_flow_redis::test_util::RedisServer;
use oauth_flow_redis::{BuildError, RedisStore};
use secrecy::{ExposeSecret as _, SecretString};

fn token(access: &str, refresh: Option<&str>) -> Token {
    Token {
        access_token: SecretString::from(access.to_owned()),
        token_type: "Bearer".into(),
        expires_at: Some(SystemTime::UNIX_EPOCH + Duration::from_secs(2_000_000_000)),
        issued_at: None,
        refresh_token: refresh.map(|r| SecretString::from(r.to_owned())),
        scope: Some("profile organization".into()),
        extra: Default::default(),
    }
}

fn secret(s: &str) -> SecretString {
    SecretString::from(s.to_owned())
}

fn grant() -> GrantKey {
    GrantKey::new("askara", "client-1", "user-42")
}

async fn store(server: &RedisServer) -> RedisStore {
    RedisStore::builder(server.url())
        .response_timeout(Duration::from_millis(500))
        .build()
        .await
        .unwrap()
}

fn access(t: &Option<Token>) -> Option<String> {
    t.as_ref()
        .map(|t| t.access_token.expose_secret().to_owned())
}

#[tokio::test]
#[ignore = "needs redis-server on PATH"]
async fn save_load_delete_round_trip() {
    let server = RedisServer::start().unwrap();
    let s = store(&server).await;
    assert!(s.load(&grant()).await.unwrap().is_none());
    s.save(&grant(), &token("at-1", Some("rt-1")))
        .await
        .unwrap();
    let back = s.load(&grant()).await.unwrap().unwrap();
    assert_eq!(back.access_token.expose_secret(), "at-1");
    assert_eq!(back.refresh_token.unwrap().expose_secret(), "rt-1");
    assert_eq!(back.scope.as_deref(), Some("profile organization"));
    assert_eq!(
        back.expires_at,
        Some(SystemTime::UNIX_EPOCH + Duration::from_secs(2_000_000_000))
    );
    s.delete(&grant()).await.unwrap();
    assert!(s.load(&grant()).await.unwrap().is_none());
    // Deleting a missing grant is not an error.
    s.delete(&grant()).await.unwrap();
}

/// Issue 19: what the refreshing process spends on Redis for one refresh, on a fresh server
/// (scripts loaded at build): lease, load, compare-and-swap save, release. Target at most 4.
#[tokio::test]
#[ignore = "needs redis-server on PATH"]
async fn a_refresh_costs_four_round_trips() {
    let server = RedisServer::start().unwrap();
    let s = store(&server).await;
    s.save(&grant(), &token("at-1", Some("rt-1")))
        .await
        .unwrap();
    let before = s.round_trips();
    let lease = s
        .lease(&grant(), Duration::from_secs(10), Duration::from_secs(1))
        .await
        .unwrap();
    let stored = s.load(&grant()).await.unwrap().unwrap();
    let saved = s
        .save_if(
            &grant(),
            stored.refresh_token.as_ref(),
            &token("at-2", Some("rt-2")),
        )
        .await
        .unwrap();
    assert!(saved);
    assert!(lease.release().await.unwrap());
    assert_eq!(s.round_trips() - before, 4);
}

#[tokio::test]
#[ignore = "needs redis-server on PATH"]
async fn round_trips_are_counted_one_per_command() {
    let server = RedisServer::start().unwrap();
    let s = store(&server).await;
    let before = s.round_trips();
    s.save(&grant(), &token("at-1", Some("rt-1")))
        .await
        .unwrap();
    s.load(&grant()).await.unwrap();
    assert_eq!(s.round_trips() - before, 2);
    // A script's first run on this server loads it (EVALSHA, SCRIPT LOAD, EVALSHA); then one.
    s.save_if(
        &grant(),
        Some(&secret("rt-1")),
        &token("at-2", Some("rt-2")),
    )
    .await
    .unwrap();
    let before = s.round_trips();
    s.save_if(
        &grant(),
        Some(&secret("rt-2")),
        &token("at-3", Some("rt-3")),
    )
    .await
    .unwrap();
    assert_eq!(s.round_trips() - before, 1);
}

#[tokio::test]
#[ignore = "needs redis-server on PATH"]
async fn save_if_swaps_only_the_expected_refresh_token() {
    let server = RedisServer::start().unwrap();
    let s = store(&server).await;
    // Nothing stored: `None` is expected, a refresh token is not.
    assert!(
        !s.save_if(
            &grant(),
            Some(&secret("rt-0")),
            &token("at-x", Some("rt-x"))
        )
        .await
        .unwrap()
    );
    assert!(s.load(&grant()).await.unwrap().is_none());
    assert!(
        s.save_if(&grant(), None, &token("at-1", Some("rt-1")))
            .await
            .unwrap()
    );
    // A stale expectation changes nothing.
    assert!(
        !s.save_if(
            &grant(),
            Some(&secret("rt-0")),
            &token("at-x", Some("rt-x"))
        )
        .await
        .unwrap()
    );
    assert!(
        !s.save_if(&grant(), None, &token("at-x", Some("rt-x")))
            .await
            .unwrap()
    );
    assert_eq!(
        access(&s.load(&grant()).await.unwrap()).as_deref(),
        Some("at-1")
    );
    assert!(
        s.save_if(
            &grant(),
            Some(&secret("rt-1")),
            &token("at-2", Some("rt-2"))
        )
        .await
        .unwrap()
    );
    assert_eq!(
        access(&s.load(&grant()).await.unwrap()).as_deref(),
        Some("at-2")
    );
    // A token without a refresh token is matched by `None`.
    assert!(
        s.save_if(&grant(), Some(&secret("rt-2")), &token("at-3", None))
            .await
            .unwrap()
    );
    assert!(
        s.save_if(&grant(), None, &token("at-4", Some("rt-4")))
            .await
            .unwrap()
    );
    assert_eq!(
        access(&s.load(&grant()).await.unwrap()).as_deref(),
        Some("at-4")
    );
}

#[tokio::test]
#[ignore = "needs redis-server on PATH"]
async fn delete_if_deletes_only_the_expected_refresh_token() {
    let server = RedisServer::start().unwrap();
    let s = store(&server).await;
    assert!(
        s.delete_if(&grant(), &secret("rt-1")).await.unwrap(),
        "nothing stored"
    );
    s.save(&grant(), &token("at-2", Some("rt-2")))
        .await
        .unwrap();
    // Another process rotated to rt-2 after rt-1 was rejected: the good grant stays.
    assert!(!s.delete_if(&grant(), &secret("rt-1")).await.unwrap());
    assert_eq!(
        access(&s.load(&grant()).await.unwrap()).as_deref(),
        Some("at-2")
    );
    assert!(s.delete_if(&grant(), &secret("rt-2")).await.unwrap());
    assert!(s.load(&grant()).await.unwrap().is_none());
    // A stored token without a refresh token is not the rejected one.
    s.save(&grant(), &token("at-3", None)).await.unwrap();
    assert!(!s.delete_if(&grant(), &secret("rt-3")).await.unwrap());
}

#[tokio::test]
#[ignore = "needs redis-server on PATH"]
async fn lease_excludes_a_second_store_until_released() {
    let server = RedisServer::start().unwrap();
    let (a, b) = (store(&server).await, store(&server).await);
    let ttl = Duration::from_secs(30);
    let held = a.lease(&grant(), ttl, Duration::ZERO).await.unwrap();
    match b.lease(&grant(), ttl, Duration::from_millis(200)).await {
        Err(Error::LeaseTimeout { key, waited }) => {
            assert_eq!(key, grant());
            assert!(waited >= Duration::from_millis(200));
        }
        other => panic!("expected LeaseTimeout, got {other:?}"),
    }
    // Another grant's lease is independent.
    let other = GrantKey::new("askara", "client-1", "user-43");
    let other_lease = b.lease(&other, ttl, Duration::ZERO).await.unwrap();
    assert!(held.release().await.unwrap());
    let next = b.lease(&grant(), ttl, Duration::ZERO).await.unwrap();
    assert!(next.release().await.unwrap());
    assert!(other_lease.release().await.unwrap());
}

#[tokio::test]
#[ignore = "needs redis-server on PATH"]
async fn a_waiting_lease_is_granted_when_the_holder_releases() {
    let server = RedisServer::start().unwrap();
    let (a, b) = (store(&server).await, store(&server).await);
    let ttl = Duration::from_secs(30);
    let held = a.lease(&grant(), ttl, Duration::ZERO).await.unwrap();
    let waiter = tokio::spawn(async move {
        let lease = b.lease(&grant(), ttl, Duration::from_secs(20)).await;
        lease.map(|l| format!("{l:?}"))
    });
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(held.release().await.unwrap());
    let debug = waiter.await.unwrap().unwrap();
    assert!(debug.contains("RedisLease"));
}

#[tokio::test]
#[ignore = "needs redis-server on PATH"]
async fn an_unreleased_lease_lapses_after_its_ttl() {
    let server = RedisServer::start().unwrap();
    let (a, b) = (store(&server).await, store(&server).await);
    // A holder that dies: its lease is never released.
    let dead = a
        .lease(&grant(), Duration::from_millis(300), Duration::ZERO)
        .await
        .unwrap();
    std::mem::forget(dead);
    let next = b
        .lease(&grant(), Duration::from_secs(30), Duration::from_secs(20))
        .await
        .unwrap();
    assert!(next.release().await.unwrap());
}

#[tokio::test]
#[ignore = "needs redis-server on PATH"]
async fn a_late_release_leaves_the_new_owners_lease_alone() {
    let server = RedisServer::start().unwrap();
    let (a, b, c) = (
        store(&server).await,
        store(&server).await,
        store(&server).await,
    );
    let late = a
        .lease(&grant(), Duration::from_millis(200), Duration::ZERO)
        .await
        .unwrap();
    // A's lease lapses; B takes the grant.
    let owner_b = b
        .lease(&grant(), Duration::from_secs(30), Duration::from_secs(20))
        .await
        .unwrap();
    assert!(!late.release().await.unwrap(), "A no longer owns the lease");
    assert!(matches!(
        c.lease(&grant(), Duration::from_secs(30), Duration::ZERO)
            .await,
        Err(Error::LeaseTimeout { .. })
    ));
    assert!(owner_b.release().await.unwrap());
    let free = c
        .lease(&grant(), Duration::from_secs(30), Duration::ZERO)
        .await
        .unwrap();
    assert!(free.release().await.unwrap());
}

#[tokio::test]
#[ignore = "needs redis-server on PATH"]
async fn claim_once_is_shared_between_stores() {
    let server = RedisServer::start().unwrap();
    let (a, b) = (store(&server).await, store(&server).await);
    let ttl = Duration::from_secs(600);
    assert!(a.claim_once(&grant(), "state-fp-1", ttl).await.unwrap());
    assert!(!a.claim_once(&grant(), "state-fp-1", ttl).await.unwrap());
    assert!(!b.claim_once(&grant(), "state-fp-1", ttl).await.unwrap());
    assert!(b.claim_once(&grant(), "state-fp-2", ttl).await.unwrap());
    // Entries are forgotten after their ttl.
    assert!(
        a.claim_once(&grant(), "state-fp-3", Duration::from_millis(50))
            .await
            .unwrap()
    );
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(a.claim_once(&grant(), "state-fp-3", ttl).await.unwrap());
}

#[tokio::test]
#[ignore = "needs redis-server on PATH"]
async fn grant_keys_never_collide_and_prefixes_isolate() {
    let server = RedisServer::start().unwrap();
    let s = store(&server).await;
    let pairs = [
        (GrantKey::new("a/b", "c", "d"), "at-1"),
        (GrantKey::new("a", "b/c", "d"), "at-2"),
        (GrantKey::new("a:b", "c", "d"), "at-3"),
        (GrantKey::new("a", "b:c", "d"), "at-4"),
        (GrantKey::new("a%3Ab", "c", "d"), "at-5"),
        (GrantKey::new("a", "", "b"), "at-6"),
        (GrantKey::new("a", "b", ""), "at-7"),
    ];
    for (k, at) in &pairs {
        s.save(k, &token(at, Some("rt"))).await.unwrap();
    }
    for (k, at) in &pairs {
        assert_eq!(
            access(&s.load(k).await.unwrap()).as_deref(),
            Some(*at),
            "{k}"
        );
    }
    let other = RedisStore::builder(server.url())
        .prefix("another-app:")
        .build()
        .await
        .unwrap();
    assert_eq!(other.prefix(), "another-app:");
    assert!(other.load(&pairs[0].0).await.unwrap().is_none());
    let held = s
        .lease(&pairs[0].0, Duration::from_secs(30), Duration::ZERO)
        .await
        .unwrap();
    let theirs = other
        .lease(&pairs[0].0, Duration::from_secs(30), Duration::ZERO)
        .await
        .unwrap();
    assert!(theirs.release().await.unwrap());
    assert!(held.release().await.unwrap());
}

#[tokio::test]
#[ignore = "needs redis-server on PATH"]
async fn a_record_under_another_grants_key_is_refused() {
    let server = RedisServer::start().unwrap();
    let s = store(&server).await;
    let other = GrantKey::new("askara", "client-1", "user-43");
    s.save(&grant(), &token("at-1", Some("rt-1")))
        .await
        .unwrap();
    // Someone copies user-42's record over user-43's key.
    let client = redis::Client::open(server.url()).unwrap();
    let mut conn = client.get_multiplexed_async_connection().await.unwrap();
    let _: () = redis::cmd("COPY")
        .arg("oauth-flow:token:askara:client-1:user-42")
        .arg("oauth-flow:token:askara:client-1:user-43")
        .query_async(&mut conn)
        .await
        .map(|_: i64| ())
        .unwrap();
    match s.load(&other).await {
        Err(Error::Store { message, .. }) => assert!(message.contains("another grant")),
        other => panic!("expected a store error, got {other:?}"),
    }
    // Garbage in the record field is a typed error, not a panic.
    let _: i64 = redis::cmd("HSET")
        .arg("oauth-flow:token:askara:client-1:user-43")
        .arg("record")
        .arg("{not json")
        .query_async(&mut conn)
        .await
        .unwrap();
    assert!(matches!(s.load(&other).await, Err(Error::Store { .. })));
}

fn assert_redis_store_error(e: &Error) {
    match e {
        Error::Store { message, .. } => assert!(message.contains("Redis"), "{message}"),
        other => panic!("expected a store error, got {other:?}"),
    }
}

#[tokio::test]
#[ignore = "needs redis-server on PATH"]
async fn redis_stopped_is_a_typed_store_error_then_recovers() {
    let mut server = RedisServer::start().unwrap();
    let s = store(&server).await;
    s.save(&grant(), &token("at-1", Some("rt-1")))
        .await
        .unwrap();
    server.stop();
    // Each call ends (the outer timeout only guards against a hang) with an error naming Redis.
    let bound = Duration::from_secs(10);
    let e = tokio::time::timeout(bound, s.load(&grant()))
        .await
        .unwrap()
        .unwrap_err();
    assert_redis_store_error(&e);
    let e = tokio::time::timeout(bound, s.save(&grant(), &token("at-2", Some("rt-2"))))
        .await
        .unwrap()
        .unwrap_err();
    assert_redis_store_error(&e);
    let e = tokio::time::timeout(
        bound,
        s.lease(&grant(), Duration::from_secs(30), Duration::from_secs(1)),
    )
    .await
    .unwrap()
    .unwrap_err();
    assert_redis_store_error(&e);
    let e = tokio::time::timeout(bound, s.claim_once(&grant(), "fp", Duration::from_secs(60)))
        .await
        .unwrap()
        .unwrap_err();
    assert_redis_store_error(&e);
    assert!(!e.to_string().contains("at-1") && !format!("{e:?}").contains("rt-1"));

    // A restarted, empty Redis: the store reconnects by itself and the grant is gone.
    server.restart().unwrap();
    let mut loaded = None;
    for _ in 0..50 {
        match s.load(&grant()).await {
            Ok(t) => {
                loaded = Some(t);
                break;
            }
            Err(e) => {
                assert_redis_store_error(&e);
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    }
    assert!(loaded.expect("the store reconnects").is_none());
}

#[tokio::test]
#[ignore = "needs redis-server on PATH"]
async fn a_store_built_against_no_redis_fails_to_build() {
    let mut server = RedisServer::start().unwrap();
    let url = server.url();
    server.stop();
    let e = RedisStore::builder(url)
        .response_timeout(Duration::from_millis(500))
        .build()
        .await
        .unwrap_err();
    assert!(matches!(
        e,
        BuildError::Connect { .. } | BuildError::ConnectTimeout { .. }
    ));
    assert!(e.to_string().contains("Redis"));
}

#[tokio::test]
#[ignore = "needs redis-server on PATH"]
async fn debug_and_errors_show_no_token_and_no_password() {
    let password = "pw-Zq8vN3xT";
    let mut server = RedisServer::start_with(&["--requirepass", password]).unwrap();
    let url = format!("redis://:{password}@127.0.0.1:{}/", server.port());

    // A wrong password is refused without echoing either password.
    let wrong = format!("redis://:wrong-{password}@127.0.0.1:{}/", server.port());
    let e = RedisStore::builder(&wrong).build().await.unwrap_err();
    let shown = format!("{e} {e:?}");
    assert!(!shown.contains(password), "{shown}");

    let builder = RedisStore::builder(&url);
    assert!(!format!("{builder:?}").contains(password));
    let s = builder.build().await.unwrap();
    let debug = format!("{s:?}");
    assert!(!debug.contains(password), "{debug}");
    assert!(
        debug.contains("redacted") && debug.contains("127.0.0.1"),
        "{debug}"
    );

    s.save(&grant(), &token("at-secret-1", Some("rt-secret-1")))
        .await
        .unwrap();
    let lease = s
        .lease(&grant(), Duration::from_secs(30), Duration::ZERO)
        .await
        .unwrap();
    let shown = format!("{s:?} {lease:?} {:?}", s.load(&grant()).await.unwrap());
    for secret in [password, "at-secret-1", "rt-secret-1"] {
        assert!(!shown.contains(secret), "{secret} in {shown}");
    }
    assert!(lease.release().await.unwrap());

    server.stop();
    let e = s.load(&grant()).await.unwrap_err();
    let shown = format!("{e} {e:?}");
    for secret in [password, "at-secret-1", "rt-secret-1"] {
        assert!(!shown.contains(secret), "{secret} in {shown}");
    }
}
