//! Cancellation safety (SECURITY S16): dropping an API call's future at any await point must
//! never lose a rotated refresh token nor leave the grant's single-flight lock held.
//!
//! Askara rotates refresh tokens. The sandbox issues short-lived access tokens and the SDK's
//! clock jumps past the refresh point before every call, so each call refreshes first. Each
//! iteration drops the call's future at a different moment: after `k` polls (every await point
//! in turn, deterministically) or when a short timer fires (`select!`, 0–5 ms). After every few
//! iterations a call must complete, without `ReauthorizationRequired` and within a bound (a
//! held lock would hang it).
// The docs above come first so the test crate stays documented when the feature is off.
#![cfg(feature = "askara")]
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, SystemTime};

use askara_sdk::{Askara, AskaraClient, Error, MemoryStore};
use oauth_flow::ManualClock;
use sandbox::{Provider, Sandbox};

const TOKEN_ROUTE: &str = "/askara/oauth2/token";
/// Access token lifetime in the sandbox, and the SDK clock's step before each call: past the
/// 60 s refresh margin, while the sandbox (whose clock stays) still accepts the token.
const LIFETIME: u64 = 120;
const STEP: Duration = Duration::from_secs(100);
const ITERATIONS: usize = 400;
/// A call that takes longer than this is taken for a hang (a lock left held).
const HANG: Duration = Duration::from_secs(10);

/// Polls the inner future at most `polls` times, then drops it: cancellation at the
/// `polls`-th await point.
struct CancelAfter<F> {
    inner: Option<Pin<Box<F>>>,
    polls: usize,
}

impl<F: Future> Future for CancelAfter<F> {
    /// `None` when cancelled.
    type Output = Option<F::Output>;
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        if self.polls == 0 {
            self.inner = None;
            return Poll::Ready(None);
        }
        self.polls -= 1;
        match self.inner.as_mut().unwrap().as_mut().poll(cx) {
            Poll::Ready(out) => Poll::Ready(Some(out)),
            Poll::Pending => Poll::Pending,
        }
    }
}

async fn must_complete(client: &AskaraClient, when: &str) {
    match tokio::time::timeout(HANG, client.profile()).await {
        Ok(Ok(_)) => {}
        Ok(Err(e @ Error::ReauthorizationRequired { .. })) => {
            panic!("{when}: the rotated refresh token was lost: {e}")
        }
        Ok(Err(e)) => panic!("{when}: {e:?}"),
        Err(_) => panic!("{when}: the call hung (single-flight lock held?)"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dropping_api_calls_at_any_await_point_keeps_the_grant_usable() {
    let sb = Sandbox::start().await.unwrap();
    sb.set_access_token_lifetime(Provider::Askara, LIFETIME);
    let clock = Arc::new(ManualClock::new(SystemTime::now()));
    let creds = &sb.credentials().askara;
    let askara = Askara::builder(
        creds.client_id.as_str(),
        creds.client_secret.as_str(),
        sb.credentials().redirect_uri.as_str(),
    )
    .base_url(sb.url(Provider::Askara))
    .store(Arc::new(MemoryStore::new()))
    .clock(clock.clone())
    .build()
    .unwrap();
    let (url, pending) = askara.authorize_url().unwrap();
    let callback = sb.approve(url.as_str()).await.unwrap();
    let client = askara.complete("user-1", pending, &callback).await.unwrap();

    let (mut cancelled, mut completed) = (0, 0);
    for i in 0..ITERATIONS {
        clock.advance(STEP);
        let outcome = if i % 2 == 0 {
            let polls = (i / 2) % 48;
            CancelAfter {
                inner: Some(Box::pin(client.profile())),
                polls,
            }
            .await
        } else {
            // Spread over 0–5 ms without a random source: 7919 is prime to 5000.
            let after = Duration::from_micros((i as u64 * 7919) % 5_000);
            tokio::select! {
                out = client.profile() => Some(out),
                () = tokio::time::sleep(after) => None,
            }
        };
        match outcome {
            None => cancelled += 1,
            Some(Ok(_)) => completed += 1,
            Some(Err(e @ Error::ReauthorizationRequired { .. })) => {
                panic!("iteration {i}: the rotated refresh token was lost: {e}")
            }
            Some(Err(e)) => panic!("iteration {i}: {e:?}"),
        }
        if i % 10 == 9 {
            must_complete(&client, &format!("after iteration {i}")).await;
        }
    }
    must_complete(&client, "at the end").await;
    client.refresh().await.unwrap();
    println!(
        "{ITERATIONS} calls: {cancelled} dropped mid-flight, {completed} completed; {} token \
         requests; the grant still refreshes and serves calls",
        sb.calls(TOKEN_ROUTE)
    );
    // How many calls the timers cut depends on the machine's speed; a twentieth proves the point.
    assert!(cancelled > ITERATIONS / 20, "the test must cancel calls");
}
