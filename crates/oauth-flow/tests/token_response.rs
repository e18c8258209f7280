//! Token responses as they arrive over HTTP: the four providers' documented exchanges
//! (request shape checked by the server, sample response parsed), and malformed or hostile
//! answers, each a typed error. Complements the unit tests in `src/token.rs`.
//!
//! SECURITY: S11 (token checks), S12 (`expires_in` forms, `expires_at` = send time + value),
//! S13 (§5.2 errors typed, HTML → `HttpStatus` with excerpt, a code is never re-sent),
//! S14/S15 (Konvert's Basic header, one method), S16 (refresh keeps the old refresh token).
// Test code: helpers outside `#[test]` fns unwrap too (clippy.toml covers only test fns).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::{
    CODE, REDIRECT_URI, Resp, TestServer, authorized_code, plain_manager, secret, secret_of, t0,
    transport,
};
use oauth_flow::{
    BodyEncoding, ClientAuth, Error, ErrorCode, ExposeSecret, ManualClock, OAuthClient,
    ProviderProfile, TokenManager,
};
use serde_json::json;

fn manager(client: OAuthClient, clock: &Arc<ManualClock>) -> TokenManager {
    TokenManager::builder(client, transport())
        .clock(clock.clone())
        .build()
        .unwrap()
}

#[tokio::test]
async fn s12_numeric_string_expires_in_over_http() {
    let server = TestServer::start(|_| {
        Resp::new(
            200,
            "application/json;charset=UTF-8",
            r#"{"access_token":"AT-1","token_type":"bearer","expires_in":"3600","refresh_token":"RT-1"}"#,
        )
        .header("cache-control", "no-store")
    })
    .await;
    let clock = Arc::new(ManualClock::new(t0()));
    let client = common::client(&server);
    let m = manager(client.clone(), &clock);
    let grant = m
        .exchange_code("u", authorized_code(&client))
        .await
        .unwrap();
    let token = grant.token().await.unwrap().unwrap();
    // expires_at = the send time (the injected clock) + 3600 s.
    assert_eq!(token.expires_at, Some(t0() + Duration::from_secs(3600)));
    assert_eq!(token.refresh_token.unwrap().expose_secret(), "RT-1");
}

/// KonPro (seed 000): public client, PKCE, form body, refresh at a separate URL.
#[tokio::test]
async fn seed_konpro_exchange_and_refresh() {
    let server = TestServer::start(|req| {
        let p = req.params();
        assert_eq!(
            req.header("content-type"),
            Some("application/x-www-form-urlencoded")
        );
        assert!(!p.contains_key("client_secret") && req.header("authorization").is_none());
        assert_eq!(p["client_id"], "konpro-client");
        match req.path.as_str() {
            "/v1/oauth/token" => {
                assert_eq!(p["grant_type"], "authorization_code");
                assert_eq!(p["code"], CODE);
                assert_eq!(p["redirect_uri"], REDIRECT_URI);
                assert_eq!(p["code_verifier"].len(), 43);
                Resp::json(
                    200,
                    &json!({"access_token":"kp-AT-1","token_type":"Bearer","expires_in":3600,"refresh_token":"kp-RT-1"}),
                )
            }
            "/v1/oauth/refresh_token" => {
                assert_eq!(p["grant_type"], "refresh_token");
                assert_eq!(p["refresh_token"], "kp-RT-1");
                Resp::json(
                    200,
                    &json!({"access_token":"kp-AT-2","token_type":"Bearer","expires_in":3600}),
                )
            }
            other => panic!("unexpected {other}"),
        }
    })
    .await;
    let profile = ProviderProfile::builder("konpro", server.url("/v1/oauth/token"))
        .authorize_url(server.url("/oauth/authorize"))
        .refresh_url(server.url("/v1/oauth/refresh_token"))
        .client_auth(ClientAuth::None)
        .build()
        .unwrap();
    let client = OAuthClient::builder(profile, "konpro-client")
        .redirect_uri(REDIRECT_URI)
        .build()
        .unwrap();
    let clock = Arc::new(ManualClock::new(t0()));
    let m = manager(client.clone(), &clock);
    let grant = m
        .exchange_code("u", authorized_code(&client))
        .await
        .unwrap();
    assert_eq!(secret_of(&grant.access_token().await.unwrap()), "kp-AT-1");
    clock.advance(Duration::from_secs(3600));
    assert_eq!(secret_of(&grant.access_token().await.unwrap()), "kp-AT-2");
    // No refresh token in the refresh answer: the old one is kept (RFC 6749 §6).
    let stored = m.store().load(grant.key()).await.unwrap().unwrap();
    assert_eq!(stored.refresh_token.unwrap().expose_secret(), "kp-RT-1");
    assert_eq!(server.hits("/v1/oauth/token"), 1);
    assert_eq!(server.hits("/v1/oauth/refresh_token"), 1);
}

/// Askara (seed 001): JSON bodies with the secret in the body; the documented response.
#[tokio::test]
async fn seed_askara_json_exchange() {
    let server = TestServer::start(|req| {
        assert_eq!(req.header("content-type"), Some("application/json"));
        let body: serde_json::Value = serde_json::from_slice(&req.body).unwrap();
        assert_eq!(
            body,
            json!({
                "grant_type": "authorization_code",
                "code": CODE,
                "redirect_uri": REDIRECT_URI,
                "client_id": "askara-client",
                "client_secret": "askara-secret",
            })
        );
        Resp::json(
            200,
            &json!({"token_type":"Bearer","expires_in":86400,"access_token":"ACCESS_TOKEN","refresh_token":"REFRESH_TOKEN"}),
        )
    })
    .await;
    let profile = ProviderProfile::builder("askara", server.url("/oauth2/token"))
        .authorize_url(server.url("/authorize"))
        .encoding(BodyEncoding::Json)
        .client_auth(ClientAuth::SecretPost)
        .build()
        .unwrap();
    let client = OAuthClient::builder(profile, "askara-client")
        .client_secret(secret("askara-secret"))
        .redirect_uri(REDIRECT_URI)
        .build()
        .unwrap();
    let clock = Arc::new(ManualClock::new(t0()));
    let m = manager(client.clone(), &clock);
    let grant = m
        .exchange_code("u", authorized_code(&client))
        .await
        .unwrap();
    let t = grant.token().await.unwrap().unwrap();
    assert_eq!(t.access_token.expose_secret(), "ACCESS_TOKEN");
    assert_eq!(t.refresh_token.unwrap().expose_secret(), "REFRESH_TOKEN");
    assert_eq!(t.expires_at, Some(t0() + Duration::from_secs(86400)));
}

/// Kustomer (seed 002): form body with the secret, lower-case `bearer`, granted scope kept.
#[tokio::test]
async fn seed_kustomer_form_exchange_with_scope() {
    let server = TestServer::start(|req| {
        let p = req.params();
        assert_eq!(p["client_secret"], "kustomer-secret");
        assert_eq!(p["grant_type"], "authorization_code");
        Resp::json(
            200,
            &json!({
                "scope": "org.permission.customer org.permission.conversation offline_access",
                "token_type": "bearer",
                "access_token": "<Access token>".replace(['<', '>', ' '], ""),
                "expires_in": 86400,
                "refresh_token": "RefreshToken"
            }),
        )
    })
    .await;
    let client = OAuthClient::builder(
        ProviderProfile::builder("kustomer", server.url("/oauth/token"))
            .authorize_url(server.url("/oauth/authorize"))
            .build()
            .unwrap(),
        "kustomer-client",
    )
    .client_secret(secret("kustomer-secret"))
    .redirect_uri(REDIRECT_URI)
    .build()
    .unwrap();
    let clock = Arc::new(ManualClock::new(t0()));
    let m = manager(client.clone(), &clock);
    let grant = m
        .exchange_code("u", authorized_code(&client))
        .await
        .unwrap();
    let t = grant.token().await.unwrap().unwrap();
    assert_eq!(
        t.scopes(),
        [
            "org.permission.customer",
            "org.permission.conversation",
            "offline_access"
        ]
    );
    assert_eq!(t.token_type, "bearer");
}

/// Konvert (seed 003): client credentials with the documented Basic header and body, and the
/// documented JWT response without a refresh token.
#[tokio::test]
async fn seed_konvert_client_credentials_basic() {
    const JWT: &str = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJ5b3VyQXBpS2V5IiwiaWF0IjoxNzQ2ODE4NzIyLCJleHAiOjE3NDY4MjA1MjJ9.TH_eykUrFVHxKCmjzu-KUviJLcwnIKxd5bWA86d6Y7g";
    let server = TestServer::start(|req| {
        assert_eq!(
            req.header("authorization"),
            Some("Basic eW91ckFwaUtleTp5b3VyQXBpU2VjcmV0MTIzNDU2Nzg5MA==")
        );
        assert_eq!(
            req.header("content-type"),
            Some("application/x-www-form-urlencoded")
        );
        assert_eq!(req.body, b"grant_type=client_credentials");
        Resp::json(
            200,
            &json!({ "access_token": JWT, "token_type": "Bearer", "expires_in": 21600 }),
        )
    })
    .await;
    let client = OAuthClient::builder(
        ProviderProfile::builder("konvert", server.url("/oauth/token"))
            .client_auth(ClientAuth::SecretBasic)
            .build()
            .unwrap(),
        "yourApiKey",
    )
    .client_secret(secret("yourApiSecret1234567890"))
    .build()
    .unwrap();
    let clock = Arc::new(ManualClock::new(t0()));
    let m = manager(client, &clock);
    let handle = m.client_credentials(&[]);
    assert_eq!(secret_of(&handle.access_token().await.unwrap()), JWT);
    let t = handle.token().await.unwrap().unwrap();
    assert!(t.refresh_token.is_none());
    assert_eq!(t.expires_at, Some(t0() + Duration::from_secs(21600)));
}

/// A predicate over a token request's outcome.
type Check = fn(&Result<oauth_flow::AccessToken, Error>) -> bool;

/// What a client-credentials call against a server answering `resp` returns.
async fn answer(resp: Resp) -> (Result<oauth_flow::AccessToken, Error>, usize) {
    let server = TestServer::start(move |_| resp.clone()).await;
    let m = plain_manager(common::client(&server));
    let out = m.client_credentials(&[]).access_token().await;
    (out, server.hits("/token"))
}

#[tokio::test]
async fn s11_s12_s13_malformed_answers_are_typed_errors() {
    let html = format!(
        "<html><body><h1>502 Bad Gateway</h1>{}</body></html>",
        "<p>nginx</p>".repeat(1000)
    );
    match answer(Resp::new(502, "text/html", html)).await.0 {
        Err(Error::HttpStatus {
            status: 502,
            excerpt,
        }) => {
            assert!(excerpt.starts_with("<html><body><h1>502 Bad Gateway"));
            assert!(excerpt.len() <= 512);
        }
        other => panic!("{other:?}"),
    }
    match answer(Resp::json(
        400,
        &json!({"error":"invalid_client","error_description":"Invalid Client"}),
    ))
    .await
    .0
    {
        Err(Error::OAuth(e)) => {
            assert_eq!(e.code, ErrorCode::InvalidClient);
            assert_eq!(e.status, Some(400));
            assert_eq!(e.description.as_deref(), Some("Invalid Client"));
        }
        other => panic!("{other:?}"),
    }

    let json = |s: &'static str| Resp::new(200, "application/json", s);
    let decode =
        |r: &Result<oauth_flow::AccessToken, Error>| matches!(r, Err(Error::Decode { .. }));
    let cases: Vec<(Resp, Check)> = vec![
        // An `error` in a 200 is still an error (S11).
        (
            json(r#"{"error":"invalid_grant","error_description":"nope"}"#),
            |r| matches!(r, Err(Error::OAuth(e)) if e.code == ErrorCode::InvalidGrant && e.status == Some(200)),
        ),
        (
            json(r#"{"access_token":"a","token_type":"bearer","expires_in":"NaN"}"#),
            decode,
        ),
        (
            json(r#"{"access_token":"a","token_type":"bearer","expires_in":"inf"}"#),
            decode,
        ),
        (
            json(r#"{"access_token":"a","token_type":"bearer","expires_in":true}"#),
            decode,
        ),
        (
            json(r#"{"access_token":"a","token_type":"bearer","expires_in":-1}"#),
            decode,
        ),
        (
            json(r#"{"access_token":"a","token_type":"bearer","expires_in":1e400}"#),
            decode,
        ),
        (
            json(r#"{"access_token":"a","token_type":"bearer","refresh_token":5}"#),
            decode,
        ),
        (
            json(r#"{"access_token":["a"],"token_type":"bearer"}"#),
            decode,
        ),
        (json(r#"{"access_token":"a","token_type":"bear"#), decode),
        (
            json("\u{feff}{\"access_token\":\"a\",\"token_type\":\"bearer\"}"),
            decode,
        ),
        (json("null"), decode),
        (json(""), decode),
        (Resp::new(200, "text/html", "<html>ok</html>"), decode),
        (Resp::new(204, "application/json", ""), decode),
        (
            json(r#"{"access_token":null,"token_type":"bearer"}"#),
            |r| matches!(r, Err(Error::MissingField("access_token"))),
        ),
        (json(r#"{"access_token":"a"}"#), |r| {
            matches!(r, Err(Error::MissingField("token_type")))
        }),
        (
            json(r#"{"access_token":"a","token_type":"MAC"}"#),
            |r| matches!(r, Err(Error::UnsupportedTokenType(t)) if t == "MAC"),
        ),
        (
            json(r#"{"access_token":"a b","token_type":"bearer"}"#),
            |r| matches!(r, Err(Error::InvalidTokenCharacters)),
        ),
        (
            json("{\"access_token\":\"a\\u0000\",\"token_type\":\"bearer\"}"),
            |r| matches!(r, Err(Error::InvalidTokenCharacters)),
        ),
        (
            json("{\"access_token\":\"tok\\r\\nX-Injected: 1\",\"token_type\":\"bearer\"}"),
            |r| matches!(r, Err(Error::InvalidTokenCharacters)),
        ),
        // A §5.2-looking body whose `error` is not a string is just an HTTP error.
        (Resp::new(400, "application/json", r#"{"error":42}"#), |r| {
            matches!(r, Err(Error::HttpStatus { status: 400, .. }))
        }),
    ];
    for (i, (resp, ok)) in cases.into_iter().enumerate() {
        let (out, hits) = answer(resp).await;
        assert!(ok(&out), "case {i}: {out:?}");
        assert_eq!(hits, 1, "case {i}: never retried");
    }

    // Accepted shapes: upper-case BEARER, scope as an array, numeric string with spaces.
    let (ok, _) = answer(json(
        r#"{"access_token":"a","token_type":"BEARER","expires_in":" 60 ","scope":["x","y"]}"#,
    ))
    .await;
    assert!(ok.is_ok(), "{ok:?}");
}

/// S13: an authorization code is sent once, even when the server answers 503.
#[tokio::test]
async fn s13_code_exchange_is_never_retried() {
    let server =
        TestServer::start(|_| Resp::text(503, "unavailable").header("retry-after", "0")).await;
    let client = common::client(&server);
    let m = plain_manager(client.clone());
    let err = m
        .exchange_code("u", authorized_code(&client))
        .await
        .unwrap_err();
    assert!(
        matches!(err, Error::HttpStatus { status: 503, .. }),
        "{err:?}"
    );
    assert_eq!(server.hits("/token"), 1);
    assert!(m.store().load(&m.key("u")).await.unwrap().is_none());
}
