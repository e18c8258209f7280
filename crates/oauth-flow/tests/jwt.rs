//! Self-signed JWT credentials (feature `jwt`): signed once per lifetime across many calls and
//! threads, re-minted near `exp`, attached as a bearer by the API client.
//!
//! SECURITY: S22 (HS256 header), S23 (short key warns once, no key material), S24 (reuse until
//! `exp` - margin, then mint anew), S25 (no key in logs).
#![cfg(feature = "jwt")]
// Test code: helpers outside `#[test]` fns unwrap too (clippy.toml covers only test fns).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::{Capture, Resp, TestServer, capturing_dispatch, secret, t0, transport};
use oauth_flow::{ApiClient, CredentialSource, ExposeSecret, JwtSigner, ManualClock};
use serde_json::{Value, json};

const CAP: Duration = Duration::from_secs(21600);
const KEY: &str = "CANARY-jwt-signing-key-0123456789abcdef";

fn mints(capture: &Capture) -> usize {
    capture.text().matches("minted a self-signed JWT").count()
}

/// N calls from several threads within one lifetime → one signature; near `exp` → a new one.
#[test]
fn s24_signed_once_per_lifetime_across_threads() {
    let capture = Capture::default();
    let dispatch = capturing_dispatch(&capture);
    let clock = Arc::new(ManualClock::new(t0()));
    let signer = Arc::new(
        JwtSigner::new("api-key", &secret(KEY), Duration::from_secs(21600), CAP)
            .unwrap()
            .with_clock(clock.clone()),
    );
    let first = signer.token().unwrap();
    let threads: Vec<_> = (0..4)
        .map(|_| {
            let (signer, dispatch, first) = (signer.clone(), dispatch.clone(), first.clone());
            std::thread::spawn(move || {
                tracing::dispatcher::with_default(&dispatch, || {
                    for _ in 0..2500 {
                        assert!(signer.token().unwrap().same_as(&first));
                    }
                })
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    tracing::dispatcher::with_default(&dispatch, || {
        clock.advance(Duration::from_secs(21600 - 61));
        assert!(signer.token().unwrap().same_as(&first));
        assert_eq!(
            mints(&capture),
            0,
            "the first token was minted before capturing"
        );
        clock.advance(Duration::from_secs(31)); // exp - 30 s
        let second = signer.token().unwrap();
        assert!(!second.same_as(&first));
        for _ in 0..1000 {
            assert!(signer.token().unwrap().same_as(&second));
        }
    });
    assert_eq!(mints(&capture), 1);
    assert!(!capture.text().contains(KEY));
}

/// Through the API client: every request carries the same JWT, signed once.
#[tokio::test]
async fn s22_api_calls_share_one_jwt() {
    let capture = Capture::default();
    let _guard = tracing::dispatcher::set_default(&capturing_dispatch(&capture));
    let server = TestServer::start(|req| {
        let jwt = req.bearer().unwrap();
        let header = jwt.split('.').next().unwrap();
        assert_eq!(header, "eyJ0eXAiOiJKV1QiLCJhbGciOiJIUzI1NiJ9"); // {"typ":"JWT","alg":"HS256"}
        Resp::json(200, &json!({"data": {}}))
    })
    .await;
    let signer =
        Arc::new(JwtSigner::new("api-key", &secret(KEY), Duration::from_secs(3600), CAP).unwrap());
    let client = ApiClient::builder(server.url("/api"), transport(), signer.clone())
        .build()
        .unwrap();
    for _ in 0..100 {
        let _: Value = client
            .post("", json!({"query": "{ viewer { id } }"}))
            .await
            .unwrap();
    }
    let tokens: std::collections::HashSet<String> = server
        .requests()
        .iter()
        .map(|r| r.bearer().unwrap().to_owned())
        .collect();
    assert_eq!(tokens.len(), 1);
    assert_eq!(mints(&capture), 1);
    let auth = signer.authorization().await.unwrap();
    assert!(auth.value.is_sensitive());
    assert_eq!(
        auth.token.unwrap().secret().expose_secret(),
        tokens.iter().next().unwrap()
    );
    assert!(!capture.text().contains(KEY));
}

/// S23: a short provider-issued key signs and warns, without key material in the log.
#[test]
fn s23_short_key_warns_without_key_material() {
    let capture = Capture::default();
    tracing::dispatcher::with_default(&capturing_dispatch(&capture), || {
        let s = JwtSigner::new(
            "k",
            &secret("CANARY-23-bytes-key!!!!"),
            Duration::from_secs(60),
            CAP,
        )
        .unwrap();
        assert!(s.token().is_ok());
    });
    let log = capture.text();
    assert_eq!(log.matches("shorter than 256 bits").count(), 1, "{log}");
    assert!(!log.contains("CANARY"));
}
