//! Refresh-token reuse detection (S28; RFC 9700 §4.14.2) over raw HTTP: a rotated refresh token
//! sent again is refused and revokes every token its grant issued after it, unless the switch
//! turns detection off.
// Test helpers outside #[test] fns panic on purpose.
#![allow(clippy::unwrap_used)]

mod common;

use common::*;
use sandbox::{Provider, Sandbox};
use serde_json::{Value, json};

/// Access and refresh token of a token response.
fn pair(body: &Value) -> (String, String) {
    (
        body["access_token"].as_str().unwrap().to_owned(),
        body["refresh_token"].as_str().unwrap().to_owned(),
    )
}

async fn askara_refresh(sb: &Sandbox, refresh: &str) -> reqwest::Response {
    askara_token(
        sb,
        json!({ "grant_type": "refresh_token", "refresh_token": refresh }),
    )
    .await
}

async fn askara_profile(sb: &Sandbox, access: &str) -> reqwest::Response {
    client()
        .get(format!("{}/v1/profile", sb.url(Provider::Askara)))
        .bearer_auth(access)
        .send()
        .await
        .unwrap()
}

/// A fresh Askara grant: `(access, refresh)` from the code exchange.
async fn askara_grant(sb: &Sandbox) -> (String, String) {
    let code = askara_code(sb, "").await;
    let r = askara_token(
        sb,
        json!({ "grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT }),
    )
    .await;
    assert_eq!(r.status(), 200);
    pair(&json(r).await)
}

#[tokio::test]
async fn s28_askara_reuse_revokes_the_tokens_issued_after_it() {
    let sb = Sandbox::start().await.unwrap();
    let (a1, r1) = askara_grant(&sb).await;
    let (a2, r2) = pair(&json(askara_refresh(&sb, &r1).await).await);
    let (a3, r3) = pair(&json(askara_refresh(&sb, &r2).await).await);
    assert_eq!(askara_profile(&sb, &a3).await.status(), 200);
    assert_eq!(sb.reuse_detections(), 0);

    // r2 was rotated into r3: its second use is the double spend.
    let again = askara_refresh(&sb, &r2).await;
    assert_eq!(again.status(), 400);
    assert_eq!(json(again).await["error"], "invalid_grant");
    assert_eq!(sb.reuse_detections(), 1);

    // Everything issued after r2 is dead: the newer access token and the newer refresh token.
    let api = askara_profile(&sb, &a3).await;
    assert_eq!(api.status(), 401);
    assert_eq!(json(api).await["error"], "invalid_token");
    let newer = askara_refresh(&sb, &r3).await;
    assert_eq!(newer.status(), 400);
    assert_eq!(json(newer).await["error"], "invalid_grant");

    // Tokens issued before r2's rotation are left as they were (a1, a2 unexpired).
    assert_eq!(askara_profile(&sb, &a1).await.status(), 200);
    assert_eq!(askara_profile(&sb, &a2).await.status(), 200);
    // Refusing r3 (revoked, not rotated) is no second detection.
    assert_eq!(sb.reuse_detections(), 1);
}

#[tokio::test]
async fn s28_askara_reuse_leaves_other_grants_alone() {
    let sb = Sandbox::start().await.unwrap();
    let (_, mine) = askara_grant(&sb).await;
    let (_, other) = askara_grant(&sb).await;
    let (other_access, other_next) = pair(&json(askara_refresh(&sb, &other).await).await);
    let (_, mine_next) = pair(&json(askara_refresh(&sb, &mine).await).await);

    assert_eq!(askara_refresh(&sb, &mine).await.status(), 400);
    assert_eq!(sb.reuse_detections(), 1);
    assert_eq!(askara_refresh(&sb, &mine_next).await.status(), 400);
    // The other grant's newest tokens still work.
    assert_eq!(askara_profile(&sb, &other_access).await.status(), 200);
    assert_eq!(askara_refresh(&sb, &other_next).await.status(), 200);
}

#[tokio::test]
async fn askara_reuse_detection_off_keeps_todays_behaviour() {
    let sb = Sandbox::start().await.unwrap();
    sb.set_reuse_detection(Provider::Askara, false);
    let (_, r1) = askara_grant(&sb).await;
    let (a2, r2) = pair(&json(askara_refresh(&sb, &r1).await).await);

    let again = askara_refresh(&sb, &r1).await;
    assert_eq!(again.status(), 400);
    assert_eq!(json(again).await["error"], "invalid_grant");
    assert_eq!(sb.reuse_detections(), 0);
    assert_eq!(askara_profile(&sb, &a2).await.status(), 200);
    assert_eq!(askara_refresh(&sb, &r2).await.status(), 200);
}

#[tokio::test]
async fn reuse_detection_switch_over_http_settings() {
    let sb = Sandbox::start().await.unwrap();
    let settings = |body: Value| {
        let url = format!("{}/_sandbox/settings", sb.base_url());
        async move { json(client().post(url).json(&body).send().await.unwrap()).await }
    };
    let s = settings(json!({ "provider": "askara" })).await;
    assert_eq!(s["reuse_detection"], true, "on by default");
    let s = settings(json!({ "provider": "askara", "reuse_detection": false })).await;
    assert_eq!(s["reuse_detection"], false);

    let (_, r1) = askara_grant(&sb).await;
    let (a2, _) = pair(&json(askara_refresh(&sb, &r1).await).await);
    assert_eq!(askara_refresh(&sb, &r1).await.status(), 400);
    assert_eq!(askara_profile(&sb, &a2).await.status(), 200);

    let s = settings(json!({ "provider": "askara", "reuse_detection": true })).await;
    assert_eq!(s["reuse_detection"], true);
    assert_eq!(askara_refresh(&sb, &r1).await.status(), 400);
    assert_eq!(askara_profile(&sb, &a2).await.status(), 401);
    let count = json(
        client()
            .get(format!("{}/_sandbox/reuse_detections", sb.base_url()))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(count["count"], 1);
}

/// A Kustomer app's grant with `offline_access`: `(app, access, refresh)`.
async fn kustomer_grant(sb: &Sandbox) -> (KApp, String, String) {
    let app = kustomer_register(sb, "reuse").await;
    sb.install_kustomer_app(&app.name).unwrap();
    let cb = sb
        .approve(kustomer_authorize_url(
            sb,
            &app,
            "org.permission.customer+offline_access",
        ))
        .await
        .unwrap();
    let code = param(&cb, "code").unwrap();
    let r = kustomer_token(
        sb,
        &app,
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", REDIRECT),
        ],
    )
    .await;
    assert_eq!(r.status(), 200);
    let (access, refresh) = pair(&json(r).await);
    (app, access, refresh)
}

async fn kustomer_refresh(sb: &Sandbox, app: &KApp, refresh: &str) -> reqwest::Response {
    kustomer_token(
        sb,
        app,
        &[("grant_type", "refresh_token"), ("refresh_token", refresh)],
    )
    .await
}

async fn kustomer_customers(sb: &Sandbox, access: &str) -> reqwest::StatusCode {
    client()
        .get(format!("{}/v1/customers", sb.url(Provider::Kustomer)))
        .bearer_auth(access)
        .send()
        .await
        .unwrap()
        .status()
}

#[tokio::test]
async fn s28_kustomer_reuse_revokes_the_tokens_issued_after_it() {
    let sb = Sandbox::start().await.unwrap();
    let (app, a1, r1) = kustomer_grant(&sb).await;
    let (a2, r2) = pair(&json(kustomer_refresh(&sb, &app, &r1).await).await);
    assert_eq!(kustomer_customers(&sb, &a2).await, 200);

    let again = kustomer_refresh(&sb, &app, &r1).await;
    assert_eq!(again.status(), 400);
    assert_eq!(json(again).await["error"], "invalid_grant");
    assert_eq!(sb.reuse_detections(), 1);
    assert_eq!(kustomer_customers(&sb, &a2).await, 401);
    let newer = kustomer_refresh(&sb, &app, &r2).await;
    assert_eq!(json(newer).await["error"], "invalid_grant");
    assert_eq!(kustomer_customers(&sb, &a1).await, 200);
}

#[tokio::test]
async fn kustomer_reuse_detection_off_keeps_todays_behaviour() {
    let sb = Sandbox::start().await.unwrap();
    sb.set_reuse_detection(Provider::Kustomer, false);
    let (app, _, r1) = kustomer_grant(&sb).await;
    let (a2, r2) = pair(&json(kustomer_refresh(&sb, &app, &r1).await).await);

    let again = kustomer_refresh(&sb, &app, &r1).await;
    assert_eq!(json(again).await["error"], "invalid_grant");
    assert_eq!(sb.reuse_detections(), 0);
    assert_eq!(kustomer_customers(&sb, &a2).await, 200);
    assert_eq!(kustomer_refresh(&sb, &app, &r2).await.status(), 200);
}
