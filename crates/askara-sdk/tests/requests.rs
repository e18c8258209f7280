//! Snapshots of every request shape the Askara SDK builds, secrets redacted (SECURITY S4, S15,
//! S19, S25), plus checks that the raw secrets really are in the requests (so the redactions
//! hide something) and nowhere else.

// Test helpers outside `#[test]` functions unwrap too.
#![allow(clippy::unwrap_used)]

use std::sync::Arc;

use askara_sdk::http::StatusCode;
use askara_sdk::{
    Askara, AskaraClient, Error, ExposeSecret, GetOrganization, GetProfile, HttpResponse,
    MemoryStore, SecretString,
};
use oauth_flow::test_util::{ScriptedTransport, redaction_settings};
use oauth_flow::{AccessToken, Authorization, Url};

const CLIENT_ID: &str = "askara-client-id";
const CLIENT_SECRET: &str = "askara-canary-client-secret-5f1c";
const REDIRECT_URI: &str = "https://myapp.example/askara/callback";
const CODE: &str = "canary-code-9a8b7c";
const REFRESH_TOKEN: &str = "canary-refresh-token-1d2e3f";
const ACCESS_TOKEN: &str = "canary-access-token-4a5b6c";

fn client() -> Askara {
    Askara::builder(CLIENT_ID, CLIENT_SECRET, REDIRECT_URI)
        .store(Arc::new(MemoryStore::new()))
        .build()
        .unwrap()
}

/// The shared redaction set, with the `Authorization` header redacted whole (scheme included)
/// as the committed API request snapshots show it.
fn api_redactions() -> insta::Settings {
    let mut s = redaction_settings();
    s.add_redaction(".headers.authorization", "[redacted]");
    s
}

fn state_of(url: &Url) -> String {
    url.query_pairs()
        .find(|(k, _)| k == "state")
        .map(|(_, v)| v.into_owned())
        .unwrap()
}

#[test]
fn s4_authorize_url_matches_the_guide() {
    let (url, pending) = client().authorize_url().unwrap();
    let state = state_of(&url);
    assert!(state.len() >= 22, "state carries at least 128 bits");
    let shown = url.as_str().replace(&state, "[state]");
    // The exact shape of Askara's guide, parameter order and `%20` included.
    assert_eq!(
        shown,
        "https://app.askara.loc/authorize?response_type=code&client_id=askara-client-id\
         &redirect_uri=https%3A%2F%2Fmyapp.example%2Faskara%2Fcallback\
         &scope=profile%20organization&state=[state]"
    );
    redaction_settings().bind(|| insta::assert_snapshot!("authorize_url", shown));
    // S3: a confidential client without PKCE in Askara's guide: no challenge is sent.
    assert!(!url.as_str().contains("code_challenge"));
    assert!(!format!("{pending:?}").contains(&state));
}

#[test]
fn s1_each_authorize_url_has_a_fresh_state() {
    let c = client();
    let (a, _) = c.authorize_url().unwrap();
    let (b, _) = c.authorize_url().unwrap();
    assert_ne!(state_of(&a), state_of(&b));
}

#[test]
fn custom_scopes_and_hosts() {
    let c = Askara::builder(CLIENT_ID, CLIENT_SECRET, REDIRECT_URI)
        .app_base_url("https://app.staging.askara.example/")
        .api_base_url("https://api.staging.askara.example")
        .scopes(["profile"])
        .build()
        .unwrap();
    let (url, _) = c.authorize_url().unwrap();
    assert!(
        url.as_str()
            .starts_with("https://app.staging.askara.example/authorize?")
    );
    assert!(url.as_str().contains("&scope=profile&state="));
    assert_eq!(
        c.oauth_client().profile().token_url().as_str(),
        "https://api.staging.askara.example/oauth2/token"
    );
}

#[test]
fn s15_code_exchange_is_one_json_body() {
    let c = client();
    let (url, pending) = c.authorize_url().unwrap();
    let callback = format!("{REDIRECT_URI}?state={}&code={CODE}", state_of(&url));
    let code = pending.complete(&callback).unwrap();
    let req = c.exchange_code_request(&code).unwrap();

    let body: serde_json::Value = serde_json::from_slice(&req.body).unwrap();
    assert_eq!(body["code"], CODE);
    assert_eq!(body["client_secret"], CLIENT_SECRET);
    assert_eq!(
        body["redirect_uri"], REDIRECT_URI,
        "S4: byte-identical redirect_uri"
    );
    assert!(
        req.headers.get("authorization").is_none(),
        "S15: one method only"
    );
    assert!(req.url.query().is_none(), "S15: never in the URL");

    redaction_settings()
        .bind(|| insta::assert_json_snapshot!("exchange_code_request", req.to_snapshot()));
}

#[test]
fn s15_refresh_is_one_json_body() {
    let req = client()
        .refresh_request(&SecretString::from(REFRESH_TOKEN))
        .unwrap();
    let body: serde_json::Value = serde_json::from_slice(&req.body).unwrap();
    assert_eq!(body["refresh_token"], REFRESH_TOKEN);
    assert_eq!(body["client_secret"], CLIENT_SECRET);
    assert!(req.headers.get("authorization").is_none());
    assert!(req.url.query().is_none());

    redaction_settings()
        .bind(|| insta::assert_json_snapshot!("refresh_request", req.to_snapshot()));
}

#[test]
fn s19_api_requests_carry_the_bearer_in_the_header_only() {
    let user = client().client("user-1").unwrap();
    let auth = Authorization::bearer(AccessToken::new(SecretString::from(ACCESS_TOKEN))).unwrap();
    let profile = user.api_client().request(&GetProfile, Some(&auth)).unwrap();
    assert_eq!(
        profile
            .headers
            .get("authorization")
            .unwrap()
            .to_str()
            .unwrap(),
        format!("Bearer {ACCESS_TOKEN}")
    );
    assert!(profile.url.query().is_none() && profile.body.is_empty());
    api_redactions()
        .bind(|| insta::assert_json_snapshot!("profile_request", profile.to_snapshot()));
    let org = user
        .api_client()
        .request(&GetOrganization, Some(&auth))
        .unwrap();
    api_redactions()
        .bind(|| insta::assert_json_snapshot!("organization_request", org.to_snapshot()));
    // S19: a path leaving the API origin is refused before anything is built.
    assert!(
        user.api_client()
            .url("https://evil.example/v1/profile")
            .is_err()
    );
    // A scheme-relative path is read as a path below the base: it stays on Askara's host.
    let relative = user.api_client().url("//evil.example/v1/profile").unwrap();
    assert_eq!(relative.host_str(), Some("api.askara.ai"));
}

#[test]
fn s25_debug_output_and_request_debug_hide_secrets() {
    let c = client();
    let (url, pending) = c.authorize_url().unwrap();
    let code = pending
        .complete(&format!(
            "{REDIRECT_URI}?state={}&code={CODE}",
            state_of(&url)
        ))
        .unwrap();
    let exchange = c.exchange_code_request(&code).unwrap();
    let refresh = c
        .refresh_request(&SecretString::from(REFRESH_TOKEN))
        .unwrap();
    let user = c.client("user-1").unwrap();
    let shown = format!("{c:?} {code:?} {exchange:?} {refresh:?} {user:?}");
    for secret in [CLIENT_SECRET, CODE, REFRESH_TOKEN] {
        assert!(!shown.contains(secret), "{secret} leaked in Debug");
    }
    assert_eq!(code.code().expose_secret(), CODE);
}

/// Completes a login through `transport`, which answers the code exchange.
async fn signed_in(
    builder: askara_sdk::AskaraBuilder,
    transport: &Arc<ScriptedTransport>,
) -> AskaraClient {
    let c = builder.transport(transport.clone()).build().unwrap();
    let (url, pending) = c.authorize_url().unwrap();
    transport.push(HttpResponse::new(
        StatusCode::OK,
        format!(
            r#"{{"access_token":"{ACCESS_TOKEN}","token_type":"Bearer","expires_in":86400,"refresh_token":"{REFRESH_TOKEN}"}}"#
        ),
    ));
    let callback = format!("{REDIRECT_URI}?state={}&code={CODE}", state_of(&url));
    c.complete("user-1", pending, &callback).await.unwrap()
}

/// `post` serializes any body to JSON and sends it with the bearer, like the typed calls;
/// `expires_at` reads the stored expiry.
#[tokio::test]
async fn untyped_post_sends_a_json_body_with_the_bearer() {
    use askara_sdk::http::Method;
    use askara_sdk::serde_json::Value;

    let transport = Arc::new(ScriptedTransport::new());
    let user = signed_in(
        Askara::builder(CLIENT_ID, CLIENT_SECRET, REDIRECT_URI),
        &transport,
    )
    .await;
    transport.push(HttpResponse::new(StatusCode::OK, r#"{"id":"note-1"}"#));
    assert!(user.expires_at().await.unwrap().is_some());

    let body = std::collections::BTreeMap::from([("text", "hello")]);
    let created: Value = user.post("v1/notes", &body).await.unwrap();
    assert_eq!(created["id"], "note-1");
    let sent = transport.requests().pop().unwrap();
    assert_eq!(sent.method, Method::POST);
    assert_eq!(sent.url.as_str(), "https://api.askara.ai/v1/notes");
    assert_eq!(
        serde_json::from_slice::<Value>(&sent.body).unwrap(),
        serde_json::json!({ "text": "hello" })
    );
    assert_eq!(
        sent.headers.get("authorization").unwrap().to_str().unwrap(),
        format!("Bearer {ACCESS_TOKEN}")
    );
}

/// The API host setter wins over `base_url` whatever the order of the calls: the code exchange
/// and the API calls go to it, the authorization page to the base URL.
#[tokio::test]
async fn api_base_url_wins_over_base_url_in_either_order() {
    const API: &str = "https://api.staging.askara.example";
    const BASE: &str = "https://askara.example";
    for builder in [
        Askara::builder(CLIENT_ID, CLIENT_SECRET, REDIRECT_URI)
            .api_base_url(API)
            .base_url(BASE),
        Askara::builder(CLIENT_ID, CLIENT_SECRET, REDIRECT_URI)
            .base_url(BASE)
            .api_base_url(API),
    ] {
        let transport = Arc::new(ScriptedTransport::new());
        let user = signed_in(builder, &transport).await;
        transport.push(HttpResponse::new(StatusCode::OK, r#"{"id":"u1"}"#));
        user.profile().await.unwrap();
        let urls: Vec<String> = transport
            .requests()
            .iter()
            .map(|r| r.url.to_string())
            .collect();
        assert_eq!(
            urls,
            [format!("{API}/oauth2/token"), format!("{API}/v1/profile")]
        );
    }
}

/// Every non-success API answer is a typed error whatever its body (an HTML 502, an empty 404,
/// JSON without `error`, a proxy's 403), with a bounded excerpt as the message (SECURITY S10,
/// S13); an undecodable success body names the endpoint.
#[tokio::test]
async fn s13_api_answers_that_are_not_askaras_error_body_are_api_errors() {
    let transport = Arc::new(ScriptedTransport::new());
    let user = signed_in(
        Askara::builder(CLIENT_ID, CLIENT_SECRET, REDIRECT_URI),
        &transport,
    )
    .await;
    let answers = [
        (
            502,
            format!("<html><body>{}</body></html>", "Bad Gateway ".repeat(200)),
        ),
        (404, String::new()),
        (500, r#"{"message":"internal failure"}"#.to_owned()),
        (403, "Forbidden by the corporate proxy".to_owned()),
    ];
    for (status, body) in answers {
        transport.push(HttpResponse::new(
            StatusCode::from_u16(status).unwrap(),
            body.clone(),
        ));
        let e = user.profile().await.unwrap_err();
        let Error::Api {
            status: got,
            code: None,
            message,
        } = &e
        else {
            panic!("HTTP {status}: {e:?}");
        };
        assert_eq!(*got, status);
        assert_eq!(e.status(), Some(status));
        match message {
            None => assert!(body.is_empty(), "HTTP {status}: no message"),
            Some(m) => {
                assert!(m.len() <= 512, "HTTP {status}: {} bytes", m.len());
                assert!(
                    body.starts_with(m.trim_end_matches('…')),
                    "HTTP {status}: {m}"
                );
            }
        }
        assert!(!e.needs_authorization(), "HTTP {status}");
    }
    transport.push(HttpResponse::new(StatusCode::OK, "[1, 2]"));
    let e = user.organization().await.unwrap_err();
    assert!(
        matches!(&e, Error::Decode { what, .. } if what == "v1/organization"),
        "{e:?}"
    );
}
