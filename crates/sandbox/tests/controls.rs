//! Test controls: faults (S9, S10, S13), call counters, clock and settings, over Rust and HTTP.
// Test helpers outside #[test] fns panic on purpose.
#![allow(clippy::unwrap_used)]

mod common;

use std::time::{Duration, Instant};

use common::*;
use sandbox::{Fault, Provider, Sandbox};
use serde_json::json;

const TOKEN: &str = "/konpro/v1/oauth/token";

async fn post_token(sb: &Sandbox) -> reqwest::Response {
    client()
        .post(format!("{}{TOKEN}", sb.base_url()))
        .form(&[
            ("grant_type", "authorization_code"),
            ("client_id", "x"),
            ("code", "y"),
        ])
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn fault_status_then_normal_and_counted() {
    let sb = Sandbox::start().await.unwrap();
    sb.inject(TOKEN, Fault::Status(503), 2);
    for _ in 0..2 {
        let r = post_token(&sb).await;
        assert_eq!(r.status(), 503);
        assert_eq!(json(r).await["error"], "temporarily_unavailable");
    }
    let r = post_token(&sb).await;
    assert_eq!(r.status(), 401); // the real handler: unknown client
    assert_eq!(sb.calls(TOKEN), 3);
    sb.reset_calls();
    assert_eq!(sb.calls(TOKEN), 0);
}

#[tokio::test]
async fn fault_delay_then_handled() {
    let sb = Sandbox::start().await.unwrap();
    sb.inject(TOKEN, Fault::Delay(Duration::from_millis(300)), 1);
    let t = Instant::now();
    let r = post_token(&sb).await;
    assert!(t.elapsed() >= Duration::from_millis(300));
    assert_eq!(json(r).await["error"], "invalid_client");
}

#[tokio::test]
async fn s10_fault_delay_lets_client_time_out() {
    let sb = Sandbox::start().await.unwrap();
    sb.inject(TOKEN, Fault::Delay(Duration::from_secs(5)), 1);
    let err = client()
        .post(format!("{}{TOKEN}", sb.base_url()))
        .timeout(Duration::from_millis(200))
        .send()
        .await
        .unwrap_err();
    assert!(err.is_timeout());
}

#[tokio::test]
async fn fault_malformed_json() {
    let sb = Sandbox::start().await.unwrap();
    sb.inject(TOKEN, Fault::MalformedJson, 1);
    let r = post_token(&sb).await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "application/json");
    assert!(serde_json::from_str::<serde_json::Value>(&r.text().await.unwrap()).is_err());
}

#[tokio::test]
async fn s13_fault_html_error_page() {
    let sb = Sandbox::start().await.unwrap();
    sb.inject(TOKEN, Fault::HtmlError(502), 1);
    let r = post_token(&sb).await;
    assert_eq!(r.status(), 502);
    assert!(
        r.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    assert!(r.text().await.unwrap().contains("502 Bad Gateway"));
}

#[tokio::test]
async fn s10_fault_oversized_body() {
    let sb = Sandbox::start().await.unwrap();
    sb.inject(TOKEN, Fault::Oversized(100_000), 1);
    let r = post_token(&sb).await;
    assert_eq!(r.content_length(), Some(100_000));
    assert_eq!(r.bytes().await.unwrap().len(), 100_000);
}

#[tokio::test]
async fn s9_fault_redirect_is_not_followed() {
    let sb = Sandbox::start().await.unwrap();
    let target = format!("{}/konpro/v1/oauth/refresh_token", sb.base_url());
    sb.inject(
        TOKEN,
        Fault::Redirect {
            status: 307,
            location: target.clone(),
        },
        1,
    );
    let r = post_token(&sb).await;
    assert_eq!(r.status(), 307);
    assert_eq!(r.headers()["location"], target.as_str());
    assert_eq!(sb.calls("/konpro/v1/oauth/refresh_token"), 0);
}

/// The connection drops after the headers and the first bytes of a chunked body: the status
/// arrives, reading the body fails, and the next call is handled normally.
#[tokio::test]
async fn fault_reset_mid_body() {
    let sb = Sandbox::start().await.unwrap();
    sb.inject(TOKEN, Fault::ResetMidBody, 1);
    let r = post_token(&sb).await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.content_length(), None, "chunked: no length announced");
    assert!(r.bytes().await.is_err(), "the body never completes");
    assert_eq!(post_token(&sb).await.status(), 401);
}

/// `Content-Length` promises 64 bytes more than are sent before the connection closes.
#[tokio::test]
async fn fault_truncated_body() {
    let sb = Sandbox::start().await.unwrap();
    sb.inject(TOKEN, Fault::TruncatedBody, 1);
    let r = post_token(&sb).await;
    assert_eq!(r.status(), 200);
    let promised = r.content_length().unwrap();
    let err = r.bytes().await.unwrap_err();
    assert!(err.is_body() || err.is_decode(), "{err:?}");
    assert!(promised > 64);
    assert_eq!(post_token(&sb).await.status(), 401);
}

/// Also injected over HTTP, with the wire names of the three kinds.
#[tokio::test]
async fn fault_empty_ok() {
    let sb = Sandbox::start().await.unwrap();
    for kind in ["empty_ok", "truncated_body", "reset_mid_body"] {
        let r = client()
            .post(format!("{}/_sandbox/faults", sb.base_url()))
            .json(&json!({ "route": TOKEN, "fault": { "kind": kind } }))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "{kind}");
    }
    let r = post_token(&sb).await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "application/json");
    assert!(r.bytes().await.unwrap().is_empty());
    for _ in 0..2 {
        assert!(post_token(&sb).await.bytes().await.is_err());
    }
    assert_eq!(post_token(&sb).await.status(), 401);
}

#[tokio::test]
async fn fault_retry_after_seconds_and_http_date() {
    let sb = Sandbox::start().await.unwrap();
    let route = "/kustomer/v1/customers";
    sb.inject(
        route,
        Fault::RetryAfter {
            status: 429,
            value: "2".into(),
        },
        1,
    );
    sb.inject(
        route,
        Fault::RetryAfter {
            status: 503,
            value: "Wed, 21 Oct 2015 07:28:00 GMT".into(),
        },
        1,
    );
    let key = sb.credentials().kustomer.api_key.clone();
    let url = format!("{}{route}", sb.base_url());
    let r = client().get(&url).bearer_auth(&key).send().await.unwrap();
    assert_eq!(r.status(), 429);
    assert_eq!(r.headers()["retry-after"], "2");
    let r = client().get(&url).bearer_auth(&key).send().await.unwrap();
    assert_eq!(r.status(), 503);
    assert_eq!(r.headers()["retry-after"], "Wed, 21 Oct 2015 07:28:00 GMT");
    assert_eq!(
        client()
            .get(&url)
            .bearer_auth(&key)
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    assert_eq!(sb.calls(route), 3);
}

#[tokio::test]
async fn counters_use_route_patterns() {
    let sb = Sandbox::start().await.unwrap();
    let key = sb.credentials().kustomer.api_key.clone();
    let base = sb.url(Provider::Kustomer);
    let list = json(
        client()
            .get(format!("{base}/v1/customers"))
            .bearer_auth(&key)
            .send()
            .await
            .unwrap(),
    )
    .await;
    for c in list["data"].as_array().unwrap().iter().take(3) {
        let id = c["id"].as_str().unwrap();
        client()
            .get(format!("{base}/v1/customers/{id}"))
            .bearer_auth(&key)
            .send()
            .await
            .unwrap();
    }
    assert_eq!(sb.calls("/kustomer/v1/customers/{id}"), 3);
    assert_eq!(sb.calls("/kustomer/v1/customers"), 1);
    // The trailing-slash variant counts with the plain route.
    client()
        .post(format!("{base}/v1/apps/available/x/secret/"))
        .bearer_auth(&key)
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(sb.calls("/kustomer/v1/apps/available/{app}/secret"), 1);
}

#[tokio::test]
async fn http_controls_faults_calls_clock_settings() {
    let sb = Sandbox::start().await.unwrap();
    let base = sb.base_url();
    let c = client();
    let r = c
        .post(format!("{base}/_sandbox/faults"))
        .json(&json!({ "route": TOKEN, "times": 1, "fault": { "kind": "status", "status": 500 } }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(post_token(&sb).await.status(), 500);
    let calls = json(
        c.get(format!("{base}/_sandbox/calls?route={}", enc(TOKEN)))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(calls["count"], 1);
    let all = json(
        c.get(format!("{base}/_sandbox/calls"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(all["calls"][TOKEN], 1);
    c.delete(format!("{base}/_sandbox/calls"))
        .send()
        .await
        .unwrap();
    assert_eq!(sb.calls(TOKEN), 0);

    let before = sb.now();
    let adv = json(
        c.post(format!("{base}/_sandbox/clock/advance"))
            .json(&json!({ "seconds": 100 }))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert!(adv["now"].as_i64().unwrap() >= before + 100);

    let s = json(
        c.post(format!("{base}/_sandbox/settings"))
            .json(&json!({ "provider": "konpro", "access_token_lifetime": 5, "omit_expires_in": false }))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(s["access_token_lifetime"], 5);
    let (code, verifier) = konpro_code(&sb).await;
    assert_eq!(
        json(konpro_exchange(&sb, &code, &verifier).await).await["expires_in"],
        5
    );

    let creds = json(
        c.get(format!("{base}/_sandbox/credentials"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(creds["redirect_uri"], REDIRECT);
    let bad = c
        .post(format!("{base}/_sandbox/faults"))
        .body("nope")
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 400);
}

#[tokio::test]
async fn kustomer_install_over_http() {
    let sb = Sandbox::start().await.unwrap();
    let base = sb.base_url();
    let r = client()
        .post(format!("{base}/kustomer/_sandbox/apps/nothing/install"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    client()
        .post(format!("{}/v1/apps/available", sb.url(Provider::Kustomer)))
        .bearer_auth(&sb.credentials().kustomer.api_key)
        .json(&json!({ "app": "viahttp", "version": "1.0.0", "visibility": "private" }))
        .send()
        .await
        .unwrap();
    let r = client()
        .post(format!("{base}/kustomer/_sandbox/apps/viahttp/install"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(json(r).await["installed"], true);
    assert!(sb.install_kustomer_app("unknown").is_err());
}

#[tokio::test]
async fn unknown_routes_are_json_404() {
    let sb = Sandbox::start().await.unwrap();
    let r = client()
        .get(format!("{}/nope", sb.base_url()))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    assert_eq!(json(r).await["error"], "not_found");
}
