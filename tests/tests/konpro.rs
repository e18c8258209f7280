#![cfg(feature = "konpro")]
// A test binary: helpers outside `#[test]` functions panic on unexpected values on purpose.
#![allow(clippy::unwrap_used)]
//! KonPro end to end: the SDK's public API against the in-process sandbox (loopback only).
//!
//! Login (authorize → approve → callback → exchange), account.get in both authentication modes,
//! proactive and 401-driven refreshes at the separate refresh endpoint (counted), callback
//! attacks rejected with zero token calls, faults, persistence and many users on one client.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use konpro_sdk::{
    Account, AccountGet, ApiRequest, AuthMode, CallbackError, Error, ErrorCode, FileStore, KonPro,
    KonProClient, SecretString, Token, TokenStore, Url,
};
use oauth_flow::{ExposeSecret, ManualClock, RetryPolicy};
use sandbox::{Fault, Provider, Sandbox};
use serde_json::{Map, Value};

const AUTHORIZE: &str = "/konpro/oauth/authorize";
const TOKEN: &str = "/konpro/v1/oauth/token";
const REFRESH: &str = "/konpro/v1/oauth/refresh_token";
const ACCOUNT: &str = "/konpro/v1/pacific/account.get";

/// The email of the user who approves on the sandbox's consent page.
const SANDBOX_EMAIL: &str = "jamie.rivera@example.com";

async fn sandbox() -> Sandbox {
    Sandbox::start().await.unwrap()
}

fn builder(sb: &Sandbox) -> konpro_sdk::KonProBuilder {
    let creds = sb.credentials();
    KonPro::builder(&creds.konpro.client_id, &creds.redirect_uri).base_url(sb.url(Provider::KonPro))
}

fn konpro(sb: &Sandbox) -> KonPro {
    builder(sb).build().unwrap()
}

/// A KonPro client whose notion of "now" the test moves (SECURITY S21).
fn konpro_with_clock(sb: &Sandbox) -> (KonPro, Arc<ManualClock>) {
    let clock = Arc::new(ManualClock::new(SystemTime::now()));
    (builder(sb).clock(clock.clone()).build().unwrap(), clock)
}

fn api_key(sb: &Sandbox) -> SecretString {
    SecretString::from(sb.credentials().konpro.api_key.clone())
}

/// Authorize URL → the sandbox approves like a browser → callback → code exchange.
async fn login(sb: &Sandbox, konpro: &KonPro, subject: &str) -> KonProClient {
    let (url, pending) = konpro.authorize_url().unwrap();
    let callback = sb.approve(url.as_str()).await.unwrap();
    konpro.complete(subject, pending, &callback).await.unwrap()
}

fn assert_sandbox_account(account: &Account) {
    assert_eq!(account.email(), Some(SANDBOX_EMAIL));
    let user = account.user.as_ref().unwrap();
    assert_eq!(user.subscription_status.as_deref(), Some("active"));
    assert!(user.registered_at.is_some());
    let plan = account.user_plan.as_ref().unwrap();
    assert_eq!(plan.tier.as_deref(), Some("pro"));
    assert!(plan.expires_at.is_some());
    assert!(plan.quotas["api_calls"].limit.is_some());
    let space = account.space_info.as_ref().unwrap();
    assert!(space.has_permission("space.read"));
    assert!(!space.roles.is_empty());
    assert!(account.has_feature("api_access"));
    assert!(!account.experiments.is_empty());
}

#[tokio::test]
async fn full_login_then_account_get_with_bearer() {
    let sb = sandbox().await;
    let konpro = konpro(&sb);
    let (url, pending) = konpro.authorize_url().unwrap();
    assert!(
        url.as_str()
            .starts_with(&format!("{}/oauth/authorize?", sb.url(Provider::KonPro)))
    );
    let callback = sb.approve(url.as_str()).await.unwrap();
    assert!(callback.starts_with(&sb.credentials().redirect_uri));
    assert_eq!(sb.calls(AUTHORIZE), 1);

    let client = konpro.complete("user-1", pending, &callback).await.unwrap();
    assert_eq!(client.auth_mode(), AuthMode::OAuth);
    assert_eq!(client.subject(), Some("user-1"));
    assert!(konpro.restore("user-1").await.unwrap().is_some());
    let token = client.token().await.unwrap().unwrap();
    assert!(token.refresh_token.is_some() && token.expires_at.is_some());

    let account = client.account_get().await.unwrap();
    assert_sandbox_account(&account);
    assert_eq!(sb.calls(TOKEN), 1);
    assert_eq!(sb.calls(REFRESH), 0);
    assert_eq!(sb.calls(ACCOUNT), 1);

    // The same user, from a fresh handle (another request of a web app).
    let again = konpro
        .client("user-1")
        .unwrap()
        .account_get()
        .await
        .unwrap();
    assert_eq!(again, account);
    assert_eq!(sb.calls(TOKEN), 1);
}

#[tokio::test]
async fn account_get_with_an_api_key_needs_no_login() {
    let sb = sandbox().await;
    let client = KonProClient::api_key(api_key(&sb))
        .base_url(sb.url(Provider::KonPro))
        .build()
        .unwrap();
    assert_eq!(client.auth_mode(), AuthMode::ApiKey);
    assert_eq!(client.subject(), None);
    assert_sandbox_account(&client.account_get().await.unwrap());

    // The same through the OAuth client's settings.
    let from_app = konpro(&sb).api_key_client(api_key(&sb)).unwrap();
    assert_sandbox_account(&from_app.account_get().await.unwrap());
    assert_eq!(sb.calls(ACCOUNT), 2);
    // Nothing to refresh with an API key: a typed error, no request.
    let err = from_app.refresh().await.unwrap_err();
    assert!(matches!(err, Error::ApiKeyMode { .. }), "{err:?}");
    assert_eq!(from_app.expires_at().await.unwrap(), None);
    assert_eq!(sb.calls(TOKEN) + sb.calls(REFRESH), 0);
}

#[tokio::test]
async fn a_wrong_api_key_is_unauthorized_without_retry_and_never_echoed() {
    let sb = sandbox().await;
    let wrong = "kp_test_WRONG_canary_5d1c";
    let client = KonProClient::api_key(SecretString::from(wrong.to_owned()))
        .base_url(sb.url(Provider::KonPro))
        .build()
        .unwrap();
    let err = client.account_get().await.unwrap_err();
    assert!(matches!(err, Error::Unauthorized { .. }), "{err:?}");
    assert_eq!(err.status(), Some(401));
    assert_eq!(sb.calls(ACCOUNT), 1, "an API key has nothing to renew");
    assert!(!err.to_string().contains(wrong) && !format!("{err:?}").contains(wrong));
}

#[tokio::test]
async fn any_endpoint_with_either_authentication() {
    let sb = sandbox().await;
    let konpro = konpro(&sb);
    let oauth = login(&sb, &konpro, "user-1").await;
    let keyed = konpro.api_key_client(api_key(&sb)).unwrap();
    for client in [&oauth, &keyed] {
        let raw: Value = client.get("v1/pacific/account.get").await.unwrap();
        assert_eq!(raw["user"]["email"], SANDBOX_EMAIL);
        let typed: Account = client.send(&AccountGet).await.unwrap();
        assert_eq!(typed.email(), Some(SANDBOX_EMAIL));
        // An endpoint the sandbox does not serve: a typed API error, not a panic or decode error.
        let err = client
            .send(&ApiRequest::<Value>::get("v1/some-endpoint"))
            .await
            .unwrap_err();
        assert!(matches!(err, Error::Api { status: 404, .. }), "{err:?}");
    }
}

#[tokio::test]
async fn s1_a_forged_or_missing_state_is_rejected_with_zero_token_calls() {
    let sb = sandbox().await;
    let konpro = konpro(&sb);

    // One character off.
    let (url, pending) = konpro.authorize_url().unwrap();
    let callback = sb.approve(url.as_str()).await.unwrap();
    let state = Url::parse(&callback)
        .unwrap()
        .query_pairs()
        .find(|(k, _)| k == "state")
        .map(|(_, v)| v.into_owned())
        .unwrap();
    let mut forged_state = state.clone();
    let last = forged_state.pop().unwrap();
    forged_state.push(if last == 'A' { 'B' } else { 'A' });
    let forged = callback.replace(&format!("state={state}"), &format!("state={forged_state}"));
    let err = konpro
        .complete("user-1", pending, &forged)
        .await
        .unwrap_err();
    assert!(
        matches!(err, Error::Callback(CallbackError::StateMismatch)),
        "{err:?}"
    );

    // Another login's pending authorization (the attacker's own state).
    let (url_a, _pending_a) = konpro.authorize_url().unwrap();
    let (_url_b, pending_b) = konpro.authorize_url().unwrap();
    let callback_a = sb.approve(url_a.as_str()).await.unwrap();
    let err = konpro
        .complete("user-1", pending_b, &callback_a)
        .await
        .unwrap_err();
    assert!(
        matches!(err, Error::Callback(CallbackError::StateMismatch)),
        "{err:?}"
    );

    // No state at all.
    let (url, pending) = konpro.authorize_url().unwrap();
    let callback = sb.approve(url.as_str()).await.unwrap();
    let no_state: String = {
        let mut u = Url::parse(&callback).unwrap();
        let code: Vec<(String, String)> = u
            .query_pairs()
            .filter(|(k, _)| k != "state")
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
        u.query_pairs_mut().clear().extend_pairs(code);
        u.into()
    };
    let err = konpro
        .complete("user-1", pending, &no_state)
        .await
        .unwrap_err();
    assert!(
        matches!(err, Error::Callback(CallbackError::MissingState)),
        "{err:?}"
    );

    assert_eq!(
        sb.calls(TOKEN),
        0,
        "no code may be exchanged after a bad callback"
    );
    assert!(konpro.restore("user-1").await.unwrap().is_none());
}

#[tokio::test]
async fn s4_a_callback_on_another_redirect_uri_is_rejected_with_zero_token_calls() {
    let sb = sandbox().await;
    let konpro = konpro(&sb);
    let (url, pending) = konpro.authorize_url().unwrap();
    let callback = sb.approve(url.as_str()).await.unwrap();
    let elsewhere = callback.replacen("/callback?", "/evil?", 1);
    assert_ne!(elsewhere, callback);
    let err = konpro
        .complete("user-1", pending, &elsewhere)
        .await
        .unwrap_err();
    assert!(
        matches!(err, Error::Callback(CallbackError::RedirectMismatch)),
        "{err:?}"
    );
    assert_eq!(sb.calls(TOKEN), 0);
}

#[tokio::test]
async fn s6_a_denied_consent_is_typed_and_sends_nothing() {
    let sb = sandbox().await;
    let konpro = konpro(&sb);
    let (url, pending) = konpro.authorize_url().unwrap();
    let callback = sb.deny(url.as_str()).await.unwrap();
    let err = konpro
        .complete("user-1", pending, &callback)
        .await
        .unwrap_err();
    assert!(err.is_access_denied(), "{err:?}");
    assert_eq!(err.oauth_code(), Some(&ErrorCode::AccessDenied));
    assert_eq!(sb.calls(TOKEN), 0);
}

#[tokio::test]
async fn s1_s28_a_replayed_callback_is_refused_before_the_token_endpoint() {
    let sb = sandbox().await;
    let konpro = konpro(&sb);
    let (url, pending) = konpro.authorize_url().unwrap();
    // A web app parks the pending authorization in its session; a replayed request loads it twice.
    let parked = serde_json::to_string(&pending).unwrap();
    let callback = sb.approve(url.as_str()).await.unwrap();
    konpro.complete("user-1", pending, &callback).await.unwrap();
    let replay = serde_json::from_str(&parked).unwrap();
    let err = konpro
        .complete("user-2", replay, &callback)
        .await
        .unwrap_err();
    // S1: the SDK refuses the replay itself, so the code is never sent twice (the sandbox
    // would answer `invalid_grant`: S28 is proven by the sandbox's own tests).
    assert!(
        matches!(
            err,
            konpro_sdk::Error::Callback(oauth_flow::CallbackError::AlreadyUsed)
        ),
        "{err:?}"
    );
    assert_eq!(sb.calls(TOKEN), 1);
    assert!(konpro.restore("user-2").await.unwrap().is_none());
}

#[tokio::test]
async fn s21_an_expiring_token_is_refreshed_before_use_at_the_refresh_endpoint() {
    let sb = sandbox().await;
    let (konpro, clock) = konpro_with_clock(&sb);
    let client = login(&sb, &konpro, "user-1").await;
    client.account_get().await.unwrap();
    let before = client.token().await.unwrap().unwrap();

    // Both clocks move past the token's lifetime (KonPro's sandbox default: 3600 s).
    clock.advance(Duration::from_secs(3600));
    sb.advance_clock(Duration::from_secs(3600));
    assert_sandbox_account(&client.account_get().await.unwrap());
    assert_eq!(sb.calls(REFRESH), 1, "one proactive refresh");
    assert_eq!(
        sb.calls(TOKEN),
        1,
        "refreshes never go to the token endpoint"
    );
    assert_eq!(sb.calls(ACCOUNT), 2, "no 401 round trip");

    let after = client.token().await.unwrap().unwrap();
    assert!(after.expires_at > before.expires_at);
    // KonPro issues no new refresh token: the old one is kept (RFC 6749 §6).
    assert!(after.refresh_token.is_some());

    client.account_get().await.unwrap();
    assert_eq!(sb.calls(REFRESH), 1, "the new token is used while fresh");
}

#[tokio::test]
async fn refresh_forces_one_refresh_and_the_client_reports_the_new_token_and_expiry() {
    let sb = sandbox().await;
    let (konpro, clock) = konpro_with_clock(&sb);
    let client = login(&sb, &konpro, "user-1").await;
    let before = client.expires_at().await.unwrap().unwrap();
    let first = client.access_token().await.unwrap();
    assert_eq!(sb.calls(REFRESH), 0, "a fresh token is served as it is");

    clock.advance(Duration::from_secs(60));
    sb.advance_clock(Duration::from_secs(60));
    let renewed = client.refresh().await.unwrap();
    assert_eq!(
        sb.calls(REFRESH),
        1,
        "one refresh, though the token was not due"
    );
    assert_eq!(
        sb.calls(TOKEN),
        1,
        "refreshes never go to the token endpoint"
    );
    assert!(!renewed.same_as(&first));
    assert!(client.access_token().await.unwrap().same_as(&renewed));
    assert!(client.expires_at().await.unwrap().unwrap() > before);
    let stored = client.token().await.unwrap().unwrap();
    assert!(renewed.same_as(&konpro_sdk::AccessToken::new(stored.access_token)));

    assert_sandbox_account(&client.account_get().await.unwrap());
    assert_eq!(sb.calls(REFRESH), 1);
    assert_eq!(
        sb.calls(ACCOUNT),
        1,
        "the renewed token was accepted at once"
    );
}

/// Issue 18: a token living less than the 60 s refresh margin is not due on arrival (the
/// margin is capped at half its lifetime): no refresh per call, one once half its life is over.
#[tokio::test]
async fn a_short_token_lifetime_refreshes_once_per_half_life_not_per_call() {
    let sb = sandbox().await;
    sb.set_access_token_lifetime(Provider::KonPro, 30);
    let (konpro, clock) = konpro_with_clock(&sb);
    let client = login(&sb, &konpro, "user-1").await;
    for _ in 0..3 {
        client.account_get().await.unwrap();
    }
    assert_eq!(sb.calls(REFRESH), 0, "a fresh 30 s token is used as is");
    clock.advance(Duration::from_secs(16));
    sb.advance_clock(Duration::from_secs(16));
    client.account_get().await.unwrap();
    client.account_get().await.unwrap();
    assert_eq!(sb.calls(REFRESH), 1, "one refresh past the half-life");
    sb.set_access_token_lifetime(Provider::KonPro, 3600);
    clock.advance(Duration::from_secs(16));
    sb.advance_clock(Duration::from_secs(16));
    client.account_get().await.unwrap();
    assert_eq!(sb.calls(REFRESH), 2, "the second 30 s token was due too");
    client.account_get().await.unwrap();
    assert_eq!(sb.calls(REFRESH), 2, "the 3600 s token is not");
}

#[tokio::test]
async fn s20_a_401_triggers_one_refresh_and_one_retry() {
    let sb = sandbox().await;
    let konpro = konpro(&sb);
    let client = login(&sb, &konpro, "user-1").await;
    // Only KonPro's clock moves: the SDK still believes its token is valid, KonPro says 401.
    sb.advance_clock(Duration::from_secs(2 * 3600));
    assert_sandbox_account(&client.account_get().await.unwrap());
    assert_eq!(sb.calls(ACCOUNT), 2);
    assert_eq!(sb.calls(REFRESH), 1);
}

#[tokio::test]
async fn s20_a_persistent_401_gives_unauthorized_after_one_refresh() {
    let sb = sandbox().await;
    let konpro = konpro(&sb);
    let client = login(&sb, &konpro, "user-1").await;
    sb.inject(ACCOUNT, Fault::Status(401), 2);
    let err = client.account_get().await.unwrap_err();
    assert!(matches!(err, Error::Unauthorized { .. }), "{err:?}");
    assert_eq!(sb.calls(ACCOUNT), 2);
    assert_eq!(sb.calls(REFRESH), 1);
}

#[tokio::test]
async fn s12_without_expires_in_the_token_is_refreshed_on_401() {
    let sb = sandbox().await;
    sb.set_omit_expires_in(Provider::KonPro, true);
    let konpro = konpro(&sb);
    let client = login(&sb, &konpro, "user-1").await;
    let token = client.token().await.unwrap().unwrap();
    assert!(token.expires_at.is_none());
    sb.advance_clock(Duration::from_secs(2 * 3600));
    client.account_get().await.unwrap();
    assert_eq!(sb.calls(REFRESH), 1);
    assert_eq!(sb.calls(ACCOUNT), 2);
}

#[tokio::test]
async fn s16_concurrent_calls_on_an_expired_token_share_one_refresh() {
    let sb = sandbox().await;
    let (konpro, clock) = konpro_with_clock(&sb);
    let client = login(&sb, &konpro, "user-1").await;
    clock.advance(Duration::from_secs(3600));
    sb.advance_clock(Duration::from_secs(3600));
    let calls: Vec<_> = (0..20)
        .map(|_| {
            let c = client.clone();
            tokio::spawn(async move { c.account_get().await })
        })
        .collect();
    for call in calls {
        call.await.unwrap().unwrap();
    }
    assert_eq!(sb.calls(REFRESH), 1);
    assert_eq!(sb.calls(ACCOUNT), 20);
}

#[tokio::test]
async fn s17_a_rejected_refresh_token_requires_a_new_login() {
    let sb = sandbox().await;
    let konpro = konpro(&sb);
    // An expired grant whose refresh token KonPro does not know.
    let stale = Token {
        access_token: SecretString::from("kp_at_stale".to_owned()),
        token_type: "Bearer".into(),
        expires_at: Some(SystemTime::now() - Duration::from_secs(10)),
        issued_at: None,
        refresh_token: Some(SecretString::from("kp_rt_unknown_canary".to_owned())),
        scope: None,
        extra: Map::new(),
    };
    konpro
        .token_manager()
        .insert("user-1", stale)
        .await
        .unwrap();
    let err = konpro
        .client("user-1")
        .unwrap()
        .account_get()
        .await
        .unwrap_err();
    assert!(err.is_reauthorization_required(), "{err:?}");
    assert!(matches!(&err, Error::ReauthorizationRequired { subject, .. } if subject == "user-1"));
    assert!(!err.to_string().contains("kp_rt_unknown_canary"));
    assert_eq!(sb.calls(REFRESH), 1);
    assert_eq!(sb.calls(ACCOUNT), 0);
    assert!(
        konpro.restore("user-1").await.unwrap().is_none(),
        "the dead grant is removed"
    );

    // Logging in again fixes it.
    login(&sb, &konpro, "user-1")
        .await
        .account_get()
        .await
        .unwrap();
}

#[tokio::test]
async fn one_client_serves_many_users_and_forget_logs_one_out() {
    let sb = sandbox().await;
    let konpro = konpro(&sb);
    let alice = login(&sb, &konpro, "alice").await;
    let bob = login(&sb, &konpro, "bob").await;
    let a = alice.token().await.unwrap().unwrap();
    let b = bob.token().await.unwrap().unwrap();
    assert_ne!(
        a.access_token.expose_secret(),
        b.access_token.expose_secret()
    );

    alice.forget().await.unwrap();
    assert!(konpro.restore("alice").await.unwrap().is_none());
    let err = konpro
        .client("alice")
        .unwrap()
        .account_get()
        .await
        .unwrap_err();
    assert!(err.is_reauthorization_required(), "{err:?}");
    konpro.client("bob").unwrap().account_get().await.unwrap();
}

#[tokio::test]
async fn s26_logins_survive_a_restart_with_a_file_store() {
    let sb = sandbox().await;
    let dir = tempfile::tempdir().unwrap();
    let store = || -> Arc<dyn TokenStore> { Arc::new(FileStore::new(dir.path().join("tokens"))) };
    {
        let konpro = builder(&sb).store(store()).build().unwrap();
        login(&sb, &konpro, "user-1").await;
    }
    // A new process: a new client over the same directory.
    let konpro = builder(&sb).store(store()).build().unwrap();
    let restored = konpro.restore("user-1").await.unwrap().unwrap();
    assert_sandbox_account(&restored.account_get().await.unwrap());
    assert_eq!(sb.calls(TOKEN), 1);
}

#[tokio::test]
async fn s13_a_failed_code_exchange_is_not_retried() {
    let sb = sandbox().await;
    let konpro = konpro(&sb);
    sb.inject(TOKEN, Fault::HtmlError(502), 1);
    let (url, pending) = konpro.authorize_url().unwrap();
    let callback = sb.approve(url.as_str()).await.unwrap();
    let err = konpro
        .complete("user-1", pending, &callback)
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(502), "{err:?}");
    assert_eq!(sb.calls(TOKEN), 1);
    assert!(konpro.restore("user-1").await.unwrap().is_none());
}

#[tokio::test]
async fn a_503_with_retry_after_is_retried() {
    let sb = sandbox().await;
    let client = KonProClient::api_key(api_key(&sb))
        .base_url(sb.url(Provider::KonPro))
        .build()
        .unwrap();
    sb.inject(
        ACCOUNT,
        Fault::RetryAfter {
            status: 503,
            value: "0".into(),
        },
        1,
    );
    assert_sandbox_account(&client.account_get().await.unwrap());
    assert_eq!(sb.calls(ACCOUNT), 2);

    // Past the budget: a typed error.
    let no_retry = KonProClient::api_key(api_key(&sb))
        .base_url(sb.url(Provider::KonPro))
        .retry(RetryPolicy::none())
        .build()
        .unwrap();
    sb.inject(ACCOUNT, Fault::Status(429), 1);
    let err = no_retry.account_get().await.unwrap_err();
    assert_eq!(err.status(), Some(429), "{err:?}");
}

#[tokio::test]
async fn malformed_account_json_is_a_decode_error() {
    let sb = sandbox().await;
    let client = KonProClient::api_key(api_key(&sb))
        .base_url(sb.url(Provider::KonPro))
        .build()
        .unwrap();
    sb.inject(ACCOUNT, Fault::MalformedJson, 1);
    let err = client.account_get().await.unwrap_err();
    assert!(matches!(err, Error::Decode { .. }), "{err:?}");
}

#[tokio::test]
async fn s9_a_redirect_from_the_api_is_not_followed() {
    let sb = sandbox().await;
    let client = KonProClient::api_key(api_key(&sb))
        .base_url(sb.url(Provider::KonPro))
        .build()
        .unwrap();
    let target = format!("{}/konpro/v1/pacific/account.get", sb.base_url());
    sb.inject(
        ACCOUNT,
        Fault::Redirect {
            status: 307,
            location: target,
        },
        1,
    );
    let err = client.account_get().await.unwrap_err();
    assert_eq!(err.status(), Some(307), "{err:?}");
    assert_eq!(sb.calls(ACCOUNT), 1, "the redirect target got no request");
}
