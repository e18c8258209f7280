//! The API client against loopback API and token servers: one refresh and one retry on 401,
//! 401 storms, `Retry-After` (seconds and HTTP date) within a bounded budget, bearer placement
//! and origin pinning.
//!
//! SECURITY: S19 (bearer in the header only, only to the API origin), S20 (401 → one refresh,
//! one retry; 403 → no refresh), S16 (single-flight across concurrent 401s).
// Test code: helpers outside `#[test]` fns unwrap too (clippy.toml covers only test fns).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, SystemTime};

use common::{
    Resp, TestServer, access_token, expired, plain_manager, refresh_token, token, token_body,
    transport,
};
use oauth_flow::{ApiClient, ApiKey, ConfigError, Error, RetryPolicy, TokenManager};
use serde_json::{Value, json};

/// A token endpoint that issues `AT-n`/`RT-n` on each refresh, and a protected API that
/// accepts only the token named by `accept` (None: reject everything with 401).
struct Fixture {
    token_server: TestServer,
    api: TestServer,
    manager: TokenManager,
}

async fn fixture(accept: Option<String>, barrier_for_at0: Option<usize>) -> Fixture {
    let issued = Arc::new(AtomicUsize::new(0));
    let token_server = {
        let issued = issued.clone();
        TestServer::start(move |req| {
            assert_eq!(req.param("grant_type").as_deref(), Some("refresh_token"));
            let n = issued.fetch_add(1, Ordering::SeqCst) + 1;
            Resp::json(
                200,
                &token_body(&access_token(n), Some(&refresh_token(n)), Some(3600)),
            )
        })
        .await
    };
    let gate = barrier_for_at0.map(|n| {
        (
            Arc::new(tokio::sync::Barrier::new(n)),
            Arc::new(AtomicUsize::new(0)),
            n,
        )
    });
    let api = TestServer::start_async(move |req| {
        let accept = accept.clone();
        let gate = gate.clone();
        Box::pin(async move {
            // S19: the token travels only in the Authorization header.
            assert!(req.query.is_none() && req.body.is_empty());
            let bearer = req.bearer().unwrap_or_default().to_owned();
            if let Some((barrier, seen, n)) = &gate {
                // Hold the first wave of requests with the old token until all arrived, so
                // they fail together.
                if bearer == access_token(0) && seen.fetch_add(1, Ordering::SeqCst) < *n {
                    barrier.wait().await;
                }
            }
            if accept.as_deref() == Some(bearer.as_str()) {
                Resp::json(200, &json!({ "user": "ada" }))
            } else {
                Resp::json(401, &json!({ "message": "token expired" })).header(
                    "www-authenticate",
                    r#"Bearer realm="api", error="invalid_token""#,
                )
            }
        })
    })
    .await;
    let manager = plain_manager(common::client(&token_server));
    // A token the client believes valid for an hour.
    manager
        .insert(
            "u",
            token(
                &access_token(0),
                Some(&refresh_token(0)),
                Some(SystemTime::now() + Duration::from_secs(3600)),
            ),
        )
        .await
        .unwrap();
    Fixture {
        token_server,
        api,
        manager,
    }
}

const CONCURRENT: usize = 64;

fn api_client(f: &Fixture) -> ApiClient {
    ApiClient::builder(
        f.api.url("/v1"),
        transport(),
        Arc::new(f.manager.grant("u")),
    )
    .build()
    .unwrap()
}

/// S20: a 401 causes one refresh and one retry with the new token.
#[tokio::test]
async fn s20_unauthorized_refreshes_once_and_retries() {
    let f = fixture(Some(access_token(1)), None).await;
    let client = api_client(&f);
    let v: Value = client.get("me").await.unwrap();
    assert_eq!(v["user"], "ada");
    assert_eq!(f.api.hits("/v1/me"), 2);
    assert_eq!(f.token_server.hits("/token"), 1);
    let sent: Vec<_> = f
        .api
        .requests()
        .iter()
        .map(|r| r.bearer().unwrap().to_owned())
        .collect();
    assert_eq!(sent, [access_token(0), access_token(1)]);
    // Later calls use the refreshed token directly.
    let _: Value = client.get("me").await.unwrap();
    assert_eq!(f.api.hits("/v1/me"), 3);
    assert_eq!(f.token_server.hits("/token"), 1);
}

/// S20: two 401s in a row → one refresh, two calls, `Error::Unauthorized`.
#[tokio::test]
async fn s20_two_401s_give_unauthorized_after_one_refresh() {
    let f = fixture(None, None).await;
    let client = api_client(&f);
    match client.get::<Value>("me").await {
        Err(Error::Unauthorized { excerpt }) => assert!(excerpt.contains("token expired")),
        other => panic!("{other:?}"),
    }
    assert_eq!(f.api.hits("/v1/me"), 2);
    assert_eq!(f.token_server.hits("/token"), 1);
}

/// S16/S20: many requests failing with 401 together cause a single refresh.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn s20_concurrent_401s_cause_one_refresh() {
    let f = fixture(Some(access_token(1)), Some(CONCURRENT)).await;
    let client = api_client(&f);
    let tasks: Vec<_> = (0..CONCURRENT)
        .map(|_| {
            let c = client.clone();
            tokio::spawn(async move { c.get::<Value>("me").await })
        })
        .collect();
    for t in tasks {
        assert_eq!(t.await.unwrap().unwrap()["user"], "ada");
    }
    assert_eq!(f.token_server.hits("/token"), 1);
    assert_eq!(f.api.hits("/v1/me"), 2 * CONCURRENT);
}

/// S20: 403 (`insufficient_scope`) is typed and causes no refresh.
#[tokio::test]
async fn s20_forbidden_is_not_refreshed() {
    let f = fixture(None, None).await;
    let api = TestServer::start(|_| {
        Resp::json(403, &json!({"error": "insufficient_scope"})).header(
            "www-authenticate",
            r#"Bearer error="insufficient_scope", scope="admin""#,
        )
    })
    .await;
    let client = ApiClient::builder(api.url("/"), transport(), Arc::new(f.manager.grant("u")))
        .build()
        .unwrap();
    let err = client.get::<Value>("admin").await.unwrap_err();
    assert!(matches!(err, Error::Forbidden { .. }), "{err:?}");
    assert_eq!(api.hits("/admin"), 1);
    assert_eq!(f.token_server.hits("/token"), 0);
}

/// A refresh that fails with `invalid_grant` during a 401 retry surfaces as
/// `ReauthorizationRequired`.
#[tokio::test]
async fn s17_invalid_grant_during_401_retry() {
    let token_server = TestServer::start(|_| common::oauth_error(400, "invalid_grant")).await;
    let api = TestServer::start(|_| Resp::json(401, &json!({}))).await;
    let m = plain_manager(common::client(&token_server));
    m.insert("u", token("AT-live", Some("RT-dead"), None))
        .await
        .unwrap();
    let client = ApiClient::builder(api.url("/"), transport(), Arc::new(m.grant("u")))
        .build()
        .unwrap();
    let err = client.get::<Value>("me").await.unwrap_err();
    assert!(
        matches!(err, Error::ReauthorizationRequired { .. }),
        "{err:?}"
    );
    assert_eq!(api.hits("/me"), 1);
    assert_eq!(token_server.hits("/token"), 1);
    assert!(m.store().load(&m.key("u")).await.unwrap().is_none());
}

/// An API key: sent as is in its header, nothing to renew on 401.
#[tokio::test]
async fn api_key_header_and_no_renewal() {
    let api = TestServer::start(|req| {
        assert_eq!(req.header("x-api-key"), Some("CANARY-api-key"));
        assert!(req.header("authorization").is_none());
        Resp::json(401, &json!({}))
    })
    .await;
    let key = ApiKey::header("X-API-KEY", &common::secret("CANARY-api-key")).unwrap();
    let client = ApiClient::builder(api.url("/"), transport(), Arc::new(key))
        .build()
        .unwrap();
    let err = client
        .get::<Value>("v1/pacific/account.get")
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Unauthorized { .. }), "{err:?}");
    assert_eq!(api.hits("/v1/pacific/account.get"), 1);
}

/// S19: paths that would leave the configured origin (or go above its path) are refused
/// before anything is sent.
#[tokio::test]
async fn s19_other_origins_are_refused() {
    let f = fixture(Some(access_token(0)), None).await;
    let client = api_client(&f);
    for path in [
        "https://evil.example/steal",
        "//evil.example/steal",
        "http://127.0.0.1:1/v1/me",
        "../admin",
        "%2e%2e/admin",
        "/../admin",
    ] {
        match client.get::<Value>(path).await {
            Err(Error::Config(ConfigError::ForeignOrigin(_))) => {}
            // `//evil.example/steal` is made relative (leading slashes trimmed): it stays on
            // the origin, below the base path.
            Ok(_) if path == "//evil.example/steal" => {}
            other => panic!("{path}: {other:?}"),
        }
    }
    let paths: Vec<_> = f.api.requests().iter().map(|r| r.path.clone()).collect();
    assert_eq!(paths, ["/v1/evil.example/steal"]);
    assert_eq!(f.token_server.hits("/token"), 0);
}

fn policy(max_attempts: u32, max_total_wait: Duration, default_wait: Duration) -> RetryPolicy {
    RetryPolicy {
        max_attempts,
        max_total_wait,
        default_wait,
    }
}

/// A key-authenticated client against a server answering the scripted responses in order
/// (the last one repeats).
async fn scripted(script: Vec<Resp>, retry: RetryPolicy) -> (ApiClient, TestServer) {
    let n = Arc::new(AtomicUsize::new(0));
    let server = TestServer::start(move |_| {
        let i = n.fetch_add(1, Ordering::SeqCst);
        script[i.min(script.len() - 1)].clone()
    })
    .await;
    let key = ApiKey::bearer(&common::secret("k")).unwrap();
    let client = ApiClient::builder(server.url("/"), transport(), Arc::new(key))
        .retry(retry)
        .build()
        .unwrap();
    (client, server)
}

fn too_many(retry_after: Option<&str>) -> Resp {
    let r = Resp::json(429, &json!({"message": "slow down"}));
    match retry_after {
        Some(v) => r.header("retry-after", v),
        None => r,
    }
}

fn ok() -> Resp {
    Resp::json(200, &json!({"ok": true}))
}

#[tokio::test]
async fn retry_after_seconds_is_honoured_then_succeeds() {
    let (client, server) = scripted(
        vec![too_many(Some("0")), too_many(Some("0")), ok()],
        policy(3, Duration::from_secs(5), Duration::from_secs(5)),
    )
    .await;
    let v: Value = client.get("x").await.unwrap();
    assert_eq!(v["ok"], true);
    assert_eq!(server.hits("/x"), 3);
}

/// The waits named by `Retry-After` count against the budget: with 1 s allowed in total, a
/// `Retry-After: 1` is waited once, the second one would exceed it → `RateLimited`.
#[tokio::test]
async fn retry_after_counts_against_the_budget() {
    let (client, server) = scripted(
        vec![too_many(Some("1"))],
        policy(5, Duration::from_secs(1), Duration::ZERO),
    )
    .await;
    match client.get::<Value>("x").await {
        Err(Error::RateLimited {
            status: 429,
            attempts: 2,
            retry_after,
        }) => assert_eq!(retry_after, Some(Duration::from_secs(1))),
        other => panic!("{other:?}"),
    }
    assert_eq!(server.hits("/x"), 2);
}

#[tokio::test]
async fn retry_after_http_date() {
    // A date an hour ahead exceeds the budget: no retry, the wait is reported.
    let later = httpdate::fmt_http_date(SystemTime::now() + Duration::from_secs(3600));
    let (client, server) = scripted(
        vec![too_many(Some(&later))],
        policy(3, Duration::from_secs(30), Duration::ZERO),
    )
    .await;
    match client.get::<Value>("x").await {
        Err(Error::RateLimited {
            attempts: 1,
            retry_after: Some(wait),
            ..
        }) => assert!(wait > Duration::from_secs(3500) && wait <= Duration::from_secs(3600)),
        other => panic!("{other:?}"),
    }
    assert_eq!(server.hits("/x"), 1);

    // A date in the past means "now": retried at once.
    let past = httpdate::fmt_http_date(SystemTime::now() - Duration::from_secs(60));
    let (client, server) = scripted(
        vec![too_many(Some(&past)), ok()],
        policy(3, Duration::from_secs(30), Duration::from_secs(30)),
    )
    .await;
    let _: Value = client.get("x").await.unwrap();
    assert_eq!(server.hits("/x"), 2);
}

#[tokio::test]
async fn attempts_are_bounded_and_503_is_retried_too() {
    let (client, server) = scripted(
        vec![Resp::text(503, "busy")],
        policy(3, Duration::from_secs(30), Duration::from_millis(1)),
    )
    .await;
    match client.get::<Value>("x").await {
        Err(Error::RateLimited {
            status: 503,
            attempts: 3,
            retry_after: None,
        }) => {}
        other => panic!("{other:?}"),
    }
    assert_eq!(server.hits("/x"), 3);

    let (client, server) = scripted(vec![too_many(Some("0"))], RetryPolicy::none()).await;
    assert!(matches!(
        client.get::<Value>("x").await,
        Err(Error::RateLimited { attempts: 1, .. })
    ));
    assert_eq!(server.hits("/x"), 1);
}

/// A non-idempotent POST is never retried.
#[tokio::test]
async fn post_is_not_retried() {
    let (client, server) = scripted(
        vec![too_many(Some("0")), ok()],
        policy(3, Duration::from_secs(30), Duration::ZERO),
    )
    .await;
    match client.post::<Value>("orders", json!({"item": 1})).await {
        Err(Error::RateLimited {
            status: 429,
            attempts: 1,
            ..
        }) => {}
        other => panic!("{other:?}"),
    }
    assert_eq!(server.hits("/orders"), 1);
}

/// A hostile `Retry-After` (u64::MAX seconds) after a real wait must not overflow the budget
/// arithmetic (this used to panic with "overflow when adding durations").
#[tokio::test]
async fn huge_retry_after_does_not_panic() {
    let (client, server) = scripted(
        vec![too_many(None), too_many(Some("18446744073709551615"))],
        policy(5, Duration::from_secs(30), Duration::from_secs(1)),
    )
    .await;
    match client.get::<Value>("x").await {
        Err(Error::RateLimited { attempts: 2, .. }) => {}
        other => panic!("{other:?}"),
    }
    assert_eq!(server.hits("/x"), 2);
}

/// An expired token is refreshed before the API call (no 401 round trip).
#[tokio::test]
async fn expired_token_is_refreshed_before_the_call() {
    let f = fixture(Some(access_token(1)), None).await;
    f.manager
        .insert("u", expired(&access_token(0), Some(&refresh_token(0))))
        .await
        .unwrap();
    let client = api_client(&f);
    let _: Value = client.get("me").await.unwrap();
    assert_eq!(f.api.hits("/v1/me"), 1);
    assert_eq!(f.token_server.hits("/token"), 1);
}

/// The retry loop moves between its cases: a 429 is waited out, the retry's 401 goes to the
/// credential (a static key: nothing to renew) and ends the call as `Unauthorized`, with no
/// third request.
#[tokio::test]
async fn throttled_then_unauthorized_with_a_static_key() {
    let (client, server) = scripted(
        vec![
            too_many(Some("0")),
            Resp::json(401, &json!({"message": "bad key"})),
            ok(),
        ],
        policy(3, Duration::from_secs(5), Duration::ZERO),
    )
    .await;
    match client.get::<Value>("x").await {
        Err(Error::Unauthorized { excerpt }) => assert!(excerpt.contains("bad key"), "{excerpt}"),
        other => panic!("{other:?}"),
    }
    assert_eq!(server.hits("/x"), 2);
}
