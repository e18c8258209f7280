//! Short-lived access tokens (issue 18, part 1): a token that lives no longer than the refresh
//! margin is not due on arrival (the margin is capped at half its lifetime), and callers that
//! waited for a refresh take its token instead of judging it due again, so neither sequential
//! calls nor a crowd on an expired token cause more than one refresh.
//!
//! SECURITY: S16 (single-flight), S21 (margin, injectable clock).
// Test code: helpers outside `#[test]` fns unwrap too (clippy.toml covers only test fns).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, SystemTime};

use common::{Resp, TestServer, authorized_code, secret_of, t0, token_body, transport};
use oauth_flow::{GrantHandle, ManualClock, TokenManager};

const LIFETIMES: [u64; 5] = [1, 5, 30, 60, 3600];

/// A token endpoint issuing `AT-n`/`RT-n` tokens that live `lifetime` seconds, for every grant
/// type, after `latency`. Counts what it issued.
async fn server(lifetime: u64, latency: Duration) -> (TestServer, Arc<AtomicUsize>) {
    let issued = Arc::new(AtomicUsize::new(0));
    let n = issued.clone();
    let server = TestServer::start(move |_req| {
        let i = n.fetch_add(1, Ordering::SeqCst);
        Resp::json(
            200,
            &token_body(&format!("AT-{i}"), Some(&format!("RT-{i}")), Some(lifetime)),
        )
        .delay(latency)
    })
    .await;
    (server, issued)
}

fn manager(server: &TestServer, clock: &Arc<ManualClock>) -> TokenManager {
    TokenManager::builder(common::client(server), transport())
        .clock(clock.clone())
        .build()
        .unwrap()
}

/// The handle to test: an authorization-code grant after its exchange, or a client-credentials
/// handle after its first token. Either way one token was issued.
async fn first_token(m: &TokenManager, client_credentials: bool) -> GrantHandle {
    if client_credentials {
        let h = m.client_credentials(&["read"]);
        h.access_token().await.unwrap();
        h
    } else {
        m.exchange_code("u", authorized_code(m.client()))
            .await
            .unwrap()
    }
}

/// Sequential calls spread over the first half of a token's life make no refresh; the first
/// call after its expiry makes exactly one; and the same holds for the new token. Both grant
/// kinds, lifetimes from 1 s to an hour (the default margin is 60 s).
#[tokio::test]
async fn sequential_calls_within_a_lifetime_make_no_extra_refresh() {
    for client_credentials in [false, true] {
        for lifetime in LIFETIMES {
            let (server, issued) = server(lifetime, Duration::ZERO).await;
            let clock = Arc::new(ManualClock::new(t0()));
            let m = manager(&server, &clock);
            let h = first_token(&m, client_credentials).await;
            let what = format!("lifetime {lifetime} s, client credentials: {client_credentials}");

            let step = Duration::from_secs(lifetime) / 2 / 10;
            for _ in 0..10 {
                assert_eq!(
                    secret_of(&h.access_token().await.unwrap()),
                    "AT-0",
                    "{what}"
                );
                clock.advance(step);
            }
            assert_eq!(issued.load(Ordering::SeqCst), 1, "{what}: no refresh");

            clock.set(t0() + Duration::from_secs(lifetime));
            assert_eq!(
                secret_of(&h.access_token().await.unwrap()),
                "AT-1",
                "{what}"
            );
            for _ in 0..10 {
                assert_eq!(
                    secret_of(&h.access_token().await.unwrap()),
                    "AT-1",
                    "{what}"
                );
                clock.advance(step);
            }
            assert_eq!(issued.load(Ordering::SeqCst), 2, "{what}: one refresh");
        }
    }
}

/// 200 concurrent callers on an expired token make exactly one refresh, and all get its
/// token, for both grant kinds and every lifetime.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_hundred_callers_on_an_expired_token_make_one_refresh() {
    for client_credentials in [false, true] {
        for lifetime in LIFETIMES {
            let (server, issued) = server(lifetime, Duration::from_millis(20)).await;
            let clock = Arc::new(ManualClock::new(t0()));
            let m = manager(&server, &clock);
            let h = first_token(&m, client_credentials).await;
            clock.set(t0() + Duration::from_secs(lifetime + 1));
            let got = crowd(&h, 200).await;
            let what = format!("lifetime {lifetime} s, client credentials: {client_credentials}");
            assert!(got.iter().all(|t| t == "AT-1"), "{what}: {got:?}");
            assert_eq!(issued.load(Ordering::SeqCst), 2, "{what}: one refresh");
        }
    }
}

/// The token arrives already past half its life (the server takes 600 ms for a 1 s token, on
/// the real clock): it is due on arrival, yet the callers that waited for it take it rather
/// than refreshing one after another.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn waiters_take_a_token_that_is_due_on_arrival() {
    for client_credentials in [false, true] {
        let (server, issued) = server(1, Duration::from_millis(600)).await;
        let m = TokenManager::builder(common::client(&server), transport())
            .build()
            .unwrap();
        let h = first_token(&m, client_credentials).await;
        // Past AT-0's expiry: the crowd needs a refresh.
        tokio::time::sleep(Duration::from_millis(1100)).await;
        let got = crowd(&h, 200).await;
        assert!(got.iter().all(|t| t == "AT-1"), "{got:?}");
        assert_eq!(issued.load(Ordering::SeqCst), 2, "cc: {client_credentials}");
        let due = h.token().await.unwrap().unwrap();
        assert!(due.is_due(Duration::from_secs(60), SystemTime::now()));
    }
}

async fn crowd(h: &GrantHandle, callers: usize) -> Vec<String> {
    let barrier = Arc::new(tokio::sync::Barrier::new(callers));
    let tasks: Vec<_> = (0..callers)
        .map(|_| {
            let (h, barrier) = (h.clone(), barrier.clone());
            tokio::spawn(async move {
                barrier.wait().await;
                h.access_token().await
            })
        })
        .collect();
    let mut out = Vec::new();
    for t in tasks {
        out.push(secret_of(&t.await.unwrap().unwrap()));
    }
    out
}

/// The margin is capped at half the lifetime only when the lifetime is known: a token without
/// `issued_at` (stored by an earlier version) keeps the configured margin.
#[test]
fn refresh_due_caps_the_margin_at_half_the_lifetime() {
    let margin = Duration::from_secs(60);
    let mut t = common::token("a", None, Some(t0() + Duration::from_secs(30)));
    assert_eq!(t.refresh_due(margin), Some(t0() - Duration::from_secs(30)));
    t.issued_at = Some(t0());
    assert_eq!(t.refresh_due(margin), Some(t0() + Duration::from_secs(15)));
    t.expires_at = Some(t0() + Duration::from_secs(3600));
    assert_eq!(
        t.refresh_due(margin),
        Some(t0() + Duration::from_secs(3540))
    );
    t.expires_at = None;
    assert_eq!(t.refresh_due(margin), None);
}
