//! KonPro, Askara and Kustomer over raw HTTP. SECURITY ids (S28, S5…) tag the tests.
// Test helpers outside #[test] fns panic on purpose.
#![allow(clippy::unwrap_used)]

mod common;

use std::time::Duration;

use common::*;
use sandbox::{Provider, Sandbox};
use serde_json::json;

// ---------------- KonPro ----------------

#[tokio::test]
async fn konpro_happy_path_authorize_approve_token_account() {
    let sb = Sandbox::start().await.unwrap();
    let (code, verifier) = konpro_code(&sb).await;
    let resp = konpro_exchange(&sb, &code, &verifier).await;
    assert_eq!(resp.status(), 200);
    let tok = json(resp).await;
    assert_eq!(tok["token_type"], "Bearer");
    assert_eq!(tok["expires_in"], 3600);
    let access = tok["access_token"].as_str().unwrap().to_owned();
    let refresh = tok["refresh_token"].as_str().unwrap().to_owned();

    let account_url = format!("{}/v1/pacific/account.get", sb.url(Provider::KonPro));
    let acct = client()
        .get(&account_url)
        .bearer_auth(&access)
        .send()
        .await
        .unwrap();
    assert_eq!(acct.status(), 200);
    let acct = json(acct).await;
    assert!(acct["experiments"].as_array().unwrap().len() >= 2);
    assert!(acct["features"].is_array());
    assert!(acct["space_info"]["permissions"].is_array());
    assert!(acct["user"]["email"].as_str().unwrap().contains('@'));
    assert!(acct["user_plan"]["quotas"]["api_calls"]["limit"].is_number());

    let by_key = client()
        .get(&account_url)
        .header("X-API-KEY", &sb.credentials().konpro.api_key)
        .send()
        .await
        .unwrap();
    assert_eq!(by_key.status(), 200);

    // Refresh only at /v1/oauth/refresh_token; no new refresh token; the old one stays valid.
    for _ in 0..2 {
        let r = client()
            .post(format!(
                "{}/v1/oauth/refresh_token",
                sb.url(Provider::KonPro)
            ))
            .form(&[
                ("client_id", sb.credentials().konpro.client_id.as_str()),
                ("grant_type", "refresh_token"),
                ("refresh_token", refresh.as_str()),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        assert_eq!(r.headers()["cache-control"], "no-store");
        let body = json(r).await;
        assert!(body.get("refresh_token").is_none());
        assert_ne!(body["access_token"], access.as_str());
    }
}

#[tokio::test]
async fn konpro_requires_pkce_s256() {
    let sb = Sandbox::start().await.unwrap();
    let base = format!(
        "{}/oauth/authorize?client_id={}&state=s1&redirect_uri={}&response_type=code",
        sb.url(Provider::KonPro),
        sb.credentials().konpro.client_id,
        enc(REDIRECT)
    );
    let (_, challenge) = pkce("x");
    for url in [
        base.clone(),
        format!("{base}&code_challenge={challenge}&code_challenge_method=plain"),
        format!("{base}&code_challenge={challenge}"),
    ] {
        let r = client().get(&url).send().await.unwrap();
        assert_eq!(r.status(), 302, "{url}");
        let loc = r.headers()["location"].to_str().unwrap().to_owned();
        assert!(loc.starts_with(REDIRECT));
        assert_eq!(param(&loc, "error").as_deref(), Some("invalid_request"));
        assert_eq!(param(&loc, "state").as_deref(), Some("s1"));
    }
    // A bad response_type also redirects.
    let r = client()
        .get(
            konpro_authorize_url(&sb, &challenge, "s2")
                .replace("response_type=code", "response_type=token"),
        )
        .send()
        .await
        .unwrap();
    let loc = r.headers()["location"].to_str().unwrap().to_owned();
    assert_eq!(
        param(&loc, "error").as_deref(),
        Some("unsupported_response_type")
    );
}

#[tokio::test]
async fn konpro_refresh_grant_at_token_endpoint_is_unsupported() {
    let sb = Sandbox::start().await.unwrap();
    let r = client()
        .post(format!("{}/v1/oauth/token", sb.url(Provider::KonPro)))
        .form(&[
            ("client_id", sb.credentials().konpro.client_id.as_str()),
            ("grant_type", "refresh_token"),
            ("refresh_token", "whatever"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    assert_eq!(json(r).await["error"], "unsupported_grant_type");
}

#[tokio::test]
async fn konpro_public_client_secret_is_refused() {
    let sb = Sandbox::start().await.unwrap();
    let (code, verifier) = konpro_code(&sb).await;
    let r = client()
        .post(format!("{}/v1/oauth/token", sb.url(Provider::KonPro)))
        .form(&[
            ("code", code.as_str()),
            ("client_id", sb.credentials().konpro.client_id.as_str()),
            ("client_secret", "nope"),
            ("grant_type", "authorization_code"),
            ("redirect_uri", REDIRECT),
            ("code_verifier", verifier.as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    assert_eq!(json(r).await["error"], "invalid_client");
    // Client authentication failures do not spend the code.
    assert_eq!(konpro_exchange(&sb, &code, &verifier).await.status(), 200);
}

#[tokio::test]
async fn s28_wrong_verifier_is_invalid_grant() {
    let sb = Sandbox::start().await.unwrap();
    let (code, _) = konpro_code(&sb).await;
    let (other, _) = pkce("another-verifier");
    let r = konpro_exchange(&sb, &code, &other).await;
    assert_eq!(r.status(), 400);
    assert_eq!(json(r).await["error"], "invalid_grant");
}

#[tokio::test]
async fn s28_reused_code_is_invalid_grant_and_revokes_tokens() {
    let sb = Sandbox::start().await.unwrap();
    let (code, verifier) = konpro_code(&sb).await;
    let first = json(konpro_exchange(&sb, &code, &verifier).await).await;
    let r = konpro_exchange(&sb, &code, &verifier).await;
    assert_eq!(r.status(), 400);
    assert_eq!(json(r).await["error"], "invalid_grant");
    // RFC 6749 §4.1.2: tokens issued from a replayed code are revoked.
    let acct = client()
        .get(format!(
            "{}/v1/pacific/account.get",
            sb.url(Provider::KonPro)
        ))
        .bearer_auth(first["access_token"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(acct.status(), 401);
}

#[tokio::test]
async fn s28_code_is_bound_to_redirect_uri() {
    let sb = Sandbox::start().await.unwrap();
    let (code, verifier) = konpro_code(&sb).await;
    let r = client()
        .post(format!("{}/v1/oauth/token", sb.url(Provider::KonPro)))
        .form(&[
            ("code", code.as_str()),
            ("client_id", sb.credentials().konpro.client_id.as_str()),
            ("grant_type", "authorization_code"),
            ("redirect_uri", "http://127.0.0.1/callback/"),
            ("code_verifier", verifier.as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    assert_eq!(json(r).await["error"], "invalid_grant");
}

#[tokio::test]
async fn s28_code_is_bound_to_client_and_provider() {
    let sb = Sandbox::start().await.unwrap();
    let (code, _) = konpro_code(&sb).await;
    // A KonPro code redeemed by Askara's client.
    let r = askara_token(
        &sb,
        json!({ "grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT }),
    )
    .await;
    assert_eq!(r.status(), 400);
    assert_eq!(json(r).await["error"], "invalid_grant");
}

#[tokio::test]
async fn s28_code_expires_after_60_seconds() {
    let sb = Sandbox::start().await.unwrap();
    let (code, verifier) = konpro_code(&sb).await;
    sb.advance_clock(Duration::from_secs(61));
    let r = konpro_exchange(&sb, &code, &verifier).await;
    assert_eq!(json(r).await["error"], "invalid_grant");
}

#[tokio::test]
async fn s28_token_responses_are_no_store() {
    let sb = Sandbox::start().await.unwrap();
    let (code, verifier) = konpro_code(&sb).await;
    let ok = konpro_exchange(&sb, &code, &verifier).await;
    assert_eq!(ok.headers()["cache-control"], "no-store");
    assert_eq!(ok.headers()["pragma"], "no-cache");
    let err = konpro_exchange(&sb, &code, &verifier).await;
    assert_eq!(err.headers()["cache-control"], "no-store");
    let askara = askara_token(
        &sb,
        json!({ "grant_type": "refresh_token", "refresh_token": "x" }),
    )
    .await;
    assert_eq!(askara.headers()["cache-control"], "no-store");
}

#[tokio::test]
async fn konpro_account_unauthenticated_is_401_json() {
    let sb = Sandbox::start().await.unwrap();
    let url = format!("{}/v1/pacific/account.get", sb.url(Provider::KonPro));
    let r = client().get(&url).send().await.unwrap();
    assert_eq!(r.status(), 401);
    assert_eq!(json(r).await["error"], "unauthorized");
    let r = client()
        .get(&url)
        .bearer_auth("bogus")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    assert!(
        r.headers()["www-authenticate"]
            .to_str()
            .unwrap()
            .contains("invalid_token")
    );
    let r = client()
        .get(&url)
        .header("X-API-KEY", "bogus")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
}

#[tokio::test]
async fn konpro_access_token_expires_per_sandbox_clock() {
    let sb = Sandbox::start().await.unwrap();
    let (code, verifier) = konpro_code(&sb).await;
    let tok = json(konpro_exchange(&sb, &code, &verifier).await).await;
    sb.advance_clock(Duration::from_secs(3600));
    let r = client()
        .get(format!(
            "{}/v1/pacific/account.get",
            sb.url(Provider::KonPro)
        ))
        .bearer_auth(tok["access_token"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
}

// ---------------- consent pages ----------------

#[tokio::test]
async fn consent_page_is_self_contained_html_with_form() {
    let sb = Sandbox::start().await.unwrap();
    let (_, challenge) = pkce("page");
    let r = client()
        .get(konpro_authorize_url(&sb, &challenge, "s"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert!(
        r.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    let html = r.text().await.unwrap();
    assert!(html.contains("<form method=\"post\" action=\"/konpro/_sandbox/consent\">"));
    assert!(html.contains("value=\"approve\"") && html.contains("value=\"deny\""));
    assert!(
        !html.contains("src=") && !html.contains("<link"),
        "no external resources"
    );
}

/// The body of a GET.
async fn page(url: &str) -> String {
    client()
        .get(url)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}

#[tokio::test]
async fn consent_page_names_app_provider_user_and_each_scope_in_words() {
    let sb = Sandbox::start().await.unwrap();
    let (_, challenge) = pkce("trust");
    let html = page(&konpro_authorize_url(&sb, &challenge, "s")).await;
    assert!(html.contains("<title>Allow Sandbox Demo App to use your KonPro account?</title>"));
    assert!(html.contains("<p class=\"brand\" id=\"provider\">KonPro</p>"));
    assert!(html.contains("<span id=\"client-name\">Sandbox Demo App</span>"));
    assert!(html.contains("<code id=\"client-id\">konpro-sandbox-client</code>"));
    assert!(html.contains("jamie.rivera@example.com"));
    assert!(
        html.contains("an application on this computer"),
        "loopback redirect named"
    );
    assert!(
        html.contains("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">")
    );
    // KonPro has no scopes: the page says in words what a grant allows.
    let scopes = html.split("<ul id=\"scopes\">").nth(1).unwrap();
    let scopes = scopes.split("</ul>").next().unwrap();
    assert_eq!(scopes.matches("<li>").count(), 3, "{scopes}");
    assert!(scopes.contains("See your account"));
    // Real form buttons, submitting the decision.
    assert!(html.contains("<button type=\"submit\" name=\"decision\" value=\"approve\" id=\"approve\">Approve</button>"));
    assert!(html.contains(
        "<button type=\"submit\" name=\"decision\" value=\"deny\" id=\"deny\">Deny</button>"
    ));
    for external in ["<script", "src=", "<link", "url(", "@import", "https://"] {
        assert!(!html.contains(external), "{external}");
    }

    // Askara's scopes in words, with their wire names.
    let html = page(&askara_authorize_url(&sb, "")).await;
    assert!(
        html.contains("<li>Read your profile (name, e-mail, locale) <code>profile</code></li>")
    );
}

#[tokio::test]
async fn s5_konpro_accepts_its_loopback_redirect_on_any_port_and_binds_the_code_to_it() {
    let sb = Sandbox::start().await.unwrap();
    let (verifier, challenge) = pkce("any-port");
    let on_port = "http://127.0.0.1:53999/callback";
    let url = konpro_authorize_url(&sb, &challenge, "p1").replace(&enc(REDIRECT), &enc(on_port));
    let cb = sb.approve(&url).await.unwrap();
    assert!(
        cb.starts_with("http://127.0.0.1:53999/callback?code="),
        "{cb}"
    );
    let code = param(&cb, "code").unwrap();
    let exchange = |redirect: &'static str, code: String| {
        let sb = &sb;
        let verifier = verifier.clone();
        async move {
            client()
                .post(format!("{}/v1/oauth/token", sb.url(Provider::KonPro)))
                .form(&[
                    ("code", code.as_str()),
                    ("client_id", sb.credentials().konpro.client_id.as_str()),
                    ("grant_type", "authorization_code"),
                    ("redirect_uri", redirect),
                    ("code_verifier", verifier.as_str()),
                ])
                .send()
                .await
                .unwrap()
        }
    };
    // S4: the code is bound to the port it was issued for.
    let other_port = exchange("http://127.0.0.1:54000/callback", code.clone()).await;
    assert_eq!(other_port.status(), 400);
    assert_eq!(json(other_port).await["error"], "invalid_grant");

    let url = konpro_authorize_url(&sb, &challenge, "p2").replace(&enc(REDIRECT), &enc(on_port));
    let code = param(&sb.approve(&url).await.unwrap(), "code").unwrap();
    assert_eq!(
        exchange("http://127.0.0.1:53999/callback", code)
            .await
            .status(),
        200
    );

    // Only the port is free: not the host name, the path, or another provider's exact rule.
    for bad in [
        "http://localhost:53999/callback",
        "http://127.0.0.1:53999/other",
        "http://[::1]:53999/callback",
    ] {
        let url = konpro_authorize_url(&sb, &challenge, "p3").replace(&enc(REDIRECT), &enc(bad));
        assert_eq!(
            client().get(&url).send().await.unwrap().status(),
            400,
            "{bad}"
        );
    }
    let askara = askara_authorize_url(&sb, "").replace(&enc(REDIRECT), &enc(on_port));
    assert_eq!(client().get(&askara).send().await.unwrap().status(), 400);
}

#[tokio::test]
async fn exported_tokens_work_in_a_later_sandbox() {
    let first = Sandbox::start().await.unwrap();
    let (code, verifier) = konpro_code(&first).await;
    let tok = json(konpro_exchange(&first, &code, &verifier).await).await;
    let exported = first.export_tokens();
    first.shutdown().await;

    let second = Sandbox::start().await.unwrap();
    let account = format!("{}/v1/pacific/account.get", second.url(Provider::KonPro));
    let access = tok["access_token"].as_str().unwrap();
    let before = client()
        .get(&account)
        .bearer_auth(access)
        .send()
        .await
        .unwrap();
    assert_eq!(before.status(), 401);
    second.import_tokens(&exported).unwrap();
    let after = client()
        .get(&account)
        .bearer_auth(access)
        .send()
        .await
        .unwrap();
    assert_eq!(after.status(), 200);
    assert!(matches!(
        second.import_tokens("{not json"),
        Err(sandbox::SandboxError::TokenImport(_))
    ));
}

#[tokio::test]
async fn consent_bad_client_or_redirect_shows_error_page_never_redirects() {
    let sb = Sandbox::start().await.unwrap();
    let (_, challenge) = pkce("err");
    let good = konpro_authorize_url(&sb, &challenge, "s");
    for url in [
        good.replace("konpro-sandbox-client", "unknown-client"),
        good.replace(&enc(REDIRECT), &enc("http://127.0.0.1/other")),
        good.replace(&enc(REDIRECT), &enc("https://evil.example/callback")),
        askara_authorize_url(&sb, "").replace(&enc(REDIRECT), &enc("http://127.0.0.1:9/cb")),
    ] {
        let r = client().get(&url).send().await.unwrap();
        assert_eq!(r.status(), 400, "{url}");
        assert!(r.headers().get("location").is_none());
        assert!(r.text().await.unwrap().contains("Authorization error"));
    }
    let err = sb
        .approve(good.replace("konpro-sandbox-client", "nope"))
        .await
        .unwrap_err();
    assert!(matches!(
        err,
        sandbox::SandboxError::NoConsentPage { status: 400, .. }
    ));
}

#[tokio::test]
async fn consent_deny_redirects_access_denied_with_state() {
    let sb = Sandbox::start().await.unwrap();
    let (_, challenge) = pkce("deny");
    let cb = sb
        .deny(konpro_authorize_url(&sb, &challenge, "st-9"))
        .await
        .unwrap();
    assert_eq!(param(&cb, "error").as_deref(), Some("access_denied"));
    assert!(param(&cb, "error_description").is_some());
    assert_eq!(param(&cb, "state").as_deref(), Some("st-9"));
    assert!(param(&cb, "code").is_none());
}

// ---------------- Askara ----------------

#[tokio::test]
async fn askara_happy_path_json_token_jwt_and_apis() {
    let sb = Sandbox::start().await.unwrap();
    let code = askara_code(&sb, "").await;
    let r = askara_token(
        &sb,
        json!({ "grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT }),
    )
    .await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["cache-control"], "no-store");
    let tok = json(r).await;
    assert_eq!(tok["token_type"], "Bearer");
    assert_eq!(tok["expires_in"], 86400);
    let access = tok["access_token"].as_str().unwrap();
    let claims = jwt_claims(access);
    assert_eq!(claims["scope"], "profile organization");
    assert_eq!(claims["iss"], sb.url(Provider::Askara));
    assert_eq!(
        claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap(),
        86400
    );
    assert!(claims["sub"].is_string());

    let p = client()
        .get(format!("{}/v1/profile", sb.url(Provider::Askara)))
        .bearer_auth(access)
        .send()
        .await
        .unwrap();
    assert_eq!(p.status(), 200);
    let p = json(p).await;
    assert!(p["email"].is_string() && p["first_name"].is_string() && p["locale"].is_string());
    let o = client()
        .get(format!("{}/v1/organization", sb.url(Provider::Askara)))
        .bearer_auth(access)
        .send()
        .await
        .unwrap();
    assert_eq!(o.status(), 200);
    let o = json(o).await;
    assert!(o["address"]["city"].is_string() && o["members_count"].is_number());
}

#[tokio::test]
async fn askara_form_body_is_invalid_request_and_bad_secret_invalid_client() {
    let sb = Sandbox::start().await.unwrap();
    let url = format!("{}/oauth2/token", sb.url(Provider::Askara));
    let r = client()
        .post(&url)
        .form(&[
            ("grant_type", "refresh_token"),
            ("refresh_token", "x"),
            ("client_id", sb.credentials().askara.client_id.as_str()),
            (
                "client_secret",
                sb.credentials().askara.client_secret.as_str(),
            ),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    assert_eq!(json(r).await["error"], "invalid_request");
    let r = client()
        .post(&url)
        .json(
            &json!({ "grant_type": "refresh_token", "refresh_token": "x",
            "client_id": sb.credentials().askara.client_id, "client_secret": "wrong" }),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    assert_eq!(json(r).await["error"], "invalid_client");
}

#[tokio::test]
async fn s28_verifier_without_challenge_is_refused() {
    let sb = Sandbox::start().await.unwrap();
    let code = askara_code(&sb, "").await;
    let (verifier, _) = pkce("unexpected");
    let r = askara_token(
        &sb,
        json!({ "grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT, "code_verifier": verifier }),
    )
    .await;
    assert_eq!(r.status(), 400);
    assert_eq!(json(r).await["error"], "invalid_grant");
}

#[tokio::test]
async fn askara_optional_pkce_is_enforced_when_used() {
    let sb = Sandbox::start().await.unwrap();
    let (verifier, challenge) = pkce("askara-pkce");
    let extra = format!("&code_challenge={challenge}&code_challenge_method=S256");
    let code = askara_code(&sb, &extra).await;
    let r = askara_token(
        &sb,
        json!({ "grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT }),
    )
    .await;
    assert_eq!(json(r).await["error"], "invalid_grant");
    let code = askara_code(&sb, &extra).await;
    let r = askara_token(
        &sb,
        json!({ "grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT, "code_verifier": verifier }),
    )
    .await;
    assert_eq!(r.status(), 200);
}

#[tokio::test]
async fn s28_askara_rotated_refresh_token_reuse_is_invalid_grant() {
    let sb = Sandbox::start().await.unwrap();
    // The newer token must survive the reuse here: reuse detection (tests/reuse_detection.rs)
    // would revoke it.
    sb.set_reuse_detection(Provider::Askara, false);
    let code = askara_code(&sb, "").await;
    let t1 = json(
        askara_token(
            &sb,
            json!({ "grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT }),
        )
        .await,
    )
    .await;
    let r1 = t1["refresh_token"].as_str().unwrap();
    let t2 = json(
        askara_token(
            &sb,
            json!({ "grant_type": "refresh_token", "refresh_token": r1 }),
        )
        .await,
    )
    .await;
    let r2 = t2["refresh_token"].as_str().unwrap();
    assert_ne!(r1, r2);
    let again = askara_token(
        &sb,
        json!({ "grant_type": "refresh_token", "refresh_token": r1 }),
    )
    .await;
    assert_eq!(again.status(), 400);
    assert_eq!(json(again).await["error"], "invalid_grant");
    let ok = askara_token(
        &sb,
        json!({ "grant_type": "refresh_token", "refresh_token": r2 }),
    )
    .await;
    assert_eq!(ok.status(), 200);
}

#[tokio::test]
async fn askara_expired_jwt_is_401_after_advance_clock() {
    let sb = Sandbox::start().await.unwrap();
    sb.set_access_token_lifetime(Provider::Askara, 30);
    sb.set_omit_expires_in(Provider::Askara, true);
    let code = askara_code(&sb, "").await;
    let tok = json(
        askara_token(
            &sb,
            json!({ "grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT }),
        )
        .await,
    )
    .await;
    assert!(tok.get("expires_in").is_none());
    let access = tok["access_token"].as_str().unwrap();
    let claims = jwt_claims(access);
    assert_eq!(
        claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap(),
        30
    );
    let url = format!("{}/v1/profile", sb.url(Provider::Askara));
    assert_eq!(
        client()
            .get(&url)
            .bearer_auth(access)
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    sb.advance_clock(Duration::from_secs(31));
    let r = client().get(&url).bearer_auth(access).send().await.unwrap();
    assert_eq!(r.status(), 401);
    assert_eq!(json(r).await["error"], "invalid_token");
}

// ---------------- Kustomer ----------------

#[tokio::test]
async fn kustomer_not_installed_is_400_then_full_flow_after_install() {
    let sb = Sandbox::start().await.unwrap();
    let app = kustomer_register(&sb, "myoauthapp").await;
    let cb = sb
        .approve(kustomer_authorize_url(
            &sb,
            &app,
            "org.permission.customer+org.permission.conversation+offline_access",
        ))
        .await
        .unwrap();
    assert_eq!(param(&cb, "state").as_deref(), Some("k1"));
    let code = param(&cb, "code").unwrap();
    let exchange = [
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("redirect_uri", REDIRECT),
    ];
    let r = kustomer_token(&sb, &app, &exchange).await;
    assert_eq!(r.status(), 400);
    assert_eq!(
        json(r).await,
        json!({ "error": "invalid_client", "error_description": "Invalid Client" })
    );

    sb.install_kustomer_app("myoauthapp").unwrap();
    let r = kustomer_token(&sb, &app, &exchange).await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["cache-control"], "no-store");
    let tok = json(r).await;
    assert_eq!(tok["token_type"], "bearer");
    assert_eq!(tok["expires_in"], 86400);
    assert_eq!(
        tok["scope"],
        "org.permission.customer org.permission.conversation offline_access"
    );
    let access = tok["access_token"].as_str().unwrap().to_owned();

    // Customers: walk every page through links.next.
    let base = sb.url(Provider::Kustomer);
    let mut next = Some("/v1/customers?pageSize=10".to_owned());
    let mut seen = Vec::new();
    while let Some(path) = next {
        let page = json(
            client()
                .get(format!("{base}{path}"))
                .bearer_auth(&access)
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(page["meta"]["total"], 30);
        for c in page["data"].as_array().unwrap() {
            assert_eq!(c["type"], "customer");
            seen.push(c["id"].as_str().unwrap().to_owned());
        }
        next = page["links"]["next"].as_str().map(str::to_owned);
    }
    assert_eq!(seen.len(), 30);

    // Get, update, create, search.
    let id = &seen[0];
    let c = client()
        .get(format!("{base}/v1/customers/{id}"))
        .bearer_auth(&access)
        .send()
        .await
        .unwrap();
    assert_eq!(c.status(), 200);
    let u = client()
        .put(format!("{base}/v1/customers/{id}"))
        .bearer_auth(&access)
        .json(&json!({ "data": { "type": "customer", "id": id, "attributes": { "locale": "de-DE" } } }))
        .send()
        .await
        .unwrap();
    assert_eq!(u.status(), 200);
    assert_eq!(json(u).await["data"]["attributes"]["locale"], "de-DE");
    let created = client()
        .post(format!("{base}/v1/customers"))
        .bearer_auth(&access)
        .json(&json!({ "name": "Pat Example", "emails": [{ "type": "work", "email": "pat@example.com" }] }))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201);
    let found = json(
        client()
            .post(format!("{base}/v1/customers/search?pageSize=5"))
            .bearer_auth(&access)
            .json(&json!({ "and": [{ "customer_email": { "eq": "pat@example.com" } }] }))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(found["meta"]["total"], 1);
    assert_eq!(found["data"][0]["attributes"]["name"], "Pat Example");

    // Conversations.
    let convs = json(
        client()
            .get(format!("{base}/v1/customers/{id}/conversations?pageSize=5"))
            .bearer_auth(&access)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(convs["meta"]["total"], 12);
    assert!(convs["links"]["next"].is_string());
    let conv_id = convs["data"][0]["id"].as_str().unwrap();
    let one = client()
        .get(format!("{base}/v1/conversations/{conv_id}"))
        .bearer_auth(&access)
        .send()
        .await
        .unwrap();
    assert_eq!(one.status(), 200);
    let new = client()
        .post(format!("{base}/v1/conversations"))
        .bearer_auth(&access)
        .json(
            &json!({ "data": { "type": "conversation", "attributes": { "name": "Hi" },
            "relationships": { "customer": { "data": { "type": "customer", "id": id } } } } }),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(new.status(), 201);

    // Refresh rotates; the old refresh token dies (S28).
    let r1 = tok["refresh_token"].as_str().unwrap().to_owned();
    let t2 = json(
        kustomer_token(
            &sb,
            &app,
            &[("grant_type", "refresh_token"), ("refresh_token", &r1)],
        )
        .await,
    )
    .await;
    let r2 = t2["refresh_token"].as_str().unwrap();
    assert_ne!(r1, r2);
    let again = kustomer_token(
        &sb,
        &app,
        &[("grant_type", "refresh_token"), ("refresh_token", &r1)],
    )
    .await;
    assert_eq!(json(again).await["error"], "invalid_grant");
}

#[tokio::test]
async fn kustomer_scopes_matter_and_offline_access_gives_refresh_token() {
    let sb = Sandbox::start().await.unwrap();
    let app = kustomer_register(&sb, "scoped").await;
    sb.install_kustomer_app(&app.name).unwrap();
    let cb = sb
        .approve(kustomer_authorize_url(
            &sb,
            &app,
            "org.permission.conversation",
        ))
        .await
        .unwrap();
    let code = param(&cb, "code").unwrap();
    let tok = json(
        kustomer_token(
            &sb,
            &app,
            &[
                ("grant_type", "authorization_code"),
                ("code", &code),
                ("redirect_uri", REDIRECT),
            ],
        )
        .await,
    )
    .await;
    assert!(tok.get("refresh_token").is_none());
    let r = client()
        .get(format!("{}/v1/customers", sb.url(Provider::Kustomer)))
        .bearer_auth(tok["access_token"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    assert_eq!(json(r).await["errors"][0]["status"], "403");
}

#[tokio::test]
async fn kustomer_app_errors_duplicate_bad_key_unknown_and_secret_rotation() {
    let sb = Sandbox::start().await.unwrap();
    let base = sb.url(Provider::Kustomer);
    let key = sb.credentials().kustomer.api_key.clone();
    let app = kustomer_register(&sb, "dupe").await;
    let body = json!({ "app": "dupe", "version": "0.0.1", "title": "x", "visibility": "private" });
    let r = client()
        .post(format!("{base}/v1/apps/available"))
        .bearer_auth(&key)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 409);
    assert!(json(r).await["errors"].is_array());
    let r = client()
        .post(format!("{base}/v1/apps/available"))
        .bearer_auth("bad")
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    let e = json(r).await;
    assert_eq!(e["errors"][0]["status"], "401");
    assert_eq!(e["errors"][0]["title"], "Unauthorized");
    assert!(e["errors"][0]["detail"].is_string());
    for name in ["dupe", "nosuchapp_x"] {
        let r = client()
            .post(format!("{base}/v1/apps/available/{name}/secret"))
            .bearer_auth(&key)
            .json(&json!({}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 404, "{name}");
        assert!(json(r).await["errors"].is_array());
    }
    // Rotate the secret: the old one stops working.
    sb.install_kustomer_app(&app.name).unwrap();
    let s = json(
        client()
            .post(format!("{base}/v1/apps/available/{}/secret", app.name))
            .bearer_auth(&key)
            .json(&json!({}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    let new_secret = s["data"]["attributes"]["clientSecret"].as_str().unwrap();
    assert_ne!(new_secret, app.secret);
    let r = kustomer_token(
        &sb,
        &app,
        &[("grant_type", "refresh_token"), ("refresh_token", "x")],
    )
    .await;
    assert_eq!(json(r).await["error"], "invalid_client");
    // The API key works as a bearer for the data routes.
    let r = client()
        .get(format!("{base}/v1/customers?page=3&pageSize=10"))
        .bearer_auth(&key)
        .send()
        .await
        .unwrap();
    let page = json(r).await;
    assert_eq!(page["data"].as_array().unwrap().len(), 10);
    assert!(page["links"]["next"].is_null());
}

#[tokio::test]
async fn kustomer_empty_redirect_uris_accept_loopback_and_https_only() {
    let sb = Sandbox::start().await.unwrap();
    let app = kustomer_register(&sb, "redir").await;
    let url = |r: &str| {
        format!(
            "{}/oauth/authorize?client_id={}&redirect_uri={}&response_type=code&scope=offline_access",
            sb.url(Provider::Kustomer),
            app.client_id,
            enc(r)
        )
    };
    for ok in ["http://127.0.0.1:8765/cb", "https://app.example/cb"] {
        assert_eq!(
            client().get(url(ok)).send().await.unwrap().status(),
            200,
            "{ok}"
        );
    }
    for bad in ["http://localhost/cb", "http://evil.example/cb"] {
        assert_eq!(
            client().get(url(bad)).send().await.unwrap().status(),
            400,
            "{bad}"
        );
    }
}

#[tokio::test]
async fn askara_accepts_a_redirect_uri_registered_at_run_time_exactly() {
    let sb = Sandbox::start().await.unwrap();
    let web = "http://127.0.0.1:53998/callback";
    let url = askara_authorize_url(&sb, "").replace(&enc(REDIRECT), &enc(web));
    assert_eq!(client().get(&url).send().await.unwrap().status(), 400);

    sb.register_askara_redirect_uri(web).unwrap();
    let cb = sb.approve(&url).await.unwrap();
    assert!(cb.starts_with(&format!("{web}?code=")), "{cb}");
    // Exact match still: another port is not registered, and the fixed URI keeps working.
    let other = askara_authorize_url(&sb, "")
        .replace(&enc(REDIRECT), &enc("http://127.0.0.1:53997/callback"));
    assert_eq!(client().get(&other).send().await.unwrap().status(), 400);
    assert!(
        sb.approve(&askara_authorize_url(&sb, ""))
            .await
            .unwrap()
            .starts_with(REDIRECT)
    );

    // S8: neither a host name nor plain http elsewhere can be registered, in Rust or HTTP.
    assert!(matches!(
        sb.register_askara_redirect_uri("http://localhost:53998/callback"),
        Err(sandbox::SandboxError::InvalidUrl(_))
    ));
    let control = format!("{}/_sandbox/redirect_uris", sb.url(Provider::Askara));
    let refused = client()
        .post(&control)
        .json(&serde_json::json!({ "redirect_uri": "http://app.example/cb" }))
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 400);
    let ok = client()
        .post(&control)
        .json(&serde_json::json!({ "redirect_uri": "https://app.example/cb" }))
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), 200);
    let listed = json(ok).await;
    assert_eq!(
        listed["redirect_uris"],
        serde_json::json!([REDIRECT, web, "https://app.example/cb"])
    );
}
